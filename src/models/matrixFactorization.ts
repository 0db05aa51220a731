// Biased matrix factorisation for explicit ratings: the "SVD" of the Netflix Prize (Simon Funk, 2006;
// Koren, Bell and Volinsky, "Matrix Factorization Techniques for Recommender Systems", IEEE Computer
// 2009, eq. 5), as Surprise's `SVD` implements it.
//
//   r̂_ui = μ + b_u + b_i + q_iᵀ p_u
//   L     = Σ_{(u,i) ∈ R_train} (r_ui − r̂_ui)² + λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)
//
// μ is the mean training rating, b_u and b_i are user and item biases, p_u and q_i ∈ ℝ^D user and
// item factors. The penalty sits inside the sum: a parameter is regularised once per rating it takes
// part in, so a user with 500 ratings is pulled towards 0 five hundred times per epoch.
//
// Training. Surprise runs SGD one rating at a time: e = r − r̂, then b_u += γ(e − λb_u),
// b_i += γ(e − λb_i), p_u += γ(e·q_i − λp_u), q_i += γ(e·p_u − λq_i). That is a step of γ/2 down the
// gradient of the per-rating term ℓ_ui = (r − r̂)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²). Here a batch B
// of ratings takes one step on the mean of ℓ over B, with tfjs's plain SGD at rate γ·|B|/2
// (`fitRatingSgd`): the step is then the SUM of Surprise's |B| per-rating steps, each taken from the
// same point instead of one after the other, and the penalty is applied per occurrence in the batch
// (a user rated twice in B is regularised twice), exactly as in Surprise. What differs: the updates
// within a batch do not see each other, and the ratings are shuffled each epoch (Surprise visits
// them user by user, in the same order every epoch). Neither matters much: on fold 1 of ml-100k the
// test RMSE is 0.9294 for every |B| from 128 to 2048, 0.9298 at 4096 (the default, 20 steps an epoch)
// and 0.9325 at 16384; over Surprise's 5 folds the defaults give RMSE 0.9375 and MAE 0.7387, against
// Surprise's published 0.934 and 0.737 (bench/factorizationModels.ts).
//
// Prediction follows Surprise: a user (item) without training ratings has b_u = 0 and p_u = 0
// (b_i = 0, q_i = 0), and predicted ratings are clipped to the rating scale.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { Interactions } from "../data/interactions";
import { meanRating, ratingRange } from "../data/stats";
import { ItemScorer, RatingPredictor } from "../eval/protocols";
import { rowBatches } from "../train/batches";
import { EpochLogs, fit, FitReporting, LossModel } from "../train/trainer";
import type { NamedWeight } from "../nn/layeredModel";
import { loadModel, modelFromArtifacts, saveModel } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Configuration (defaults are Surprise's SVD)
// ---------------------------------------------------------------------------------------------

export interface MatrixFactorizationConfig {
  /** D, the number of latent factors (Surprise's n_factors). Default 100. */
  factors?: number;
  /** λ, the same for every parameter (Surprise's reg_all). Default 0.02. */
  regularization?: number;
  /** Learn μ, b_u and b_i (Surprise's biased). Default true; false gives r̂ = q_iᵀp_u (PMF). */
  biased?: boolean;
  /** Mean of the normal initialisation of p_u and q_i (Surprise's init_mean). Default 0. */
  initMean?: number;
  /** Standard deviation of that initialisation (Surprise's init_std_dev). Default 0.1. */
  initStd?: number;
  /** `predict` clips to [min, max], as Surprise does. Default: the lowest and highest training rating. */
  ratingScale?: readonly [number, number];
  /** Seeds the initialisation. */
  seed: number;
}

/** The SGD schedule `fitRatingSgd` uses for a model unless told otherwise. */
export interface SgdDefaults {
  epochs: number;
  /** γ, Surprise's per-rating learning rate (lr_all). */
  learningRate: number;
  batchSize: number;
}

/** Surprise's SVD: 20 epochs at γ = 0.005 per rating, in batches of 4096 ratings (see the header). */
export const SVD_SGD_DEFAULTS: Readonly<SgdDefaults> = { epochs: 20, learningRate: 0.005, batchSize: 4096 };

// ---------------------------------------------------------------------------------------------
// Ratings of a batch of rows
// ---------------------------------------------------------------------------------------------

/** The columns of some rows of a rating log, as the tensors a loss reads. */
export interface RatingBatch {
  users: tf.Tensor1D; // [B] int32
  items: tf.Tensor1D; // [B] int32
  ratings: tf.Tensor1D; // [B] float32
}

/** Rows `rows` of `data` as a `RatingBatch` (the caller owns, or tidies, the tensors). */
export function ratingBatch(data: Interactions, rows: Int32Array): RatingBatch {
  const users = new Int32Array(rows.length);
  const items = new Int32Array(rows.length);
  const ratings = new Float32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    users[k] = data.users[row];
    items[k] = data.items[row];
    ratings[k] = data.ratings[row];
  }
  return { users: tf.tensor1d(users, "int32"), items: tf.tensor1d(items, "int32"), ratings: tf.tensor1d(ratings, "float32") };
}

