// Content-based recommendation, the first stage of the source text's history (基于内容的推荐系统):
// items are described by their text, a user by the text of the items they liked, and each user is
// recommended the unseen items whose text is most similar to their profile. It needs no other
// user's data, so it works for a new item on day one, but it only ever finds "more of the same
// words": it cannot learn from what other people did (Lops, de Gemmis and Semeraro, "Content-based
// Recommender Systems: State of the Art and Trends", Recommender Systems Handbook, 2011).
//
// The method, in the order of this file:
//   1. documents  one text per item from its side information (title, genres, tags, authors);
//   2. counts     a sparse term-count matrix C [numItems × numTerms] over a word vocabulary;
//   3. weights    TF-IDF (Salton and Buckley, 1988) or BM25 (Robertson and Zaragoza, "The
//                 Probabilistic Relevance Framework: BM25 and Beyond", 2009) turn counts into
//                 weights, and each item vector v_i is scaled to unit length, so that
//                 cos(v_i, v_j) = v_i · v_j;
//   4. neighbours item–item cosine similarity (`similarItems`);
//   5. profiles   each user's profile p_u is a weighted mean of the vectors of the items they
//                 rated above their own mean, and s(u, i) = cos(p_u, v_i) ranks the items.
// Vectors are stored sparse (CSR typed arrays, as scipy.sparse.csr_matrix): the ml-100k item text
// has a few thousand terms but under ten per item.

import { ItemCatalogue } from "../data/catalogue";
import { Interactions } from "../data/interactions";
import { rowsByUser } from "../data/userIndex";
import { ItemScorer } from "../eval/protocols";
import { ENGLISH_STOP_WORDS, TokenizeOptions, Vocabulary, VocabularyOptions, tokenizeWords } from "../text/tokenize";

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
    ? { titles: source.itemInfo.titles, genres: source.itemInfo.genres, tags: source.itemInfo.tags, authors: source.itemInfo.authors }
    : { titles: source.titles, tags: source.tags, authors: source.authors };
  const fields = options.fields ?? (["titles", "genres", "tags"] as ItemTextField[]).filter((f) => available[f] !== undefined);
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
// Sparse matrices
// ---------------------------------------------------------------------------------------------

/** A sparse vector: ascending column indices and their values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

/**
 * A sparse matrix in compressed sparse row form: the nonzeros of row r are at positions
 * indptr[r] .. indptr[r+1]-1 of `indices` (columns, strictly ascending within a row) and `values`.
 */
export class CsrMatrix {
  constructor(
    readonly numRows: number,
    readonly numCols: number,
    /** Length numRows + 1, indptr[0] = 0, nondecreasing, indptr[numRows] = nnz. */
    readonly indptr: Int32Array,
    readonly indices: Int32Array,
    readonly values: Float64Array,
  ) {
    if (indptr.length !== numRows + 1 || indptr[0] !== 0 || indptr[numRows] !== indices.length || indices.length !== values.length) {
      throw new Error(
        `CsrMatrix: inconsistent arrays (indptr ${indptr.length} for ${numRows} rows, ending at ${indptr[numRows]}; ` +
          `${indices.length} indices, ${values.length} values)`,
      );
    }
    for (let r = 0; r < numRows; r++) {
      if (indptr[r + 1] < indptr[r]) throw new Error(`CsrMatrix: indptr decreases at row ${r}`);
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const c = indices[p];
        if (!(c >= 0 && c < numCols)) throw new Error(`CsrMatrix: row ${r} has column ${c}, outside [0, ${numCols})`);
        if (p > indptr[r] && c <= indices[p - 1]) throw new Error(`CsrMatrix: row ${r}'s columns are not strictly ascending`);
      }
    }
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.indices.length;
  }

  /** Row r as a sparse vector (views into this matrix, not copies). */
  row(r: number): SparseVector {
    this.checkRow(r);
    const start = this.indptr[r];
    const end = this.indptr[r + 1];
    return { indices: this.indices.subarray(start, end), values: this.values.subarray(start, end) };
  }

  /** Entry (r, c); 0 where nothing is stored. */
  get(r: number, c: number): number {
    this.checkRow(r);
    let lo = this.indptr[r];
    let hi = this.indptr[r + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indices[mid] === c) return this.values[mid];
      if (this.indices[mid] < c) lo = mid + 1;
      else hi = mid;
    }
    return 0;
  }

  /** The transpose, also in CSR form (that is, this matrix in compressed sparse column form). O(nnz). */
  transpose(): CsrMatrix {
    const indptr = new Int32Array(this.numCols + 1);
    for (let p = 0; p < this.nnz; p++) indptr[this.indices[p] + 1]++;
    for (let c = 0; c < this.numCols; c++) indptr[c + 1] += indptr[c];
    const next = indptr.slice(0, this.numCols);
    const indices = new Int32Array(this.nnz);
    const values = new Float64Array(this.nnz);
    // Rows are visited in order, so each column's new row indices come out ascending.
    for (let r = 0; r < this.numRows; r++) {
      for (let p = this.indptr[r]; p < this.indptr[r + 1]; p++) {
        const to = next[this.indices[p]]++;
        indices[to] = r;
        values[to] = this.values[p];
      }
    }
    return new CsrMatrix(this.numCols, this.numRows, indptr, indices, values);
  }

  /** Dense row-major copy [numRows × numCols], for small matrices (tables in a notebook, tests). */
  toDense(): Float64Array {
    const out = new Float64Array(this.numRows * this.numCols);
    for (let r = 0; r < this.numRows; r++) {
      for (let p = this.indptr[r]; p < this.indptr[r + 1]; p++) out[r * this.numCols + this.indices[p]] = this.values[p];
    }
    return out;
  }

  private checkRow(r: number): void {
    if (!(Number.isInteger(r) && r >= 0 && r < this.numRows)) {
      throw new RangeError(`CsrMatrix: row ${r} is out of range [0, ${this.numRows})`);
    }
  }
}

