// Interactions from your own CSV files.
//
// Interactions file: UTF-8, comma-separated, RFC 4180 quoting (a field in double quotes may hold
// commas, line breaks and "" for a quote), a header line, then one interaction per line. Columns,
// in any order:
//   user       required  the user's id, any non-empty text
//   item       required  the item's id, any non-empty text
//   rating     optional  a number; without this column every interaction counts 1 (implicit feedback)
//   timestamp  optional  Unix seconds, or an ISO 8601 date or date-time ("2024-05-01",
//                        "2024-05-01T12:30:00Z"; without an offset it is read as UTC); empty = unknown
// Any other column is an error, so that a misspelt "ratng" is not silently dropped. Ids are trimmed
// of surrounding spaces; blank lines are skipped. A file without rows, a rating that does not fit a
// 32-bit float or lies off `ratingScale`, and a repeated (user, item) pair (unless `duplicates`
// says how to merge it) are errors naming the file and line. Example:
//
//   user,item,rating,timestamp
//   alice,The Hobbit,5,2024-01-03
//   bob,"Dune, Part One",4,1704240000
//
// Items file (optional, `itemsFile`), same conventions, columns:
//   item       required  the item's id, unique
//   title, genres, year, tags   optional; genres and tags are '|'-separated, year a number or empty
// With an items file every item of the interactions must be listed in it, items are indexed in its
// order and all of them are kept (rated or not); without one, items are indexed by first
// appearance. Users are indexed by first appearance. Rows keep the file's order.

import * as path from "node:path";
import { DuplicatePolicy, RatingScale } from "./cache";
import {
  assertUtf8,
  DataFormatError,
  DelimitedOptions,
  DelimitedReader,
  readDataFile,
  withDataFile,
} from "./delimited";
import { IdIndex, Interactions, InteractionsColumns, ItemInfo } from "./interactions";
import { IntIdMap } from "./intIds";
import { ColumnsBuilder, duplicateError, readRating, resolveDuplicates } from "./loading";

export interface InteractionsCsvOptions {
  /** A CSV file of items (item,title,genres,year,tags) to take the item catalogue from. */
  itemsFile?: string;
  /** Name of the result; default the file name without its extension. */
  name?: string;
  /** The values ratings may take, e.g. { min: 1, max: 5, step: 1 }; default: any number. */
  ratingScale?: RatingScale;
  /** Repeated (user, item) rows: "error" (default), "keepLast" or "mean". */
  duplicates?: DuplicatePolicy;
}

const INTERACTION_COLUMNS = ["user", "item", "rating", "timestamp"];
const ITEM_COLUMNS = ["item", "title", "genres", "year", "tags"];

/** Assigns dense indices to the ids of one column; numeric ids go through an IntIdMap, not strings. */
class IdAssigner {
  readonly index = new IdIndex();
  private readonly numeric = new IntIdMap();

  /** The dense index of field `i`'s id; a new id is added when `add`, else -1 is returned. */
  lookup(reader: DelimitedReader, i: number, add: boolean): number {
    const n = reader.canonicalUint(i);
    if (n >= 0) {
      let k = this.numeric.get(n);
      if (k < 0 && add) {
        k = this.index.add(String(n));
        this.numeric.set(n, k);
      }
      return k;
    }
    const id = reader.string(i).trim();
    if (id === "") reader.fail(i, "empty id");
    if (add) return this.index.add(id);
    return this.index.indexOf(id) ?? -1;
  }
}

