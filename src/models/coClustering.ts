// Co-clustering for rating prediction (George and Merugu, "A Scalable Collaborative Filtering
// Framework based on Co-clustering", ICDM 2005), as Surprise's `CoClustering` implements it (its
// co_clustering.pyx, itself after MyMediaLite's). Users are put in k_u clusters and items in k_i
// clusters; a user cluster and an item cluster make a co-cluster, and
//
//   r̂_ui = C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i)
//
// where C̄_ui is the mean rating of u's co-cluster (ratings by users of u's cluster of items in i's
// cluster), C̄_u of u's user cluster, C̄_i of i's item cluster, μ_u and μ_i the user's and item's
// mean ratings. An empty cluster's mean is the global mean μ.
//
// Fitting is k-means-like. Clusters start uniformly at random; then each epoch
//   1. computes the three kinds of cluster means from the current clusters;
//   2. moves every user to the user cluster that minimises Σ_{i∈I_u} (r_ui − r̂_ui)², the item
//      clusters and the means of step 1 held fixed;
//   3. moves every item likewise, over its raters, with the users' NEW clusters and the same means.
// The means are computed once more after the last epoch. Ties go to the lower cluster (numpy's argmin).
//
// Prediction follows Surprise's code: an unknown user or item (no training rating) gets the global
// mean μ. (Its docstring says μ_i for an unknown user and μ_u for an unknown item; its code returns μ
// before reaching those branches.) Predictions are clipped to the rating scale. Surprise declares
// ratings `int` in these loops, which truncates half-star ratings; here they keep their values (no
// difference on integer scales such as MovieLens 100K's). Defaults are Surprise's: 3 × 3 clusters,
// 20 epochs.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkInteger, checkPositiveInteger, checkSeed, requireFitted } from "../checks";
import { CsrMatrix, rowMeans } from "../data/csr";
import { Interactions } from "../data/interactions";
import { SparseRatings, SparseRatingsConfig, checkRatingPairs, checkRatingUsers } from "../data/sparseRatings";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import type { NamedWeight } from "../nn/layeredModel";
import { loadModel, modelFromArtifacts, saveModel } from "../train/savedModel";

export interface CoClusteringConfig extends SparseRatingsConfig {
  /** k_u, the number of user clusters (Surprise's n_cltr_u). Default 3. */
  userClusters?: number;
  /** k_i, the number of item clusters (n_cltr_i). Default 3. */
  itemClusters?: number;
  /** Epochs of reassignment (n_epochs). Default 20. */
  epochs?: number;
  /** Seeds the initial clusters (Surprise's random_state). */
  seed: number;
}

/** The settings with defaults filled in, as `CoClustering` keeps and saves them. */
type CoClusteringSettings = Required<Omit<CoClusteringConfig, "ratingScale">> & Pick<CoClusteringConfig, "ratingScale">;

/** The mean ratings of the clusters: C̄_u of each user cluster, C̄_i of each item cluster, C̄ of each co-cluster. */
export interface ClusterMeans {
  user: Float64Array; // [k_u]
  item: Float64Array; // [k_i]
  co: Float64Array; // [k_u × k_i], row-major
}

/** What a fitted model holds; everything but the clusters is recomputed from the ratings. */
interface Fitted {
  train: Interactions;
  ratings: SparseRatings;
  /** Each user's cluster; −1 for a user without ratings. */
  userCluster: Int32Array;
  /** Each item's cluster; −1 for an item without ratings. */
  itemCluster: Int32Array;
  userMeans: Float64Array;
  itemMeans: Float64Array;
  means: ClusterMeans;
}

// ---------------------------------------------------------------------------------------------
// 1. Cluster means
// ---------------------------------------------------------------------------------------------

