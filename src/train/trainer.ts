// The one training loop of the course. Models only say what their loss is (`LossModel`); `fit` owns
// everything around it: the optimizer steps (with gradient clipping when asked), epochs and resuming
// from one, batch order (through the caller's seeded batch function), progress and throughput,
// callbacks after each step and each epoch (evaluation, early stopping, live plots, checkpoints), and
// tensor hygiene, so that memory stays flat across epochs.

import * as tf from "@tensorflow/tfjs";
import { checkInteger } from "../checks";
import { clipByGlobalNorm } from "./optimizers";
import { createProgress, defaultProgressMode, Progress, ProgressMode } from "./progress";

/** A model the trainer can fit: a scalar loss for a batch, and the variables that loss depends on. */
export interface LossModel<Batch> {
  /** The mean loss over `batch`. Called inside `tf.tidy`; intermediate tensors are disposed for it. */
  loss(batch: Batch, training: boolean): tf.Scalar;
  /** The variables the optimizer updates. */
  trainableVariables(): tf.Variable[];
}

/** What one epoch did: its mean training loss, its duration, and any metrics callbacks added. */
export interface EpochLogs {
  epoch: number;
  loss: number;
  seconds: number;
  [metric: string]: number;
}

/** What a callback returns: metrics to add to the epoch's logs, "stop" to end training, or nothing. */
export type CallbackResult = Record<string, number> | "stop" | void;

/** What one optimizer step did. */
export interface StepLogs {
  /** The epoch the step belongs to, 1-based as in EpochLogs. */
  epoch: number;
  /**
   * The global step, 1-based: the optimizer's update count before fit started (tf.Optimizer.iterations)
   * plus the steps fit has taken, so it runs on across fit calls with one optimizer and after a
   * checkpoint restores the optimizer.
   */
  step: number;
  /** This batch's loss. */
  loss: number;
  /** The learning rate of this step, when the optimizer reports it (AdamW's lastLearningRate). */
  learningRate?: number;
  /** The global gradient norm before clipping, when `clipGradientNorm` is set. */
  gradientNorm?: number;
}

export interface TrainingCallback {
  /** Runs after each epoch with that epoch's logs (including metrics of earlier callbacks). */
  onEpochEnd?(logs: EpochLogs): CallbackResult | Promise<CallbackResult>;
  /** Runs after each optimizer step, e.g. to redraw a loss curve or save a checkpoint every N steps. */
  onStepEnd?(logs: StepLogs): void | Promise<void>;
}

/** What a training loop reports to; the models' own fit functions pass these through to `fit`. */
export interface FitReporting {
  callbacks?: TrainingCallback[];
  /** Progress display; by default one live line per fit in a notebook, else a terminal bar or a log line per epoch. */
  progress?: ProgressMode;
  /** Prefix of the progress label, e.g. the model's name. */
  label?: string;
}

export interface FitConfig<Batch> extends FitReporting {
  optimizer: tf.Optimizer;
  /** The epoch to end before: training runs epochs initialEpoch .. epochs − 1 (0-based). */
  epochs: number;
  /**
   * The batches of epoch `epoch` (0-based), called once per epoch: shuffle here with a seeded Rng
   * derived from the epoch number, so that a resumed run sees the same batches.
   * An array lets progress show a total; any iterable works.
   */
  batches: (epoch: number) => Iterable<Batch>;
  /**
   * The first epoch to run (0-based; default 0), as Keras's initialEpoch: to resume after a checkpoint
   * taken at the end of epoch k (k epochs done), pass k with the same `epochs`.
   */
  initialEpoch?: number;
  /**
   * Clips the gradients to this global norm before each update (see clipByGlobalNorm); the norm before
   * clipping goes into the step logs. Off by default.
   */
  clipGradientNorm?: number;
  /** Tokens in a batch: the progress line then shows tokens/s, and the epoch logs get `tokensPerSecond`. */
  tokensPerBatch?: (batch: Batch) => number;
}

// The loop yields to the event loop after every step and every epoch: in a notebook, tslab sends
// progress and status messages on one zeromq socket, and a send issued while an earlier one is still
// pending fails ("Socket is busy writing"). A yield costs microseconds; a step, milliseconds.
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains `model` and returns one `EpochLogs` per epoch run. The loss is read back once per step
 * (cheap on the CPU backends, where the value is already in memory).
 */
