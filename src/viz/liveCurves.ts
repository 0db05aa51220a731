// Learning curves that grow while a model trains: a training callback that redraws one figure in place
// (the notebook passes it to `fit`; training code itself never plots). The training loss is averaged
// over a few steps, and metrics from the epoch logs (held-out loss, accuracy) are added at each epoch's end.
// `liveLossComparison` puts several runs (GMF and MLP, a model with and without a correction) in one figure.

import { checkInteger, checkPositiveInteger } from "../checks";
import type { EpochLogs, StepLogs, TrainingCallback } from "../train/trainer";
import { lineChart } from "./charts";
import type { Figure } from "./plotly";

/** What draws a live figure: `NotebookPlotter.showLive`. */
export interface LiveFigureDisplay {
  showLive(figure: Figure): (next: Figure) => void;
}

export interface LearningCurvesConfig {
  title: string;
  yTitle?: string;
  /**
   * Also plot the training loss, averaged over this many steps (by epoch: each epoch's mean); 0 for none.
   * Default 10.
   */
  smoothSteps?: number;
  /** Series read from each epoch's logs, by name (e.g. { "held-out MLM": (l) => l.heldOut_mlmLoss }). */
  epochSeries?: Record<string, (logs: EpochLogs) => number>;
  /** Plot against the global step (default) or the epoch. */
  x?: "step" | "epoch";
  /** Redraw after every this many training-loss points (epoch ends always redraw). Default 5. */
  redrawEvery?: number;
  height?: number;
}

/** A callback that shows the curves when created and redraws them as training reports. */
export function liveLearningCurves(
  display: LiveFigureDisplay,
  config: LearningCurvesConfig,
): TrainingCallback & { figure(): Figure } {
  const smooth = config.smoothSteps ?? 10;
  const redrawEvery = config.redrawEvery ?? 5;
  const byEpoch = config.x === "epoch";
  checkInteger("liveLearningCurves", "smoothSteps", smooth, 0);
  checkPositiveInteger("liveLearningCurves", "redrawEvery", redrawEvery);
  const epochSeries = Object.entries(config.epochSeries ?? {});
  const train: Array<{ x: number; y: number }> = [];
  const epochs: Array<{ x: number; values: number[] }> = [];
  let window: number[] = [];
  let lastStep = 0;

  const figure = (): Figure =>
    lineChart({
      title: config.title,
      xTitle: byEpoch ? "epoch" : "step",
      yTitle: config.yTitle,
      mode: byEpoch ? "lines+markers" : "lines",
      height: config.height ?? 350,
      series: [
        ...(smooth > 0
          ? [
              {
                name: byEpoch ? "train" : `train (mean of ${smooth} steps)`,
                x: train.map((p) => p.x),
                y: train.map((p) => p.y),
              },
            ]
          : []),
        ...epochSeries.map(([name], k) => ({ name, x: epochs.map((p) => p.x), y: epochs.map((p) => p.values[k]) })),
      ],
    });
  const redraw = display.showLive(figure());
  return {
    figure,
    onStepEnd(logs: StepLogs) {
      lastStep = logs.step;
      if (smooth === 0 || byEpoch) return;
      window.push(logs.loss);
      if (window.length < smooth) return;
      train.push({ x: logs.step, y: window.reduce((a, b) => a + b, 0) / window.length });
      window = [];
      if (train.length % redrawEvery === 0) redraw(figure());
    },
    onEpochEnd(logs: EpochLogs) {
      if (smooth > 0 && byEpoch) train.push({ x: logs.epoch, y: logs.loss });
      if (epochSeries.length > 0)
        epochs.push({ x: byEpoch ? logs.epoch : lastStep, values: epochSeries.map(([, read]) => read(logs)) });
      redraw(figure());
    },
  };
}

export interface LossComparisonConfig {
  title: string;
  yTitle?: string;
  /** Plot the y axis on a log scale (losses that fall by orders of magnitude). */
  logY?: boolean;
  height?: number;
}

/**
 * One figure with a curve of each run's mean training loss per epoch, redrawn in place at each epoch's
 * end: `run(name)` is the callback to pass to that run's `fit`. The figure appears at the first epoch's
 * end, so a cell that trains nothing shows nothing.
 */
export function liveLossComparison(
  display: LiveFigureDisplay,
  config: LossComparisonConfig,
): { run(name: string): TrainingCallback; figure(): Figure } {
  const runs: Array<{ name: string; x: number[]; y: number[] }> = [];
  let redraw: ((next: Figure) => void) | null = null;
  const figure = (): Figure =>
    lineChart({
      title: config.title,
      xTitle: "epoch",
      yTitle: config.yTitle ?? "mean training loss",
      mode: "lines+markers",
      logY: config.logY,
      height: config.height ?? 350,
      series: runs.map((r) => ({ name: r.name, x: r.x, y: r.y })),
    });
  return {
    figure,
    run(name: string): TrainingCallback {
      if (runs.some((r) => r.name === name)) {
        throw new Error(`liveLossComparison: a run named '${name}' is already in '${config.title}'`);
      }
      const curve = { name, x: [] as number[], y: [] as number[] };
      runs.push(curve);
      return {
        onEpochEnd(logs: EpochLogs) {
          curve.x.push(logs.epoch);
          curve.y.push(logs.loss);
          if (redraw === null) redraw = display.showLive(figure());
          else redraw(figure());
        },
      };
    },
  };
}
