// Neighbourhood (k-nearest-neighbour) collaborative filtering: Surprise's `KNNBasic`,
// `KNNWithMeans` and `KNNBaseline` (its `knns.py`), user-based or item-based.
//
// User-based, the neighbours N^k_i(u) of user u for item i are the k users most similar to u among
// those who rated i; item-based, N^k_u(i) are the k items most similar to i among those u rated.
// Written user-based (item-based swaps u and i, users and items):
//   KNNBasic:      r̂_ui = Σ_v sim(u, v) · r_vi / Σ_v sim(u, v)
//   KNNWithMeans:  r̂_ui = μ_u + Σ_v sim(u, v) · (r_vi − μ_v) / Σ_v sim(u, v)
//   KNNBaseline:   r̂_ui = b_ui + Σ_v sim(u, v) · (r_vi − b_vi) / Σ_v sim(u, v)   (Koren 2010, eq. 3)
// with the sums over v ∈ N^k_i(u). Details that Surprise's code fixes and this file follows:
// - the k most similar raters are taken first (`heapq.nlargest`), then those with sim <= 0 are
//   dropped from the sums; so the neighbours are the (at most k) most similar raters with sim > 0,
//   and their count is `actual_k`. Ties in similarity go to the lower user (item) index — Surprise
//   keeps the earlier rater in its train order, which is arbitrary;
// - fewer than `minK` neighbours: KNNBasic predicts the global mean μ (`PredictionImpossible`);
//   KNNWithMeans and KNNBaseline drop the neighbour term (μ_u, or b_ui, alone);
// - an unknown user or item (no train rating): KNNBasic and KNNWithMeans predict μ; KNNBaseline
//   predicts μ + b_u + b_i with the unknown side's bias left out;
// - predictions are clipped to the rating scale.
// Defaults are Surprise's: k = 40, minK = 1, similarity msd user-based, baselines by ALS. Surprise's
// documentation recommends pearson_baseline for KNNBaseline (`similarity: { name: "pearson_baseline" }`);
// its benchmark, and these defaults, use msd.
//
// A fitted model keeps the train ratings (the neighbours' ratings are what it averages), the similarity
// matrix and the biases; `save` writes all three, so that `load` needs no refit and no data.

import { Interactions } from "../data/interactions";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { checkInteger, requireFitted } from "../checks";
import { rowMeans } from "../data/csr";
import { BaselineConfig, Baselines, fitBaselines } from "../train/baselineEstimates";
import { arrayModelFormat, SavedArrays, SavedArraysInput, TrainingData } from "../train/savedModel";
import type { NamedArray } from "../train/checkpointFormat";
import {
  RatingRows,
  SparseRatings,
  SparseRatingsConfig,
  checkRatingPairs,
  checkRatingUsers,
  restoreSparseRatings,
  sparseRatingsSaved,
} from "../data/sparseRatings";
import { SimilarityConfig, SimilarityMatrix, resolveSimilarityConfig, similarityMatrix } from "../data/similarities";

export interface KnnConfig extends SparseRatingsConfig {
  /** The most neighbours aggregated, default 40. */
  k?: number;
  /** The fewest neighbours for the neighbour term to count, default 1 (see the file header). */
  minK?: number;
  /** Surprise's `sim_options`; default msd, user-based, minSupport 1 (shrinkage 100 for pearson_baseline). */
  similarity?: SimilarityConfig;
  /** Surprise's `bsl_options`, for KNNBaseline and the pearson_baseline similarity; default ALS. */
  baseline?: BaselineConfig;
}

/** What a fitted neighbourhood model holds. */
interface Fitted {
  ratings: SparseRatings;
  similarity: SimilarityMatrix;
  /** Rows of the compared side x (users when user-based) and of the other side y. */
  xRows: RatingRows;
  yRows: RatingRows;
  /** Biases, when the model or its similarity uses them. */
  baselines: Baselines | null;
}

/**
 * Reorders candidates [0, n) so that the `k` best come first (in no particular order): higher
 * similarity first, the lower neighbour index on ties. Quickselect, O(n) on average; the neighbours
 * being a few dozen out of a few hundred at most, this is several times cheaper than a bounded heap.
 */