export async function fit<Batch>(model: LossModel<Batch>, config: FitConfig<Batch>): Promise<EpochLogs[]> {
  checkInteger("fit", "epochs", config.epochs, 0);
  const initialEpoch = config.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > config.epochs) {
    throw new Error(
      `fit: initialEpoch must be an integer in [0, epochs = ${config.epochs}], got ${config.initialEpoch}`,
    );
  }
  const clipNorm = config.clipGradientNorm;
  if (clipNorm !== undefined && !(typeof clipNorm === "number" && Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new Error(`fit: clipGradientNorm must be a finite number > 0, got ${clipNorm}`);
  }
  const variables = model.trainableVariables();
  if (variables.length === 0) throw new Error("fit: the model has no trainable variables");
  checkLearningRate(config.optimizer);
  const history: EpochLogs[] = [];
  const prefix = config.label ? `${config.label} ` : "";
  const callbacks = config.callbacks ?? [];
  const stepCallbacks = callbacks.filter((callback) => callback.onStepEnd !== undefined);
  // Counted from the optimizer's own update count, which a restored checkpoint carries.
  let globalStep = config.optimizer.iterations;

  // A notebook shows one live line for the whole fit (a run of hundreds of epochs stays one line), relabelled
  // at each epoch and counting every step; a terminal or a log gets a bar or a line per epoch, as Keras does.
  const mode = config.progress ?? defaultProgressMode();
  let fitProgress: Progress | null = null;
  let stepsBefore = 0;
  for (let epoch = initialEpoch; epoch < config.epochs; epoch++) {
    const batches = config.batches(epoch);
    const total = Array.isArray(batches) ? batches.length : 0;
    const label = `${prefix}epoch ${epoch + 1}/${config.epochs}`;
    let progress: Progress;
    if (mode === "notebook") {
      // Total: the steps so far and this epoch's length for every epoch left (epochs of one length are the rule).
      const fitTotal = stepsBefore + total * (config.epochs - epoch);
      if (fitProgress === null) fitProgress = createProgress({ total: fitTotal, label, mode });
      else fitProgress.relabel(label, fitTotal);
      progress = fitProgress;
    } else {
      progress = createProgress({ total, label, mode });
    }
    const started = performance.now();
    let lossSum = 0;
    let steps = 0;
    let tokens = 0;
    for (const batch of batches) {
      const where = `at epoch ${epoch + 1}, step ${steps + 1}`;
      const { loss, gradientNorm } =
        clipNorm === undefined
          ? minimizeStep(model, config.optimizer, variables, batch)
          : clippedStep(model, config.optimizer, variables, batch, clipNorm, where);
      if (!Number.isFinite(loss)) {
        progress.done();
        throw new Error(`fit: the loss became ${loss} ${where}; lower the learning rate`);
      }
      lossSum += loss;
      steps += 1;
      globalStep += 1;
      const metrics: Record<string, number> = { loss: lossSum / steps };
      if (config.tokensPerBatch) {
        tokens += countTokens(config.tokensPerBatch, batch, where);
        const elapsed = (performance.now() - started) / 1000;
        if (elapsed > 0) metrics["tok/s"] = Math.round(tokens / elapsed);
      }
      progress.tick(1, metrics);
      if (stepCallbacks.length > 0) {
        const stepLogs: StepLogs = { epoch: epoch + 1, step: globalStep, loss };
        const learningRate = reportedLearningRate(config.optimizer);
        if (learningRate !== undefined) stepLogs.learningRate = learningRate;
        if (gradientNorm !== undefined) stepLogs.gradientNorm = gradientNorm;
        for (const callback of stepCallbacks) await callback.onStepEnd!({ ...stepLogs });
      }
      await yieldToEventLoop();
    }
    if (steps === 0) {
      progress.done();
      throw new Error(
        `fit: epoch ${epoch + 1} had no batches (is the training data empty, or the batch size larger than it with dropLast?)`,
      );
    }
    stepsBefore += steps;
    const seconds = (performance.now() - started) / 1000;
    const logs: EpochLogs = { epoch: epoch + 1, loss: lossSum / steps, seconds };
    if (config.tokensPerBatch) logs.tokensPerSecond = seconds > 0 ? tokens / seconds : 0;
    let stop = false;
    for (const callback of callbacks) {
      const result = await callback.onEpochEnd?.(logs);
      if (result === "stop") stop = true;
      else if (result) Object.assign(logs, result);
    }
    const { epoch: _epoch, seconds: _seconds, ...metrics } = logs;
    // A whole number of tokens/s reads better than 4 significant digits in exponent notation.
    if (metrics.tokensPerSecond !== undefined) metrics.tokensPerSecond = Math.round(metrics.tokensPerSecond);
    progress.done(metrics);
    await yieldToEventLoop();
    history.push(logs);
    if (stop) break;
  }
  return history;
}

