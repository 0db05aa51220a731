// Slope One (Lemire and Maclachlan, "Slope One Predictors for Online Rating-Based Collaborative
// Filtering", SDM 2005), the plain, unweighted variant that Surprise's `SlopeOne` implements:
//   dev(i, j) = (1/|U_ij|) Σ_{u ∈ U_ij} (r_ui − r_uj)            (U_ij: users who rated both i and j)
//   r̂_ui = μ_u + (1/|R_i(u)|) Σ_{j ∈ R_i(u)} dev(i, j)
// where R_i(u) is the set of items j rated by u that share at least one user with i. Each deviation
// counts once, however many users support it (the "weighted" Slope One of the paper would weight it
// by |U_ij|). An unknown user or item gets the global mean μ; predictions are clipped to the rating
// scale. Surprise declares the ratings `int` in this loop, which truncates half-star ratings; here
// they keep their values (no difference on integer scales such as MovieLens 100K's). `save` writes the
// ratings and both matrices, so that `load` needs no refit.

import { Interactions } from "../data/interactions";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { rowMeans } from "../data/csr";
import {
  SparseRatings,
  SparseRatingsConfig,
  checkRatingPairs,
  checkRatingUsers,
  restoreSparseRatings,
  sparseRatingsSaved,
} from "../data/sparseRatings";
import { requireFitted } from "../checks";
import { arrayModelFormat, TrainingData } from "../train/savedModel";

export type SlopeOneConfig = SparseRatingsConfig;

interface Fitted {
  ratings: SparseRatings;
  /** [numItems × numItems]: dev(i, j) = deviations[i · numItems + j], antisymmetric, 0 where |U_ij| = 0. */
  deviations: Float64Array;
  /** [numItems × numItems]: |U_ij|, symmetric; the diagonal counts each item's raters. */
  support: Int32Array;
  /** μ_u of each user (0 for unknown users). */
  userMeans: Float64Array;
}

/**
 * Slope One rating predictor (Surprise's `SlopeOne`, which has no hyper-parameters). `fit` keeps two
 * dense numItems × numItems matrices (about 34 MB for MovieLens 100K's 1,682 items).
 */
export class SlopeOne implements RatingPredictor, ItemScorer {
  readonly config: SlopeOneConfig;
  private fitted: Fitted | null = null;
  private trainedOn: TrainingData | null = null;

  constructor(config: SlopeOneConfig = {}) {
    this.config = { ...config };
  }

  /**
   * Computes |U_ij| and dev(i, j) for every pair of items, one item i at a time: for each rater u of i,
   * for each item j > i that u rated, add to n-long accumulators (O(Σ_u |I_u|²) work in all).
   */
  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    const { byUser, byItem, numItems: n } = ratings;
    const deviations = new Float64Array(n * n);
    const support = new Int32Array(n * n);
    const freq = new Int32Array(n);
    const sums = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let p = byItem.offsets[i]; p < byItem.offsets[i + 1]; p++) {
        const u = byItem.indices[p];
        const rui = byItem.values[p];
        // u's items are sorted by index: j > i is the tail of u's row.
        for (let q = byUser.offsets[u + 1] - 1; q >= byUser.offsets[u]; q--) {
          const j = byUser.indices[q];
          if (j <= i) break;
          freq[j]++;
          sums[j] += rui - byUser.values[q];
        }
      }
      support[i * n + i] = byItem.offsets[i + 1] - byItem.offsets[i];
      for (let j = i + 1; j < n; j++) {
        if (freq[j] > 0) {
          const deviation = sums[j] / freq[j];
          deviations[i * n + j] = deviation;
          deviations[j * n + i] = -deviation;
          support[i * n + j] = support[j * n + i] = freq[j];
        }
        freq[j] = 0;
        sums[j] = 0;
      }
    }
    this.fitted = { ratings, deviations, support, userMeans: rowMeans(byUser) };
    this.trainedOn = train;
    return this;
  }

  /** dev(i, j), [numItems × numItems] row-major. */
  get deviations(): Float64Array {
    return this.state().deviations;
  }

  /** |U_ij|, [numItems × numItems] row-major. */
  get support(): Int32Array {
    return this.state().support;
  }

  get numItems(): number {
    return this.state().ratings.numItems;
  }

  get numUsers(): number {
    return this.state().ratings.numUsers;
  }

  /** r̂_ui of each pair (users[j], items[j]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { ratings } = this.state();
    checkRatingPairs("SlopeOne.predict", ratings, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = ratings.clip(this.estimate(users[j], items[j]));
    return out;
  }

  /** The unclipped r̂_ui of every item for each user: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const { ratings } = this.state();
    checkRatingUsers("SlopeOne.scoreItems", ratings, users);
    const numItems = ratings.numItems;
    const out = new Float64Array(users.length * numItems);
    for (let row = 0; row < users.length; row++) {
      for (let i = 0; i < numItems; i++) out[row * numItems + i] = this.estimate(users[row], i);
    }
    return out;
  }

  /** Saves the fitted model (ratings, dev and |U_ij|) to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { ratings, deviations, support } = this.state();
    const { arrays, fitted } = sparseRatingsSaved(ratings);
    const n = ratings.numItems;
    return SlopeOne.format.save(path, {
      config: { ...this.config },
      fitted,
      arrays: [
        ...arrays,
        { name: "deviations", values: deviations, shape: [n, n] },
        { name: "support", values: support, shape: [n, n] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, ready to predict; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<SlopeOne> {
    return SlopeOne.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<SlopeOne> {
    return SlopeOne.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "SlopeOne",
    ({ config, fitted, arrays, data }) => {
      const model = new SlopeOne(config as SlopeOneConfig);
      const ratings = restoreSparseRatings(arrays, fitted);
      const n = ratings.numItems;
      model.fitted = {
        ratings,
        deviations: arrays.float64("deviations", [n, n]),
        support: arrays.int32("support", [n, n]),
        userMeans: rowMeans(ratings.byUser),
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  private state(): Fitted {
    return requireFitted("SlopeOne", this.fitted);
  }

  private estimate(u: number, i: number): number {
    const { ratings, deviations, support, userMeans } = this.state();
    if (!ratings.knowsUser(u) || !ratings.knowsItem(i)) return ratings.globalMean;
    const { offsets, indices } = ratings.byUser;
    const base = i * ratings.numItems;
    let sum = 0;
    let relevant = 0;
    for (let p = offsets[u]; p < offsets[u + 1]; p++) {
      const j = indices[p];
      if (support[base + j] > 0) {
        sum += deviations[base + j];
        relevant++;
      }
    }
    return relevant > 0 ? userMeans[u] + sum / relevant : userMeans[u];
  }
}
