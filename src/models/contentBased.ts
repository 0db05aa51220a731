// Content-based recommendation, the first stage of the source text's history (基于内容的推荐系统):
// items are described by their text, a user by the text of the items they liked, and each user is
// recommended the unseen items whose text is most similar to their profile. It needs no other
// user's data, so it works for a new item on day one, but it only ever finds "more of the same
// words": it cannot learn from what other people did (Lops, de Gemmis and Semeraro, "Content-based
// Recommender Systems: State of the Art and Trends", Recommender Systems Handbook, 2011).
//
// The method (steps 2–3 live in text/termWeighting.ts, the sparse rows in data/csr.ts):
//   1. documents  one text per item from its side information (title, genres, tags, authors);
//   2. counts     a sparse term-count matrix C [numItems × numTerms] over a word vocabulary;
//   3. weights    TF-IDF (Salton and Buckley, 1988) or BM25 (Robertson and Zaragoza, "The
//                 Probabilistic Relevance Framework: BM25 and Beyond", 2009) turn counts into
//                 weights, and each item vector v_i is scaled to unit length, so that
//                 cos(v_i, v_j) = v_i · v_j;
//   4. neighbours item–item cosine similarity (`similarItems`);
//   5. profiles   each user's profile p_u is a weighted mean of the vectors of the items they
//                 rated above their own mean, and s(u, i) = cos(p_u, v_i) ranks the items.
//
// `save` writes the unit item vectors and the fitted profiles, so a loaded model needs neither the
// texts nor the training data.

import { checkInteger, checkPositiveInteger } from "../checks";
import { ItemCatalogue } from "../data/catalogue";
import { CsrBuilder, CsrMatrix, SparseVector, l2NormalizeRows, sparseDot } from "../data/csr";
import { Interactions } from "../data/interactions";
import { rowsByUser } from "../data/userIndex";
import { ItemScorer } from "../eval/scorers";
import { arrayModelFormat, csrArrays, readCsr, TrainingData } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// 1. Item documents
// ---------------------------------------------------------------------------------------------

/** A text field of the item side information. */
export type ItemTextField = "titles" | "genres" | "tags" | "authors";

export interface ItemDocumentsOptions {
  /**
   * Fields joined (in this order) into each item's document. Default: those of "titles", "genres"
   * and "tags" that the source has (MovieLens 100K: titles and genres; a catalogue: titles and tags).
   */
  fields?: ItemTextField[];
  /**
   * Keep a MovieLens-style trailing year in titles ("Toy Story (1995)"). Default false: the year is
   * a separate attribute, and as a word it would make every film of 1995 look alike.
   */
  keepTitleYears?: boolean;
}

const TITLE_YEAR = /\s*\(\d{4}\)\s*$/;

/**
 * One plain-text document per item (indexed by dense item index for an `Interactions`, by position
 * for an `ItemCatalogue`): the chosen fields joined with spaces, list fields (genres, tags) item by
 * item. An item without text gets an empty document.
 */
export function itemDocuments(source: Interactions | ItemCatalogue, options: ItemDocumentsOptions = {}): string[] {
  const isLog = source instanceof Interactions;
  const name = source.name;
  const numItems = isLog ? source.numItems : source.ids.length;
  const available: Partial<Record<ItemTextField, ReadonlyArray<string | ReadonlyArray<string>>>> = isLog
    ? {
        titles: source.itemInfo.titles,
        genres: source.itemInfo.genres,
        tags: source.itemInfo.tags,
        authors: source.itemInfo.authors,
      }
    : { titles: source.titles, tags: source.tags, authors: source.authors };
  const fields =
    options.fields ?? (["titles", "genres", "tags"] as ItemTextField[]).filter((f) => available[f] !== undefined);
  if (fields.length === 0) throw new Error(`itemDocuments: '${name}' has no item text (titles, genres or tags)`);
  const columns = fields.map((field) => {
    const column = available[field];
    if (column === undefined) {
      const has = (Object.keys(available) as ItemTextField[]).filter((f) => available[f] !== undefined);
      throw new Error(`itemDocuments: '${name}' has no item field '${field}' (it has: ${has.join(", ") || "none"})`);
    }
    if (column.length !== numItems) {
      throw new Error(`itemDocuments: '${name}' field '${field}' has ${column.length} entries for ${numItems} items`);
    }
    return { field, column };
  });
  const documents: string[] = new Array(numItems);
  for (let i = 0; i < numItems; i++) {
    const parts: string[] = [];
    for (const { field, column } of columns) {
      const value = column[i];
      if (typeof value === "string") {
        parts.push(field === "titles" && !options.keepTitleYears ? value.replace(TITLE_YEAR, "") : value);
      } else if (value !== undefined) {
        parts.push(...value);
      }
    }
    documents[i] = parts.join(" ").trim();
  }
  return documents;
}

// ---------------------------------------------------------------------------------------------
// 4–5. Item neighbours and user profiles
// ---------------------------------------------------------------------------------------------

