// Word tokenization of item text (titles, genres, tags, descriptions) for bag-of-words models such
// as TF-IDF and BM25, and a vocabulary that numbers the tokens. Subword tokenization for BERT
// (WordPiece) builds on the same `Vocabulary` in its own module.
//
// The rules, in order (one regular expression pass, no per-character objects):
//   1. Unicode NFKC normalisation, then lower case: "Ｓｃｉ‑Ｆｉ" and "sci-fi" become the same text.
//   2. A token is a run of Unicode letters and digits (combining marks allowed after the first
//      character), so "Amélie", "Cité" and "1977" are tokens; everything else separates tokens.
//   3. A single hyphen or apostrophe *between* two such runs joins them: "sci-fi", "film-noir",
//      "young-adult" and "x-men" stay one token, because a genre or tag label loses its meaning when
//      cut in half ("sci" and "fi" mean nothing alone). `splitHyphens: true` cuts them instead.
//   4. A final possessive "'s" is dropped and other apostrophes are removed: "Children's" -> "children",
//      "Schindler's" -> "schindler", "don't" -> "dont", "O'Brien" -> "obrien".
//   5. Optionally, stop words (after steps 1-4) and tokens shorter than `minLength` are left out.
// Scripts written without spaces (Chinese, Japanese) are not segmented: a run of Han characters is
// one token. That is enough for the English item text of this course; WordPiece handles the rest.

import { checkPositiveInteger } from "../checks";

/**
 * Common English function words (articles, pronouns, prepositions, conjunctions, auxiliaries),
 * lower case, apostrophes removed as the tokenizer removes them ("don't" -> "dont"). Deliberately
 * short: content words that some IR lists include ("system", "fire", "computer") are not stop words
 * in titles.
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between " +
    "both but by can cannot could did do does doing down during each few for from further had has have having " +
    "he her here hers herself him himself his how i if in into is it its itself just me more most my myself no " +
    "nor not now of off on once only or other our ours ourselves out over own same she should so some such than " +
    "that the their theirs them themselves then there these they this those through to too under until up very " +
    "was we were what when where which while who whom why will with would you your yours yourself yourselves " +
    "dont doesnt didnt isnt arent wasnt werent im ive youre youve youll hes shes theyre theyve thats whats lets"
  ).split(" "),
);

export interface TokenizeOptions {
  /** Tokens to leave out, compared after normalisation (e.g. `ENGLISH_STOP_WORDS`). Default none. */
  stopWords?: ReadonlySet<string>;
  /** Tokens with fewer characters (code points) are left out. Default 1 (keep all). */
  minLength?: number;
  /** Cut hyphenated compounds into their parts ("sci-fi" -> "sci", "fi"). Default false. */
  splitHyphens?: boolean;
}

// A letter or digit run, optionally continued by hyphen- or apostrophe-joined runs.
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:[-'’][\p{L}\p{N}][\p{L}\p{M}\p{N}]*)*/gu;
const POSSESSIVE = /['’]s$/u;
const APOSTROPHES = /['’]/gu;

/** The word tokens of `text`, in order, following the rules in this file's header. */
export function tokenizeWords(text: string, options: TokenizeOptions = {}): string[] {
  const minLength = options.minLength ?? 1;
  checkPositiveInteger("tokenizeWords", "minLength", minLength);
  const stopWords = options.stopWords;
  const out: string[] = [];
  const keep = (token: string): void => {
    if (token.length === 0) return;
    if (minLength > 1 && Array.from(token).length < minLength) return;
    if (stopWords !== undefined && stopWords.has(token)) return;
    out.push(token);
  };
  const normalized = text.normalize("NFKC").toLowerCase();
  for (const match of normalized.matchAll(WORD)) {
    const word = match[0].replace(POSSESSIVE, "").replace(APOSTROPHES, "");
    if (options.splitHyphens) {
      for (const part of word.split("-")) keep(part);
    } else {
      keep(word);
    }
  }
  return out;
}

export interface VocabularyOptions {
  /** Keep only tokens that occur in at least this many documents. Default 1. */
  minDocumentFrequency?: number;
  /** Keep only tokens that occur in at most this fraction of the documents. Default 1 (no limit). */
  maxDocumentFraction?: number;
}

/**
 * A bijection between tokens and dense ids 0..size-1. Built from documents, its tokens are sorted
 * (by UTF-16 code units, as JavaScript sorts strings), so ids do not depend on document order and
 * match scikit-learn's column order for the usual text.
 */
export class Vocabulary {
  private readonly ids = new Map<string, number>();

  private constructor(readonly tokens: readonly string[]) {
    tokens.forEach((token, id) => {
      if (this.ids.has(token))
        throw new Error(`Vocabulary: token '${token}' appears twice (ids ${this.ids.get(token)} and ${id})`);
      this.ids.set(token, id);
    });
  }

  /** A vocabulary with exactly these tokens, numbered in the given order. */
  static fromTokens(tokens: Iterable<string>): Vocabulary {
    return new Vocabulary(Array.from(tokens));
  }

  /** The sorted distinct tokens of tokenized `documents`, pruned by document frequency. */
  static fromDocuments(documents: ReadonlyArray<ReadonlyArray<string>>, options: VocabularyOptions = {}): Vocabulary {
    const minDf = options.minDocumentFrequency ?? 1;
    const maxFraction = options.maxDocumentFraction ?? 1;
    checkPositiveInteger("Vocabulary.fromDocuments", "minDocumentFrequency", minDf);
    if (!(maxFraction > 0 && maxFraction <= 1)) {
      throw new Error(`Vocabulary.fromDocuments: 'maxDocumentFraction' must be in (0, 1], got ${maxFraction}`);
    }
    const df = new Map<string, number>();
    for (const document of documents) {
      for (const token of new Set(document)) df.set(token, (df.get(token) ?? 0) + 1);
    }
    const maxDf = maxFraction * documents.length;
    const kept: string[] = [];
    for (const [token, count] of df) if (count >= minDf && count <= maxDf) kept.push(token);
    return new Vocabulary(kept.sort());
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of `token`, or undefined when it is not in the vocabulary. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token with id `id`. */
  tokenOf(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new RangeError(`Vocabulary: id ${id} is out of range [0, ${this.tokens.length})`);
    return token;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The ids of `tokens`, in order; tokens outside the vocabulary are left out (a bag of words has no column for them). */
  encode(tokens: ReadonlyArray<string>): Int32Array {
    const out = new Int32Array(tokens.length);
    let n = 0;
    for (const token of tokens) {
      const id = this.ids.get(token);
      if (id !== undefined) out[n++] = id;
    }
    return out.slice(0, n);
  }
}
