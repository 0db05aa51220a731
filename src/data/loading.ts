// Pieces the data set loaders share: growing typed-array columns for a log of unknown length, a
// reader for numeric ratings tables, the checks every loaded log passes (rating scale, repeated
// (user, item) pairs, published row counts), the rule that keeps only users who have
// interactions, and tag ranking.

import * as path from "node:path";
import { DatasetLoadOptions, DatasetSource, DuplicatePolicy, RatingScale } from "./cache";
import { DataFormatError, DelimitedOptions, DelimitedReader, withDataFile } from "./delimited";
import { IdIndex, InteractionsColumns } from "./interactions";
import { IntIdMap } from "./intIds";

/** An ArrayBuffer that grows in place (ES2024; Node 20+), which the ES2020 typings lack. */
interface GrowableBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}

const GrowableBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => GrowableBuffer;

/** Rows a ColumnsBuilder holds at most: a Float64 column of 4 GiB, the largest growable buffer V8 allows. */
export const MAX_ROWS = 2 ** 29;

/** Rows moved per step when columns are trimmed. */
const MOVE_BLOCK = 1 << 20;

type Column = Int32Array | Float32Array | Float64Array;

/**
 * Interaction columns appended row by row. Each column lives in a growable buffer that reserves
 * address space up front and commits memory as rows arrive, so growing never copies and never
 * holds a column twice; `finish` moves the rows to exact-size arrays block by block, shrinking
 * the growable buffer behind it. Peak memory stays near the final columns' size.
 */
export class ColumnsBuilder {
  length = 0;
  private capacity: number;
  private readonly buffers: GrowableBuffer[];
  private users: Int32Array;
  private items: Int32Array;
  private ratings: Float32Array;
  private timestamps: Float64Array;

  /** `capacity`: rows to make room for at first (more are added as needed). */
  constructor(capacity = 0) {
    this.capacity = Math.min(MAX_ROWS, Math.max(1 << 12, capacity));
    this.buffers = [4, 4, 4, 8].map(
      (bytes) => new GrowableBuffer(this.capacity * bytes, { maxByteLength: MAX_ROWS * bytes }),
    );
    // Views without a length follow their buffer as it grows.
    this.users = new Int32Array(this.buffers[0]);
    this.items = new Int32Array(this.buffers[1]);
    this.ratings = new Float32Array(this.buffers[2]);
    this.timestamps = new Float64Array(this.buffers[3]);
  }

  push(user: number, item: number, rating: number, timestamp: number): void {
    const k = this.length;
    if (k === this.capacity) this.grow();
    this.users[k] = user;
    this.items[k] = item;
    this.ratings[k] = rating;
    this.timestamps[k] = timestamp;
    this.length = k + 1;
  }

  private grow(): void {
    if (this.capacity === MAX_ROWS) throw new RangeError(`ColumnsBuilder: more than ${MAX_ROWS} rows`);
    // Growth is in place, so small steps cost nothing and leave little spare room.
    this.capacity = Math.min(MAX_ROWS, this.capacity + Math.max(1 << 16, this.capacity >> 3));
    this.buffers.forEach((buffer, c) => buffer.resize(this.capacity * (c === 3 ? 8 : 4)));
  }

  /** The columns, trimmed to `length`; the builder is empty afterwards. */
  finish(): InteractionsColumns {
    const n = this.length;
    const columns = {
      users: moveOut(this.users, this.buffers[0], new Int32Array(n)),
      items: moveOut(this.items, this.buffers[1], new Int32Array(n)),
      ratings: moveOut(this.ratings, this.buffers[2], new Float32Array(n)),
      timestamps: moveOut(this.timestamps, this.buffers[3], new Float64Array(n)),
    };
    this.length = this.capacity = 0;
    return columns;
  }
}

/** Copies `from`'s first `into.length` values into `into`, last block first, shrinking `buffer` as it goes. */
function moveOut<T extends Column>(from: T, buffer: GrowableBuffer, into: T): T {
  for (let end = into.length; end > 0; end -= MOVE_BLOCK) {
    const start = Math.max(0, end - MOVE_BLOCK);
    into.set(from.subarray(start, end) as ArrayLike<number>, start);
    buffer.resize(start * from.BYTES_PER_ELEMENT);
  }
  buffer.resize(0);
  return into;
}

/** "1–5 in steps of 1" */
export function describeScale(scale: RatingScale): string {
  return `${scale.min}–${scale.max}${scale.step ? ` in steps of ${scale.step}` : ""}`;
}

/**
 * Field `field` of the reader's record as a rating: a number that fits a 32-bit float (the
 * ratings column), and on `scale` when one is given (`owner`: the data set, for messages).
 */
