// A map from integer ids (as data sets write them) to dense indices, for the loaders' hot loops:
// small non-negative ids go through a flat typed-array table, others through a Map, so a
// million-row file is indexed without making a string per row.

/** Ids below this go in the flat table (4M entries, 16 MB at most). */
const TABLE_LIMIT = 1 << 22;

export class IntIdMap {
  /** index + 1 per id; 0 marks an absent id. */
  private table = new Int32Array(1024);
  private readonly large = new Map<number, number>();

  /** The value stored for `id`, or -1. */
  get(id: number): number {
    if (id >= 0 && id < this.table.length) return this.table[id] - 1;
    const v = this.large.get(id);
    return v === undefined ? -1 : v;
  }

  /** Stores `value` (≥ 0) for `id`. */
  set(id: number, value: number): void {
    if (id >= 0 && id < TABLE_LIMIT && Number.isInteger(id)) {
      if (id >= this.table.length) {
        let size = this.table.length;
        while (size <= id) size *= 2;
        const grown = new Int32Array(Math.min(size, TABLE_LIMIT));
        grown.set(this.table);
        this.table = grown;
      }
      this.table[id] = value + 1;
    } else {
      this.large.set(id, value);
    }
  }
}