/** C̄_u, C̄_i and C̄_ui from one pass over the ratings; μ for an empty cluster. */
export function clusterMeans(
  ratings: SparseRatings,
  userCluster: Int32Array,
  itemCluster: Int32Array,
  userClusters: number,
  itemClusters: number,
): ClusterMeans {
  const sums = {
    user: new Float64Array(userClusters),
    item: new Float64Array(itemClusters),
    co: new Float64Array(userClusters * itemClusters),
  };
  const counts = {
    user: new Float64Array(userClusters),
    item: new Float64Array(itemClusters),
    co: new Float64Array(userClusters * itemClusters),
  };
  const { offsets, indices, values } = ratings.byUser;
  for (let u = 0; u < ratings.numUsers; u++) {
    const uc = userCluster[u];
    for (let e = offsets[u]; e < offsets[u + 1]; e++) {
      const ic = itemCluster[indices[e]];
      const r = values[e];
      sums.user[uc] += r;
      counts.user[uc]++;
      sums.item[ic] += r;
      counts.item[ic]++;
      sums.co[uc * itemClusters + ic] += r;
      counts.co[uc * itemClusters + ic]++;
    }
  }
  const mean = (s: Float64Array, c: Float64Array) => s.map((sum, k) => (c[k] > 0 ? sum / c[k] : ratings.globalMean));
  return { user: mean(sums.user, counts.user), item: mean(sums.item, counts.item), co: mean(sums.co, counts.co) };
}

// ---------------------------------------------------------------------------------------------
// 2–3. Reassignment
// ---------------------------------------------------------------------------------------------

/**
 * Moves each row x of `rows` (users, or items) with ratings to the cluster c of its side minimising
 * Σ_{(y, r) ∈ row x} (r − r̂)², r̂ = C̄(c, cluster of y) + μ_x − C̄_side(c) + μ_y − C̄_other(cluster of y).
 * `coMean(c, d)` reads the co-cluster mean of this side's cluster c and the other side's d.
 */
function reassign(
  rows: CsrMatrix,
  clusters: Int32Array,
  k: number,
  rowMeansOfSide: Float64Array,
  sideMeans: Float64Array,
  otherClusters: Int32Array,
  otherRowMeans: Float64Array,
  otherMeans: Float64Array,
  coMean: (c: number, d: number) => number,
): void {
  const errors = new Float64Array(k);
  for (let x = 0; x + 1 < rows.offsets.length; x++) {
    if (rows.offsets[x + 1] === rows.offsets[x]) continue;
    errors.fill(0);
    for (let c = 0; c < k; c++) {
      for (let e = rows.offsets[x]; e < rows.offsets[x + 1]; e++) {
        const y = rows.indices[e];
        const d = otherClusters[y];
        const est = coMean(c, d) + rowMeansOfSide[x] - sideMeans[c] + otherRowMeans[y] - otherMeans[d];
        errors[c] += (rows.values[e] - est) ** 2;
      }
    }
    let best = 0;
    for (let c = 1; c < k; c++) if (errors[c] < errors[best]) best = c;
    clusters[x] = best;
  }
}