function selectBest(sims: Float64Array, neighbours: Int32Array, positions: Int32Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const pivotSim = sims[mid];
    const pivotNeighbour = neighbours[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (sims[i] > pivotSim || (sims[i] === pivotSim && neighbours[i] < pivotNeighbour)) i++;
      while (sims[j] < pivotSim || (sims[j] === pivotSim && neighbours[j] > pivotNeighbour)) j--;
      if (i <= j) {
        swap(sims, i, j);
        swap(neighbours, i, j);
        swap(positions, i, j);
        i++;
        j--;
      }
    }
    // Now [lo, j] are at least as good as the pivot, [i, hi] at most as good, and (j, i) equal to it.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/** The length of the longest row: the most candidates one estimate can have. */
function longestRow(rows: RatingRows): number {
  let longest = 0;
  for (let y = 0; y + 1 < rows.offsets.length; y++) longest = Math.max(longest, rows.offsets[y + 1] - rows.offsets[y]);
  return longest;
}

function swap(array: Float64Array | Int32Array, a: number, b: number): void {
  const t = array[a];
  array[a] = array[b];
  array[b] = t;
}

/**
 * What the three models share: fitting (rows, baselines, similarity), neighbour selection, and the
 * predict / scoreItems loops. Each model says what a neighbour contributes (`residual`), how the
 * aggregate becomes r̂_ui (`combine`) and what an unknown user or item gets (`fallback`).
 */
abstract class NeighbourhoodModel implements RatingPredictor, ItemScorer {
  readonly config: KnnConfig;
  readonly k: number;
  readonly minK: number;
  protected fitted: Fitted | null = null;
  /** The data `fit` read, or the record of it a loaded model kept: `save` records it. */
  protected trainedOn: TrainingData | null = null;
  // Candidate neighbours of the current pair: similarity, index, and position in the rating rows.
  private candidateSims = new Float64Array(0);
  private candidateNeighbours = new Int32Array(0);
  private candidatePositions = new Int32Array(0);

  constructor(
    readonly modelName: string,
    config: KnnConfig,
  ) {
    this.config = { ...config };
    this.k = checkInteger(modelName, "k", config.k ?? 40, 0);
    if (this.k < 1) throw new Error(`${modelName}: k must be an integer >= 1, got ${this.k}`);
    this.minK = checkInteger(modelName, "minK", config.minK ?? 1, 0);
    resolveSimilarityConfig(config.similarity, modelName);
  }

  /** Builds the rating rows, the baselines if needed and the similarity matrix from `train`. */
  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    const similarityConfig = resolveSimilarityConfig(this.config.similarity, this.modelName);
    const baselines = this.needsBaselines() ? fitBaselines(ratings, this.config.baseline) : null;
    this.install(ratings, similarityMatrix(ratings, similarityConfig, baselines ?? undefined), baselines);
    this.trainedOn = train;
    return this;
  }

  /** The similarity matrix of the fitted model. */
  get similarity(): SimilarityMatrix {
    return this.state().similarity;
  }

  get numItems(): number {
    return this.state().ratings.numItems;
  }

  get numUsers(): number {
    return this.state().ratings.numUsers;
  }

  /** The fitted state as arrays (ratings, similarity, biases) for `save` (see train/savedModel.ts). */
  protected saved(): SavedArraysInput {
    const { ratings, similarity, baselines } = this.state();
    const { arrays, fitted } = sparseRatingsSaved(ratings);
    const all: NamedArray[] = [
      ...arrays,
      { name: "similarity", values: similarity.values, shape: [similarity.size, similarity.size] },
    ];
    if (baselines !== null) {
      all.push(
        { name: "baselines/userBias", values: baselines.userBias, shape: [ratings.numUsers] },
        { name: "baselines/itemBias", values: baselines.itemBias, shape: [ratings.numItems] },
      );
    }
    return { config: { ...this.config }, fitted, arrays: all, data: this.trainedOn };
  }

  /** This model, fitted as the saved one was: the arrays of `saved()` back in place, no similarity recomputed. */
  protected restore({ fitted, arrays, data }: SavedArrays): this {
    const ratings = restoreSparseRatings(arrays, fitted);
    const { name, userBased } = resolveSimilarityConfig(this.config.similarity, this.modelName);
    const size = userBased ? ratings.numUsers : ratings.numItems;
    const similarity = { name, userBased, size, values: arrays.float32("similarity", [size, size]) };
    const baselines = this.needsBaselines()
      ? {
          globalMean: ratings.globalMean,
          userBias: arrays.float64("baselines/userBias", [ratings.numUsers]),
          itemBias: arrays.float64("baselines/itemBias", [ratings.numItems]),
        }
      : null;
    this.install(ratings, similarity, baselines);
    this.trainedOn = data ?? null;
    return this;
  }

  private needsBaselines(): boolean {
    return (
      this.usesBaselines() ||
      resolveSimilarityConfig(this.config.similarity, this.modelName).name === "pearson_baseline"
    );
  }

  /** Makes the model fitted: its state, the per-estimate buffers, and each model's own extras. */
  private install(ratings: SparseRatings, similarity: SimilarityMatrix, baselines: Baselines | null): void {
    const userBased = similarity.userBased;
    this.fitted = {
      ratings,
      similarity,
      xRows: userBased ? ratings.byUser : ratings.byItem,
      yRows: userBased ? ratings.byItem : ratings.byUser,
      baselines,
    };
    const longest = longestRow(this.fitted.yRows);
    this.candidateSims = new Float64Array(longest);
    this.candidateNeighbours = new Int32Array(longest);
    this.candidatePositions = new Int32Array(longest);
    this.afterFit(this.fitted);
  }

  /** r̂_ui of each pair (users[j], items[j]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { ratings } = this.state();
    checkRatingPairs(`${this.modelName}.predict`, ratings, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = ratings.clip(this.estimate(users[j], items[j]));
    return out;
  }

  /**
   * The unclipped r̂_ui of every item for each user: [users.length × numItems], the values `predict`
   * clips. User-based models fill a whole user row at once (see `scoreRowUserBased`), several times
   * faster than pair by pair.
   */
  scoreItems(users: Int32Array): Float64Array {
    const fitted = this.state();
    const { ratings, similarity } = fitted;
    checkRatingUsers(`${this.modelName}.scoreItems`, ratings, users);
    const numItems = ratings.numItems;
    const out = new Float64Array(users.length * numItems);
    const counts = new Int32Array(numItems);
    const sumSims = new Float64Array(numItems);
    const sums = new Float64Array(numItems);
    for (let row = 0; row < users.length; row++) {
      const u = users[row];
      const scores = out.subarray(row * numItems, (row + 1) * numItems);
      if (!similarity.userBased || !ratings.knowsUser(u)) {
        for (let i = 0; i < numItems; i++) scores[i] = this.estimate(u, i);
        continue;
      }
      this.scoreRowUserBased(fitted, u, counts, sumSims, sums);
      for (let i = 0; i < numItems; i++) {
        scores[i] = ratings.knowsItem(i)
          ? this.combine(u, i, u, i, counts[i], sumSims[i], sums[i])
          : this.fallback(u, i);
      }
    }
    return out;
  }

  protected state(): Fitted {
    return requireFitted(this.modelName, this.fitted);
  }

  protected usesBaselines(): boolean {
    return false;
  }

  protected afterFit(_fitted: Fitted): void {}

  /** What neighbour `neighbour` (of x, for y) contributes when it rated `rating`. */
  protected abstract residual(neighbour: number, y: number, rating: number): number;

  /** r̂_ui from the neighbours' aggregate: `count` of them (actual_k), Σ sim and Σ sim · residual. */
  protected abstract combine(
    u: number,
    i: number,
    x: number,
    y: number,
    count: number,
    sumSim: number,
    sumWeighted: number,
  ): number;

  /** r̂_ui when user u or item i has no train rating. */
  protected abstract fallback(u: number, i: number): number;

  /** Whether the neighbour term counts: at least minK neighbours, and at least one. */
  protected enoughNeighbours(count: number): boolean {
    return count >= this.minK && count > 0;
  }

  /** r̂_ui before clipping, for one pair: the k best neighbours of x among the raters of y. */
  private estimate(u: number, i: number): number {
    const { ratings, similarity, yRows } = this.state();
    if (!ratings.knowsUser(u) || !ratings.knowsItem(i)) return this.fallback(u, i);
    const x = similarity.userBased ? u : i;
    const y = similarity.userBased ? i : u;
    const rowBase = x * similarity.size;
    const sims = this.candidateSims;
    const neighbours = this.candidateNeighbours;
    const positions = this.candidatePositions;
    let count = 0;
    for (let p = yRows.offsets[y]; p < yRows.offsets[y + 1]; p++) {
      const sim = similarity.values[rowBase + yRows.indices[p]];
      if (sim > 0) {
        sims[count] = sim;
        neighbours[count] = yRows.indices[p];
        positions[count] = p;
        count++;
      }
    }
    if (count > this.k) {
      selectBest(sims, neighbours, positions, count, this.k);
      count = this.k;
    }
    let sumSim = 0;
    let sumWeighted = 0;
    for (let c = 0; c < count; c++) {
      sumSim += sims[c];
      sumWeighted += sims[c] * this.residual(neighbours[c], y, yRows.values[positions[c]]);
    }
    return this.combine(u, i, x, y, count, sumSim, sumWeighted);
  }

  /**
   * User-based, user u fixed: sim(u, ·) ranks the same users for every item, so walk the users by
   * decreasing similarity (ties by index) and let each add its ratings to the items that have fewer
   * than k neighbours so far. Each item ends with exactly the neighbours `estimate` selects, with no
   * selection per item: O(n log n + ratings) per user.
   */
  private scoreRowUserBased(
    fitted: Fitted,
    u: number,
    counts: Int32Array,
    sumSims: Float64Array,
    sums: Float64Array,
  ): void {
    const { similarity, xRows } = fitted;
    const size = similarity.size;
    const sims = similarity.values.subarray(u * size, (u + 1) * size);
    counts.fill(0);
    sumSims.fill(0);
    sums.fill(0);
    const order: number[] = [];
    for (let v = 0; v < size; v++) if (sims[v] > 0) order.push(v);
    order.sort((a, b) => sims[b] - sims[a] || a - b);
    const k = this.k;
    for (const v of order) {
      const sim = sims[v];
      for (let p = xRows.offsets[v]; p < xRows.offsets[v + 1]; p++) {
        const i = xRows.indices[p];
        if (counts[i] === k) continue;
        counts[i]++;
        sumSims[i] += sim;
        sums[i] += sim * this.residual(v, i, xRows.values[p]);
      }
    }
  }
}

