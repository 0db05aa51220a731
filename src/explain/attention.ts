// Attention over the history as an explanation for the sequential Transformers of notebook 07 (SASRec,
// src/models/sasrec.ts; BERT4Rec, src/models/bert4rec.ts): how much the position whose output scores the
// catalogue (SASRec: the last history item; BERT4Rec: the appended [MASK]) reads each history item.
//
//   last layer   a_j = mean_h A_L,h[q, t_j]                        q = T − 1, t_j = the token position of item j
//   rollout      Ã_l = (1 − α)·mean_h A_l,h + α·I, rows renormalised;  a_j = (Ã_L · … · Ã_1)[q, t_j]
//                (Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020; α = 0.5
//                stands for the residual connection around each attention block)
//
// The last layer's weights say what position q mixed at the end, but its inputs are already mixtures of
// other positions; rollout follows the mixing down to the input tokens, treating each layer as linear.
// In SASRec the scoring position is the latest item itself, and the residual term keeps at least α^L of
// the rollout there (0.25 for two layers), so rollout tends to rank the latest item first; BERT4Rec's
// [MASK] is no history item, and its share is dropped.
// Either way the weights are the same whatever item is explained, and they are not the model's gradient:
// whether the items they point at are the ones the score depends on is what faithfulness.ts measures.

import * as tf from "@tensorflow/tfjs";
import { checkChoice, checkInteger } from "../checks";
import { inferenceInputs, SequenceBatch, UserSequences } from "../data/sequences";
import type { SequentialTransformer } from "../nn/sequentialTransformer";
import { checkHistory, HistoryExplainer, HistoryExplanation, HistoryScorer, rankPositions } from "./explanation";

/** Attention weights of one sequence: [layer][head][query][key], each row summing to 1. */
export type AttentionStack = ReadonlyArray<ReadonlyArray<ReadonlyArray<ArrayLike<number>>>>;

export type AttentionAggregation = "lastLayer" | "rollout";

export interface AttentionImportanceConfig {
  /** "lastLayer" (default) or "rollout" across the layers. */
  method?: AttentionAggregation;
  /** Rollout's α, the identity mixed into each layer for its residual connection, in [0, 1). Default 0.5. */
  residualWeight?: number;
}

/**
 * How much position `query` attends to each input position [T], the heads averaged: the last layer's
 * row, or the rollout's (see the file header). Positions the query never reaches (padding) get ~0.
 */
export function attentionImportance(
  layers: AttentionStack,
  query: number,
  config: AttentionImportanceConfig = {},
): Float64Array {
  const caller = "attentionImportance";
  const method = checkChoice(caller, "method", config.method ?? "lastLayer", ["lastLayer", "rollout"] as const);
  const alpha = config.residualWeight ?? 0.5;
  if (!(alpha >= 0 && alpha < 1)) throw new Error(`${caller}: residualWeight must be in [0, 1), got ${alpha}`);
  if (layers.length === 0) throw new Error(`${caller}: no attention layers`);
  const length = checkShapes(caller, layers);
  checkInteger(caller, "query", query, 0);
  if (query >= length) throw new Error(`${caller}: query ${query} is outside the ${length} positions`);
  if (method === "lastLayer") return headMeanRow(layers[layers.length - 1], query, length);
  // The query's row of Ã_L · … · Ã_1, built from the top: r ← r · Ã_l, for l = L … 1.
  let r = new Float64Array(length);
  r[query] = 1;
  for (let l = layers.length - 1; l >= 0; l--) {
    const next = new Float64Array(length);
    for (let q = 0; q < length; q++) {
      // A row the rollout never reached (padding, where attention may be uniform over blocked keys) is skipped.
      if (r[q] === 0) continue;
      const row = headMeanRow(layers[l], q, length);
      let sum = 0;
      for (let k = 0; k < length; k++) sum += row[k] = (1 - alpha) * row[k] + (k === q ? alpha : 0);
      for (let k = 0; k < length; k++) next[k] += (r[q] * row[k]) / sum;
    }
    r = next;
  }
  return r;
}