/** Fits the clusters as in the header; returns them with the means of the last computation. */
export function fitCoClustering(
  ratings: SparseRatings,
  settings: { userClusters: number; itemClusters: number; epochs: number; seed: number },
): {
  userCluster: Int32Array;
  itemCluster: Int32Array;
  userMeans: Float64Array;
  itemMeans: Float64Array;
  means: ClusterMeans;
} {
  const { userClusters: ku, itemClusters: ki } = settings;
  const rng = new Rng(settings.seed);
  // Random clusters for the users, then the items, that have ratings; −1 for the others.
  const initial = (n: number, k: number, known: (x: number) => boolean) =>
    Int32Array.from({ length: n }, (_, x) => (known(x) ? rng.int(k) : -1));
  const userCluster = initial(ratings.numUsers, ku, (u) => ratings.knowsUser(u));
  const itemCluster = initial(ratings.numItems, ki, (i) => ratings.knowsItem(i));
  const userMeans = rowMeans(ratings.byUser);
  const itemMeans = rowMeans(ratings.byItem);
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    const means = clusterMeans(ratings, userCluster, itemCluster, ku, ki);
    reassign(
      ratings.byUser,
      userCluster,
      ku,
      userMeans,
      means.user,
      itemCluster,
      itemMeans,
      means.item,
      (c, d) => means.co[c * ki + d],
    );
    reassign(
      ratings.byItem,
      itemCluster,
      ki,
      itemMeans,
      means.item,
      userCluster,
      userMeans,
      means.user,
      (c, d) => means.co[d * ki + c],
    );
  }
  return {
    userCluster,
    itemCluster,
    userMeans,
    itemMeans,
    means: clusterMeans(ratings, userCluster, itemCluster, ku, ki),
  };
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/** Surprise's CoClustering: `new CoClustering({ seed }).fit(train)`, then `predict` or `scoreItems`. */
export class CoClustering implements RatingPredictor, ItemScorer {
  readonly config: CoClusteringSettings;
  private state: Fitted | null = null;
  /** The clusters as tfjs variables, only while saving or loading. */
  private variables: NamedWeight[] | null = null;

