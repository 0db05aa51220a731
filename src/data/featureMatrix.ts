// Side features as sparse rows: each item's (or user's) genres, tags, authors, decade, gender,
// occupation or age group, one column per distinct value, for the feature-embedding and two-tower models.

import { CsrMatrix } from "./csr";
import { Interactions } from "./interactions";

/** Rows (items or users) × features, with the name of each feature ("item:50", "genre:Comedy"). */
export interface FeatureMatrix {
  /** w_rf: the weight of feature f in row r, [numRows × names.length]. */
  readonly weights: CsrMatrix;
  readonly names: readonly string[];
}

export interface FeatureMatrixOptions {
  /**
   * Scale each row's weights to sum to 1, so that p_i is the mean of its feature vectors rather than
   * their sum and items with many tags are not longer vectors. Default true, as LightFM's `Dataset`.
   */
  normalize?: boolean;
}

/**
 * The feature matrix whose row r has a weight-1 entry for each distinct name in `lists[r]` (then
 * normalised). Features are numbered in order of first appearance.
 */
export function featureMatrixFromLists(
  lists: ReadonlyArray<ReadonlyArray<string>>,
  options: FeatureMatrixOptions = {},
): FeatureMatrix {
  const normalize = options.normalize ?? true;
  const index = new Map<string, number>();
  const names: string[] = [];
  const offsets = new Int32Array(lists.length + 1);
  const rows: Int32Array[] = lists.map((list, r) => {
    const ids = new Set<number>();
    for (const name of list) {
      let f = index.get(name);
      if (f === undefined) {
        f = names.length;
        index.set(name, f);
        names.push(name);
      }
      ids.add(f);
    }
    offsets[r + 1] = offsets[r] + ids.size;
    return Int32Array.from(ids).sort();
  });
  const indices = new Int32Array(offsets[lists.length]);
  const values = new Float64Array(offsets[lists.length]);
  rows.forEach((ids, r) => {
    indices.set(ids, offsets[r]);
    values.fill(normalize ? 1 / ids.length : 1, offsets[r], offsets[r + 1]);
  });
  return { weights: new CsrMatrix(lists.length, names.length, offsets, indices, values), names };
}

/** Item side information that becomes features. "decades" turns a release year into "decade:1990s". */
export type ItemFeatureField = "genres" | "tags" | "authors" | "decades";

export interface ItemFeatureOptions extends FeatureMatrixOptions {
  /** Default: every field of the four that the data has. */
  fields?: ItemFeatureField[];
  /** Give each item with training interactions its own identity feature "item:<id>". Default true. */
  identity?: boolean;
}

/**
 * The item features of `train` (rows: every item of its id space). An item with training
 * interactions gets its identity feature (unless `identity` is false) and its content features; an
 * item without any (cold) gets its content features only. A content feature that no warm item has
 * is dropped: no gradient ever reaches it, so it would only add its random initial vector.
 */
export function itemFeatureMatrix(train: Interactions, options: ItemFeatureOptions = {}): FeatureMatrix {
  const caller = "itemFeatureMatrix";
  const info = train.itemInfo;
  const has: Record<ItemFeatureField, boolean> = {
    genres: info.genres !== undefined,
    tags: info.tags !== undefined,
    authors: info.authors !== undefined,
    decades: info.years !== undefined,
  };
  const fields = options.fields ?? (Object.keys(has) as ItemFeatureField[]).filter((f) => has[f]);
  for (const field of fields) {
    if (!(field in has))
      throw new Error(`${caller}: unknown field '${field}'; expected genres, tags, authors or decades`);
    if (!has[field])
      throw new Error(
        `${caller}: '${train.name}' has no item ${field === "decades" ? "years" : field} for field '${field}'`,
      );
  }
  const n = train.numItems;
  for (const [field, column] of [
    ["genres", info.genres],
    ["tags", info.tags],
    ["authors", info.authors],
    ["years", info.years],
  ] as const) {
    if (column !== undefined && column.length !== n) {
      throw new Error(`${caller}: '${train.name}' has ${column.length} item ${field} for ${n} items`);
    }
  }
  const content = (i: number): string[] => {
    const out: string[] = [];
    for (const field of fields) {
      if (field === "genres") for (const g of (info.genres as string[][])[i]) out.push(`genre:${g}`);
      if (field === "tags") for (const t of (info.tags as string[][])[i]) out.push(`tag:${t}`);
      if (field === "authors") {
        for (const a of (info.authors as string[])[i].split(",")) if (a.trim() !== "") out.push(`author:${a.trim()}`);
      }
      if (field === "decades") {
        const year = (info.years as Float64Array)[i];
        if (Number.isFinite(year)) out.push(`decade:${Math.floor(year / 10) * 10}s`);
      }
    }
    return out;
  };
  const warm = new Uint8Array(n);
  for (let k = 0; k < train.length; k++) warm[train.items[k]] = 1;
  return withIdentities(n, warm, (i) => `item:${train.itemIndex.idOf(i)}`, content, options.identity ?? true, options);
}

