// Pieces the data set loaders share: growing typed-array columns for a log of unknown length, a
// reader for numeric ratings tables, the rule that keeps only users who have interactions, and
// tag ranking.

import { DelimitedReader } from "./delimited";
import { IdIndex, InteractionsColumns } from "./interactions";
import { IntIdMap } from "./intIds";

/** Interaction columns appended row by row; `capacity` is a hint (e.g. the file's line count). */
export class ColumnsBuilder {
  length = 0;
  private users: Int32Array;
  private items: Int32Array;
  private ratings: Float32Array;
  private timestamps: Float64Array;

  constructor(capacity: number) {
    const n = Math.max(16, capacity);
    this.users = new Int32Array(n);
    this.items = new Int32Array(n);
    this.ratings = new Float32Array(n);
    this.timestamps = new Float64Array(n);
  }

  push(user: number, item: number, rating: number, timestamp: number): void {
    const k = this.length;
    if (k === this.users.length) this.grow();
    this.users[k] = user;
    this.items[k] = item;
    this.ratings[k] = rating;
    this.timestamps[k] = timestamp;
    this.length = k + 1;
  }

  private grow(): void {
    const n = 2 * this.users.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    const ratings = new Float32Array(n);
    const timestamps = new Float64Array(n);
    users.set(this.users);
    items.set(this.items);
    ratings.set(this.ratings);
    timestamps.set(this.timestamps);
    this.users = users;
    this.items = items;
    this.ratings = ratings;
    this.timestamps = timestamps;
  }

  /** The columns, trimmed to `length` (copies, so no spare capacity stays allocated). */
  finish(): InteractionsColumns {
    const n = this.length;
    return {
      users: this.users.slice(0, n),
      items: this.items.slice(0, n),
      ratings: this.ratings.slice(0, n),
      timestamps: this.timestamps.slice(0, n),
    };
  }
}

/** An upper bound on the records of a text file: its line count (plus one for a last line without LF). */
export function lineCountBound(bytes: Buffer): number {
  let lines = 1;
  for (let p = bytes.indexOf(10); p !== -1; p = bytes.indexOf(10, p + 1)) lines++;
  return lines;
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

/** The interactions read from a ratings file, before users are given their final indices. */
export interface RawRatings {
  columns: InteractionsColumns;
  /** Without a user file: the users' own ids, ascending, matching `columns.users`. */
  userIds?: number[];
}

/**
 * Reads a ratings file whose user and item ids are integers. Items must be known to `items`
 * (their dense index). With `users` (dense index in the user file), users must be known to it;
 * without, users are indexed by ascending id. Each unknown id is an error naming the line.
 */
export function readRatingsTable(
  bytes: Buffer,
  layout: RatingsLayout,
  items: { map: IntIdMap; file: string },
  users?: { map: IntIdMap; file: string },
): RawRatings {
  const reader = new DelimitedReader(bytes, { file: layout.file, delimiter: layout.delimiter, quoted: !!layout.header, names: layout.names });
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
  const out = new ColumnsBuilder(lineCountBound(bytes));
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
    out.push(user, item, reader.number(cr), ct >= 0 ? reader.number(ct) : NaN);
  }
  const columns = out.finish();
  if (users) return { columns };
  // Re-index users by ascending id.
  const order = Int32Array.from(firstSeen.keys()).sort((a, b) => firstSeen[a] - firstSeen[b]);
  const rank = new Int32Array(firstSeen.length);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  const u = columns.users;
  for (let k = 0; k < u.length; k++) u[k] = rank[u[k]];
  return { columns, userIds: Array.from(order, (i) => firstSeen[i]) };
}