  constructor(config: CoClusteringConfig) {
    const caller = "CoClustering";
    this.config = {
      userClusters: checkPositiveInteger(caller, "userClusters", config.userClusters ?? 3),
      itemClusters: checkPositiveInteger(caller, "itemClusters", config.itemClusters ?? 3),
      epochs: checkInteger(caller, "epochs", config.epochs ?? 20, 0),
      seed: checkSeed(caller, config.seed),
      ratingScale: config.ratingScale,
    };
  }

  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    this.state = { train, ratings, ...fitCoClustering(ratings, this.config) };
    return this;
  }

  /** Each user's cluster (−1 for users without ratings). */
  get userClusters(): Int32Array {
    return this.fitted("userClusters").userCluster;
  }

  /** Each item's cluster (−1 for items without ratings). */
  get itemClusters(): Int32Array {
    return this.fitted("itemClusters").itemCluster;
  }

  /** C̄_u, C̄_i and C̄_ui. */
  get clusterMeans(): ClusterMeans {
    return this.fitted("clusterMeans").means;
  }

  get numUsers(): number {
    return this.fitted("numUsers").ratings.numUsers;
  }

  get numItems(): number {
    return this.fitted("numItems").ratings.numItems;
  }

  /** r̂_ui of each pair (users[j], items[j]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { ratings } = this.fitted("predict");
    checkRatingPairs("CoClustering.predict", ratings, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = ratings.clip(this.estimate(users[j], items[j]));
    return out;
  }

  /** The unclipped r̂_ui of every item for each user: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const { ratings } = this.fitted("scoreItems");
    checkRatingUsers("CoClustering.scoreItems", ratings, users);
    const n = ratings.numItems;
    const out = new Float64Array(users.length * n);
    for (let b = 0; b < users.length; b++) for (let i = 0; i < n; i++) out[b * n + i] = this.estimate(users[b], i);
    return out;
  }

  /** C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i); μ for an unknown user or item. */
  private estimate(u: number, i: number): number {
    const { ratings, userCluster, itemCluster, userMeans, itemMeans, means } = this.fitted("estimate");
    const uc = userCluster[u];
    const ic = itemCluster[i];
    if (uc < 0 || ic < 0) return ratings.globalMean;
    return means.co[uc * this.config.itemClusters + ic] + userMeans[u] - means.user[uc] + itemMeans[i] - means.item[ic];
  }

  // -------------------------------------------------------------------------------------------
  // Saving and loading (train/savedModel.ts): the clusters are the weights (int32); the means are
  // recomputed from the training data handed to `load` (checked), so a loaded model predicts the
  // same numbers exactly.
  // -------------------------------------------------------------------------------------------

  /** The clusters under the names "userClusters" and "itemClusters", as int32 tfjs variables (see `dispose`). */
  namedWeights(): NamedWeight[] {
    const { userCluster, itemCluster } = this.fitted("namedWeights");
    this.variables ??= [
      { name: "userClusters", variable: tf.tidy(() => tf.variable(tf.tensor1d(userCluster, "int32"))) },
      { name: "itemClusters", variable: tf.tidy(() => tf.variable(tf.tensor1d(itemCluster, "int32"))) },
    ];
    return this.variables;
  }

  /** Frees the tfjs variables of `namedWeights`; the model itself lives in typed arrays and stays usable. */
  dispose(): void {
    for (const { variable } of this.variables ?? []) variable.dispose();
    this.variables = null;
  }

  /** Saves the settings and clusters, with a record of the training data, to the folder `path`. */
  async save(path: string): Promise<void> {
    const { train } = this.fitted("save");
    const { ratingScale, ...rest } = this.config;
    const config = { ...rest, ...(ratingScale === undefined ? {} : { ratingScale: [...ratingScale] }) };
    try {
      await saveModel(path, "CoClustering", config, this.namedWeights(), train);
    } finally {
      this.dispose();
    }
  }

  /** A model saved by `save`, on the training data it was fitted on (checked). */
  static async load(path: string, train: Interactions): Promise<CoClustering> {
    const where = "CoClustering.load";
    const model = await loadModel(where, path, "CoClustering", (c) => CoClustering.empty(c, train), train);
    return model.adoptWeights(where);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static async fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train: Interactions,
  ): Promise<CoClustering> {
    const where = "CoClustering.fromArtifacts";
    const model = await modelFromArtifacts(
      where,
      json,
      weights,
      "CoClustering",
      (c) => CoClustering.empty(c, train),
      train,
    );
    return model.adoptWeights(where);
  }

  /** A model over `train`'s ratings with every cluster −1, for loading to fill. */
  private static empty(config: Record<string, unknown>, train: Interactions): CoClustering {
    const model = new CoClustering(config as unknown as CoClusteringConfig);
    const ratings = new SparseRatings(train, model.config);
    const { userClusters: ku, itemClusters: ki } = model.config;
    const userCluster = new Int32Array(train.numUsers).fill(-1);
    const itemCluster = new Int32Array(train.numItems).fill(-1);
    const means = { user: new Float64Array(ku), item: new Float64Array(ki), co: new Float64Array(ku * ki) };
    model.state = {
      train,
      ratings,
      userCluster,
      itemCluster,
      userMeans: rowMeans(ratings.byUser),
      itemMeans: rowMeans(ratings.byItem),
      means,
    };
    return model;
  }

  /** Copies the loaded clusters in, checks them, frees the variables and recomputes the means. */
  private adoptWeights(where: string): this {
    const state = this.fitted("load");
    const [users, items] = this.namedWeights();
    state.userCluster.set(users.variable.dataSync());
    state.itemCluster.set(items.variable.dataSync());
    this.dispose();
    const { ratings } = state;
    const check = (clusters: Int32Array, k: number, known: (x: number) => boolean, side: string) => {
      for (let x = 0; x < clusters.length; x++) {
        if (known(x) ? !(clusters[x] >= 0 && clusters[x] < k) : clusters[x] !== -1)
          throw new Error(`${where}: ${side} ${x} has cluster ${clusters[x]}, which does not fit the training data`);
      }
    };
    check(state.userCluster, this.config.userClusters, (u) => ratings.knowsUser(u), "user");
    check(state.itemCluster, this.config.itemClusters, (i) => ratings.knowsItem(i), "item");
    state.means = clusterMeans(
      ratings,
      state.userCluster,
      state.itemCluster,
      this.config.userClusters,
      this.config.itemClusters,
    );
    return this;
  }

  private fitted(what: string): Fitted {
    return requireFitted(`CoClustering.${what}`, this.state);
  }
}