function checkColumns(reader: DelimitedReader, header: string[], allowed: string[]): void {
  header.forEach((name, i) => {
    if (!allowed.includes(name)) {
      throw new DataFormatError(
        reader.file,
        reader.line,
        undefined,
        `unknown column '${name}' (column ${i + 1}); expected ${allowed.join(", ")}`,
      );
    }
    if (header.indexOf(name) !== i)
      throw new DataFormatError(reader.file, reader.line, undefined, `column '${name}' appears twice`);
  });
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Field `i` as Unix seconds: a number, an ISO 8601 date or date-time (UTC unless an offset is given), or NaN if empty. */
function readTimestamp(reader: DelimitedReader, i: number): number {
  if (reader.isEmpty(i)) return NaN;
  const text = reader.string(i).trim();
  if (/^[+-]?\d/.test(text) && !ISO_DATE.test(text) && !ISO_DATE_TIME.test(text)) return reader.number(i);
  let ms = NaN;
  if (ISO_DATE.test(text)) ms = Date.parse(text);
  else if (ISO_DATE_TIME.test(text)) {
    const t = text.replace(" ", "T");
    ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
  }
  if (Number.isNaN(ms)) reader.fail(i, `expected Unix seconds or an ISO 8601 date, got "${text}"`);
  return ms / 1000;
}

function splitList(text: string): string[] {
  return text
    .split("|")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function readItemsFile(file: string, items: IdAssigner): ItemInfo {
  const bytes = readDataFile(file);
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(["item"]);
  checkColumns(reader, header, ITEM_COLUMNS);
  const [cItem, cTitle, cGenres, cYear, cTags] = ITEM_COLUMNS.map((c) => header.indexOf(c));
  const titles: string[] = [];
  const genres: string[][] = [];
  const years: number[] = [];
  const tags: string[][] = [];
  while (reader.next()) {
    const before = items.index.size;
    const k = items.lookup(reader, cItem, true);
    if (k < before) reader.fail(cItem, `duplicate item id ${items.index.idOf(k)}`);
    if (cTitle >= 0) titles.push(reader.string(cTitle).trim());
    if (cGenres >= 0) genres.push(splitList(reader.string(cGenres)));
    if (cYear >= 0) years.push(reader.numberOrNaN(cYear));
    if (cTags >= 0) tags.push(splitList(reader.string(cTags)));
  }
  const info: ItemInfo = {};
  if (cTitle >= 0) info.titles = titles;
  if (cGenres >= 0) info.genres = genres;
  if (cYear >= 0) info.years = Float64Array.from(years);
  if (cTags >= 0) info.tags = tags;
  return info;
}

/** Reads interactions (and optionally an item catalogue) in the CSV format described at the top of this file. */
export function loadInteractionsCsv(file: string, options: InteractionsCsvOptions = {}): Interactions {
  const users = new IdAssigner();
  const items = new IdAssigner();
  const itemInfo = options.itemsFile ? readItemsFile(options.itemsFile, items) : {};
  const itemsFileName = options.itemsFile ? path.basename(options.itemsFile) : "";

  const readerOptions: DelimitedOptions = { file, delimiter: ",", quoted: true, validateUtf8: true };
  const read = (reader: DelimitedReader): { columns: InteractionsColumns; fields: { user: number; item: number } } => {
    const header = reader.readHeader(["user", "item"]);
    checkColumns(reader, header, INTERACTION_COLUMNS);
    const [cUser, cItem, cRating, cTime] = INTERACTION_COLUMNS.map((c) => header.indexOf(c));
    const out = new ColumnsBuilder();
    const addItems = !options.itemsFile;
    while (reader.next()) {
      const user = users.lookup(reader, cUser, true);
      const item = items.lookup(reader, cItem, addItems);
      if (item < 0) reader.fail(cItem, `unknown item id ${reader.string(cItem).trim()} (not in ${itemsFileName})`);
      const rating = cRating >= 0 ? readRating(reader, cRating, options.ratingScale) : 1;
      const timestamp = cTime >= 0 ? readTimestamp(reader, cTime) : NaN;
      out.push(user, item, rating, timestamp);
    }
    return { columns: out.finish(), fields: { user: cUser, item: cItem } };
  };
  const raw = withDataFile(file, (source) => read(new DelimitedReader(source, readerOptions)));
  if (raw.columns.users.length === 0)
    throw new DataFormatError(file, undefined, undefined, "no interactions (the file has a header but no rows)");
  const columns = resolveDuplicates(raw.columns, options.duplicates ?? "error", (repeat) => {
    throw duplicateError(file, readerOptions, true, raw.fields, repeat);
  });
  return new Interactions({
    ...columns,
    userIndex: users.index,
    itemIndex: items.index,
    itemInfo,
    name: options.name ?? path.basename(file).replace(/\.csv(\.gz|\.zip)?$|\.[^.]*$/, ""),
  });
}