/**
 * The history ranked by the attention the model's scoring position puts on each item (see the file
 * header). Items older than the model's window (maxLength, less one for BERT4Rec's [MASK]) are not in
 * its input and get 0. The target does not enter: attention is the same for every item scored.
 */
export function attentionExplanation(
  model: SequentialTransformer<SequenceBatch>,
  history: readonly number[],
  config: AttentionImportanceConfig = {},
): HistoryExplanation {
  const caller = "attentionExplanation";
  const { maxLength, numItems } = model.config;
  checkHistory(caller, history, numItems);
  const { appendMask, itemOffset } = model.architecture;
  const tokens = inferenceInputs(UserSequences.fromArrays(numItems, [history]), Int32Array.of(0), {
    maxLength,
    itemOffset,
    appendMask,
  });
  const tensors = model.attentionWeights(tokens, 1);
  const layers = tensors.map((w) => (w.arraySync() as number[][][][])[0]);
  tf.dispose(tensors);
  const byToken = attentionImportance(layers, maxLength - 1, config);
  // inferenceInputs left-pads: the last `visible` items sit just before the end (before [MASK] when appended).
  const room = appendMask ? maxLength - 1 : maxLength;
  const visible = Math.min(history.length, room);
  const first = history.length - visible; // the earliest history position in the window
  const importance = new Float64Array(history.length);
  for (let p = first; p < history.length; p++) importance[p] = byToken[room - visible + (p - first)];
  return rankPositions(history, importance);
}

/** `attentionExplanation` as a `HistoryExplainer` for the deletion test. */
export function attentionExplainer(
  model: SequentialTransformer<SequenceBatch>,
  config: AttentionImportanceConfig = {},
): HistoryExplainer {
  return (history) => attentionExplanation(model, history, config);
}

/**
 * The model's next-item scores (logits) for any history, laid out as `scoreItems` lays out a user's:
 * for a user's stored history it equals `model.scoreItems` of that user. Its `many` scores several
 * histories in forward passes of up to `scoreBatchSize` sequences.
 */
export function sequentialHistoryScorer(model: SequentialTransformer<SequenceBatch>): HistoryScorer {
  const { maxLength, numItems, scoreBatchSize } = model.config;
  const { appendMask, itemOffset } = model.architecture;
  const many = (histories: ReadonlyArray<readonly number[]>): Float32Array => {
    histories.forEach((history) => checkHistory("sequentialHistoryScorer", history, numItems));
    const sequences = UserSequences.fromArrays(numItems, histories);
    const out = new Float32Array(histories.length * numItems);
    for (let start = 0; start < histories.length; start += scoreBatchSize) {
      const count = Math.min(scoreBatchSize, histories.length - start);
      const users = Int32Array.from({ length: count }, (_, b) => start + b);
      const tokens = inferenceInputs(sequences, users, { maxLength, itemOffset, appendMask });
      out.set(model.scoreSequences(tokens, count), start * numItems);
    }
    return out;
  };
  return Object.assign((history: readonly number[]) => many([history]), { many });
}

/** The sequence length T of every [H][T][T] layer, checked to agree. */
function checkShapes(caller: string, layers: AttentionStack): number {
  const length = layers[0][0]?.length ?? 0;
  layers.forEach((heads, l) => {
    if (heads.length === 0) throw new Error(`${caller}: layer ${l} has no heads`);
    heads.forEach((rows, h) => {
      const bad = rows.find((row) => row.length !== length);
      if (rows.length !== length || bad !== undefined) {
        const shape = `${rows.length} × ${(bad ?? rows[0])?.length ?? 0}`;
        throw new Error(`${caller}: layer ${l}, head ${h} is ${shape}, expected ${length} × ${length} (query × key)`);
      }
    });
  });
  if (length === 0) throw new Error(`${caller}: the attention maps are empty`);
  return length;
}

/** mean_h A[h][q][·], in float64. */
function headMeanRow(heads: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>, q: number, length: number): Float64Array {
  const row = new Float64Array(length);
  for (const head of heads) for (let k = 0; k < length; k++) row[k] += head[q][k] / heads.length;
  return row;
}
