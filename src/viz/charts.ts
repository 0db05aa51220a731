// Figure builders for the charts the course draws again and again: bars, lines and scatters
// (optionally on log axes), histograms and heatmaps. Each returns a plain `Figure`.

import { Axis, Figure, Layout, Trace } from "./plotly";

export interface ChartLabels {
  title: string;
  xTitle?: string;
  yTitle?: string;
  height?: number;
}

export interface Series {
  name?: string;
  x: ArrayLike<number | string>;
  y: ArrayLike<number>;
}

function axis(title: string | undefined, log: boolean | undefined): Axis {
  return { ...(title ? { title: { text: title } } : {}), ...(log ? { type: "log" as const } : {}) };
}

function layout(labels: ChartLabels, axes: { logX?: boolean; logY?: boolean } = {}): Layout {
  return {
    title: { text: labels.title },
    xaxis: axis(labels.xTitle, axes.logX),
    yaxis: axis(labels.yTitle, axes.logY),
    ...(labels.height ? { height: labels.height } : {}),
    margin: { t: 50, r: 20, b: 50, l: 60 },
  };
}

/** Vertical bars, one per category (or several series side by side). */
export function barChart(options: ChartLabels & { series: Series[]; logY?: boolean }): Figure {
  const data: Trace[] = options.series.map((s) => ({ type: "bar", name: s.name, x: s.x, y: s.y }));
  return { data, layout: { ...layout(options, { logY: options.logY }), barmode: "group", showlegend: options.series.length > 1 } };
}

/** Lines or markers for one or more series; log axes for long tails and learning curves. */
export function lineChart(
  options: ChartLabels & { series: Series[]; mode?: Trace["mode"]; logX?: boolean; logY?: boolean },
): Figure {
  const data: Trace[] = options.series.map((s) => ({ type: "scatter", mode: options.mode ?? "lines", name: s.name, x: s.x, y: s.y }));
  return { data, layout: { ...layout(options, options), showlegend: options.series.length > 1 } };
}

/** A histogram of raw values, binned by plotly.js in the browser. */
export function histogram(options: ChartLabels & { values: ArrayLike<number>; bins?: number; logY?: boolean }): Figure {
  const trace: Trace = { type: "histogram", x: options.values, ...(options.bins ? { nbinsx: options.bins } : {}) };
  return { data: [trace], layout: { ...layout(options, { logY: options.logY }), bargap: 0.05 } };
}

/** A heatmap of a matrix given row by row (attention weights, similarity matrices). */
export function heatmap(
  options: ChartLabels & { z: ArrayLike<ArrayLike<number>>; xLabels?: string[]; yLabels?: string[]; colorscale?: string },
): Figure {
  const trace: Trace = {
    type: "heatmap",
    z: Array.from(options.z, (row) => Array.from(row)),
    x: options.xLabels,
    y: options.yLabels,
    colorscale: options.colorscale ?? "Viridis",
  };
  // Matrices read top to bottom, like the printed tensors beside them.
  return { data: [trace], layout: { ...layout(options), yaxis: { ...axis(options.yTitle, false), autorange: "reversed" } } };
}
