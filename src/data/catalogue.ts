// An item catalogue: the items of a domain with their text (titles, authors, tags), without any
// interactions. The embedded goodbooks-10k reduction is one; the synthetic generator produces
// interactions over one; content-based models read their text.
//
// Catalogue CSV (the embedded data set's format): UTF-8, RFC 4180 quoting, header
// `id,title,authors,year,tags`; `year` is an integer or empty; `tags` is '|'-separated, best first.

import * as fs from "node:fs";
import * as path from "node:path";
import { assertUtf8, DataFormatError, DelimitedReader } from "./delimited";

/** Items with their text side information; every array is indexed by catalogue position. */
export interface ItemCatalogue {
  /** A short name of the catalogue ("goodbooks-10k-text"). */
  name: string;
  /** The items' own ids, as strings (unique). */
  ids: string[];
  titles: string[];
  /** One author string per item ("J.K. Rowling, Mary GrandPré"); absent when the domain has none. */
  authors?: string[];
  /** Release or publication year, NaN where unknown. */
  years?: Float64Array;
  /** Descriptive tags or genres per item, most relevant first (may be empty for an item). */
  tags: string[][];
}

const CATALOGUE_COLUMNS = ["id", "title", "authors", "year", "tags"];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The catalogue as catalogue CSV (LF line ends, a final newline). Tags must not contain '|'. */
export function catalogueToCsv(catalogue: ItemCatalogue): string {
  const lines = [CATALOGUE_COLUMNS.join(",")];
  for (let i = 0; i < catalogue.ids.length; i++) {
    for (const tag of catalogue.tags[i]) {
      if (tag.includes("|")) throw new Error(`catalogueToCsv: tag '${tag}' of item ${catalogue.ids[i]} contains '|'`);
    }
    const year = catalogue.years ? catalogue.years[i] : NaN;
    lines.push(
      [
        csvField(catalogue.ids[i]),
        csvField(catalogue.titles[i]),
        csvField(catalogue.authors ? catalogue.authors[i] : ""),
        Number.isNaN(year) ? "" : String(year),
        csvField(catalogue.tags[i].join("|")),
      ].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/** Parses catalogue CSV; `file` names the source in errors. */
export function parseCatalogueCsv(bytes: Buffer, file: string, name: string): ItemCatalogue {
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(CATALOGUE_COLUMNS);
  const [cId, cTitle, cAuthors, cYear, cTags] = CATALOGUE_COLUMNS.map((c) => header.indexOf(c));
  const seen = new Set<string>();
  const catalogue: ItemCatalogue = { name, ids: [], titles: [], authors: [], years: new Float64Array(0), tags: [] };
  const years: number[] = [];
  while (reader.next()) {
    const id = reader.string(cId);
    if (id === "") reader.fail(cId, "empty id");
    if (seen.has(id)) reader.fail(cId, `duplicate id ${id}`);
    seen.add(id);
    catalogue.ids.push(id);
    catalogue.titles.push(reader.string(cTitle));
    catalogue.authors!.push(reader.string(cAuthors));
    years.push(reader.isEmpty(cYear) ? NaN : reader.int(cYear));
    catalogue.tags.push(reader.isEmpty(cTags) ? [] : reader.string(cTags).split("|"));
  }
  catalogue.years = Float64Array.from(years);
  return catalogue;
}

/** Folder of the embedded goodbooks-10k text reduction, relative to the repository root. */
export const EMBEDDED_BOOKS_DIR = path.join("datasets", "goodbooks-10k-text");

/** Finds datasets/goodbooks-10k-text/books.csv above this module, else above the working directory. */
function embeddedBooksFile(): string {
  const starts = [typeof __dirname === "string" ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (start === undefined) continue;
    let dir = start;
    for (let up = 0; up < 6; up++) {
      const candidate = path.join(dir, EMBEDDED_BOOKS_DIR, "books.csv");
      if (fs.existsSync(candidate)) return candidate;
      dir = path.dirname(dir);
    }
  }
  throw new DataFormatError(
    path.join(EMBEDDED_BOOKS_DIR, "books.csv"),
    undefined,
    undefined,
    "not found above the library or the working directory",
  );
}

/**
 * The embedded catalogue: the 2,000 most-rated books of goodbooks-10k (most-rated first) with
 * titles, authors, years and up to 8 descriptive tags each. Ships with the repository
 * (CC BY-SA 4.0, see datasets/goodbooks-10k-text/README.md), so it needs no download.
 */
export function loadEmbeddedBooks(options: { file?: string } = {}): ItemCatalogue {
  const file = options.file ?? embeddedBooksFile();
  return parseCatalogueCsv(fs.readFileSync(file), file, "goodbooks-10k-text");
}
