// BERT's pretraining data (Devlin et al. 2019, §3.1 and Appendix A.1): sentence pairs for next-sentence
// prediction, and the masked-language-model corruption of their tokens.
//
// Next-sentence prediction: a pair (A, B) where B is A's real continuation half of the time (IsNext) and
// a segment from another document otherwise (NotNext). Here a "document" is one item, A its title and B
// its tags or genres (so NSP asks "do these tags belong to this title?"), or a window of one user's
// history cut in two halves (NSP on interactions, as the seed frames it: does this continuation belong
// to this user?).
//
// Masking: of the non-special tokens, pick max(1, round(15%)) positions M (capped at maxPredictions), as
// Google's create_pretraining_data.py does; of those, replace 80% with [MASK], 10% with a random token,
// keep 10%. The model must predict the original token at every position of M, and the loss is taken
// there only. Masks are drawn afresh each time a batch is built (RoBERTa's dynamic masking), from the
// caller's seeded Rng.

import { Rng } from "../backend/random";
import { checkInteger, checkPositiveInteger } from "../checks";
import { BERT_SPECIAL_TOKENS, WordPieceTokenizer } from "../text/wordpiece";
import type { ItemCatalogue } from "./catalogue";
import type { Interactions } from "./interactions";

// ---------------------------------------------------------------------------------------------
// Sentence pairs
// ---------------------------------------------------------------------------------------------

/** A document cut into two segments: A and its real continuation B. */
export interface TextPair {
  a: string;
  b: string;
  /**
   * Where the document comes from (e.g. the user of a history window). Documents of one source are
   * never each other's NotNext partner, and `holdOutDocuments` keeps a source on one side of the split.
   */
  source?: number;
}

/** A pretraining pair: segment A, segment B, and whether B really follows A. */
export interface SentencePair extends TextPair {
  isNext: boolean;
}

/**
 * One pair per document: IsNext (A with its own B) with probability 1 − notNextProbability, else NotNext
 * (A with the B of another document of another source, drawn uniformly). Needs two sources.
 */
export function nextSentencePairs(documents: readonly TextPair[], rng: Rng, notNextProbability = 0.5): SentencePair[] {
  if (documents.length < 2)
    throw new Error(`nextSentencePairs: need at least 2 documents to draw NotNext pairs, got ${documents.length}`);
  if (!(notNextProbability >= 0 && notNextProbability <= 1)) {
    throw new Error(`nextSentencePairs: notNextProbability must be in [0, 1], got ${notNextProbability}`);
  }
  return documents.map((doc, i) => {
    if (rng.next() >= notNextProbability) return { a: doc.a, b: doc.b, isNext: true };
    // Any document but this one; rejection keeps it uniform over the other sources' documents.
    for (let attempt = 0; attempt < 1000; attempt++) {
      let j = rng.int(documents.length - 1);
      if (j >= i) j += 1;
      if (doc.source === undefined || documents[j].source !== doc.source)
        return { a: doc.a, b: documents[j].b, isNext: false };
    }
    throw new Error(`nextSentencePairs: found no document of another source for document ${i} (source ${doc.source})`);
  });
}

export interface CatalogueDocumentsConfig {
  /** Append " by <authors>" to the title, where the catalogue has authors. Default true. */
  withAuthors?: boolean;
  /** Items with fewer tags are left out (they have no B segment). Default 1. */
  minTags?: number;
  /** At most this many tags, most relevant first. Default all. */
  maxTags?: number;
}

/**
 * One document per item: A = its title (and authors), B = its tags as words joined by spaces, e.g.
 * { a: "The Hobbit by J.R.R. Tolkien", b: "fantasy classics fiction young adult" }. A tag's hyphens and
 * underscores become spaces ("young-adult" → "young adult"): BERT's tokenizer would split them into
 * "young - adult", and the "-" would be the most frequent token to predict, teaching nothing.
 */
export function catalogueDocuments(catalogue: ItemCatalogue, config: CatalogueDocumentsConfig = {}): TextPair[] {
  const withAuthors = config.withAuthors ?? true;
  const minTags = config.minTags ?? 1;
  const maxTags = config.maxTags ?? Infinity;
  const documents: TextPair[] = [];
  for (let i = 0; i < catalogue.ids.length; i++) {
    const tags = catalogue.tags[i].slice(0, maxTags);
    if (tags.length < minTags) continue;
    const author = withAuthors && catalogue.authors ? catalogue.authors[i] : "";
    const words = tags.map((tag) => tag.replace(/[-_]+/g, " ").trim()).filter((tag) => tag !== "");
    documents.push({ a: author ? `${catalogue.titles[i]} by ${author}` : catalogue.titles[i], b: words.join(" ") });
  }
  return documents;
}

