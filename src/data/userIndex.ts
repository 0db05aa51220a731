// Per-user views of an interaction log, built in linear or near-linear time with typed arrays:
// the rows of each user (in log order or in time order) and the distinct items each user has seen.
// Splitters, negative samplers and sequence builders all start from one of these.

import { CsrMatrix, GroupedRows, groupRows } from "./csr";
import { Interactions } from "./interactions";

/** How rows are ordered within each user: as in the log, or by timestamp (ties in log order). */
export type RowOrder = "row" | "time";

/**
 * The rows of each user of `data`. With `order: "time"` each user's rows are sorted by timestamp,
 * ties kept in log order; every timestamp must then be known (an Error names the first NaN row).
 */
export function rowsByUser(data: Interactions, order: RowOrder = "row"): GroupedRows {
  return rowsBy(data, "user", order, "rowsByUser");
}

/** The rows of each item of `data`, like `rowsByUser`. */
export function rowsByItem(data: Interactions, order: RowOrder = "row"): GroupedRows {
  return rowsBy(data, "item", order, "rowsByItem");
}

/** The rows of each user or item of `data`; `caller` is named when a timestamp is missing. */
export function rowsBy(data: Interactions, by: "user" | "item", order: RowOrder, caller: string): GroupedRows {
  const keys = by === "user" ? data.users : data.items;
  const numKeys = by === "user" ? data.numUsers : data.numItems;
  if (order === "row") return groupRows(keys, numKeys);
  assertTimestamps(data, caller);
  return groupRows(keys, numKeys, argsortStable(data.timestamps));
}

/** Throws when any timestamp of `data` is NaN, naming the caller, the data set and the row. */
export function assertTimestamps(data: Interactions, caller: string): void {
  const t = data.timestamps;
  for (let k = 0; k < t.length; k++) {
    if (Number.isNaN(t[k])) {
      throw new Error(
        `${caller}: '${data.name}' has no timestamp at row ${k} (user '${data.userIndex.idOf(data.users[k])}'); ` +
          `a time-ordered split needs every timestamp, or use order: "row" when the log is already in time order`,
      );
    }
  }
}

/**
 * The permutation that sorts `values` ascending, stable (equal values keep their index order).
 * An LSD radix sort on the IEEE-754 bits in six passes of at most 11 bits, O(n), carrying the keys
 * along so that every pass reads sequentially; a pass whose digit is the same for all values is
 * skipped. Several times faster than a comparator sort on a million rows. NaNs sort after
 * +Infinity; -0 equals +0.
 */
export function argsortStable(values: Float64Array): Int32Array {
  const n = values.length;
  // Order-preserving unsigned keys: flip every bit of negatives, only the sign bit of the rest.
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  const scratch = new Float64Array(1);
  const words = new Uint32Array(scratch.buffer);
  const hiWord = isLittleEndian() ? 1 : 0;
  for (let k = 0; k < n; k++) {
    const v = values[k];
    scratch[0] = Number.isNaN(v) ? NaN : v === 0 ? 0 : v; // one NaN; -0 -> +0
    const h = words[hiWord];
    const l = words[1 - hiWord];
    if (h & 0x80000000) {
      hi[k] = ~h >>> 0;
      lo[k] = ~l >>> 0;
    } else {
      hi[k] = (h | 0x80000000) >>> 0;
      lo[k] = l;
    }
  }
  let order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  let nextOrder = new Int32Array(n);
  let nextHi = new Uint32Array(n);
  let nextLo = new Uint32Array(n);
  const counts = new Int32Array(2049);
  // [high word?, shift, bits]: the low word's three digits first, then the high word's.
  const digits: Array<[boolean, number, number]> = [
    [false, 0, 11],
    [false, 11, 11],
    [false, 22, 10],
    [true, 0, 11],
    [true, 11, 11],
    [true, 22, 10],
  ];
  for (const [high, shift, bits] of digits) {
    const mask = (1 << bits) - 1;
    const key = high ? hi : lo;
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[((key[k] >>> shift) & mask) + 1]++;
    if (n === 0 || counts[((key[0] >>> shift) & mask) + 1] === n) continue;
    for (let d = 0; d < mask; d++) counts[d + 1] += counts[d];
    for (let j = 0; j < n; j++) {
      const to = counts[(key[j] >>> shift) & mask]++;
      nextOrder[to] = order[j];
      nextHi[to] = hi[j];
      nextLo[to] = lo[j];
    }
    [order, nextOrder] = [nextOrder, order];
    [hi, nextHi] = [nextHi, hi];
    [lo, nextLo] = [nextLo, lo];
  }
  return order;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/**
 * The distinct items each user has interacted with, sorted ascending per user, for O(log d)
 * membership tests: the "seen" set that negative sampling must avoid.
 */
export class UserItems {
  private constructor(
    readonly numUsers: number,
    readonly numItems: number,
    /** Length `numUsers + 1`; user `u`'s items are `items[offsets[u]]`, …, `items[offsets[u + 1] - 1]`. */
    readonly offsets: Int32Array,
    readonly items: Int32Array,
  ) {}

  /**
   * The union of the (user, item) pairs of `parts`, which must share one id space (the parts of a
   * split do). O(n + numUsers + numItems).
   */
  static from(...parts: Interactions[]): UserItems {
    if (parts.length === 0) throw new Error("UserItems.from: needs at least one Interactions");
    const first = parts[0];
    for (const part of parts) {
      if (part.userIndex !== first.userIndex || part.itemIndex !== first.itemIndex) {
        throw new Error(
          `UserItems.from: '${part.name}' does not share the id indices of '${first.name}'; ` +
            `pass parts of one log (the outputs of one split)`,
        );
      }
    }
    const numUsers = first.numUsers;
    const numItems = first.numItems;
    let n = 0;
    for (const part of parts) n += part.length;
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    let at = 0;
    for (const part of parts) {
      users.set(part.users, at);
      items.set(part.items, at);
      at += part.length;
    }
    const seen = CsrMatrix.fromTriples(numUsers, numItems, users, items).dedupe("first");
    return new UserItems(numUsers, numItems, seen.offsets, seen.indices);
  }

  /** How many distinct items user `u` has seen. */
  count(u: number): number {
    return this.offsets[u + 1] - this.offsets[u];
  }

  /** User `u`'s items, ascending (a view, not a copy). */
  itemsOf(u: number): Int32Array {
    return this.items.subarray(this.offsets[u], this.offsets[u + 1]);
  }

  /** Whether user `u` has seen `item` (binary search). */
  has(u: number, item: number): boolean {
    let lo = this.offsets[u];
    let hi = this.offsets[u + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.items[mid];
      if (x === item) return true;
      if (x < item) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }
}