/**
 * Which of a user's rated items make up the profile, and with what weight:
 *   - "aboveMean" (default; the classic formulation): the items rated above the user's mean rating
 *     r̄_u, weighted by how far above it they are, w_ui = r_ui − r̄_u;
 *   - "uniform": every rated item with weight 1 (implicit feedback: watching is liking).
 */
export type ProfileWeighting = "aboveMean" | "uniform";

export interface ContentBasedConfig {
  /** Default "aboveMean". */
  profile?: ProfileWeighting;
}

/**
 * Passed by `load` alone: the saved vectors already have unit length, and scaling them again could move
 * their last bits (and the loaded model's scores with them).
 */
const UNIT_LENGTH: unique symbol = Symbol("unit length");

/** The nearest neighbours of an item, most similar first. */
export interface Neighbours {
  items: Int32Array;
  /** Cosine similarity of each neighbour to the query item. */
  scores: Float64Array;
}

/**
 * A content-based recommender over item vectors (TF-IDF, BM25 or any nonnegative features).
 *
 * Profile of user u with rated items R_u (train ratings r_ui), for the default "aboveMean":
 *
 *     L_u = { i ∈ R_u : r_ui > r̄_u },   w_ui = r_ui − r̄_u,   p_u = Σ_{i∈L_u} w_ui v_i / Σ_{i∈L_u} w_ui
 *
 * When L_u is empty (all of u's ratings are equal: one rating, or implicit data where every rating
 * is 1) every rated item counts with weight 1. Score: s(u, i) = cos(p_u, v_i) = p_u · v_i / ||p_u||
 * (v_i has unit length), 0 for a user with no profile. Not trained by gradients: `fit(train)` builds
 * the profiles in one pass.
 */
export class ContentBasedRecommender implements ItemScorer {
  /** Unit-length item vectors [numItems × numTerms]. */
  readonly itemVectors: CsrMatrix;
  readonly profileWeighting: ProfileWeighting;
  /** The transpose [numTerms × numItems]: a sparse query touches only the items sharing its terms. */
  private readonly termItems: CsrMatrix;
  private profiles: CsrMatrix | null = null;
  private profileNorms: Float64Array | null = null;
  private trainedOn: TrainingData | null = null;

  /** @param itemVectors item feature rows; they are scaled to unit length here (a copy), so similarities are cosines. */
  constructor(itemVectors: CsrMatrix, config: ContentBasedConfig = {}, scaled?: typeof UNIT_LENGTH) {
    const weighting = config.profile ?? "aboveMean";
    if (weighting !== "aboveMean" && weighting !== "uniform") {
      throw new Error(`ContentBasedRecommender: 'profile' must be "aboveMean" or "uniform", got '${weighting}'`);
    }
    this.profileWeighting = weighting;
    this.itemVectors = scaled === UNIT_LENGTH ? itemVectors : l2NormalizeRows(itemVectors);
    this.termItems = this.itemVectors.transpose();
  }

  get numItems(): number {
    return this.itemVectors.numRows;
  }

  /** The users of the training data (those with a profile, empty or not). */
  get numUsers(): number {
    return this.fitted("numUsers").profiles.numRows;
  }

  /** cos(v_a, v_b). */
  similarity(a: number, b: number): number {
    return sparseDot(this.itemVectors.row(a), this.itemVectors.row(b));
  }

  /**
   * The `k` items most similar to `item` by cosine, most similar first, ties by lower index. The item
   * itself and items sharing no term with it (cosine 0) are left out, so fewer than k may come back.
   */
  similarItems(item: number, k: number): Neighbours {
    checkPositiveInteger("similarItems", "k", k);
    const scores = this.scoreQuery(this.itemVectors.row(item), new Float64Array(this.numItems));
    const candidates: number[] = [];
    for (let i = 0; i < scores.length; i++) if (i !== item && scores[i] > 0) candidates.push(i);
    candidates.sort((a, b) => scores[b] - scores[a] || a - b);
    const top = candidates.slice(0, k);
    return { items: Int32Array.from(top), scores: Float64Array.from(top, (i) => scores[i]) };
  }

