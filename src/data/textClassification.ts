// Labelled texts as batches for BERT's sequence classification (Devlin et al. 2019, §4.1: the [CLS]
// vector of "[CLS] text [SEP]" feeds a classifier), and the seed's section 1.4 data made honest:
// one text per (user, item) interaction, labelled by whether the user liked the item.
//
//   seed       "1 101 buy" → label 1 for every row: one class, and the label written into the input
//   here       "196 242"  → label [rating ≥ threshold]: two classes from real ratings, the label kept out
//
// The texts write ids as the seed does, so that the notebook can show what a WordPiece tokenizer makes
// of them (pieces of digits, shared by unrelated ids).

import { Rng } from "../backend/random";
import type { Interactions } from "./interactions";

/** What the classifier reads: one row per text, every array flat [B·T] in row-major order. */
export interface TextClassificationBatch {
  batchSize: number;
  /** T, the padded length. */
  length: number;
  tokenIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  /** The class of each text [B]; null for unlabelled input (inference). */
  labels: Int32Array | null;
}

/** What a tokenizer must offer (`WordPieceTokenizer` does). */
export interface TextEncoder {
  encodeBatch(
    texts: readonly string[],
    options: { maxLength: number; truncation: boolean; padding: "max_length" },
  ): ReadonlyArray<{ ids: Int32Array; tokenTypeIds: Int32Array; attentionMask: Int32Array }>;
}

export interface TextClassificationBatchesConfig {
  batchSize: number;
  /** T: every text is truncated and padded to it, [CLS] and [SEP] included. */
  maxLength: number;
  /** Shuffles the order when given (a fresh order per call); otherwise the texts' order. */
  rng?: Rng;
}

/** Encodes `texts` and cuts them into batches, with their labels (or none). */
export function textClassificationBatches(
  texts: readonly string[],
  labels: ArrayLike<number> | null,
  encoder: TextEncoder,
  config: TextClassificationBatchesConfig,
): TextClassificationBatch[] {
  const where = "textClassificationBatches";
  if (labels !== null && labels.length !== texts.length)
    throw new Error(`${where}: ${texts.length} texts but ${labels.length} labels`);
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 1))
    throw new Error(`${where}: batchSize must be a positive integer, got ${config.batchSize}`);
  if (!(Number.isInteger(config.maxLength) && config.maxLength >= 2))
    throw new Error(`${where}: maxLength must be an integer >= 2, got ${config.maxLength}`);
  if (labels !== null) {
    for (let j = 0; j < labels.length; j++) {
      if (!(Number.isInteger(labels[j]) && labels[j] >= 0))
        throw new Error(`${where}: label ${j} is ${labels[j]}, expected a class index >= 0`);
    }
  }
  const order = Int32Array.from({ length: texts.length }, (_, j) => j);
  if (config.rng !== undefined) config.rng.shuffle(order);
  const T = config.maxLength;
  const batches: TextClassificationBatch[] = [];
  for (let start = 0; start < order.length; start += config.batchSize) {
    const rows = order.subarray(start, Math.min(start + config.batchSize, order.length));
    const encodings = encoder.encodeBatch(
      Array.from(rows, (j) => texts[j]),
      { maxLength: T, truncation: true, padding: "max_length" },
    );
    const B = rows.length;
    const batch: TextClassificationBatch = {
      batchSize: B,
      length: T,
      tokenIds: new Int32Array(B * T),
      tokenTypeIds: new Int32Array(B * T),
      attentionMask: new Int32Array(B * T),
      labels: labels === null ? null : Int32Array.from(rows, (j) => labels[j]),
    };
    encodings.forEach((e, b) => {
      batch.tokenIds.set(e.ids, b * T);
      batch.tokenTypeIds.set(e.tokenTypeIds, b * T);
      batch.attentionMask.set(e.attentionMask, b * T);
    });
    batches.push(batch);
  }
  return batches;
}

/** The seed's texts, done right: one "<user id> <item id>" per interaction, and whether it was liked. */
export interface InteractionTexts {
  texts: string[];
  /** 1 when the rating is at least the threshold, else 0. */
  labels: Int32Array;
  /** The interactions' user and item indices (for baselines that score the same rows). */
  users: Int32Array;
  items: Int32Array;
}

export interface InteractionTextsConfig {
  /** A rating ≥ this is "liked" (label 1). Default 4, MovieLens's usual cut. */
  likeThreshold?: number;
}

/** One text per interaction, ids written as in the data files, and like/dislike labels from the ratings. */
export function interactionTexts(data: Interactions, config: InteractionTextsConfig = {}): InteractionTexts {
  const threshold = config.likeThreshold ?? 4;
  if (!Number.isFinite(threshold))
    throw new Error(`interactionTexts: likeThreshold must be a finite number, got ${threshold}`);
  const n = data.length;
  const texts = new Array<string>(n);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    texts[r] = `${data.userIndex.idOf(data.users[r])} ${data.itemIndex.idOf(data.items[r])}`;
    labels[r] = data.ratings[r] >= threshold ? 1 : 0;
  }
  return { texts, labels, users: Int32Array.from(data.users), items: Int32Array.from(data.items) };
}
