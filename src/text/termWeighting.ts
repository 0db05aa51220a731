// Term weighting: sparse term-count matrices of tokenized documents, and TF-IDF (Salton and Buckley,
// 1988) or BM25 (Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
// 2009) document vectors, scaled to unit length so that dot products are cosines. Stored sparse
// (CsrMatrix): the ml-100k item text has a few thousand terms but under ten per item.

import { CsrMatrix, l2NormalizeRows } from "../data/csr";
import { ENGLISH_STOP_WORDS, TokenizeOptions, Vocabulary, VocabularyOptions, tokenizeWords } from "./tokenize";

// ---------------------------------------------------------------------------------------------
// 2. Term counts
// ---------------------------------------------------------------------------------------------

/** Term counts c(t, d) of tokenized documents: [documents × vocabulary.size]; unknown tokens are ignored. */
export function termCountMatrix(tokenized: ReadonlyArray<ReadonlyArray<string>>, vocabulary: Vocabulary): CsrMatrix {
  const offsets = new Int32Array(tokenized.length + 1);
  const rows: Int32Array[] = tokenized.map((tokens) => vocabulary.encode(tokens).sort());
  // Distinct ids per row (each sorted row's runs) give the row lengths.
  rows.forEach((ids, d) => {
    let distinct = 0;
    for (let k = 0; k < ids.length; k++) if (k === 0 || ids[k] !== ids[k - 1]) distinct++;
    offsets[d + 1] = offsets[d] + distinct;
  });
  const indices = new Int32Array(offsets[tokenized.length]);
  const values = new Float64Array(offsets[tokenized.length]);
  rows.forEach((ids, d) => {
    let p = offsets[d] - 1;
    for (let k = 0; k < ids.length; k++) {
      if (k === 0 || ids[k] !== ids[k - 1]) {
        indices[++p] = ids[k];
        values[p] = 0;
      }
      values[p]++;
    }
  });
  return new CsrMatrix(tokenized.length, vocabulary.size, offsets, indices, values);
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
  if (!["raw", "log", "binary"].includes(tfKind))
    throw new Error(`tfidfVectors: 'tf' must be "raw", "log" or "binary", got '${tfKind}'`);
  if (!["smooth", "textbook"].includes(idfKind))
    throw new Error(`tfidfVectors: 'idf' must be "smooth" or "textbook", got '${idfKind}'`);
  const { vocabulary, counts, documentFrequencies: df } = countTerms(documents, config);
  const n = documents.length;
  const idf = new Float64Array(vocabulary.size);
  for (let t = 0; t < idf.length; t++)
    idf[t] = idfKind === "smooth" ? Math.log((1 + n) / (1 + df[t])) + 1 : Math.log(n / df[t]);
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
    for (let p = counts.offsets[d]; p < counts.offsets[d + 1]; p++) lengths[d] += counts.values[p];
    total += lengths[d];
  }
  const avgdl = total / Math.max(n, 1);
  const values = new Float64Array(counts.nnz);
  for (let d = 0; d < n; d++) {
    const norm = k1 * (1 - b + (b * lengths[d]) / avgdl);
    for (let p = counts.offsets[d]; p < counts.offsets[d + 1]; p++) {
      const c = counts.values[p];
      values[p] = (idf[counts.indices[p]] * c * (k1 + 1)) / (c + norm);
    }
  }
  return finish(vocabulary, counts, df, idf, values, config);
}

function countTerms(
  documents: ReadonlyArray<string>,
  config: TermWeightingConfig,
): { vocabulary: Vocabulary; counts: CsrMatrix; documentFrequencies: Int32Array } {
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
  const weighted = new CsrMatrix(counts.numRows, counts.numCols, counts.offsets, counts.indices, values);
  const vectors = (config.normalize ?? true) ? l2NormalizeRows(weighted) : weighted;
  return { vocabulary, counts, documentFrequencies: df, idf, vectors };
}
