// Rating-prediction baselines, as in the Surprise library (Hug, "Surprise: A Python library for
// recommender systems", JOSS 2020): `NormalPredictor` draws a random rating from the normal
// distribution of the train ratings, and `BaselineOnly` predicts the baseline estimate
//   b_ui = μ + b_u + b_i                                   (Koren, TKDD 2010, §2.1)
// whose biases are fitted by alternating least squares or by SGD exactly as Surprise's
// `optimize_baselines.pyx` does (train/baselineEstimates.ts). Both read `SparseRatings`, the train
// ratings grouped by user and by item (data/sparseRatings.ts), as the neighbourhood models and Slope One do.
//
// Conventions shared by every rating model built on `SparseRatings` (Surprise's `AlgoBase.predict`):
// - a user (item) is "known" when it has at least one train rating; other indices of the id space
//   are unknown and the model falls back as Surprise does (the global mean μ, or a partial baseline);
// - predictions are clipped to the rating scale (Surprise's default `clip=True`); `scoreItems`, for
//   ranking, returns the unclipped estimate (Surprise's `clip=False`), since clipping only makes ties.
// They are not gradient models: `fit(train)` computes everything in closed form or in plain loops.

import { Rng } from "../backend/random";
import { requireFitted } from "../checks";
import { Interactions } from "../data/interactions";
import { SparseRatings, SparseRatingsConfig, checkRatingPairs, checkRatingUsers } from "../data/sparseRatings";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { BaselineConfig, Baselines, fitBaselines } from "../train/baselineEstimates";

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
