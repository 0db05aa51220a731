// Rating models trained the way Surprise trains them, batched: plain SGD on the mean per-rating loss
// of batches of rows (see models/matrixFactorization.ts for why the rate is γ·|B|/2), and the
// batches of ratings such a loss reads. Shared by MatrixFactorization and Svdpp.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositive, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { rowBatches } from "./batches";
import { EpochLogs, fit, FitReporting, LossModel } from "./trainer";

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
  const learningRate = checkPositive(caller, "learningRate", config.learningRate ?? defaults.learningRate);
  const n = model.train.length;
  const batchSize = Math.min(checkPositiveInteger(caller, "batchSize", config.batchSize ?? defaults.batchSize), n);
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