/**
 * The plain neighbourhood average r̂_ui = Σ_v sim(u, v) · r_vi / Σ_v sim(u, v) over the neighbours
 * v ∈ N^k_i(u) (Surprise's `KNNBasic`); μ when the user or item is unknown or there are fewer than
 * minK neighbours (with minK = 0 and no neighbour Surprise divides 0 by 0; μ here too).
 */
export class KNNBasic extends NeighbourhoodModel {
  constructor(config: KnnConfig = {}) {
    super("KNNBasic", config);
  }

  /** Saves the fitted model (ratings, similarities) to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    return KNNBasic.format.save(path, this.saved());
  }

  /** A model saved by `save`, ready to predict; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<KNNBasic> {
    return KNNBasic.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<KNNBasic> {
    return KNNBasic.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "KNNBasic",
    (saved) => new KNNBasic(saved.config as KnnConfig).restore(saved),
    (train?: Interactions) => train,
  );

  protected override residual(_neighbour: number, _y: number, rating: number): number {
    return rating;
  }

  protected override combine(
    _u: number,
    _i: number,
    _x: number,
    _y: number,
    count: number,
    sumSim: number,
    sumWeighted: number,
  ): number {
    return this.enoughNeighbours(count) ? sumWeighted / sumSim : this.state().ratings.globalMean;
  }

  protected override fallback(): number {
    return this.state().ratings.globalMean;
  }
}

/**
 * The mean-centred average r̂_ui = μ_u + Σ_v sim(u, v) · (r_vi − μ_v) / Σ_v sim(u, v) (Surprise's
 * `KNNWithMeans`; item-based, the means are the items' μ_i); μ_u alone with fewer than minK
 * neighbours; μ when the user or item is unknown.
 */
export class KNNWithMeans extends NeighbourhoodModel {
  private means = new Float64Array(0);

