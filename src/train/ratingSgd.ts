// Rating models trained the way Surprise trains them: plain SGD on the mean per-rating loss of
// batches of rows (see models/matrixFactorization.ts for why the rate is γ·|B|/2), and the batches of
// ratings such a loss reads. Batch size 1 is Surprise's own per-rating SGD, in Surprise's order (user
// by user, the same order every epoch); a model with a fused epoch (`fusedSgd`: MatrixFactorization,
// Svdpp) then runs it as a float64 typed-array loop instead of one tfjs step per rating, which is
// what makes it as fast as Surprise's Cython. Shared by MatrixFactorization and Svdpp.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositive, checkPositiveInteger } from "../checks";
import { GroupedRows } from "../data/csr";
import { Interactions } from "../data/interactions";
import { rowsByUser } from "../data/userIndex";
import { rowBatches } from "./batches";
import { createProgress } from "./progress";
import { EpochLogs, fit, FitReporting, LossModel, TrainingCallback } from "./trainer";

/** The SGD schedule `fitRatingSgd` uses for a model unless told otherwise. */
export interface SgdDefaults {
  epochs: number;
  /** γ, Surprise's per-rating learning rate (lr_all). */
  learningRate: number;
  batchSize: number;
}

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
  return {
    users: tf.tensor1d(users, "int32"),
    items: tf.tensor1d(items, "int32"),
    ratings: tf.tensor1d(ratings, "float32"),
  };
}

/**
 * Surprise's per-rating SGD over a model's parameters, held as float64 copies (Surprise's precision)
 * for the whole of training: `fitRatingSgd` creates one per fit, with `fusedSgd()`.
 */
export interface FusedRatingSgd {
  /**
   * One epoch of per-rating updates, visiting the rows `byUser.rows` in order (all the ratings of a
   * user are consecutive: the fused SVD++ epoch relies on it). Returns the mean per-rating loss ℓ,
   * each ℓ taken before its own update.
   */
  epoch(byUser: GroupedRows, learningRate: number): number;
  /** Writes the parameters back into the model's (float32) variables. */
  store(): void;
}

/** A rating model whose loss is the mean per-rating loss over a batch of rows of `train`. */
export interface RatingSgdModel extends LossModel<Int32Array> {
  readonly train: Interactions;
  readonly sgdDefaults: Readonly<SgdDefaults>;
  /** Surprise's per-rating epoch as one typed-array loop, used when the batch size is 1. */
  fusedSgd?(): FusedRatingSgd;
}

export interface RatingSgdConfig extends FitReporting {
  /** Default: the model's `sgdDefaults` (Surprise's n_epochs). */
  epochs?: number;
  /** γ per rating, Surprise's lr_all. Default: the model's. */
  learningRate?: number;
  /**
   * Ratings per step. Default: the model's. 1 is Surprise's per-rating SGD in Surprise's order (the
   * seed is then unused), run by the model's fused epoch when it has one and no callback asks for
   * `onStepEnd` (a step per rating: the generic loop runs those).
   */
  batchSize?: number;
  /** Seeds the batch order (batches of more than one rating). */
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
  const learningRate = checkPositive(caller, "learningRate", config.learningRate ?? defaults.learningRate);
  const n = model.train.length;
  const batchSize = Math.min(checkPositiveInteger(caller, "batchSize", config.batchSize ?? defaults.batchSize), n);
  const callbacks = config.callbacks ?? [];
  const perRating = batchSize === 1;
  const byUser = perRating ? rowsByUser(model.train) : null;
  if (byUser && model.fusedSgd && !callbacks.some((callback) => callback.onStepEnd)) {
    return fusedFit(model.fusedSgd(), byUser, { ...config, epochs, learningRate, callbacks });
  }
  // One rating per batch in Surprise's order, the same every epoch (the fused epoch's order).
  const surpriseOrder = byUser ? Array.from(byUser.rows, (row) => Int32Array.of(row)) : null;
  const rng = new Rng(config.seed);
  const optimizer = tf.train.sgd((learningRate * batchSize) / 2);
  try {
    return await fit(model, {
      optimizer,
      epochs,
      batches: () => surpriseOrder ?? rowBatches(n, { batchSize, rng, dropLast: true }),
      callbacks: config.callbacks,
      progress: config.progress,
      label: config.label,
    });
  } finally {
    optimizer.dispose();
  }
}

interface FusedFitConfig extends RatingSgdConfig {
  epochs: number;
  learningRate: number;
  callbacks: TrainingCallback[];
}

/**
 * `fit`'s epoch loop around a fused epoch: progress, a finite-loss check, the parameters stored into
 * the model's variables after every epoch (so that epoch callbacks evaluate the current model), and
 * the epoch callbacks with their metrics and "stop".
 */
async function fusedFit(sgd: FusedRatingSgd, byUser: GroupedRows, config: FusedFitConfig): Promise<EpochLogs[]> {
  const history: EpochLogs[] = [];
  const prefix = config.label ? `${config.label} ` : "";
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const progress = createProgress({
      total: 1,
      label: `${prefix}epoch ${epoch + 1}/${config.epochs}`,
      mode: config.progress,
    });
    const started = performance.now();
    const loss = sgd.epoch(byUser, config.learningRate);
    if (!Number.isFinite(loss)) {
      progress.done();
      throw new Error(`fitRatingSgd: the loss became ${loss} at epoch ${epoch + 1}; lower the learning rate`);
    }
    sgd.store();
    progress.tick(1, { loss });
    const logs: EpochLogs = { epoch: epoch + 1, loss, seconds: (performance.now() - started) / 1000 };
    let stop = false;
    for (const callback of config.callbacks) {
      const result = await callback.onEpochEnd?.(logs);
      if (result === "stop") stop = true;
      else if (result) Object.assign(logs, result);
    }
    const { epoch: _epoch, seconds: _seconds, ...metrics } = logs;
    progress.done(metrics);
    // Lets a notebook's progress messages go out between epochs, as `fit` does.
    await new Promise((resolve) => setImmediate(resolve));
    history.push(logs);
    if (stop) break;
  }
  return history;
}

// ---------------------------------------------------------------------------------------------
// What the models' fused epochs share
// ---------------------------------------------------------------------------------------------

/** The rating columns an SGD epoch reads (an `Interactions` has them). */
export interface RatingColumns {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ratings: Float32Array;
}

/** What a fused epoch needs besides the tables: D, μ, λ and γ. */
export interface SgdEpochSettings {
  factors: number;
  globalMean: number;
  regularization: number;
  learningRate: number;
}

/** The float64 copy of a variable's values (null for an absent one). */
export function float64Copy(variable: tf.Variable | undefined): Float64Array | null {
  return variable ? Float64Array.from(variable.dataSync() as Float32Array) : null;
}

/** Writes float64 `values` into `variable` (as float32), keeping its shape. */
export function assignFloat64(variable: tf.Variable | undefined, values: Float64Array | null): void {
  if (!variable || !values) return;
  tf.tidy(() => variable.assign(tf.tensor(Float32Array.from(values), variable.shape)));
}