/** Dot product of two sparse vectors (a merge of their ascending indices). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const ca = a.indices[i];
    const cb = b.indices[j];
    if (ca === cb) sum += a.values[i++] * b.values[j++];
    else if (ca < cb) i++;
    else j++;
  }
  return sum;
}

/** A copy of `m` with every nonzero row scaled to unit Euclidean length: v / ||v||₂. */
export function l2NormalizeRows(m: CsrMatrix): CsrMatrix {
  const values = m.values.slice();
  for (let r = 0; r < m.numRows; r++) {
    let sq = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) sq += values[p] * values[p];
    if (sq === 0) continue;
    const scale = 1 / Math.sqrt(sq);
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) values[p] *= scale;
  }
  return new CsrMatrix(m.numRows, m.numCols, m.indptr, m.indices, values);
}

// ---------------------------------------------------------------------------------------------
// 2. Term counts
// ---------------------------------------------------------------------------------------------

/** Term counts c(t, d) of tokenized documents: [documents × vocabulary.size]; unknown tokens are ignored. */
export function termCountMatrix(tokenized: ReadonlyArray<ReadonlyArray<string>>, vocabulary: Vocabulary): CsrMatrix {
  const indptr = new Int32Array(tokenized.length + 1);
  const rows: Int32Array[] = tokenized.map((tokens) => vocabulary.encode(tokens).sort());
  // Distinct ids per row (each sorted row's runs) give the row lengths.
  rows.forEach((ids, d) => {
    let distinct = 0;
    for (let k = 0; k < ids.length; k++) if (k === 0 || ids[k] !== ids[k - 1]) distinct++;
    indptr[d + 1] = indptr[d] + distinct;
  });
  const indices = new Int32Array(indptr[tokenized.length]);
  const values = new Float64Array(indptr[tokenized.length]);
  rows.forEach((ids, d) => {
    let p = indptr[d] - 1;
    for (let k = 0; k < ids.length; k++) {
      if (k === 0 || ids[k] !== ids[k - 1]) {
        indices[++p] = ids[k];
        values[p] = 0;
      }
      values[p]++;
    }
  });
  return new CsrMatrix(tokenized.length, vocabulary.size, indptr, indices, values);
}

/** df(t): the number of documents (rows) in which term t (column) occurs. */
export function documentFrequencies(counts: CsrMatrix): Int32Array {
  const df = new Int32Array(counts.numCols);
  for (let p = 0; p < counts.nnz; p++) if (counts.values[p] !== 0) df[counts.indices[p]]++;
  return df;
}

// ---------------------------------------------------------------------------------------------
// 3. Term weights: TF-IDF and BM25
// ---------------------------------------------------------------------------------------------

export interface TermWeightingConfig {
  /** How documents become tokens. Default `{ stopWords: ENGLISH_STOP_WORDS }`; pass `{}` to keep every word. */
  tokenize?: TokenizeOptions;
  /** Vocabulary pruning by document frequency. Default: keep every token. */
  vocabulary?: VocabularyOptions;
  /** Scale each document vector to unit length, so that dot products are cosines. Default true. */
  normalize?: boolean;
}

