// Rating-prediction baselines, as in the Surprise library (Hug, "Surprise: A Python library for
// recommender systems", JOSS 2020): `NormalPredictor` draws a random rating from the normal
// distribution of the train ratings, and `BaselineOnly` predicts the baseline estimate
//   b_ui = μ + b_u + b_i                                   (Koren, TKDD 2010, §2.1)
// whose biases are fitted by alternating least squares or by SGD exactly as Surprise's
// `optimize_baselines.pyx` does. Also `SparseRatings`, the train ratings grouped by user and by item
// (Surprise's `Trainset`), shared by these models, the neighbourhood models (knn.ts) and Slope One.
//
// Conventions shared by every rating model built on `SparseRatings` (Surprise's `AlgoBase.predict`):
// - a user (item) is "known" when it has at least one train rating; other indices of the id space
//   are unknown and the model falls back as Surprise does (the global mean μ, or a partial baseline);
// - predictions are clipped to the rating scale (Surprise's default `clip=True`); `scoreItems`, for
//   ranking, returns the unclipped estimate (Surprise's `clip=False`), since clipping only makes ties.
// They are not gradient models: `fit(train)` computes everything in closed form or in plain loops.

import { Rng } from "../backend/random";
import { Interactions } from "../data/interactions";
import { checkInteger, checkNonNegative } from "../checks";
import { CsrMatrix } from "../data/csr";
import { ItemScorer, RatingPredictor } from "../eval/scorers";

// ---------------------------------------------------------------------------------------------
// The train ratings in sparse row form
// ---------------------------------------------------------------------------------------------

/**
 * Ratings in compressed sparse row form: row `x` holds the pairs (indices[p], values[p]) for
 * offsets[x] <= p < offsets[x + 1], sorted by index (ties, i.e. repeated ratings, in log order).
 * The name is kept for notebooks; it is the library's one sparse type.
 */
export type RatingRows = CsrMatrix;

export interface SparseRatingsConfig {
  /**
   * The [lowest, highest] rating that predictions are clipped to. Default: the lowest and highest
   * train rating (Surprise takes it from its `Reader`; both are [1, 5] on MovieLens).
   */
  ratingScale?: readonly [number, number];
}

/**
 * The train ratings grouped by user (Surprise's `ur`) and by item (`ir`), with their mean μ and the
 * rating scale. Indices span the whole id space of the `Interactions` they came from, so the test
 * part of a split indexes them directly.
 */
export class SparseRatings {
  readonly numUsers: number;
  readonly numItems: number;
  /** Number of ratings. */
  readonly length: number;
  /** Row u: the items user u rated and the ratings, by item index. */
  readonly byUser: RatingRows;
  /** Row i: the users who rated item i and the ratings, by user index. */
  readonly byItem: RatingRows;
  /** μ, the mean of all train ratings. */
  readonly globalMean: number;
  readonly ratingScale: readonly [number, number];

  constructor(train: Interactions, config: SparseRatingsConfig = {}) {
    const n = train.length;
    if (n === 0) throw new Error(`SparseRatings: the train data '${train.name}' has no ratings`);
    const { users, items, ratings, numUsers, numItems } = train;
    let sum = 0;
    let lowest = Infinity;
    let highest = -Infinity;
    for (let r = 0; r < n; r++) {
      const value = ratings[r];
      if (!Number.isFinite(value)) {
        throw new Error(`SparseRatings: '${train.name}' row ${r} has rating ${value}; every rating must be a finite number`);
      }
      sum += value;
      if (value < lowest) lowest = value;
      if (value > highest) highest = value;
    }
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.length = n;
    this.globalMean = sum / n;
    this.ratingScale = checkRatingScale("SparseRatings", config.ratingScale ?? [lowest, highest]);
    this.byUser = CsrMatrix.fromTriples(numUsers, numItems, users, items, ratings);
    this.byItem = this.byUser.transpose();
  }

