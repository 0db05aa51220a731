// The one training loop of the course. Models only say what their loss is (`LossModel`); `fit` owns
// everything around it: the optimizer steps, epochs, batch order (through the caller's seeded batch
// function), progress, callbacks for evaluation and early stopping, and tensor hygiene, so that
// memory stays flat across epochs.

import * as tf from "@tensorflow/tfjs";
import { createProgress, ProgressMode } from "./progress";

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

export interface TrainingCallback {
  /** Runs after each epoch with that epoch's logs (including metrics of earlier callbacks). */
  onEpochEnd?(logs: EpochLogs): CallbackResult | Promise<CallbackResult>;
}

/** What a training loop reports to; the models' own fit functions pass these through to `fit`. */
export interface FitReporting {
  callbacks?: TrainingCallback[];
  /** Progress display; by default the notebook, a terminal bar or one log line per epoch. */
  progress?: ProgressMode;
  /** Prefix of the progress label, e.g. the model's name. */
  label?: string;
}

export interface FitConfig<Batch> extends FitReporting {
  optimizer: tf.Optimizer;
  epochs: number;
  /**
   * The batches of epoch `epoch` (0-based), called once per epoch: shuffle here with a seeded Rng.
   * An array lets progress show a total; any iterable works.
   */
  batches: (epoch: number) => Iterable<Batch>;
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
  if (!Number.isInteger(config.epochs) || config.epochs < 0) {
    throw new Error(`fit: epochs must be a non-negative integer, got ${config.epochs}`);
  }
  const variables = model.trainableVariables();
  if (variables.length === 0) throw new Error("fit: the model has no trainable variables");
  const history: EpochLogs[] = [];
  const prefix = config.label ? `${config.label} ` : "";

  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const batches = config.batches(epoch);
    const total = Array.isArray(batches) ? batches.length : 0;
    const progress = createProgress({ total, label: `${prefix}epoch ${epoch + 1}/${config.epochs}`, mode: config.progress });
    const started = performance.now();
    let lossSum = 0;
    let steps = 0;
    for (const batch of batches) {
      const lossTensor = config.optimizer.minimize(() => model.loss(batch, true), true, variables);
      if (lossTensor === null) throw new Error("fit: the optimizer returned no loss");
      const loss = lossTensor.dataSync()[0];
      lossTensor.dispose();
      if (!Number.isFinite(loss)) {
        progress.done();
        throw new Error(`fit: the loss became ${loss} at epoch ${epoch + 1}, step ${steps + 1}; lower the learning rate`);
      }
      lossSum += loss;
      steps += 1;
      progress.tick(1, { loss: lossSum / steps });
      await yieldToEventLoop();
    }
    const logs: EpochLogs = { epoch: epoch + 1, loss: steps > 0 ? lossSum / steps : NaN, seconds: (performance.now() - started) / 1000 };
    let stop = false;
    for (const callback of config.callbacks ?? []) {
      const result = await callback.onEpochEnd?.(logs);
      if (result === "stop") stop = true;
      else if (result) Object.assign(logs, result);
    }
    const { epoch: _epoch, seconds: _seconds, ...metrics } = logs;
    progress.done(metrics);
    await yieldToEventLoop();
    history.push(logs);
    if (stop) break;
  }
  return history;
}

/** A callback that computes metrics after each epoch (e.g. validation NDCG) and adds them to the logs. */
export function evaluateEachEpoch(evaluate: (epoch: number) => Record<string, number> | Promise<Record<string, number>>): TrainingCallback {
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