  /** Builds every user's profile from the training interactions (ratings used by "aboveMean"). */
  fit(train: Interactions): this {
    if (train.numItems !== this.numItems) {
      throw new Error(
        `ContentBasedRecommender.fit: '${train.name}' has ${train.numItems} items but there are ${this.numItems} item vectors`,
      );
    }
    const numTerms = this.itemVectors.numCols;
    const groups = rowsByUser(train);
    const dense = new Float64Array(numTerms);
    const touched = new Uint8Array(numTerms);
    const terms = new Int32Array(numTerms);
    const builder = new CsrBuilder(numTerms);
    const norms = new Float64Array(train.numUsers);
    for (let u = 0; u < train.numUsers; u++) {
      const start = groups.offsets[u];
      const end = groups.offsets[u + 1];
      let mean = 0;
      for (let g = start; g < end; g++) mean += train.ratings[groups.rows[g]];
      mean /= Math.max(end - start, 1);
      let anyAbove = false;
      if (this.profileWeighting === "aboveMean") {
        for (let g = start; g < end && !anyAbove; g++) anyAbove = train.ratings[groups.rows[g]] > mean;
      }
      let numTouched = 0;
      let weightSum = 0;
      for (let g = start; g < end; g++) {
        const row = groups.rows[g];
        const w = anyAbove ? train.ratings[row] - mean : 1;
        if (!(w > 0)) continue;
        weightSum += w;
        const item = train.items[row];
        for (let p = this.itemVectors.offsets[item]; p < this.itemVectors.offsets[item + 1]; p++) {
          const t = this.itemVectors.indices[p];
          if (touched[t] === 0) {
            touched[t] = 1;
            terms[numTouched++] = t;
          }
          dense[t] += w * this.itemVectors.values[p];
        }
      }
      const userTerms = terms.subarray(0, numTouched).sort();
      let sq = 0;
      for (let j = 0; j < numTouched; j++) {
        const t = userTerms[j];
        const value = dense[t] / weightSum;
        builder.push(t, value);
        sq += value * value;
        dense[t] = 0;
        touched[t] = 0;
      }
      norms[u] = Math.sqrt(sq);
      builder.endRow();
    }
    this.profiles = builder.build();
    this.profileNorms = norms;
    this.trainedOn = train;
    return this;
  }

  /** Saves the unit item vectors and the users' profiles to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { profiles, norms } = this.fitted("save");
    return ContentBasedRecommender.format.save(path, {
      config: { profile: this.profileWeighting },
      fitted: { numItems: this.numItems, numTerms: this.itemVectors.numCols, numUsers: profiles.numRows },
      arrays: [
        ...csrArrays("itemVectors", this.itemVectors),
        ...csrArrays("profiles", profiles),
        { name: "profileNorms", values: norms, shape: [norms.length] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, fitted; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<ContentBasedRecommender> {
    return ContentBasedRecommender.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<ContentBasedRecommender> {
    return ContentBasedRecommender.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "ContentBasedRecommender",
    ({ config, fitted, arrays, data }) => {
      const caller = "ContentBasedRecommender";
      const numItems = checkInteger(caller, "numItems", fitted.numItems, 0);
      const numTerms = checkInteger(caller, "numTerms", fitted.numTerms, 0);
      const numUsers = checkInteger(caller, "numUsers", fitted.numUsers, 0);
      const vectors = readCsr(arrays, "itemVectors", numItems, numTerms);
      const model = new ContentBasedRecommender(vectors, config as ContentBasedConfig, UNIT_LENGTH);
      model.profiles = readCsr(arrays, "profiles", numUsers, numTerms);
      model.profileNorms = arrays.float64("profileNorms", [numUsers]);
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  /** User u's profile p_u (ascending term ids, weights); empty for a user without train items. */
  profileOf(user: number): SparseVector {
    return this.fitted("profileOf").profiles.row(user);
  }

  /** s(u, i) = cos(p_u, v_i) for every item: [users.length × numItems], row-major. */
  scoreItems(users: Int32Array): Float32Array {
    const { profiles, norms } = this.fitted("scoreItems");
    const n = this.numItems;
    const out = new Float32Array(users.length * n);
    const scratch = new Float64Array(n);
    for (let b = 0; b < users.length; b++) {
      const u = this.checkUser(users[b], profiles.numRows);
      if (norms[u] === 0) continue;
      this.scoreQuery(profiles.row(u), scratch);
      const scale = 1 / norms[u];
      for (let i = 0; i < n; i++) out[b * n + i] = scratch[i] * scale;
      scratch.fill(0);
    }
    return out;
  }

  /** s(users[j], items[j]) for each pair; agrees with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const { profiles, norms } = this.fitted("scorePairs");
    if (users.length !== items.length) throw new Error(`scorePairs: ${users.length} users but ${items.length} items`);
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) {
      const u = this.checkUser(users[j], profiles.numRows);
      if (norms[u] !== 0) out[j] = sparseDot(profiles.row(u), this.itemVectors.row(items[j])) / norms[u];
    }
    return out;
  }

  /** Adds q · v_i to scores[i] for every item i, touching only the items that share a term with q. */
  private scoreQuery(query: SparseVector, scores: Float64Array): Float64Array {
    const { offsets, indices, values } = this.termItems;
    for (let j = 0; j < query.indices.length; j++) {
      const t = query.indices[j];
      const q = query.values[j];
      for (let p = offsets[t]; p < offsets[t + 1]; p++) scores[indices[p]] += q * values[p];
    }
    return scores;
  }

  private fitted(method: string): { profiles: CsrMatrix; norms: Float64Array } {
    if (this.profiles === null || this.profileNorms === null) {
      throw new Error(`ContentBasedRecommender.${method}: call fit(train) first to build the user profiles`);
    }
    return { profiles: this.profiles, norms: this.profileNorms };
  }

  private checkUser(user: number, numUsers: number): number {
    if (!(Number.isInteger(user) && user >= 0 && user < numUsers)) {
      throw new RangeError(
        `ContentBasedRecommender: user ${user} is outside the ${numUsers} users of the training data`,
      );
    }
    return user;
  }
}
