// Training on implicit feedback with sampled negatives: batches of (user, positive item, N negative
// items) rows, and the loop that fits any model with a loss over them (NCF, two-tower).

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { NegativeSampler } from "../data/samplers";
import { rowBatches } from "./batches";
import { EpochLogs, fit, FitReporting, LossModel } from "./trainer";

/** One step's examples: users[b] interacted with positives[b], not with negatives[b·n .. b·n + n). */
export interface ImplicitFeedbackBatch {
  users: Int32Array; // [B]
  positives: Int32Array; // [B]
  /** [B × n] row-major, n >= 0 negatives per positive. */
  negatives: Int32Array;
}

export interface ImplicitFeedbackBatchesConfig {
  /** Positives per batch; a batch holds B·(1 + n) examples. */
  batchSize: number;
  /** n, negatives per positive. */
  negatives: number;
  /** Shuffles the rows and draws the negatives. */
  rng: Rng;
}

/**
 * One epoch of examples: the rows of `train` in a shuffled order, cut into batches, each positive with
 * `negatives` items drawn by `sampler` (with replacement) among those its user has not interacted with.
 */
export function implicitFeedbackBatches(
  train: Interactions,
  sampler: NegativeSampler,
  config: ImplicitFeedbackBatchesConfig,
): ImplicitFeedbackBatch[] {
  const n = config.negatives;
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`implicitFeedbackBatches: negatives must be an integer >= 0, got ${n}`);
  return rowBatches(train.length, { batchSize: config.batchSize, rng: config.rng }).map((rows) => {
    const users = Int32Array.from(rows, (r) => train.users[r]);
    const positives = Int32Array.from(rows, (r) => train.items[r]);
    const askers = new Int32Array(users.length * n); // users[b], n times over
    for (let b = 0; b < users.length; b++) askers.fill(users[b], b * n, (b + 1) * n);
    return { users, positives, negatives: sampler.sampleForEach(askers, config.rng) };
  });
}

/** n, the negatives per positive of `batch` (checked to be a whole number). */
export function negativeCount(batch: ImplicitFeedbackBatch, caller: string): number {
  const b = batch.users.length;
  if (b === 0) throw new Error(`${caller}: the batch is empty`);
  if (batch.positives.length !== b) throw new Error(`${caller}: ${b} users but ${batch.positives.length} positives`);
  const n = batch.negatives.length / b;
  if (!Number.isInteger(n))
    throw new Error(
      `${caller}: ${batch.negatives.length} negatives is not a whole number per positive (${b} positives)`,
    );
  return n;
}

/** A model trained on implicit feedback: a loss over `ImplicitFeedbackBatch`es of its training data. */
export interface ImplicitFeedbackModel extends LossModel<ImplicitFeedbackBatch> {
  readonly train: Interactions;
  /** The n its loss uses unless told otherwise (0: it needs no sampled negatives). */
  readonly negativesPerPositive: number;
}

export interface FitImplicitFeedbackConfig extends FitReporting {
  /** Default 20. */
  epochs?: number;
  /** Default 0.001 (the paper's, with Adam). */
  learningRate?: number;
  /**
   * Positives per step. Default 256. (The paper's batch of 256 counts examples, positives and
   * negatives together: 51 positives with n = 4. Larger batches run much faster on the CPU backends.)
   */
  batchSize?: number;
  /** n, negatives per positive, drawn uniformly from the user's unseen items. Default: the model's. */
  negatives?: number;
  /** Default "adam"; "sgd" is plain SGD, the paper's choice after pretraining. */
  optimizer?: "adam" | "sgd";
  /** Seeds the row order and the negatives. */
  seed: number;
}

/** Trains `model` on its training data with `fit`, fresh negatives every epoch. */
export async function fitImplicitFeedback(
  model: ImplicitFeedbackModel,
  config: FitImplicitFeedbackConfig,
): Promise<EpochLogs[]> {
  const caller = "fitImplicitFeedback";
  const learningRate = config.learningRate ?? 0.001;
  if (!(learningRate > 0 && Number.isFinite(learningRate)))
    throw new Error(`${caller}: learningRate must be a positive number, got ${learningRate}`);
  const batchSize = checkPositiveInteger(caller, "batchSize", config.batchSize ?? 256);
  const negatives = config.negatives ?? model.negativesPerPositive;
  const kind = config.optimizer ?? "adam";
  if (kind !== "adam" && kind !== "sgd")
    throw new Error(`${caller}: optimizer must be "adam" or "sgd", got ${JSON.stringify(kind)}`);
  const rng = new Rng(config.seed);
  const sampler = new NegativeSampler(model.train);
  const optimizer = kind === "adam" ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
  try {
    return await fit(model, {
      optimizer,
      epochs: config.epochs ?? 20,
      batches: () => implicitFeedbackBatches(model.train, sampler, { batchSize, negatives, rng }),
      callbacks: config.callbacks,
      progress: config.progress,
      label: config.label,
    });
  } finally {
    optimizer.dispose();
  }
}