export interface TfidfConfig extends TermWeightingConfig {
  /**
   * Term frequency from the count c = c(t, d): "raw" tf = c (default, as scikit-learn), "log"
   * tf = 1 + ln c (scikit-learn's sublinear_tf), "binary" tf = 1 when c > 0.
   */
  tf?: "raw" | "log" | "binary";
  /**
   * Inverse document frequency over N documents: "smooth" idf = ln((1 + N) / (1 + df)) + 1 (default,
   * scikit-learn's TfidfVectorizer), or "textbook" idf = ln(N / df).
   */
  idf?: "smooth" | "textbook";
}

export interface Bm25Config extends TermWeightingConfig {
  /** Term-frequency saturation. Default 1.2 (Robertson and Zaragoza; Lucene). */
  k1?: number;
  /** Document-length normalisation, 0 (none) to 1 (full). Default 0.75. */
  b?: number;
}

/** Weighted document vectors with what produced them. */
export interface TermVectors {
  vocabulary: Vocabulary;
  /** Raw term counts c(t, d): [documents × vocabulary.size]. */
  counts: CsrMatrix;
  /** df(t) of each vocabulary term. */
  documentFrequencies: Int32Array;
  /** The idf(t) used for each term. */
  idf: Float64Array;
  /** Term weights w(t, d): [documents × vocabulary.size], rows of unit length when `normalize`. */
  vectors: CsrMatrix;
}

/**
 * TF-IDF document vectors: w(t, d) = tf(t, d) · idf(t), then v_d = w_d / ||w_d||₂.
 *
 * The defaults are scikit-learn's TfidfVectorizer defaults, so that a learner can check any number
 * against the most used implementation: raw counts for tf, and the smoothed
 *     idf(t) = ln((1 + N) / (1 + df(t))) + 1,
 * which behaves as if one extra document contained every term once. Unlike the textbook
 * idf(t) = ln(N / df(t)) it never divides by zero, and a term found in every item (a genre every
 * film has) keeps a small positive weight instead of vanishing.
 */
export function tfidfVectors(documents: ReadonlyArray<string>, config: TfidfConfig = {}): TermVectors {
  const tfKind = config.tf ?? "raw";
  const idfKind = config.idf ?? "smooth";
  if (!["raw", "log", "binary"].includes(tfKind)) throw new Error(`tfidfVectors: 'tf' must be "raw", "log" or "binary", got '${tfKind}'`);
  if (!["smooth", "textbook"].includes(idfKind)) throw new Error(`tfidfVectors: 'idf' must be "smooth" or "textbook", got '${idfKind}'`);
  const { vocabulary, counts, documentFrequencies: df } = countTerms(documents, config);
  const n = documents.length;
  const idf = new Float64Array(vocabulary.size);
  for (let t = 0; t < idf.length; t++) idf[t] = idfKind === "smooth" ? Math.log((1 + n) / (1 + df[t])) + 1 : Math.log(n / df[t]);
  const values = new Float64Array(counts.nnz);
  for (let p = 0; p < counts.nnz; p++) {
    const c = counts.values[p];
    const tf = tfKind === "raw" ? c : tfKind === "log" ? 1 + Math.log(c) : 1;
    values[p] = tf * idf[counts.indices[p]];
  }
  return finish(vocabulary, counts, df, idf, values, config);
}

/**
 * BM25 document vectors (Robertson and Zaragoza, 2009, with Lucene's idf):
 *
 *     w(t, d) = idf(t) · c(t, d) · (k1 + 1) / (c(t, d) + k1 · (1 − b + b · |d| / avgdl))
 *     idf(t)  = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
 *
 * where |d| is the number of tokens of d and avgdl the mean over documents. Against TF-IDF, the
 * count saturates (a word's 5th repetition adds little) and long documents are discounted. Lucene's
 * idf is used because the original ln((N − df + 0.5) / (df + 0.5)) turns negative for terms in over
 * half the documents, and a negative weight would make items that share such a term less similar.
 * BM25 scores a query against a document; here both sides are weighted alike and compared by
 * cosine, as recommender libraries do when they use BM25 as a weighting scheme.
 */
export function bm25Vectors(documents: ReadonlyArray<string>, config: Bm25Config = {}): TermVectors {
  const k1 = config.k1 ?? 1.2;
  const b = config.b ?? 0.75;
  if (!(k1 >= 0 && Number.isFinite(k1))) throw new Error(`bm25Vectors: 'k1' must be a finite number >= 0, got ${k1}`);
  if (!(b >= 0 && b <= 1)) throw new Error(`bm25Vectors: 'b' must be in [0, 1], got ${b}`);
  const { vocabulary, counts, documentFrequencies: df } = countTerms(documents, config);
  const n = documents.length;
  const idf = new Float64Array(vocabulary.size);
  for (let t = 0; t < idf.length; t++) idf[t] = Math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
  const lengths = new Float64Array(n);
  let total = 0;
  for (let d = 0; d < n; d++) {
    for (let p = counts.indptr[d]; p < counts.indptr[d + 1]; p++) lengths[d] += counts.values[p];
    total += lengths[d];
  }
  const avgdl = total / Math.max(n, 1);
  const values = new Float64Array(counts.nnz);
  for (let d = 0; d < n; d++) {
    const norm = k1 * (1 - b + (b * lengths[d]) / avgdl);
    for (let p = counts.indptr[d]; p < counts.indptr[d + 1]; p++) {
      const c = counts.values[p];
      values[p] = (idf[counts.indices[p]] * c * (k1 + 1)) / (c + norm);
    }
  }
  return finish(vocabulary, counts, df, idf, values, config);
}

