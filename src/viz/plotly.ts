// Plotly figures in notebooks, offline: every front end (JupyterLab, classic Notebook, VS Code, the
// nbconvert HTML export) gets a figure it can draw without reaching a CDN.
//
// As plotly.py does, each figure is one display with three MIME types: the Plotly JSON (rendered
// natively by JupyterLab's and VS Code's Plotly renderers), HTML with a <div> and a script that calls
// `window.Plotly` (classic Notebook, nbconvert HTML), and plain text. The plotly.js bundle itself is
// inlined once per notebook, in the HTML of the first figure a `NotebookPlotter` shows.

import * as fs from "node:fs";
import { displayMimeBundle, escapeHtml, MimeBundle, stableHash } from "./display";

/** One Plotly trace (a subset of plotly.js's attributes; extra attributes pass through). */
export interface Trace {
  type: "bar" | "scatter" | "histogram" | "heatmap" | "box";
  name?: string;
  x?: ArrayLike<number | string>;
  y?: ArrayLike<number | string>;
  z?: ArrayLike<ArrayLike<number>>;
  mode?: "lines" | "markers" | "lines+markers" | "text" | "markers+text";
  text?: ArrayLike<string> | string;
  marker?: Record<string, unknown>;
  line?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface Axis {
  title?: { text: string };
  type?: "linear" | "log" | "category";
  [attribute: string]: unknown;
}

export interface Layout {
  title?: { text: string };
  xaxis?: Axis;
  yaxis?: Axis;
  height?: number;
  width?: number;
  [attribute: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
}

const MIME_PLOTLY = "application/vnd.plotly.v1+json";
const DEFAULT_HEIGHT = 420;

/** Plain JSON of a figure: typed arrays become arrays, so that every renderer reads the same data. */
export function figureToJson(figure: Figure): { data: object[]; layout: object } {
  return JSON.parse(
    JSON.stringify(figure, (_key, value) =>
      ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : value,
    ),
  );
}

/** A one-line description of a figure, for text-only front ends and logs. */
export function describeFigure(figure: Figure): string {
  const title = figure.layout.title?.text ?? "untitled";
  const traces = figure.data.map((t) => `${t.type}${t.name ? ` '${t.name}'` : ""}`).join(", ");
  return `Figure: ${title} [${figure.data.length} trace${figure.data.length === 1 ? "" : "s"}: ${traces}]`;
}

/** Where the plotly.js dist bundle is, read from the installed package. */
export function plotlyBundlePath(): string {
  return require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js");
}

/** The <script> element that defines `window.Plotly` in the page. */
export function plotlyBundleScript(bundleSource: string): string {
  if (bundleSource.includes("</script")) {
    throw new Error("plotly bundle contains '</script' and cannot be inlined");
  }
  return `<script type="text/javascript">${bundleSource}</script>`;
}

/**
 * The HTML of one figure: a sized <div> and a script that draws into it once `window.Plotly` exists
 * (the bundle's script may still be loading when this one runs).
 */
export function figureHtml(figure: Figure, divId: string): string {
  const json = figureToJson(figure);
  const height = figure.layout.height ?? DEFAULT_HEIGHT;
  // "</" inside JSON strings would close the script element early.
  const payload = JSON.stringify({ data: json.data, layout: json.layout }).replace(/<\//g, "<\\/");
  return [
    `<div id="${escapeHtml(divId)}" class="recsys-plotly" style="width:100%;height:${height}px;"></div>`,
    `<script type="text/javascript">(function () {`,
    `  var fig = ${payload};`,
    `  var draw = function () { window.Plotly.newPlot("${divId}", fig.data, fig.layout, {responsive: true, displaylogo: false}); };`,
    `  if (window.Plotly) { draw(); return; }`,
    `  var tries = 0, timer = setInterval(function () {`,
    `    if (window.Plotly) { clearInterval(timer); draw(); } else if (++tries > 200) { clearInterval(timer); }`,
    `  }, 50);`,
    `})();</script>`,
  ].join("\n");
}

/** The three-MIME bundle for a figure; `withBundle` prepends the plotly.js script. */
export function figureMimeBundle(figure: Figure, divId: string, bundleScript = ""): MimeBundle {
  return {
    [MIME_PLOTLY]: figureToJson(figure),
    "text/html": bundleScript + figureHtml(figure, divId),
    "text/plain": describeFigure(figure),
  };
}

/**
 * Shows figures in a notebook. Create one per notebook: it inlines plotly.js with its first figure
 * only, and numbers the figures' elements deterministically.
 */
export class NotebookPlotter {
  private shown = 0;
  private bundleSent = false;

  constructor(private readonly readBundle: () => string = () => fs.readFileSync(plotlyBundlePath(), "utf8")) {}

  /** How many figures this plotter has rendered. */
  get figureCount(): number {
    return this.shown;
  }

  /** Displays `figure` below the current cell. */
  show(figure: Figure): void {
    displayMimeBundle(this.render(figure));
  }

  /**
   * Displays `figure` and returns a function that redraws it in place with a new figure: a learning
   * curve that grows while training runs. The saved notebook keeps the last version (with the plotly.js
   * bundle, if this figure was the one that carried it).
   */
  showLive(figure: Figure): (next: Figure) => void {
    const { divId, bundleScript } = this.nextFigure(figure);
    displayMimeBundle(figureMimeBundle(figure, divId, bundleScript), { displayId: divId });
    return (next: Figure) =>
      displayMimeBundle(figureMimeBundle(next, divId, bundleScript), { displayId: divId, update: true });
  }

  /** The MIME bundle that `show` sends (for tests and for writing HTML files). */
  render(figure: Figure): MimeBundle {
    const { divId, bundleScript } = this.nextFigure(figure);
    return figureMimeBundle(figure, divId, bundleScript);
  }

  /** Counts a new figure: its element id, and the plotly.js script if no figure has carried it yet. */
  private nextFigure(figure: Figure): { divId: string; bundleScript: string } {
    this.shown += 1;
    const divId = `recsys-plot-${stableHash(JSON.stringify(figureToJson(figure)))}-${this.shown}`;
    const bundleScript = this.bundleSent ? "" : plotlyBundleScript(this.readBundle());
    this.bundleSent = true;
    return { divId, bundleScript };
  }
}