  constructor(config: KnnConfig = {}) {
    super("KNNWithMeans", config);
  }

  /** Saves the fitted model (ratings, similarities) to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    return KNNWithMeans.format.save(path, this.saved());
  }

  /** A model saved by `save`, ready to predict; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<KNNWithMeans> {
    return KNNWithMeans.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<KNNWithMeans> {
    return KNNWithMeans.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "KNNWithMeans",
    (saved) => new KNNWithMeans(saved.config as KnnConfig).restore(saved),
    (train?: Interactions) => train,
  );

  protected override afterFit(fitted: Fitted): void {
    this.means = rowMeans(fitted.xRows);
  }

  protected override residual(neighbour: number, _y: number, rating: number): number {
    return rating - this.means[neighbour];
  }

  protected override combine(
    _u: number,
    _i: number,
    x: number,
    _y: number,
    count: number,
    sumSim: number,
    sumWeighted: number,
  ): number {
    return this.means[x] + (this.enoughNeighbours(count) ? sumWeighted / sumSim : 0);
  }

  protected override fallback(): number {
    return this.state().ratings.globalMean;
  }
}

/**
 * The baseline-centred average r̂_ui = b_ui + Σ_v sim(u, v) · (r_vi − b_vi) / Σ_v sim(u, v), with
 * b_ui = μ + b_u + b_i (Surprise's `KNNBaseline`; Koren 2010, eq. 3); b_ui alone with fewer than minK
 * neighbours or when the user or item is unknown (an unknown side's bias counts as 0).
 */
export class KNNBaseline extends NeighbourhoodModel {
  private globalMean = NaN;
  private xBias = new Float64Array(0);
  private yBias = new Float64Array(0);