// ---------------------------------------------------------------------------------------------
// The model, piece by piece: parameters, look-ups, estimate, loss
// ---------------------------------------------------------------------------------------------

/** The learned parameters. Biases are absent when the model is unbiased. */
export interface MatrixFactorizationParams {
  userBias?: tf.Tensor1D; // [U]
  itemBias?: tf.Tensor1D; // [I]
  userFactors: tf.Tensor2D; // [U, D]
  itemFactors: tf.Tensor2D; // [I, D]
}

/** What r̂ and the penalty of a batch read: one row of each table per rating. */
interface BatchLookUp {
  p: tf.Tensor2D; // [B, D]
  q: tf.Tensor2D; // [B, D]
  bu?: tf.Tensor1D; // [B]
  bi?: tf.Tensor1D; // [B]
}

function lookUp(params: MatrixFactorizationParams, users: tf.Tensor1D, items: tf.Tensor1D): BatchLookUp {
  return {
    p: tf.gather(params.userFactors, users),
    q: tf.gather(params.itemFactors, items),
    bu: params.userBias && tf.gather(params.userBias, users),
    bi: params.itemBias && tf.gather(params.itemBias, items),
  };
}

/** r̂ = μ + b_u + b_i + q_iᵀp_u for each looked-up pair. */
function estimate(rows: BatchLookUp, globalMean: number): tf.Tensor1D {
  let r: tf.Tensor1D = tf.sum(tf.mul(rows.p, rows.q), 1); // [B]
  if (rows.bu && rows.bi) r = tf.add(tf.add(r, rows.bu), tf.add(rows.bi, globalMean));
  return r;
}

/** b_u² + b_i² + ‖p_u‖² + ‖q_i‖² for each looked-up pair. */
function penalty(rows: BatchLookUp): tf.Tensor1D {
  let s: tf.Tensor1D = tf.add(tf.sum(tf.square(rows.p), 1), tf.sum(tf.square(rows.q), 1)); // [B]
  if (rows.bu && rows.bi) s = tf.add(s, tf.add(tf.square(rows.bu), tf.square(rows.bi)));
  return s;
}

/** Unclipped r̂ of the pairs (users[k], items[k]). */
export function matrixFactorizationEstimate(
  params: MatrixFactorizationParams,
  globalMean: number,
  users: tf.Tensor1D,
  items: tf.Tensor1D,
): tf.Tensor1D {
  return tf.tidy(() => estimate(lookUp(params, users, items), globalMean));
}

/**
 * The mean over the batch of ℓ_ui = (r_ui − r̂_ui)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²): the
 * objective above divided by the batch size, the penalty counted once per rating.
 */
export function matrixFactorizationLoss(
  params: MatrixFactorizationParams,
  globalMean: number,
  regularization: number,
  batch: RatingBatch,
): tf.Scalar {
  return tf.tidy(() => {
    const rows = lookUp(params, batch.users, batch.items);
    const error = tf.sub(batch.ratings, estimate(rows, globalMean)); // [B]
    return tf.mean(tf.add(tf.square(error), tf.mul(penalty(rows), regularization)));
  });
}

// ---------------------------------------------------------------------------------------------
// The model object: variables, loss for `fit`, predictions for the evaluation protocols
// ---------------------------------------------------------------------------------------------

/**
 * Biased MF (Surprise's "SVD") over the rows of `train`. A `LossModel` over batches of row indices
 * of `train`: train it with `fitRatingSgd` (Surprise's schedule) or with `fit` and any optimizer.
 * Holds tfjs variables: call `dispose()` when done.
 */