/** User side information that becomes features. "ageGroups" turns an age into "age:20s". */
export type UserFeatureField = "genders" | "occupations" | "ageGroups";

export interface UserFeatureOptions extends FeatureMatrixOptions {
  /** Default none: each user is their identity feature alone, as in plain matrix factorisation. */
  fields?: UserFeatureField[];
  /** Give each user with training interactions their identity feature "user:<id>". Default true. */
  identity?: boolean;
}

/** The user features of `train`, built like `itemFeatureMatrix` from its `userInfo`. */
export function userFeatureMatrix(train: Interactions, options: UserFeatureOptions = {}): FeatureMatrix {
  const caller = "userFeatureMatrix";
  const info = train.userInfo;
  const fields = options.fields ?? [];
  const columns = { genders: info.genders, occupations: info.occupations, ageGroups: info.ages };
  for (const field of fields) {
    if (!(field in columns))
      throw new Error(`${caller}: unknown field '${field}'; expected genders, occupations or ageGroups`);
    const column = columns[field];
    if (column === undefined)
      throw new Error(
        `${caller}: '${train.name}' has no user ${field === "ageGroups" ? "ages" : field} for field '${field}'`,
      );
    if (column.length !== train.numUsers)
      throw new Error(`${caller}: '${train.name}' has ${column.length} user ${field} for ${train.numUsers} users`);
  }
  const content = (u: number): string[] => {
    const out: string[] = [];
    for (const field of fields) {
      if (field === "genders") out.push(`gender:${(info.genders as string[])[u]}`);
      if (field === "occupations") out.push(`occupation:${(info.occupations as string[])[u]}`);
      if (field === "ageGroups") {
        const age = (info.ages as Float64Array)[u];
        if (Number.isFinite(age)) out.push(`age:${Math.floor(age / 10) * 10}s`);
      }
    }
    return out;
  };
  const warm = new Uint8Array(train.numUsers);
  for (let k = 0; k < train.length; k++) warm[train.users[k]] = 1;
  return withIdentities(
    train.numUsers,
    warm,
    (u) => `user:${train.userIndex.idOf(u)}`,
    content,
    options.identity ?? true,
    options,
  );
}

/** Identity features for warm rows, then content features that some warm row carries. */
function withIdentities(
  numRows: number,
  warm: Uint8Array,
  identityOf: (r: number) => string,
  contentOf: (r: number) => string[],
  identity: boolean,
  options: FeatureMatrixOptions,
): FeatureMatrix {
  const content = Array.from({ length: numRows }, (_, r) => contentOf(r));
  const trained = new Set<string>();
  for (let r = 0; r < numRows; r++) if (warm[r]) for (const f of content[r]) trained.add(f);
  const lists = content.map((features, r) => {
    const kept = features.filter((f) => trained.has(f));
    return identity && warm[r] ? [identityOf(r), ...kept] : kept;
  });
  return featureMatrixFromLists(lists, options);
}

// ---------------------------------------------------------------------------------------------
// Saved models: which feature matrices a model was built with (FeatureEmbeddingModel, TwoTower)
// ---------------------------------------------------------------------------------------------

/** The feature matrices to rebuild a saved model with; the defaults when absent. */
export interface SavedFeatures {
  itemFeatures?: FeatureMatrix | null;
  userFeatures?: FeatureMatrix | null;
}

/** What a saved model records of a feature matrix: its names, size and a hash of its entries. */
export interface FeatureMatrixRecord {
  names: string[];
  rows: number;
  nnz: number;
  /** FNV-1a (32-bit, hex) over each row's column indices (int32) and weights (float64). */
  hash: string;
}

export function featureMatrixRecord(features: FeatureMatrix): FeatureMatrixRecord {
  let hash = 0x811c9dc5;
  const mix = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  };
  for (let r = 0; r < features.weights.numRows; r++) {
    const { indices, values } = features.weights.row(r);
    mix(new Uint8Array(Int32Array.from(indices).buffer));
    mix(new Uint8Array(Float64Array.from(values).buffer));
    mix(Uint8Array.of(0xff)); // row separator
  }
  return {
    names: features.names.slice(),
    rows: features.weights.numRows,
    nnz: features.weights.nnz,
    hash: hash.toString(16).padStart(8, "0"),
  };
}

/** Throws unless `features` is what `saved` records (both null, or the same names, size and hash). */
export function checkSavedFeatures(owner: string, field: string, saved: unknown, features: FeatureMatrix | null): void {
  const given = features === null ? null : featureMatrixRecord(features);
  if (JSON.stringify(saved) === JSON.stringify(given)) return;
  const describe = (r: unknown) => {
    if (r === null || typeof r !== "object") return JSON.stringify(r);
    const { names, rows, nnz, hash } = r as FeatureMatrixRecord;
    return `${rows} rows × ${Array.isArray(names) ? names.length : "?"} features, ${nnz} entries, hash ${hash}`;
  };
  throw new Error(
    `${owner}: ${field} (${describe(given)}) differs from the saved model's (${describe(saved)}); pass the feature matrix it was trained with`,
  );
}