interface StepResult {
  loss: number;
  gradientNorm?: number;
}

function minimizeStep<Batch>(
  model: LossModel<Batch>,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  batch: Batch,
): StepResult {
  const lossTensor = optimizer.minimize(() => model.loss(batch, true), true, variables);
  if (lossTensor === null) throw new Error("fit: the optimizer returned no loss");
  const loss = lossTensor.dataSync()[0];
  lossTensor.dispose();
  return { loss };
}

// minimize, with the gradients clipped between computing and applying them. The update is skipped when
// the loss or the norm is not finite, since fit then stops with an error.
function clippedStep<Batch>(
  model: LossModel<Batch>,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  batch: Batch,
  maxNorm: number,
  where: string,
): StepResult {
  const { value, grads } = tf.variableGrads(() => model.loss(batch, true), variables);
  let clipped: tf.NamedTensorMap = {};
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) return { loss };
    const result = clipByGlobalNorm(grads, maxNorm);
    clipped = result.grads;
    if (!Number.isFinite(result.norm)) {
      throw new Error(`fit: the gradient norm became ${result.norm} ${where}; lower the learning rate`);
    }
    // A list in the model's variable order, as minimize passes it (tfjs's Adam keys its moments by position).
    optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: clipped[v.name] })));
    return { loss, gradientNorm: result.norm };
  } finally {
    tf.dispose([value, ...Object.values(grads), ...Object.values(clipped)]);
  }
}

function countTokens<Batch>(tokensPerBatch: (batch: Batch) => number, batch: Batch, where: string): number {
  const count = tokensPerBatch(batch);
  if (typeof count !== "number" || !Number.isFinite(count) || count < 0) {
    throw new Error(`fit: tokensPerBatch gave ${count} ${where}; it must give a finite number >= 0`);
  }
  return count;
}

/**
 * Refuses an optimizer whose constant learning rate is not a finite number > 0 before any step: tfjs's
 * own (tf.train.adam(NaN), sgd(-0.1), ...) accept any number, and NaN weights or a climbing loss would
 * only show later. (AdamW checks its rate when constructed; a schedule is checked at each step.)
 */
function checkLearningRate(optimizer: tf.Optimizer): void {
  const rate = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof rate === "number" && !(Number.isFinite(rate) && rate > 0)) {
    throw new Error(
      `fit: the optimizer's learning rate is ${rate} (${optimizer.getClassName()}); it must be a finite number > 0`,
    );
  }
}

/** The learning rate of the optimizer's last update, for optimizers that report it (AdamW). */
function reportedLearningRate(optimizer: tf.Optimizer): number | undefined {
  // Duck-typed: `instanceof AdamW` is true of every tf.Optimizer (tfjs overrides Symbol.hasInstance).
  const rate = (optimizer as { lastLearningRate?: unknown }).lastLearningRate;
  return typeof rate === "number" ? rate : undefined;
}

/** A callback that computes metrics after each epoch (e.g. validation NDCG) and adds them to the logs. */
export function evaluateEachEpoch(
  evaluate: (epoch: number) => Record<string, number> | Promise<Record<string, number>>,
): TrainingCallback {
  return { onEpochEnd: (logs) => evaluate(logs.epoch) };
}

export interface EarlyStoppingConfig {
  /** The logged metric to watch, e.g. "loss" or "val_ndcg@10". */
  monitor: string;
  /** "min" for losses, "max" for accuracies. */
  mode: "min" | "max";
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
}

/** Stops training when `monitor` has not improved for `patience` epochs. Place it after the callbacks that log it. */
export function earlyStopping(config: EarlyStoppingConfig): TrainingCallback & { readonly bestEpoch: number } {
  const patience = config.patience ?? 3;
  const minDelta = config.minDelta ?? 0;
  let best = config.mode === "min" ? Infinity : -Infinity;
  let bestEpoch = 0;
  return {
    get bestEpoch() {
      return bestEpoch;
    },
    onEpochEnd(logs) {
      const value = logs[config.monitor];
      if (value === undefined) {
        throw new Error(`earlyStopping: no '${config.monitor}' in the epoch logs (${Object.keys(logs).join(", ")})`);
      }
      const improved = config.mode === "min" ? value < best - minDelta : value > best + minDelta;
      if (improved) {
        best = value;
        bestEpoch = logs.epoch;
        return;
      }
      return logs.epoch - bestEpoch >= patience ? "stop" : undefined;
    },
  };
}