  constructor(config: KnnConfig = {}) {
    super("KNNBaseline", config);
  }

  /** Saves the fitted model (ratings, similarities, biases) to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    return KNNBaseline.format.save(path, this.saved());
  }

  /** A model saved by `save`, ready to predict; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<KNNBaseline> {
    return KNNBaseline.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<KNNBaseline> {
    return KNNBaseline.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "KNNBaseline",
    (saved) => new KNNBaseline(saved.config as KnnConfig).restore(saved),
    (train?: Interactions) => train,
  );

  /** μ, b_u and b_i. */
  get baselines(): Baselines {
    return this.state().baselines as Baselines;
  }

  protected override usesBaselines(): boolean {
    return true;
  }

  protected override afterFit(fitted: Fitted): void {
    const { globalMean, userBias, itemBias } = fitted.baselines as Baselines;
    this.globalMean = globalMean;
    const userBased = fitted.similarity.userBased;
    this.xBias = userBased ? userBias : itemBias;
    this.yBias = userBased ? itemBias : userBias;
  }

  /** r_vi − b_vi, with b_vi = μ + b_v + b_i (user-based). */
  protected override residual(neighbour: number, y: number, rating: number): number {
    return rating - (this.globalMean + this.xBias[neighbour] + this.yBias[y]);
  }

  protected override combine(
    u: number,
    i: number,
    _x: number,
    _y: number,
    count: number,
    sumSim: number,
    sumWeighted: number,
  ): number {
    return this.fallback(u, i) + (this.enoughNeighbours(count) ? sumWeighted / sumSim : 0);
  }

  /** b_ui; unknown users and items have bias 0. */
  protected override fallback(u: number, i: number): number {
    const { globalMean, userBias, itemBias } = this.baselines;
    return globalMean + userBias[u] + itemBias[i];
  }
}
