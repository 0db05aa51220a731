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
// them user by user, in the same order every epoch). Neither matters much: the measured RMSE per
// batch size and against Surprise's published numbers are in README.md ("Measured results").
// With a batch size of 1 (`fitRatingSgd`), training is Surprise's SGD exactly, in its order, in
// float64: `svdSgdEpoch` below, a typed-array loop with Surprise's update rule.
//
// Prediction follows Surprise: a user (item) without training ratings has b_u = 0 and p_u = 0
// (b_i = 0, q_i = 0), and predicted ratings are clipped to the rating scale.

import * as tf from "@tensorflow/tfjs";
import { SimdSvdSgd } from "../backend/kernels/factorizationSgd";
import { Rng } from "../backend/random";
import { checkFinite, checkNonNegative, checkPairs, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { meanRating, ratedMasks, ratingRange } from "../data/stats";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { normalTable } from "../nn/initializers";
import { readAndDispose } from "../nn/tensors";
import {
  FusedRatingSgd,
  RatingBatch,
  RatingColumns,
  SgdDefaults,
  SgdEpochSettings,
  assignFloat64,
  ratingBatch,
} from "../train/ratingSgd";
import { LossModel } from "../train/trainer";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

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

/** Surprise's SVD: 20 epochs at γ = 0.005 per rating, in batches of 4096 ratings (see the header). */
export const SVD_SGD_DEFAULTS: Readonly<SgdDefaults> = { epochs: 20, learningRate: 0.005, batchSize: 4096 };

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
// Surprise's per-rating SGD, fused: one epoch as a float64 loop over the rows
// ---------------------------------------------------------------------------------------------

/** The tables Surprise's SGD updates, in float64 (row-major [U, D] and [I, D]); biases null when unbiased. */
export interface MatrixFactorizationTables {
  userFactors: Float64Array;
  itemFactors: Float64Array;
  userBias: Float64Array | null;
  itemBias: Float64Array | null;
}

/**
 * One epoch of Surprise's SVD SGD (matrix_factorization.pyx, `SVD.sgd`) over `rows` of `data`, in
 * that order, updating `tables` in place: e = r − r̂, b_u += γ(e − λb_u), b_i += γ(e − λb_i),
 * p_u += γ(e·q_i − λp_u), q_i += γ(e·p_u − λq_i), every update from the values before it. Returns the
 * mean per-rating loss ℓ (see the header), each taken before its rating's update.
 */
export function svdSgdEpoch(
  tables: MatrixFactorizationTables,
  data: RatingColumns,
  rows: Int32Array,
  settings: SgdEpochSettings,
): number {
  const { userFactors: p, itemFactors: q, userBias: bu, itemBias: bi } = tables;
  const { factors: d, globalMean, regularization: reg, learningRate: lr } = settings;
  const { users, items, ratings } = data;
  let lossSum = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const u = users[row];
    const i = items[row];
    const pu = u * d;
    const qi = i * d;
    let dot = 0;
    for (let f = 0; f < d; f++) dot += q[qi + f] * p[pu + f];
    const bu0 = bu ? bu[u] : 0;
    const bi0 = bi ? bi[i] : 0;
    const err = ratings[row] - (globalMean + bu0 + bi0 + dot);
    if (bu && bi) {
      bu[u] += lr * (err - reg * bu0);
      bi[i] += lr * (err - reg * bi0);
    }
    let penalty = bu0 * bu0 + bi0 * bi0;
    for (let f = 0; f < d; f++) {
      const puf = p[pu + f];
      const qif = q[qi + f];
      p[pu + f] += lr * (err * qif - reg * puf);
      q[qi + f] += lr * (err * puf - reg * qif);
      penalty += puf * puf + qif * qif;
    }
    lossSum += err * err + reg * penalty;
  }
  return lossSum / rows.length;
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

  constructor(
    readonly train: Interactions,
    config: MatrixFactorizationConfig,
  ) {
    const caller = "MatrixFactorization";
    this.factors = checkPositiveInteger(caller, "factors", config.factors ?? 100);
    this.regularization = checkNonNegative(caller, "regularization", config.regularization ?? 0.02);
    this.biased = config.biased ?? true;
    const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
    const initMean = checkFinite(caller, "initMean", config.initMean ?? 0);
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
      userBias: this.biased ? (tf.variable(tf.zeros([numUsers])) as tf.Variable<tf.Rank.R1>) : undefined,
      itemBias: this.biased ? (tf.variable(tf.zeros([numItems])) as tf.Variable<tf.Rank.R1>) : undefined,
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
    return tf.tidy(() =>
      matrixFactorizationLoss(this.params, this.globalMean, this.regularization, ratingBatch(this.train, rows)),
    );
  }

  trainableVariables(): tf.Variable[] {
    const { userFactors, itemFactors, userBias, itemBias } = this.params;
    return userBias && itemBias ? [userFactors, itemFactors, userBias, itemBias] : [userFactors, itemFactors];
  }

  /**
   * Surprise's per-rating SGD on float64 copies of the parameters, for `fitRatingSgd`: the SIMD
   * kernel (backend/kernels/factorizationSgd.ts) where the engine has WebAssembly SIMD, else
   * `svdSgdEpoch`. The rows' order is fixed by the first epoch.
   */
  fusedSgd(): FusedRatingSgd {
    const { params, train } = this;
    const settings = { factors: this.factors, globalMean: this.globalMean, regularization: this.regularization };
    let simd: SimdSvdSgd | undefined;
    let tables: MatrixFactorizationTables | undefined;
    const start = (rows: Int32Array): MatrixFactorizationTables => {
      const shape = { numUsers: train.numUsers, numItems: train.numItems, factors: this.factors, biased: this.biased };
      simd = SimdSvdSgd.create(shape, { users: train.users, items: train.items, ratings: train.ratings, rows });
      const started: MatrixFactorizationTables = simd ?? {
        userFactors: new Float64Array(train.numUsers * this.factors),
        itemFactors: new Float64Array(train.numItems * this.factors),
        userBias: this.biased ? new Float64Array(train.numUsers) : null,
        itemBias: this.biased ? new Float64Array(train.numItems) : null,
      };
      started.userFactors.set(params.userFactors.dataSync());
      started.itemFactors.set(params.itemFactors.dataSync());
      if (params.userBias && params.itemBias) {
        started.userBias?.set(params.userBias.dataSync());
        started.itemBias?.set(params.itemBias.dataSync());
      }
      return started;
    };
    return {
      epoch: (byUser, learningRate) => {
        tables ??= start(byUser.rows);
        if (simd) return simd.epoch({ ...settings, learningRate });
        return svdSgdEpoch(tables, train, byUser.rows, { ...settings, learningRate });
      },
      store: () => {
        if (!tables) return;
        assignFloat64(params.userFactors, tables.userFactors);
        assignFloat64(params.itemFactors, tables.itemFactors);
        assignFloat64(params.userBias, tables.userBias);
        assignFloat64(params.itemBias, tables.itemBias);
      },
    };
  }

  /** Predicted ratings of the pairs (users[k], items[k]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("MatrixFactorization.predict", users, items);
    const [low, high] = this.ratingScale;
    return readAndDispose(
      tf.tidy(() =>
        tf.clipByValue(
          matrixFactorizationEstimate(
            this.params,
            this.globalMean,
            tf.tensor1d(users, "int32"),
            tf.tensor1d(items, "int32"),
          ),
          low,
          high,
        ),
      ),
    );
  }

  /** Unclipped r̂ of the pairs: the ranking score, consistent with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("MatrixFactorization.scorePairs", users, items);
    return readAndDispose(
      tf.tidy(() =>
        matrixFactorizationEstimate(
          this.params,
          this.globalMean,
          tf.tensor1d(users, "int32"),
          tf.tensor1d(items, "int32"),
        ),
      ),
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
    return Object.entries(this.params)
      .filter(([, v]) => v !== undefined)
      .map(([name, variable]) => ({ name, variable: variable as tf.Variable }));
  }

  /** Saves the model and a record of its training data to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = {
      factors: this.factors,
      regularization: this.regularization,
      biased: this.biased,
      ratingScale: [...this.ratingScale],
    };
    return MF_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked). */
  static load(path: string, train: Interactions): Promise<MatrixFactorization> {
    return MF_FORMAT.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train: Interactions,
  ): Promise<MatrixFactorization> {
    return MF_FORMAT.fromArtifacts(json, weights, train);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

const MF_FORMAT = tfModelFormat(
  "MatrixFactorization",
  (config, train: Interactions) => new MatrixFactorization(train, { ...config, seed: 0 }),
  (train) => train,
);

// ---------------------------------------------------------------------------------------------
// Helpers shared with the other factorisation models
// ---------------------------------------------------------------------------------------------