  /** Whether user u has a train rating (Surprise's `knows_user`). */
  knowsUser(u: number): boolean {
    return this.byUser.offsets[u + 1] > this.byUser.offsets[u];
  }

  /** Whether item i has a train rating (Surprise's `knows_item`). */
  knowsItem(i: number): boolean {
    return this.byItem.offsets[i + 1] > this.byItem.offsets[i];
  }

  /** `value` clipped to the rating scale. */
  clip(value: number): number {
    const [lowest, highest] = this.ratingScale;
    return value < lowest ? lowest : value > highest ? highest : value;
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline estimates b_ui = μ + b_u + b_i
// ---------------------------------------------------------------------------------------------

/**
 * Alternating least squares for the biases (Surprise's default, `bsl_options = {'method': 'als'}`):
 * each epoch first sets every item bias, then every user bias, to its regularised least-squares value
 * given the other side,
 *   b_i = Σ_{u ∈ U_i} (r_ui − μ − b_u) / (λ_i + |U_i|),   b_u = Σ_{i ∈ I_u} (r_ui − μ − b_i) / (λ_u + |I_u|).
 */
export interface AlsBaselineConfig {
  method?: "als";
  /** Default 10 (Surprise's `n_epochs`). */
  epochs?: number;
  /** λ_u, default 15 (Surprise's `reg_u`). */
  regUser?: number;
  /** λ_i, default 10 (Surprise's `reg_i`). */
  regItem?: number;
}

/**
 * Stochastic gradient descent on Σ (r_ui − μ − b_u − b_i)² + λ (b_u² + b_i²), one pass per epoch over
 * the ratings user by user as Surprise's `all_ratings()` (users by index, each user's ratings by item
 * index; Surprise keeps its train order within a user); with e = r_ui − μ − b_u − b_i,
 *   b_u ← b_u + γ (e − λ b_u),   b_i ← b_i + γ (e − λ b_i)   (both with the same e).
 */
export interface SgdBaselineConfig {
  method: "sgd";
  /** Default 20 (Surprise's `n_epochs`). */
  epochs?: number;
  /** λ, default 0.02 (Surprise's `reg`). */
  reg?: number;
  /** γ, default 0.005 (Surprise's `learning_rate`). */
  learningRate?: number;
}

/** How the biases are fitted; the defaults are Surprise's `bsl_options` defaults. */
export type BaselineConfig = AlsBaselineConfig | SgdBaselineConfig;

/** Fitted biases: b_ui = globalMean + userBias[u] + itemBias[i]; unknown users and items have bias 0. */
export interface Baselines {
  readonly globalMean: number;
  readonly userBias: Float64Array;
  readonly itemBias: Float64Array;
}

/** The user and item biases of `ratings`, fitted as Surprise's `compute_baselines` does. */
export function fitBaselines(ratings: SparseRatings, config: BaselineConfig = {}): Baselines {
  const caller = "fitBaselines";
  const method: string | undefined = config.method;
  if (method !== undefined && method !== "als" && method !== "sgd") {
    throw new Error(`${caller}: method must be "als" or "sgd", got ${JSON.stringify(method)}`);
  }
  if (config.method === "sgd") {
    const epochs = checkInteger(caller, "epochs", config.epochs ?? 20, 0);
    const reg = checkNonNegative(caller, "reg", config.reg ?? 0.02);
    const learningRate = checkNonNegative(caller, "learningRate", config.learningRate ?? 0.005);
    return baselinesBySgd(ratings, epochs, reg, learningRate);
  }
  const epochs = checkInteger(caller, "epochs", config.epochs ?? 10, 0);
  const regUser = checkNonNegative(caller, "regUser", config.regUser ?? 15);
  const regItem = checkNonNegative(caller, "regItem", config.regItem ?? 10);
  return baselinesByAls(ratings, epochs, regUser, regItem);
}

function baselinesByAls(ratings: SparseRatings, epochs: number, regUser: number, regItem: number): Baselines {
  const { byUser, byItem, globalMean: mu } = ratings;
  const userBias = new Float64Array(ratings.numUsers);
  const itemBias = new Float64Array(ratings.numItems);
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Items first, from the previous epoch's user biases (zeros at first), then users: Surprise's order.
    solveBiases(byItem, userBias, itemBias, mu, regItem);
    solveBiases(byUser, itemBias, userBias, mu, regUser);
  }
  return { globalMean: mu, userBias, itemBias };
}

/** bias[x] = Σ_{(y, r) in row x} (r − μ − otherBias[y]) / (reg + |row x|), for every row x. */
function solveBiases(rows: RatingRows, otherBias: Float64Array, bias: Float64Array, mu: number, reg: number): void {
  const { offsets, indices, values } = rows;
  for (let x = 0; x < bias.length; x++) {
    const start = offsets[x];
    const end = offsets[x + 1];
    let deviation = 0;
    for (let p = start; p < end; p++) deviation += values[p] - mu - otherBias[indices[p]];
    // An empty row gives 0 / reg, i.e. 0 (a 0 / 0 with reg = 0 would give NaN, so guard it).
    bias[x] = end > start ? deviation / (reg + (end - start)) : 0;
  }
}

function baselinesBySgd(ratings: SparseRatings, epochs: number, reg: number, learningRate: number): Baselines {
  const { byUser, globalMean: mu } = ratings;
  const userBias = new Float64Array(ratings.numUsers);
  const itemBias = new Float64Array(ratings.numItems);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let u = 0; u < ratings.numUsers; u++) {
      for (let p = byUser.offsets[u]; p < byUser.offsets[u + 1]; p++) {
        const i = byUser.indices[p];
        const error = byUser.values[p] - (mu + userBias[u] + itemBias[i]);
        userBias[u] += learningRate * (error - reg * userBias[u]);
        itemBias[i] += learningRate * (error - reg * itemBias[i]);
      }
    }
  }
  return { globalMean: mu, userBias, itemBias };
}

