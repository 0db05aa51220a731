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

/** An axis whose margin grows to fit its tick labels (a heatmap's item titles were cut off at 60 px). */
function axis(title: string | undefined, log: boolean | undefined): Axis {
  return { ...(title ? { title: { text: title } } : {}), ...(log ? { type: "log" as const } : {}), automargin: true };
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
  return {
    data,
    layout: { ...layout(options, { logY: options.logY }), barmode: "group", showlegend: options.series.length > 1 },
  };
}

/** Lines or markers for one or more series; log axes for long tails and learning curves. */
export function lineChart(
  options: ChartLabels & { series: Series[]; mode?: Trace["mode"]; logX?: boolean; logY?: boolean },
): Figure {
  const data: Trace[] = options.series.map((s) => ({
    type: "scatter",
    mode: options.mode ?? "lines",
    name: s.name,
    x: s.x,
    y: s.y,
  }));
  return { data, layout: { ...layout(options, options), showlegend: options.series.length > 1 } };
}

/** A histogram of raw values, binned by plotly.js in the browser. */
export function histogram(options: ChartLabels & { values: ArrayLike<number>; bins?: number; logY?: boolean }): Figure {
  const trace: Trace = { type: "histogram", x: options.values, ...(options.bins ? { nbinsx: options.bins } : {}) };
  return { data: [trace], layout: { ...layout(options, { logY: options.logY }), bargap: 0.05 } };
}

/**
 * Empirical CDFs of several samples on one chart: at each value x, the share of the sample ≤ x (a step
 * line). Compares whole distributions (popularity ranks of recommended items) where a mean hides the tail.
 */
export function ecdfChart(
  options: ChartLabels & { series: Array<{ name: string; values: ArrayLike<number> }>; logX?: boolean },
): Figure {
  const data: Trace[] = options.series.map((s) => {
    const sorted = Float64Array.from(s.values).sort();
    const x: number[] = [];
    const y: number[] = [];
    for (let k = 0; k < sorted.length; k++) {
      // One point per distinct value, at the share of the sample up to and including it.
      if (k + 1 < sorted.length && sorted[k + 1] === sorted[k]) continue;
      x.push(sorted[k]);
      y.push((k + 1) / sorted.length);
    }
    return { type: "scatter", mode: "lines", line: { shape: "hv" }, name: s.name, x, y };
  });
  return {
    data,
    layout: {
      ...layout(options, { logX: options.logX }),
      yaxis: { ...axis(options.yTitle, false), range: [0, 1.02] },
      showlegend: options.series.length > 1,
    },
  };
}

/** A heatmap of a matrix given row by row (attention weights, similarity matrices). */
export function heatmap(
  options: ChartLabels & {
    z: ArrayLike<ArrayLike<number>>;
    xLabels?: string[];
    yLabels?: string[];
    colorscale?: string;
  },
): Figure {
  const trace: Trace = {
    type: "heatmap",
    z: Array.from(options.z, (row) => Array.from(row)),
    x: options.xLabels,
    y: options.yLabels,
    colorscale: options.colorscale ?? "Viridis",
  };
  // Matrices read top to bottom, like the printed tensors beside them.
  return {
    data: [trace],
    layout: { ...layout(options), yaxis: { ...axis(options.yTitle, false), autorange: "reversed" } },
  };
}

/**
 * A 2-D scatter of labelled points (embeddings projected with `pca2d`), one coloured series per
 * frequent label and the rest pooled as "other", with hover texts.
 */
export function categoryScatter(
  options: ChartLabels & {
    /** [n × 2], row-major. */
    points: ArrayLike<number>;
    labels: readonly string[];
    hoverTexts?: readonly string[];
    /** The most labels with a series of their own. Default 6. */
    maxCategories?: number;
  },
): Figure {
  const counts = new Map<string, number>();
  for (const label of options.labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  const main = Array.from(counts.entries())
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxCategories ?? 6)
    .map(([label]) => label);
  const groupOf = (label: string) => (main.includes(label) ? label : "other");
  const groups = counts.size > main.length ? [...main, "other"] : main;
  const data: Trace[] = groups.map((group) => {
    const rows = options.labels.map((label, row) => (groupOf(label) === group ? row : -1)).filter((row) => row >= 0);
    return {
      type: "scatter",
      mode: "markers",
      name: group,
      x: rows.map((row) => options.points[2 * row]),
      y: rows.map((row) => options.points[2 * row + 1]),
      ...(options.hoverTexts ? { text: rows.map((row) => options.hoverTexts![row]) } : {}),
    };
  });
  return { data, layout: { ...layout(options), showlegend: true } };
}

/** Named points with their names written beside them (cost against quality, one point per model). */
export function labelledScatter(
  options: ChartLabels & {
    points: ReadonlyArray<{ label: string; x: number; y: number }>;
    logX?: boolean;
    logY?: boolean;
  },
): Figure {
  const trace: Trace = {
    type: "scatter",
    mode: "markers+text",
    x: options.points.map((p) => p.x),
    y: options.points.map((p) => p.y),
    text: options.points.map((p) => p.label),
    textposition: "top center",
  };
  return { data: [trace], layout: { ...layout(options, options), showlegend: false } };
}