/** The token that stands for item index i in behaviour sentences: one WordPiece word. */
export function itemToken(item: number): string {
  return `item${item}`;
}

/** A tokenizer whose vocabulary is BERT's special tokens and one token per item (`itemToken`). */
export function itemTokenizer(numItems: number): WordPieceTokenizer {
  checkPositiveInteger("itemTokenizer", "numItems", numItems);
  return WordPieceTokenizer.fromTokens([
    ...BERT_SPECIAL_TOKENS,
    ...Array.from({ length: numItems }, (_, i) => itemToken(i)),
  ]);
}

export interface BehaviourDocumentsConfig {
  /** The token that stands for item index i. Default `itemToken` ("item12"), one WordPiece word. */
  itemToken?: (item: number) => string;
  /** Items per half: a window holds 2·halfLength consecutive items. Default 20. */
  halfLength?: number;
  /** At most this many windows per user, the earliest first. Default: all. */
  maxWindowsPerUser?: number;
}

/**
 * Each user's items in time order (ties in log order), cut into consecutive windows of 2·halfLength
 * items (a shorter tail is left out); a window is one document, its first half A and its second half B,
 * each item written as one token, with the user as its source. The NotNext B of `nextSentencePairs` is
 * then the second half of a window of another user.
 */
export function behaviourDocuments(interactions: Interactions, config: BehaviourDocumentsConfig = {}): TextPair[] {
  const token = config.itemToken ?? itemToken;
  const half = config.halfLength ?? 20;
  const maxWindows = config.maxWindowsPerUser ?? Infinity;
  checkPositiveInteger("behaviourDocuments", "halfLength", half);
  if (!(maxWindows >= 1))
    throw new Error(`behaviourDocuments: maxWindowsPerUser must be at least 1, got ${maxWindows}`);
  const rowsByUser: number[][] = Array.from({ length: interactions.numUsers }, () => []);
  for (let k = 0; k < interactions.length; k++) rowsByUser[interactions.users[k]].push(k);
  const time = (k: number) => (Number.isNaN(interactions.timestamps[k]) ? -Infinity : interactions.timestamps[k]);
  const documents: TextPair[] = [];
  rowsByUser.forEach((rows, user) => {
    const words = rows.sort((p, q) => time(p) - time(q) || p - q).map((k) => token(interactions.items[k]));
    for (let start = 0, w = 0; start + 2 * half <= words.length && w < maxWindows; start += 2 * half, w++) {
      documents.push({
        a: words.slice(start, start + half).join(" "),
        b: words.slice(start + half, start + 2 * half).join(" "),
        source: user,
      });
    }
  });
  return documents;
}

/**
 * Splits documents into pretraining and held-out ones: a seeded `fraction` of the sources (of the
 * documents, for those without a source) is held out whole, so no held-out user or item is seen in
 * training.
 */
export function holdOutDocuments(
  documents: readonly TextPair[],
  config: { fraction: number; seed: number },
): { train: TextPair[]; heldOut: TextPair[] } {
  if (!(config.fraction > 0 && config.fraction < 1))
    throw new Error(`holdOutDocuments: fraction must be in (0, 1), got ${config.fraction}`);
  const keys = documents.map((doc, i) => (doc.source === undefined ? `document ${i}` : `source ${doc.source}`));
  const distinct = Array.from(new Set(keys));
  const order = new Rng(config.seed).permutation(distinct.length);
  const heldOutKeys = new Set(
    Array.from(order.subarray(0, Math.round(config.fraction * distinct.length)), (i) => distinct[i]),
  );
  const train: TextPair[] = [];
  const heldOut: TextPair[] = [];
  documents.forEach((doc, i) => (heldOutKeys.has(keys[i]) ? heldOut : train).push(doc));
  return { train, heldOut };
}

// ---------------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------------

export interface MaskingConfig {
  /** The id of [MASK]. */
  maskId: number;
  /** Random replacements are drawn uniformly from [firstRandomId, vocabSize): the non-special tokens. */
  vocabSize: number;
  firstRandomId: number;
  /** The share of maskable tokens to predict. Default 0.15. */
  maskProbability?: number;
  /** Of the predicted tokens, the share replaced by [MASK]. Default 0.8. */
  maskTokenRate?: number;
  /** Of the predicted tokens, the share replaced by a random token (the rest stay). Default 0.1. */
  randomTokenRate?: number;
  /** At most this many predictions per sequence (BERT: max_predictions_per_seq = 20). Default 20. */
  maxPredictions?: number;
}

/** What happened to each predicted position. */
export type MaskAction = "mask" | "random" | "keep";

export interface MaskedSequence {
  /** The corrupted ids x̃ (a copy; the input is untouched). */
  tokenIds: Int32Array;
  /** The predicted positions M, ascending. */
  positions: Int32Array;
  /** The original token at each position of M: the targets. */
  labels: Int32Array;
  /** What was done at each position of M. */
  actions: MaskAction[];
}