function countTerms(documents: ReadonlyArray<string>, config: TermWeightingConfig): { vocabulary: Vocabulary; counts: CsrMatrix; documentFrequencies: Int32Array } {
  const tokenizeOptions = config.tokenize ?? { stopWords: ENGLISH_STOP_WORDS };
  const tokenized = documents.map((text) => tokenizeWords(text, tokenizeOptions));
  const vocabulary = Vocabulary.fromDocuments(tokenized, config.vocabulary);
  const counts = termCountMatrix(tokenized, vocabulary);
  return { vocabulary, counts, documentFrequencies: documentFrequencies(counts) };
}

function finish(
  vocabulary: Vocabulary,
  counts: CsrMatrix,
  df: Int32Array,
  idf: Float64Array,
  values: Float64Array,
  config: TermWeightingConfig,
): TermVectors {
  const weighted = new CsrMatrix(counts.numRows, counts.numCols, counts.indptr, counts.indices, values);
  const vectors = (config.normalize ?? true) ? l2NormalizeRows(weighted) : weighted;
  return { vocabulary, counts, documentFrequencies: df, idf, vectors };
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

  /** @param itemVectors item feature rows; they are scaled to unit length here (a copy), so similarities are cosines. */
  constructor(itemVectors: CsrMatrix, config: ContentBasedConfig = {}) {
    const weighting = config.profile ?? "aboveMean";
    if (weighting !== "aboveMean" && weighting !== "uniform") {
      throw new Error(`ContentBasedRecommender: 'profile' must be "aboveMean" or "uniform", got '${weighting}'`);
    }
    this.profileWeighting = weighting;
    this.itemVectors = l2NormalizeRows(itemVectors);
    this.termItems = this.itemVectors.transpose();
  }

  get numItems(): number {
    return this.itemVectors.numRows;
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
    if (!Number.isInteger(k) || k < 1) throw new Error(`similarItems: 'k' must be a positive integer, got ${k}`);
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
      throw new Error(`ContentBasedRecommender.fit: '${train.name}' has ${train.numItems} items but there are ${this.numItems} item vectors`);
    }
    const numTerms = this.itemVectors.numCols;
    const groups = rowsByUser(train);
    const dense = new Float64Array(numTerms);
    const touched = new Uint8Array(numTerms);
    const terms = new Int32Array(numTerms);
    const indptr = new Int32Array(train.numUsers + 1);
    const builder = new GrowableSparse();
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
        for (let p = this.itemVectors.indptr[item]; p < this.itemVectors.indptr[item + 1]; p++) {
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
      indptr[u + 1] = builder.length;
    }
    this.profiles = new CsrMatrix(train.numUsers, numTerms, indptr, builder.indices(), builder.values());
    this.profileNorms = norms;
    return this;
  }

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
    const { indptr, indices, values } = this.termItems;
    for (let j = 0; j < query.indices.length; j++) {
      const t = query.indices[j];
      const q = query.values[j];
      for (let p = indptr[t]; p < indptr[t + 1]; p++) scores[indices[p]] += q * values[p];
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
      throw new RangeError(`ContentBasedRecommender: user ${user} is outside the ${numUsers} users of the training data`);
    }
    return user;
  }
}

/** Appends (index, value) pairs into typed arrays that double when full. */
class GrowableSparse {
  private idx = new Int32Array(1024);
  private val = new Float64Array(1024);
  length = 0;

  push(index: number, value: number): void {
    if (this.length === this.idx.length) {
      const idx = new Int32Array(this.idx.length * 2);
      const val = new Float64Array(this.val.length * 2);
      idx.set(this.idx);
      val.set(this.val);
      this.idx = idx;
      this.val = val;
    }
    this.idx[this.length] = index;
    this.val[this.length++] = value;
  }

  indices(): Int32Array {
    return this.idx.slice(0, this.length);
  }

  values(): Float64Array {
    return this.val.slice(0, this.length);
  }
}