export class MatrixFactorization implements LossModel<Int32Array>, RatingPredictor, ItemScorer {
  readonly factors: number;
  readonly regularization: number;
  readonly biased: boolean;
  /** μ, the mean training rating (0 when unbiased). */
  readonly globalMean: number;
  readonly ratingScale: readonly [number, number];
  readonly sgdDefaults: Readonly<SgdDefaults> = SVD_SGD_DEFAULTS;
  readonly params: {
    userFactors: tf.Variable<tf.Rank.R2>;
    itemFactors: tf.Variable<tf.Rank.R2>;
    userBias?: tf.Variable<tf.Rank.R1>;
    itemBias?: tf.Variable<tf.Rank.R1>;
  };

  constructor(readonly train: Interactions, config: MatrixFactorizationConfig) {
    const caller = "MatrixFactorization";
    this.factors = positiveInteger(config.factors ?? 100, caller, "factors");
    this.regularization = nonNegative(config.regularization ?? 0.02, caller, "regularization");
    this.biased = config.biased ?? true;
    const initStd = nonNegative(config.initStd ?? 0.1, caller, "initStd");
    const initMean = finite(config.initMean ?? 0, caller, "initMean");
    if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);
    this.globalMean = this.biased ? meanRating(train) : 0;
    this.ratingScale = config.ratingScale ?? ratingRange(train);