function resolveMasking(config: MaskingConfig): Required<MaskingConfig> {
  const where = "maskTokens";
  const rate = (field: string, value: number) => {
    if (!(value >= 0 && value <= 1)) throw new Error(`${where}: ${field} must be in [0, 1], got ${value}`);
    return value;
  };
  const resolved = {
    maskId: config.maskId,
    vocabSize: config.vocabSize,
    firstRandomId: config.firstRandomId,
    maskProbability: rate("maskProbability", config.maskProbability ?? 0.15),
    maskTokenRate: rate("maskTokenRate", config.maskTokenRate ?? 0.8),
    randomTokenRate: rate("randomTokenRate", config.randomTokenRate ?? 0.1),
    maxPredictions: config.maxPredictions ?? 20,
  };
  if (resolved.maskTokenRate + resolved.randomTokenRate > 1) {
    throw new Error(
      `${where}: maskTokenRate + randomTokenRate must be at most 1, got ${resolved.maskTokenRate + resolved.randomTokenRate}`,
    );
  }
  for (const field of ["maskId", "vocabSize", "firstRandomId", "maxPredictions"] as const) {
    checkInteger(where, field, resolved[field], 0);
  }
  if (!(resolved.firstRandomId < resolved.vocabSize)) {
    throw new Error(
      `${where}: firstRandomId ${resolved.firstRandomId} leaves no token to draw below vocabSize ${resolved.vocabSize}`,
    );
  }
  return resolved;
}

/**
 * Picks the positions to predict among those with `maskable[t]` true (never [CLS], [SEP] or padding)
 * and corrupts them 80/10/10. Deterministic for a given `rng` state.
 */
export function maskTokens(
  tokenIds: ArrayLike<number>,
  maskable: ArrayLike<boolean | number>,
  config: MaskingConfig,
  rng: Rng,
): MaskedSequence {
  const c = resolveMasking(config);
  if (maskable.length !== tokenIds.length) {
    throw new Error(`maskTokens: maskable has ${maskable.length} entries, tokenIds ${tokenIds.length}`);
  }
  const candidates: number[] = [];
  for (let t = 0; t < tokenIds.length; t++) if (maskable[t]) candidates.push(t);
  const count =
    candidates.length === 0
      ? 0
      : Math.min(c.maxPredictions, Math.max(1, Math.round(candidates.length * c.maskProbability)));
  rng.shuffle(candidates);
  const chosen = candidates.slice(0, count).sort((p, q) => p - q);
  const corrupted = Int32Array.from(tokenIds);
  const labels = new Int32Array(count);
  const actions: MaskAction[] = [];
  chosen.forEach((t, j) => {
    labels[j] = tokenIds[t];
    const u = rng.next();
    if (u < c.maskTokenRate) {
      corrupted[t] = c.maskId;
      actions.push("mask");
    } else if (u < c.maskTokenRate + c.randomTokenRate) {
      corrupted[t] = c.firstRandomId + rng.int(c.vocabSize - c.firstRandomId);
      actions.push("random");
    } else {
      actions.push("keep");
    }
  });
  return { tokenIds: corrupted, positions: Int32Array.from(chosen), labels, actions };
}

// ---------------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------------

/** A sentence pair laid out for BERT, padded to a fixed length (what a WordPiece tokenizer's encode gives). */
export interface EncodedPair {
  ids: ArrayLike<number>;
  tokenTypeIds: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
  /** 1 at [CLS], [SEP] and [PAD]: positions never masked. */
  specialTokensMask: ArrayLike<number>;
}

/** What the pretraining model needs to encode pairs: a tokenizer's pair encoding and its special ids. */
export interface PairEncoder {
  encode(a: string, b: string, options: { maxLength: number; truncation: boolean; padding: "max_length" }): EncodedPair;
}

/** One training or evaluation batch, every array flat in row-major order. */
export interface PretrainingBatch {
  batchSize: number;
  /** T, the padded length. */
  length: number;
  /** x̃, the corrupted inputs [B·T]. */
  tokenIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  /** The flat positions b·T + t of M, batch by batch, ascending. */
  maskedPositions: Int32Array;
  /** The original tokens at maskedPositions. */
  maskedLabels: Int32Array;
  /** 1 = IsNext, 0 = NotNext, per pair [B]. */
  isNext: Int32Array;
}

