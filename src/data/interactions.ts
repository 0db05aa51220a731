// The one in-memory form of a user–item interaction log that every loader produces and every
// splitter, sampler, model and metric consumes: parallel typed-array columns over dense indices,
// with the maps back to the data set's own ids and optional side information.

/** Maps a data set's own ids (strings, as read from its files) to dense indices 0..n-1 and back. */
export class IdIndex {
  private readonly index = new Map<string, number>();
  private readonly list: string[] = [];

  static from(ids: Iterable<string>): IdIndex {
    const out = new IdIndex();
    for (const id of ids) out.add(id);
    return out;
  }

  /** The index of `id`, adding it if new. */
  add(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(id, i);
      this.list.push(id);
    }
    return i;
  }

  /** The index of `id`, or undefined when it is unknown. */
  indexOf(id: string): number | undefined {
    return this.index.get(id);
  }

  /** The original id of dense index `i`. */
  idOf(i: number): string {
    const id = this.list[i];
    if (id === undefined) throw new RangeError(`IdIndex: index ${i} is out of range [0, ${this.list.length})`);
    return id;
  }

  get size(): number {
    return this.list.length;
  }

  get ids(): readonly string[] {
    return this.list;
  }
}

/** Side information about items (all arrays are indexed by dense item index). */
export interface ItemInfo {
  titles?: string[];
  /** Author or authors of each item, as one string ("Neil Gaiman, Terry Pratchett"). */
  authors?: string[];
  /** Genre or category labels per item. */
  genres?: string[][];
  /** Free-text tags per item, most relevant first. */
  tags?: string[][];
  /** Release year or publication year, NaN where unknown. */
  years?: Float64Array;
}

/** Side information about users (arrays indexed by dense user index). */
export interface UserInfo {
  ages?: Float64Array;
  genders?: string[];
  occupations?: string[];
}

export interface InteractionsColumns {
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  /** Seconds since the Unix epoch; NaN where the data set has no time. */
  timestamps: Float64Array;
}

export interface InteractionsInit extends InteractionsColumns {
  userIndex: IdIndex;
  itemIndex: IdIndex;
  itemInfo?: ItemInfo;
  userInfo?: UserInfo;
  /** A short name of the data set ("ml-100k"), shown in notebooks and errors. */
  name?: string;
}

/**
 * An interaction log. Columns are parallel: interaction `k` is (users[k], items[k], ratings[k],
 * timestamps[k]). `numUsers`/`numItems` count the whole id space, so a split's train and test parts
 * share indices and a model sized for one fits the other.
 */
export class Interactions implements InteractionsColumns {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ratings: Float32Array;
  readonly timestamps: Float64Array;
  readonly userIndex: IdIndex;
  readonly itemIndex: IdIndex;
  readonly itemInfo: ItemInfo;
  readonly userInfo: UserInfo;
  readonly name: string;

  constructor(init: InteractionsInit) {
    const n = init.users.length;
    for (const [field, column] of Object.entries({
      items: init.items,
      ratings: init.ratings,
      timestamps: init.timestamps,
    })) {
      if (column.length !== n) {
        throw new Error(`Interactions: column '${field}' has ${column.length} rows, 'users' has ${n}`);
      }
    }
    this.users = init.users;
    this.items = init.items;
    this.ratings = init.ratings;
    this.timestamps = init.timestamps;
    this.userIndex = init.userIndex;
    this.itemIndex = init.itemIndex;
    this.itemInfo = init.itemInfo ?? {};
    this.userInfo = init.userInfo ?? {};
    this.name = init.name ?? "interactions";
  }

  get length(): number {
    return this.users.length;
  }

  get numUsers(): number {
    return this.userIndex.size;
  }

  get numItems(): number {
    return this.itemIndex.size;
  }

  /** The interactions at `rows` (in that order), sharing this log's id indices and side information. */
  select(rows: ArrayLike<number>, name = this.name): Interactions {
    const m = rows.length;
    const users = new Int32Array(m);
    const items = new Int32Array(m);
    const ratings = new Float32Array(m);
    const timestamps = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const k = rows[j];
      users[j] = this.users[k];
      items[j] = this.items[k];
      ratings[j] = this.ratings[k];
      timestamps[j] = this.timestamps[k];
    }
    return new Interactions({
      users,
      items,
      ratings,
      timestamps,
      userIndex: this.userIndex,
      itemIndex: this.itemIndex,
      itemInfo: this.itemInfo,
      userInfo: this.userInfo,
      name,
    });
  }
}
