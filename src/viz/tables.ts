// Tables in notebooks, as pandas shows a DataFrame in Jupyter: an HTML table with rounded numbers and full
// text, and a plain-text fallback for front ends (and logs) without HTML. danfojs's `.print()` draws ASCII
// boxes that cut titles and print twelve decimals, and `console.table` shows full float noise; `showTable`
// replaces both.

import { displayMimeBundle, escapeHtml, isNotebook, type MimeBundle } from "./display";

/** A cell: numbers are rounded for display, everything else is shown as text. */
export type TableCell = string | number | boolean | null | undefined;

/**
 * Rows as objects (column name → cell), a record of named rows (the names become the index column), or a
 * record of cells (a name and a value per row, as `console.table` shows a flat object).
 */
export type TableRows =
  ReadonlyArray<Record<string, TableCell>> | Record<string, Record<string, TableCell>> | Record<string, TableCell>;

export interface TableOptions {
  /**
   * Most decimals of a column holding fractional numbers (default 4): the column shows as many as its most
   * precise value needs, all alike; a column of integers shows them whole (no separators: ids and timestamps
   * are integers too).
   */
  digits?: number;
  /** Caption above the table. */
  caption?: string;
  /** Header of the index column when rows are a record of named rows (default ""). */
  indexName?: string;
  /** At most this many rows are shown; the rest are counted below the table (default 50). */
  maxRows?: number;
}

/**
 * The shape of a danfojs DataFrame (or Series) that `dataFrameRows` reads; danfojs is not imported here.
 * A DataFrame's values are rows of cells, a Series' are cells.
 */
export interface DataFrameLike {
  readonly columns: string[];
  readonly values: ReadonlyArray<unknown>;
  readonly index: Array<string | number>;
}

/** A danfojs DataFrame's (or Series') rows, its index as the first column (named "" as pandas leaves it). */
export function dataFrameRows(frame: DataFrameLike): Array<Record<string, TableCell>> {
  return frame.values.map((row, r) => {
    const cells = Array.isArray(row) ? row : [row];
    const out: Record<string, TableCell> = { "": frame.index[r] as TableCell };
    frame.columns.forEach((column, c) => {
      out[column] = cells[c] as TableCell;
    });
    return out;
  });
}

interface Grid {
  columns: string[];
  rows: string[][];
  numeric: boolean[];
  hidden: number;
}

/** `decimals` is null for a column of integers, else every number of the column gets that many decimals. */
function formatCell(value: TableCell, decimals: number | null): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
    if (decimals === null) return String(value);
    // Exponent form for tiny values: a 1e-9 difference must not read as 0.
    if (value !== 0 && Math.abs(value) < 10 ** -decimals) return value.toExponential(1);
    return value.toFixed(decimals);
  }
  return String(value);
}

/** Decimals `value` shows once rounded to `digits` decimals, trailing zeros dropped (0.70 → 1). */
function decimalsNeeded(value: number, digits: number): number {
  const rounded = Number(value.toFixed(digits));
  if (rounded === 0) return digits; // a tiny value: shown in exponent form, its column keeps full precision
  const text = rounded.toString();
  const dot = text.indexOf(".");
  return dot < 0 || text.includes("e") ? 0 : text.length - dot - 1;
}

function toGrid(rows: TableRows, options: TableOptions): Grid {
  const digits = options.digits ?? 4;
  const maxRows = options.maxRows ?? 50;
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) {
    throw new Error(`showTable: digits must be an integer in [0, 15], got ${digits}`);
  }
  if (!Number.isInteger(maxRows) || maxRows < 1)
    throw new Error(`showTable: maxRows must be a positive integer, got ${maxRows}`);
  const records: Array<Record<string, TableCell>> = Array.isArray(rows)
    ? (rows as Array<Record<string, TableCell>>)
    : Object.entries(rows).map(([name, row]) => ({
        [options.indexName ?? ""]: name,
        ...(row !== null && typeof row === "object" ? row : { value: row }),
      }));
  const columns: string[] = [];
  for (const record of records) for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  const shown = records.slice(0, maxRows);
  const numeric = columns.map(
    (column) => shown.length > 0 && shown.every((r) => r[column] === undefined || typeof r[column] === "number"),
  );
  // As pandas does, a column with any fractional number shows all its numbers with the same decimals: as
  // many as its most precise value needs, at most `digits` (so numbers rounded before are not padded).
  const decimals = columns.map((column) => {
    const fractional = shown
      .map((r) => r[column])
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v));
    if (fractional.length === 0) return null;
    return Math.max(1, ...fractional.map((v) => decimalsNeeded(v, digits)));
  });
  return {
    columns,
    rows: shown.map((record) => columns.map((column, c) => formatCell(record[column], decimals[c]))),
    numeric,
    hidden: records.length - shown.length,
  };
}

/** The table as aligned plain text: numbers right-aligned, text left-aligned, nothing cut. */
export function tableText(rows: TableRows, options: TableOptions = {}): string {
  const grid = toGrid(rows, options);
  const widths = grid.columns.map((column, c) => Math.max(column.length, ...grid.rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (grid.numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  const lines = [line(grid.columns), ...grid.rows.map(line)];
  if (options.caption) lines.unshift(options.caption);
  if (grid.hidden > 0) lines.push(`… ${grid.hidden} more rows`);
  return lines.join("\n");
}

/** The table as HTML, styled like Jupyter's own DataFrame tables (the `dataframe` class). */
export function tableHtml(rows: TableRows, options: TableOptions = {}): string {
  const grid = toGrid(rows, options);
  const align = (c: number) => (grid.numeric[c] ? ' style="text-align: right"' : ' style="text-align: left"');
  const head = grid.columns.map((column, c) => `<th${align(c)}>${escapeHtml(column)}</th>`).join("");
  const body = grid.rows
    .map((row) => `<tr>${row.map((cell, c) => `<td${align(c)}>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n");
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  const more = grid.hidden > 0 ? `\n<p>… ${grid.hidden} more rows</p>` : "";
  return `<table class="dataframe">${caption}\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>${more}`;
}

/** The table's display message: HTML for front ends that render it, text for the rest. */
export function tableMimeBundle(rows: TableRows, options: TableOptions = {}): MimeBundle {
  return { "text/html": tableHtml(rows, options), "text/plain": tableText(rows, options) };
}

/** Shows a table: as HTML with a text fallback in a notebook, as text on stdout elsewhere. */
export function showTable(rows: TableRows, options: TableOptions = {}): void {
  if (isNotebook()) displayMimeBundle(tableMimeBundle(rows, options));
  else console.log(tableText(rows, options));
}
