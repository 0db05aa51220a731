// What the site needs to know about an executed notebook (nbformat 4 JSON): whether it is the current version of
// its source, how long it ran, how many figures it shows, its title and the results line of its last cell; and a
// copy whose plotly.js bundle is moved out into one shared file.

import { createHash } from "node:crypto";

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { execution?: Record<string, string>; [key: string]: unknown };
  outputs?: NotebookOutput[];
  [key: string]: unknown;
}

export interface NotebookJson {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** nbformat stores multi-line strings either whole or as a list of lines. */
export function joinText(text: string | string[] | unknown): string {
  if (Array.isArray(text)) return text.join("");
  return typeof text === "string" ? text : "";
}

export function parseNotebook(text: string, file: string): NotebookJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const nb = parsed as NotebookJson;
  if (!nb || !Array.isArray(nb.cells) || nb.nbformat !== 4) throw new Error(`${file} is not an nbformat 4 notebook`);
  return nb;
}

function codeCells(nb: NotebookJson): NotebookCell[] {
  return nb.cells.filter((cell) => cell.cell_type === "code");
}

/**
 * Why an executed copy does not show its source as it is now, or null when it does: the code cells must be the
 * same (markdown may differ: the site shows the executed copy's text, so a typo fix needs no rerun to be
 * consistent, but it only appears once the notebook runs again).
 */
export function staleReason(executed: NotebookJson, source: NotebookJson): string | null {
  const ran = codeCells(executed).map((c) => joinText(c.source));
  const now = codeCells(source).map((c) => joinText(c.source));
  if (ran.length !== now.length) return `it ran ${ran.length} code cells, the notebook now has ${now.length}`;
  const changed = now.findIndex((code, i) => code !== ran[i]);
  return changed < 0 ? null : `code cell ${changed + 1} has changed since it ran`;
}

/**
 * Seconds from the first code cell starting to the last one finishing, from the timings nbclient records in
 * each cell's metadata (`execution`); null when they are missing (a notebook executed without them).
 */
export function runSeconds(nb: NotebookJson): number | null {
  const cells = codeCells(nb);
  if (cells.length === 0) return null;
  const started = Date.parse(cells[0].metadata?.execution?.["iopub.status.busy"] ?? "");
  const finished = Date.parse(cells[cells.length - 1].metadata?.execution?.["iopub.status.idle"] ?? "");
  if (!Number.isFinite(started) || !Number.isFinite(finished) || finished < started) return null;
  return (finished - started) / 1000;
}

/** When the run started (ISO date), or null. */
export function runStarted(nb: NotebookJson): string | null {
  const first = codeCells(nb)[0]?.metadata?.execution?.["iopub.status.busy"];
  return first && Number.isFinite(Date.parse(first)) ? first : null;
}

/** The figures a notebook shows: outputs that carry the Plotly MIME type (as src/viz/plotly.ts writes them). */
export function figureCount(nb: NotebookJson): number {
  let figures = 0;
  for (const cell of codeCells(nb)) {
    for (const output of cell.outputs ?? []) if (output.data && PLOTLY_MIME in output.data) figures += 1;
  }
  return figures;
}

/** The text of the notebook's first markdown heading, e.g. "00 · Environment and data". */
export function notebookTitle(nb: NotebookJson, fallback: string): string {
  for (const cell of nb.cells) {
    if (cell.cell_type !== "markdown") continue;
    const heading = /^#{1,2}\s+(.+)$/m.exec(joinText(cell.source));
    if (heading) return heading[1].replace(/[*_`]/g, "").trim();
  }
  return fallback;
}

/** The JSON object the last code cell prints on its last line (every course notebook ends with one), or null. */
export function resultsLine(nb: NotebookJson): Record<string, unknown> | null {
  const cells = codeCells(nb);
  const last = cells[cells.length - 1];
  if (!last) return null;
  const stdout = (last.outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => joinText(o.text))
    .join("");
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The text of a notebook's markdown cells. */
export function markdownText(nb: NotebookJson): string {
  return nb.cells
    .filter((cell) => cell.cell_type === "markdown")
    .map((cell) => joinText(cell.source))
    .join("\n\n");
}

/**
 * Formulas in markdown, counted as MathJax finds them: `$$…$$` and `$…$` outside code spans and fenced code,
 * `\$` being a literal dollar. Each becomes one typeset element on the page.
 */
export function countFormulas(markdown: string): number {
  const text = markdown
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "")
    .replace(/\\\$/g, "");
  const display = text.match(/\$\$[\s\S]+?\$\$/g) ?? [];
  // Inline math may wrap onto the next line of its paragraph, not across a blank line.
  const inline = text.replace(/\$\$[\s\S]+?\$\$/g, "").match(/\$(?:[^$\n]|\n(?![ \t]*\n))+?\$/g) ?? [];
  return display.length + inline.length;
}

const SCRIPT_OPEN = '<script type="text/javascript">';
const SCRIPT_CLOSE = "</script>";
/** The line that ends the plotly.js bundle src/viz/plotly.ts inlines (its UMD wrapper sets window.Plotly). */
const BUNDLE_MARK = "window.Plotly = Plotly";

export interface SharedScripts {
  /** File name (under the site's assets/) → script source. */
  files: Map<string, string>;
}

/**
 * Moves each plotly.js bundle inlined in a figure's HTML into a shared file named by its content's hash, and
 * puts a `<script src>` in its place. Every notebook inlines the same 1.4 MB bundle once; the site ships it once
 * and the browser caches it across pages. The `<script src>` is not async, so it runs before the figure scripts
 * after it, as the inline copy did. Returns a new notebook; `shared` collects the files.
 */
export function sharePlotlyBundles(nb: NotebookJson, shared: SharedScripts, assetsPath: string): NotebookJson {
  const copy = JSON.parse(JSON.stringify(nb)) as NotebookJson;
  for (const cell of codeCells(copy)) {
    for (const output of cell.outputs ?? []) {
      if (!output.data || typeof output.data["text/html"] === "undefined") continue;
      const html = joinText(output.data["text/html"]);
      if (!html.includes(BUNDLE_MARK)) continue;
      output.data["text/html"] = replaceBundleScripts(html, shared, assetsPath);
    }
  }
  return copy;
}

function replaceBundleScripts(html: string, shared: SharedScripts, assetsPath: string): string {
  let result = "";
  let at = 0;
  for (;;) {
    const open = html.indexOf(SCRIPT_OPEN, at);
    if (open < 0) break;
    const close = html.indexOf(SCRIPT_CLOSE, open);
    if (close < 0) break;
    const body = html.slice(open + SCRIPT_OPEN.length, close);
    result += html.slice(at, open);
    if (body.includes(BUNDLE_MARK)) {
      const name = `plotly-${createHash("sha256").update(body).digest("hex").slice(0, 12)}.js`;
      shared.files.set(name, body);
      result += `<script type="text/javascript" src="${assetsPath}${name}"></script>`;
    } else {
      result += html.slice(open, close + SCRIPT_CLOSE.length);
    }
    at = close + SCRIPT_CLOSE.length;
  }
  return result + html.slice(at);
}
