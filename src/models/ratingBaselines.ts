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
// Neither keeps the ratings once fitted: only the id space, the scale, and μ, σ or the biases, which is
// all that `save` writes.

import { Rng } from "../backend/random";
import { checkFinite, checkNonNegative, requireFitted } from "../checks";
import { Interactions } from "../data/interactions";
import {
  RatingSpace,
  SparseRatings,
  SparseRatingsConfig,
  checkRatingPairs,
  checkRatingUsers,
  clipToScale,
  ratingSpaceOf,
  ratingSpaceSaved,
  restoreRatingSpace,
} from "../data/sparseRatings";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { BaselineConfig, Baselines, fitBaselines } from "../train/baselineEstimates";
import { arrayModelFormat, TrainingData } from "../train/savedModel";

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
  private fitted: { space: RatingSpace; mean: number; sigma: number } | null = null;
  private rng: Rng;
  private trainedOn: TrainingData | null = null;

  constructor(config: NormalPredictorConfig) {
    this.config = { ...config };
    this.rng = new Rng(config.seed);
  }

  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    const mu = ratings.globalMean;
    let squares = 0;
    for (let r = 0; r < train.length; r++) squares += (train.ratings[r] - mu) ** 2;
    this.fitted = { space: ratingSpaceOf(ratings), mean: mu, sigma: Math.sqrt(squares / train.length) };
    this.rng = new Rng(this.config.seed);
    this.trainedOn = train;
    return this;
  }

  /** μ̂ and σ̂ of the train ratings. */
  get distribution(): { mean: number; std: number } {
    const { mean, sigma } = requireFitted("NormalPredictor", this.fitted);
    return { mean, std: sigma };
  }

  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { space, mean, sigma } = requireFitted("NormalPredictor", this.fitted);
    checkRatingPairs("NormalPredictor.predict", space, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = clipToScale(this.rng.normal(mean, sigma), space.ratingScale);
    return out;
  }

  /**
   * Saves μ̂, σ̂, the id space and the seed to the folder `path` (see train/savedModel.ts). The loaded
   * model restarts its stream from the seed, as `fit` does.
   */
  save(path: string): Promise<void> {
    const { space, mean, sigma } = requireFitted("NormalPredictor.save", this.fitted);
    return NormalPredictor.format.save(path, {
      config: { ...this.config },
      fitted: { ...ratingSpaceSaved(space), mean, std: sigma },
      arrays: [],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<NormalPredictor> {
    return NormalPredictor.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<NormalPredictor> {
    return NormalPredictor.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "NormalPredictor",
    ({ config, fitted, data }) => {
      const model = new NormalPredictor(config as unknown as NormalPredictorConfig);
      model.fitted = {
        space: restoreRatingSpace(fitted),
        mean: checkFinite("NormalPredictor", "mean", fitted.mean),
        sigma: checkNonNegative("NormalPredictor", "std", fitted.std),
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );
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
  private fitted: { space: RatingSpace; baselines: Baselines } | null = null;
  private trainedOn: TrainingData | null = null;

  constructor(config: BaselineOnlyConfig = {}) {
    this.config = { ...config };
  }

  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    this.fitted = { space: ratingSpaceOf(ratings), baselines: fitBaselines(ratings, this.config.baseline) };
    this.trainedOn = train;
    return this;
  }

  /** μ, b_u and b_i. */
  get baselines(): Baselines {
    return this.state().baselines;
  }

  get numItems(): number {
    return this.state().space.numItems;
  }

  get numUsers(): number {
    return this.state().space.numUsers;
  }

  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { space, baselines } = this.state();
    const { globalMean, userBias, itemBias } = baselines;
    checkRatingPairs("BaselineOnly.predict", space, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++)
      out[j] = clipToScale(globalMean + userBias[users[j]] + itemBias[items[j]], space.ratingScale);
    return out;
  }

  /** Unclipped μ + b_u + b_i of every item: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const { space, baselines } = this.state();
    const { globalMean, userBias, itemBias } = baselines;
    checkRatingUsers("BaselineOnly.scoreItems", space, users);
    const numItems = space.numItems;
    const out = new Float64Array(users.length * numItems);
    for (let row = 0; row < users.length; row++) {
      const base = globalMean + userBias[users[row]];
      for (let i = 0; i < numItems; i++) out[row * numItems + i] = base + itemBias[i];
    }
    return out;
  }

  /** Saves μ, b_u, b_i and the id space to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { space, baselines } = this.state();
    const { globalMean, userBias, itemBias } = baselines;
    return BaselineOnly.format.save(path, {
      config: { ...this.config },
      fitted: { ...ratingSpaceSaved(space), globalMean },
      arrays: [
        { name: "userBias", values: userBias, shape: [space.numUsers] },
        { name: "itemBias", values: itemBias, shape: [space.numItems] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<BaselineOnly> {
    return BaselineOnly.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<BaselineOnly> {
    return BaselineOnly.format.fromArtifacts(json, weights, train);
  }

  private state() {
    return requireFitted("BaselineOnly", this.fitted);
  }

  private static readonly format = arrayModelFormat(
    "BaselineOnly",
    ({ config, fitted, arrays, data }) => {
      const model = new BaselineOnly(config as BaselineOnlyConfig);
      const space = restoreRatingSpace(fitted);
      model.fitted = {
        space,
        baselines: {
          globalMean: checkFinite("BaselineOnly", "globalMean", fitted.globalMean),
          userBias: arrays.float64("userBias", [space.numUsers]),
          itemBias: arrays.float64("itemBias", [space.numItems]),
        },
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );
}