    const rng = new Rng(config.seed);
    const { numUsers, numItems } = train;
    const known = ratedMasks(train);
    const userFactors = normalTable(rng, numUsers, this.factors, initMean, initStd, known.users);
    const itemFactors = normalTable(rng, numItems, this.factors, initMean, initStd, known.items);
    this.params = tf.tidy(() => ({
      userFactors: tf.variable(tf.tensor2d(userFactors, [numUsers, this.factors])),
      itemFactors: tf.variable(tf.tensor2d(itemFactors, [numItems, this.factors])),
      userBias: this.biased ? tf.variable(tf.zeros([numUsers])) as tf.Variable<tf.Rank.R1> : undefined,
      itemBias: this.biased ? tf.variable(tf.zeros([numItems])) as tf.Variable<tf.Rank.R1> : undefined,
    }));
  }

  get numItems(): number {
    return this.train.numItems;
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  /** Mean per-rating loss ℓ over the training rows `rows` (see the header). */
  loss(rows: Int32Array): tf.Scalar {
    return tf.tidy(() => matrixFactorizationLoss(this.params, this.globalMean, this.regularization, ratingBatch(this.train, rows)));
  }

  trainableVariables(): tf.Variable[] {
    const { userFactors, itemFactors, userBias, itemBias } = this.params;
    return userBias && itemBias ? [userFactors, itemFactors, userBias, itemBias] : [userFactors, itemFactors];
  }

  /** Predicted ratings of the pairs (users[k], items[k]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs(users, items, "MatrixFactorization.predict");
    const [low, high] = this.ratingScale;
    return readAndDispose(
      tf.tidy(() => tf.clipByValue(matrixFactorizationEstimate(this.params, this.globalMean, tf.tensor1d(users, "int32"), tf.tensor1d(items, "int32")), low, high)),
    );
  }

  /** Unclipped r̂ of the pairs: the ranking score, consistent with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs(users, items, "MatrixFactorization.scorePairs");
    return readAndDispose(
      tf.tidy(() => matrixFactorizationEstimate(this.params, this.globalMean, tf.tensor1d(users, "int32"), tf.tensor1d(items, "int32"))),
    );
  }

  /** r̂ of every item for each user, unclipped (clipping would tie the top items): [users.length × numItems]. */
  scoreItems(users: Int32Array): Float32Array {
    return readAndDispose(
      tf.tidy(() => {
        const u = tf.tensor1d(users, "int32");
        const { userFactors, itemFactors, userBias, itemBias } = this.params;
        const dots: tf.Tensor2D = tf.matMul(tf.gather(userFactors, u), itemFactors, false, true); // [B, I]
        if (!userBias || !itemBias) return dots;
        const bu = tf.expandDims(tf.gather(userBias, u), 1); // [B, 1]
        const bi = tf.expandDims(tf.add(itemBias, this.globalMean), 0); // [1, I]
        return tf.add(tf.add(dots, bu), bi);
      }),
    );
  }

  /** The weights under stable names, for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return Object.entries(this.params).filter(([, v]) => v !== undefined).map(([name, variable]) => ({ name, variable: variable as tf.Variable }));
  }

  /** Saves the model and a record of its training data to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = { factors: this.factors, regularization: this.regularization, biased: this.biased, ratingScale: [...this.ratingScale] };
    return saveModel(path, "MatrixFactorization", config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked). */
  static load(path: string, train: Interactions): Promise<MatrixFactorization> {
    return loadModel("MatrixFactorization.load", path, "MatrixFactorization", (c) => new MatrixFactorization(train, { ...c, seed: 0 }), train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train: Interactions): Promise<MatrixFactorization> {
    return modelFromArtifacts("MatrixFactorization.fromArtifacts", json, weights, "MatrixFactorization", (c) => new MatrixFactorization(train, { ...c, seed: 0 }), train);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

// ---------------------------------------------------------------------------------------------
// Surprise's SGD, batched
// ---------------------------------------------------------------------------------------------

/** A rating model whose loss is the mean per-rating loss over a batch of rows of `train`. */
export interface RatingSgdModel extends LossModel<Int32Array> {
  readonly train: Interactions;
  readonly sgdDefaults: Readonly<SgdDefaults>;
}

export interface RatingSgdConfig extends FitReporting {
  /** Default: the model's `sgdDefaults` (Surprise's n_epochs). */
  epochs?: number;
  /** γ per rating, Surprise's lr_all. Default: the model's. */
  learningRate?: number;
  /** Ratings per step. Default: the model's. */
  batchSize?: number;
  /** Seeds the batch order. */
  seed: number;
}

/**
 * Trains `model` with `fit` the way Surprise does (see the header): plain SGD at rate γ·|B|/2 on
 * the mean per-rating loss, which makes each step the sum of Surprise's per-rating steps over the
 * batch. Every batch has exactly |B| rows (the n mod |B| rows left over sit out that epoch, and a
 * fresh shuffle brings them back), so that the scaling holds for every step.
 */
export async function fitRatingSgd(model: RatingSgdModel, config: RatingSgdConfig): Promise<EpochLogs[]> {
  const caller = "fitRatingSgd";
  const defaults = model.sgdDefaults;
  const epochs = config.epochs ?? defaults.epochs;
  const learningRate = config.learningRate ?? defaults.learningRate;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`${caller}: learningRate must be a finite number > 0, got ${learningRate}`);
  const n = model.train.length;
  const batchSize = Math.min(positiveInteger(config.batchSize ?? defaults.batchSize, caller, "batchSize"), n);
  const rng = new Rng(config.seed);
  const optimizer = tf.train.sgd((learningRate * batchSize) / 2);
  try {
    return await fit(model, {
      optimizer,
      epochs,
      batches: () => rowBatches(n, { batchSize, rng, dropLast: true }),
      callbacks: config.callbacks,
      progress: config.progress,
      label: config.label,
    });
  } finally {
    optimizer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the other factorisation models
// ---------------------------------------------------------------------------------------------

/** Which users and items have at least one row in `data`. */
export function ratedMasks(data: Interactions): { users: Uint8Array; items: Uint8Array } {
  const users = new Uint8Array(data.numUsers);
  const items = new Uint8Array(data.numItems);
  for (let k = 0; k < data.length; k++) {
    users[data.users[k]] = 1;
    items[data.items[k]] = 1;
  }
  return { users, items };
}

/**
 * A [rows × cols] table of N(mean, std²) draws, row-major. Rows with keep[r] = 0 are zero (the
 * draws are still made, so that the stream does not depend on which rows are kept).
 */
export function normalTable(rng: Rng, rows: number, cols: number, mean: number, std: number, keep?: Uint8Array): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = rng.normal(mean, std);
      if (!keep || keep[r]) out[r * cols + c] = value;
    }
  }
  return out;
}

/**
 * The values of `t` as a Float32Array, then disposes `t`. (Reading inside `tf.tidy` and returning
 * the array would make tidy walk every element looking for tensors: 100x slower on large outputs.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

export function checkPairs(users: Int32Array, items: Int32Array, caller: string): void {
  if (users.length !== items.length) {
    throw new Error(`${caller}: users and items must have the same length, got ${users.length} and ${items.length}`);
  }
}

export function positiveInteger(value: number, caller: string, field: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${caller}: ${field} must be a positive integer, got ${value}`);
  return value;
}

export function nonNegative(value: number, caller: string, field: string): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new Error(`${caller}: ${field} must be a finite number >= 0, got ${value}`);
  return value;
}

export function finite(value: number, caller: string, field: string): number {
  if (!Number.isFinite(value)) throw new Error(`${caller}: ${field} must be a finite number, got ${value}`);
  return value;
}