/** Encodes pairs, masks each one with `rng`, and packs them into one batch. */
export function pretrainingBatch(
  pairs: readonly SentencePair[],
  encoder: PairEncoder,
  config: { maxLength: number; masking: MaskingConfig },
  rng: Rng,
): PretrainingBatch {
  const { maxLength } = config;
  if (pairs.length === 0) throw new Error("pretrainingBatch: no pairs");
  const size = pairs.length;
  const tokenIds = new Int32Array(size * maxLength);
  const tokenTypeIds = new Int32Array(size * maxLength);
  const attentionMask = new Int32Array(size * maxLength);
  const positions: number[] = [];
  const labels: number[] = [];
  const isNext = new Int32Array(size);
  pairs.forEach((pair, b) => {
    const encoded = encoder.encode(pair.a, pair.b, { maxLength, truncation: true, padding: "max_length" });
    for (const field of ["ids", "tokenTypeIds", "attentionMask", "specialTokensMask"] as const) {
      if (encoded[field].length !== maxLength) {
        throw new Error(
          `pretrainingBatch: pair ${b} encodes to ${encoded[field].length} ${field}, expected maxLength ${maxLength}`,
        );
      }
    }
    const maskable = Array.from(encoded.specialTokensMask, (special) => special === 0);
    const masked = maskTokens(encoded.ids, maskable, config.masking, rng);
    tokenIds.set(masked.tokenIds, b * maxLength);
    tokenTypeIds.set(Int32Array.from(encoded.tokenTypeIds), b * maxLength);
    attentionMask.set(Int32Array.from(encoded.attentionMask), b * maxLength);
    masked.positions.forEach((t, j) => {
      positions.push(b * maxLength + t);
      labels.push(masked.labels[j]);
    });
    isNext[b] = pair.isNext ? 1 : 0;
  });
  return {
    batchSize: size,
    length: maxLength,
    tokenIds,
    tokenTypeIds,
    attentionMask,
    maskedPositions: Int32Array.from(positions),
    maskedLabels: Int32Array.from(labels),
    isNext,
  };
}

export interface PretrainingBatchesConfig {
  batchSize: number;
  /** T: every pair is truncated (longest first) and padded to it. */
  maxLength: number;
  masking: MaskingConfig;
  /** Default 0.5. */
  notNextProbability?: number;
  /** Drop a last batch smaller than batchSize (constant shapes). Default true. */
  dropLast?: boolean;
}

/**
 * One epoch of pretraining batches: documents in a fresh random order, NSP pairs and masks drawn anew
 * (so each epoch sees other NotNext partners and other masked positions). Seeded by `rng`.
 */
export function pretrainingBatches(
  documents: readonly TextPair[],
  encoder: PairEncoder,
  config: PretrainingBatchesConfig,
  rng: Rng,
): PretrainingBatch[] {
  const { batchSize } = config;
  checkPositiveInteger("pretrainingBatches", "batchSize", batchSize);
  const order = rng.permutation(documents.length);
  const pairs = nextSentencePairs(
    Array.from(order, (i) => documents[i]),
    rng,
    config.notNextProbability ?? 0.5,
  );
  const batches: PretrainingBatch[] = [];
  for (let start = 0; start < pairs.length; start += batchSize) {
    const end = Math.min(start + batchSize, pairs.length);
    if ((config.dropLast ?? true) && end - start < batchSize) break;
    batches.push(pretrainingBatch(pairs.slice(start, end), encoder, config, rng));
  }
  return batches;
}

/**
 * A batch for inference from already encoded pairs (e.g. a text with [MASK] typed in by hand): every
 * [MASK] is a position to predict. The labels are unknown, so they hold maskId; isNext is 1.
 */
export function inferenceBatch(encodings: readonly EncodedPair[], maskId: number): PretrainingBatch {
  if (encodings.length === 0) throw new Error("inferenceBatch: no encodings");
  const length = encodings[0].ids.length;
  const size = encodings.length;
  const tokenIds = new Int32Array(size * length);
  const tokenTypeIds = new Int32Array(size * length);
  const attentionMask = new Int32Array(size * length);
  const positions: number[] = [];
  encodings.forEach((encoded, b) => {
    if (encoded.ids.length !== length)
      throw new Error(`inferenceBatch: encoding ${b} has ${encoded.ids.length} tokens, encoding 0 has ${length}`);
    tokenIds.set(Int32Array.from(encoded.ids), b * length);
    tokenTypeIds.set(Int32Array.from(encoded.tokenTypeIds), b * length);
    attentionMask.set(Int32Array.from(encoded.attentionMask), b * length);
    for (let t = 0; t < length; t++) if (encoded.ids[t] === maskId) positions.push(b * length + t);
  });
  return {
    batchSize: size,
    length,
    tokenIds,
    tokenTypeIds,
    attentionMask,
    maskedPositions: Int32Array.from(positions),
    maskedLabels: new Int32Array(positions.length).fill(maskId),
    isNext: new Int32Array(size).fill(1),
  };
}