// ---------------------------------------------------------------------------------------------
// NormalPredictor
// ---------------------------------------------------------------------------------------------

export interface NormalPredictorConfig extends SparseRatingsConfig {
  /** Seed of the draws; `fit` restarts the stream, so fit-then-predict is reproducible. */
  seed: number;
}

/**
 * Predicts a random rating r̂_ui ~ N(μ̂, σ̂²) whatever u and i, with the maximum-likelihood estimates
 *   μ̂ = (1/|R|) Σ r_ui,   σ̂ = sqrt((1/|R|) Σ (r_ui − μ̂)²)
 * over the train ratings R, clipped to the rating scale (Surprise's `NormalPredictor`). The chance
 * level any rating model must beat (RMSE ≈ 1.52 on MovieLens 100K).
 */
export class NormalPredictor implements RatingPredictor {
  readonly config: NormalPredictorConfig;
  private ratings: SparseRatings | null = null;
  private rng: Rng;
  private sigma = NaN;

  constructor(config: NormalPredictorConfig) {
    this.config = { ...config };
    this.rng = new Rng(config.seed);
  }

  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    const mu = ratings.globalMean;
    let squares = 0;
    for (let r = 0; r < train.length; r++) squares += (train.ratings[r] - mu) ** 2;
    this.ratings = ratings;
    this.sigma = Math.sqrt(squares / train.length);
    this.rng = new Rng(this.config.seed);
    return this;
  }

  /** μ̂ and σ̂ of the train ratings. */
  get distribution(): { mean: number; std: number } {
    const ratings = requireFitted("NormalPredictor", this.ratings);
    return { mean: ratings.globalMean, std: this.sigma };
  }

  predict(users: Int32Array, items: Int32Array): Float64Array {
    const ratings = requireFitted("NormalPredictor", this.ratings);
    checkRatingPairs("NormalPredictor.predict", ratings, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = ratings.clip(this.rng.normal(ratings.globalMean, this.sigma));
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// BaselineOnly
// ---------------------------------------------------------------------------------------------

export interface BaselineOnlyConfig extends SparseRatingsConfig {
  /** How the biases are fitted; default ALS with 10 epochs, λ_u = 15, λ_i = 10 (Surprise's defaults). */
  baseline?: BaselineConfig;
}

/**
 * Predicts the baseline estimate r̂_ui = b_ui = μ + b_u + b_i, with b_u = 0 for an unknown user and
 * b_i = 0 for an unknown item (Surprise's `BaselineOnly`; Koren 2010, §2.1). As an `ItemScorer` it
 * ranks every user's items by μ + b_u + b_i, i.e. by item bias: a damped popularity-of-liking order.
 */
export class BaselineOnly implements RatingPredictor, ItemScorer {
  readonly config: BaselineOnlyConfig;
  private ratings: SparseRatings | null = null;
  private fitted: Baselines | null = null;

  constructor(config: BaselineOnlyConfig = {}) {
    this.config = { ...config };
  }

  fit(train: Interactions): this {
    this.ratings = new SparseRatings(train, this.config);
    this.fitted = fitBaselines(this.ratings, this.config.baseline);
    return this;
  }

  /** μ, b_u and b_i. */
  get baselines(): Baselines {
    return requireFitted("BaselineOnly", this.fitted);
  }

  get numItems(): number {
    return requireFitted("BaselineOnly", this.ratings).numItems;
  }

  predict(users: Int32Array, items: Int32Array): Float64Array {
    const ratings = requireFitted("BaselineOnly", this.ratings);
    const { globalMean, userBias, itemBias } = this.baselines;
    checkRatingPairs("BaselineOnly.predict", ratings, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = ratings.clip(globalMean + userBias[users[j]] + itemBias[items[j]]);
    return out;
  }

  /** Unclipped μ + b_u + b_i of every item: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const ratings = requireFitted("BaselineOnly", this.ratings);
    const { globalMean, userBias, itemBias } = this.baselines;
    checkRatingUsers("BaselineOnly.scoreItems", ratings, users);
    const numItems = ratings.numItems;
    const out = new Float64Array(users.length * numItems);
    for (let row = 0; row < users.length; row++) {
      const base = globalMean + userBias[users[row]];
      for (let i = 0; i < numItems; i++) out[row * numItems + i] = base + itemBias[i];
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the rating models
// ---------------------------------------------------------------------------------------------

/** `value`, or an Error saying which model must be fitted first. */
export function requireFitted<T>(model: string, value: T | null): T {
  if (value === null) throw new Error(`${model}: call fit(train) before using the model`);
  return value;
}

/** Throws unless users and items have equal lengths and lie in the id space of `ratings`. */
export function checkRatingPairs(caller: string, ratings: SparseRatings, users: Int32Array, items: Int32Array): void {
  if (users.length !== items.length) {
    throw new Error(`${caller}: users has ${users.length} entries but items has ${items.length}`);
  }
  checkRatingUsers(caller, ratings, users);
  for (let j = 0; j < items.length; j++) {
    if (!(items[j] >= 0 && items[j] < ratings.numItems)) {
      throw new Error(`${caller}: items[${j}] = ${items[j]} is outside the id space [0, ${ratings.numItems})`);
    }
  }
}

/** Throws unless every user lies in the id space of `ratings`. */
export function checkRatingUsers(caller: string, ratings: SparseRatings, users: Int32Array): void {
  for (let j = 0; j < users.length; j++) {
    if (!(users[j] >= 0 && users[j] < ratings.numUsers)) {
      throw new Error(`${caller}: users[${j}] = ${users[j]} is outside the id space [0, ${ratings.numUsers})`);
    }
  }
}

function checkRatingScale(caller: string, scale: readonly [number, number]): readonly [number, number] {
  const [lowest, highest] = scale;
  if (!(Number.isFinite(lowest) && Number.isFinite(highest) && lowest <= highest)) {
    throw new Error(`${caller}: ratingScale must be [lowest, highest] with finite lowest <= highest, got [${lowest}, ${highest}]`);
  }
  return [lowest, highest];
}