export function readRating(reader: DelimitedReader, field: number, scale?: RatingScale, owner?: string): number {
  const r = reader.number(field);
  if (!Number.isFinite(Math.fround(r))) reader.fail(field, `rating ${r} does not fit a 32-bit float`);
  if (scale) {
    const steps = scale.step ? (r - scale.min) / scale.step : 0;
    if (r < scale.min || r > scale.max || Math.abs(steps - Math.round(steps)) > 1e-9) {
      reader.fail(field, `rating ${r} is off ${owner ? `${owner}'s` : "the"} rating scale (${describeScale(scale)})`);
    }
  }
  return r;
}

/**
 * Throws when a known data set's file has a different number of rows than published (a cut,
 * emptied or edited copy), unless `options.checkRowCounts` is false.
 */
export function checkRowCount(
  source: DatasetSource,
  dir: string,
  file: string,
  rows: number,
  options: DatasetLoadOptions,
): void {
  if (options.checkRowCounts === false) return;
  const rel = path.relative(dir, file).split(path.sep).join("/");
  const expected = source.rows?.[rel];
  if (expected === undefined || expected === rows) return;
  throw new DataFormatError(
    file,
    undefined,
    undefined,
    `${rows.toLocaleString("en-US")} rows, but ${source.name}'s ${rel} has ${expected.toLocaleString("en-US")}: the copy is incomplete or ` +
      `was changed. Delete it and download it again, or pass { checkRowCounts: false } to load a subset of your own`,
  );
}

/** A repeated (user, item) pair: the row where it appeared last before, the row that repeats it, and how many rows repeat a pair. */
export interface Repeat {
  earlier: number;
  later: number;
  count: number;
}

/**
 * Calls `found(earlier, later)` for every row `later` whose (user, item) pair already appeared,
 * `earlier` being the pair's previous row; calls come in increasing `later` within each user.
 * Rows grouped by user (as most files are) are scanned in place; otherwise an order by user is built.
 */
export function forEachRepeat(
  users: Int32Array,
  items: Int32Array,
  found: (earlier: number, later: number) => void,
): void {
  const n = users.length;
  let numUsers = 0;
  let numItems = 0;
  for (let k = 0; k < n; k++) {
    if (users[k] >= numUsers) numUsers = users[k] + 1;
    if (items[k] >= numItems) numItems = items[k] + 1;
  }
  // seenBy[item]: the last user who had the item; lastRow[item]: that row.
  const seenBy = new Int32Array(numItems).fill(-1);
  const lastRow = new Int32Array(numItems);
  const visit = (k: number, u: number): void => {
    const i = items[k];
    if (seenBy[i] === u) found(lastRow[i], k);
    seenBy[i] = u;
    lastRow[i] = k;
  };
  // Grouped by user: each user's rows are one run.
  const done = new Uint8Array(numUsers);
  let grouped = true;
  for (let k = 0; k < n && grouped; k++) {
    const u = users[k];
    if (k > 0 && u !== users[k - 1]) {
      done[users[k - 1]] = 1;
      if (done[u]) grouped = false;
    }
  }
  if (grouped) {
    for (let k = 0; k < n; k++) visit(k, users[k]);
    return;
  }
  // A stable counting sort by user.
  const offsets = new Int32Array(numUsers + 1);
  for (let k = 0; k < n; k++) offsets[users[k] + 1]++;
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  const order = new Int32Array(n);
  const next = offsets.slice(0, numUsers);
  for (let k = 0; k < n; k++) order[next[users[k]]++] = k;
  for (let u = 0; u < numUsers; u++) for (let j = offsets[u]; j < offsets[u + 1]; j++) visit(order[j], u);
}

/**
 * Applies a duplicates policy to columns. Returns them unchanged when no (user, item) pair
 * repeats; with "error", calls `report` with the first repeat in file order (it should throw).
 */
export function resolveDuplicates(
  columns: InteractionsColumns,
  policy: DuplicatePolicy,
  report: (repeat: Repeat) => never,
): InteractionsColumns {
  if (policy !== "error" && policy !== "keepLast" && policy !== "mean") {
    throw new Error(`duplicates must be "error", "keepLast" or "mean", got ${JSON.stringify(policy)}`);
  }
  let first: Repeat | undefined;
  let count = 0;
  let drop: Uint8Array | undefined;
  // For "mean": rating sum and count of each pair, carried to its latest row.
  const sums = new Map<number, [number, number]>();
  forEachRepeat(columns.users, columns.items, (earlier, later) => {
    count++;
    if (!first || later < first.later) first = { earlier, later, count: 0 };
    if (policy === "error") return;
    drop ??= new Uint8Array(columns.users.length);
    drop[earlier] = 1;
    if (policy === "mean") {
      const [sum, n] = sums.get(earlier) ?? [columns.ratings[earlier], 1];
      sums.delete(earlier);
      sums.set(later, [sum + columns.ratings[later], n + 1]);
    }
  });
  if (!first) return columns;
  if (policy === "error") report({ ...first, count });
  const keep: number[] = [];
  for (let k = 0; k < columns.users.length; k++) if (!drop![k]) keep.push(k);
  const ratings = Float32Array.from(keep, (k) => columns.ratings[k]);
  keep.forEach((k, j) => {
    const mean = sums.get(k);
    if (mean) ratings[j] = mean[0] / mean[1];
  });
  return {
    users: Int32Array.from(keep, (k) => columns.users[k]),
    items: Int32Array.from(keep, (k) => columns.items[k]),
    ratings,
    timestamps: Float64Array.from(keep, (k) => columns.timestamps[k]),
  };
}

/**
 * The error for a repeated pair, naming the file and both lines. The lines are found by reading
 * the input again (rows are records in file order, after the header if there is one), which
 * costs nothing until a file has a repeat.
 */
export function duplicateError(
  input: Buffer | string,
  options: DelimitedOptions,
  hasHeader: boolean,
  fields: { user: number; item: number },
  repeat: Repeat,
): DataFormatError {
  const found = readRecords(input, options, hasHeader, [repeat.earlier, repeat.later], (reader) => ({
    line: reader.line,
    user: reader.string(fields.user).trim(),
    item: reader.string(fields.item).trim(),
  }));
  const [earlier, later] = found;
  const others = repeat.count > 1 ? ` (${repeat.count} rows repeat an earlier (user, item) pair)` : "";
  return new DataFormatError(
    options.file,
    later.line,
    undefined,
    `user ${later.user} and item ${later.item} already appear on line ${earlier.line}${others}; ` +
      `pass duplicates: "keepLast" or "mean" to merge repeated pairs`,
  );
}

function readRecords<T>(
  input: Buffer | string,
  options: DelimitedOptions,
  hasHeader: boolean,
  rows: number[],
  take: (reader: DelimitedReader) => T,
): T[] {
  const read = (reader: DelimitedReader): T[] => {
    const out: T[] = [];
    if (hasHeader) reader.next();
    const last = Math.max(...rows);
    for (let k = 0; k <= last && reader.next(); k++) {
      const at = rows.indexOf(k);
      if (at >= 0) out[at] = take(reader);
    }
    return out;
  };
  return typeof input === "string"
    ? withDataFile(input, (source) => read(new DelimitedReader(source, options)))
    : read(new DelimitedReader(input, options));
}

/**
 * Drops the entries of an index that no row uses. `column` holds indices in [0, ids.length) and is
 * rewritten in place to the new indices; the result lists the kept old indices, in order, so side
 * information can be subset the same way.
 */
export function dropUnused(column: Int32Array, size: number): Int32Array {
  const used = new Uint8Array(size);
  for (let k = 0; k < column.length; k++) used[column[k]] = 1;
  const remap = new Int32Array(size);
  let kept = 0;
  for (let i = 0; i < size; i++) remap[i] = used[i] ? kept++ : -1;
  if (kept === size) return Int32Array.from({ length: size }, (_, i) => i);
  for (let k = 0; k < column.length; k++) column[k] = remap[column[k]];
  const keep = new Int32Array(kept);
  for (let i = 0; i < size; i++) if (used[i]) keep[remap[i]] = i;
  return keep;
}

/** `values` at positions `keep`. */
export function pick<T>(values: readonly T[], keep: Int32Array): T[] {
  return Array.from(keep, (i) => values[i]);
}

/** `values` at positions `keep`, for typed columns. */
export function pickNumbers(values: Float64Array, keep: Int32Array): Float64Array {
  return Float64Array.from(keep, (i) => values[i]);
}

/** An IdIndex over integer ids, in the order given. */
export function intIdIndex(ids: ArrayLike<number>): IdIndex {
  const index = new IdIndex();
  for (let i = 0; i < ids.length; i++) index.add(String(ids[i]));
  return index;
}

/**
 * Counts tag applications per item and ranks each item's tags: most applied first, ties in order
 * of first appearance. Tags that differ only in case count as one, spelled as first seen.
 */
export class TagCounter {
  private readonly perItem: Array<Map<string, { tag: string; count: number; first: number }> | undefined>;
  private seen = 0;

  constructor(numItems: number) {
    this.perItem = new Array(numItems);
  }

  add(item: number, tag: string, count = 1): void {
    const key = tag.toLowerCase();
    let tags = this.perItem[item];
    if (!tags) tags = this.perItem[item] = new Map();
    const entry = tags.get(key);
    if (entry) entry.count += count;
    else tags.set(key, { tag, count, first: this.seen++ });
  }

  /** Each item's tags, best first, at most `limit` per item. */
  ranked(limit = Infinity): string[][] {
    const out: string[][] = [];
    for (let i = 0; i < this.perItem.length; i++) {
      const tags = this.perItem[i];
      if (!tags) {
        out.push([]);
        continue;
      }
      const entries = Array.from(tags.values()).sort((a, b) => b.count - a.count || a.first - b.first);
      out.push(entries.slice(0, limit).map((e) => e.tag));
    }
    return out;
  }
}

/** How a numeric ratings file is laid out. */
export interface RatingsLayout {
  file: string;
  delimiter: string;
  /** For a file with a header: the column names of user, item, rating and (optional) timestamp. */
  header?: { user: string; item: string; rating: string; timestamp?: string };
  /** For a file without a header: the field names (for messages); fields 0..3 are user, item, rating, timestamp. */
  names?: string[];
}

/** The checks a ratings table passes beyond its format. */
export interface RatingsChecks {
  /** The data set's rating scale, and the data set's name for messages. */
  scale?: RatingScale;
  dataset?: string;
  /** Repeated (user, item) rows (default "error"). */
  duplicates?: DuplicatePolicy;
}

/** The interactions read from a ratings file, before users are given their final indices. */
export interface RawRatings {
  columns: InteractionsColumns;
  /** Without a user file: the users' own ids, ascending, matching `columns.users`. */
  userIds?: number[];
  /** Records in the file (rows before repeated pairs are merged). */
  records: number;
}

/**
 * Reads a ratings file (a path, streamed, or bytes) whose user and item ids are integers. Items
 * must be known to `items` (their dense index). With `users` (dense index in the user file), users
 * must be known to it; without, users are indexed by ascending id. Each unknown id, rating off
 * the scale or repeated pair is an error naming the line; a file without rows is an error too.
 */
export function readRatingsTable(
  input: Buffer | string,
  layout: RatingsLayout,
  items: { map: IntIdMap; file: string },
  users?: { map: IntIdMap; file: string },
  checks: RatingsChecks = {},
): RawRatings {
  const options: DelimitedOptions = {
    file: layout.file,
    delimiter: layout.delimiter,
    quoted: !!layout.header,
    names: layout.names,
  };
  const read = (
    reader: DelimitedReader,
  ): { columns: InteractionsColumns; ownIds: number[]; fields: { user: number; item: number } } => {
    let cu = 0;
    let ci = 1;
    let cr = 2;
    let ct = layout.names && layout.names.length > 3 ? 3 : -1;
    if (layout.header) {
      const h = layout.header;
      const header = reader.readHeader([h.user, h.item, h.rating, ...(h.timestamp ? [h.timestamp] : [])]);
      cu = header.indexOf(h.user);
      ci = header.indexOf(h.item);
      cr = header.indexOf(h.rating);
      ct = h.timestamp ? header.indexOf(h.timestamp) : -1;
    }
    const out = new ColumnsBuilder();
    const ownIds = new IntIdMap();
    const firstSeen: number[] = [];
    while (reader.next()) {
      const rawUser = reader.int(cu);
      const rawItem = reader.int(ci);
      const item = items.map.get(rawItem);
      if (item < 0) reader.fail(ci, `unknown item id ${rawItem} (not in ${items.file})`);
      let user: number;
      if (users) {
        user = users.map.get(rawUser);
        if (user < 0) reader.fail(cu, `unknown user id ${rawUser} (not in ${users.file})`);
      } else {
        user = ownIds.get(rawUser);
        if (user < 0) {
          user = firstSeen.length;
          ownIds.set(rawUser, user);
          firstSeen.push(rawUser);
        }
      }
      out.push(user, item, readRating(reader, cr, checks.scale, checks.dataset), ct >= 0 ? reader.number(ct) : NaN);
    }
    return { columns: out.finish(), ownIds: firstSeen, fields: { user: cu, item: ci } };
  };
  const raw =
    typeof input === "string"
      ? withDataFile(input, (source) => read(new DelimitedReader(source, options)))
      : read(new DelimitedReader(input, options));
  const records = raw.columns.users.length;
  if (records === 0) throw new DataFormatError(layout.file, undefined, undefined, "the file has no ratings");
  const columns = resolveDuplicates(raw.columns, checks.duplicates ?? "error", (repeat) => {
    throw duplicateError(input, options, !!layout.header, raw.fields, repeat);
  });
  if (users) return { columns, records };
  // Re-index users by ascending id.
  const firstSeen = raw.ownIds;
  const order = Int32Array.from(firstSeen.keys()).sort((a, b) => firstSeen[a] - firstSeen[b]);
  const rank = new Int32Array(firstSeen.length);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  const u = columns.users;
  for (let k = 0; k < u.length; k++) u[k] = rank[u[k]];
  return { columns, userIds: Array.from(order, (i) => firstSeen[i]), records };
}
