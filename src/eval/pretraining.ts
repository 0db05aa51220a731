// How well a pretrained BERT does its two pretraining tasks on held-out pairs, beside the trivial
// baselines that give the numbers a scale: for MLM, always predicting the most frequent token of the
// training text; for NSP, a coin (50%, the share of IsNext pairs).

import * as tf from "@tensorflow/tfjs";
import type { PretrainingBatch } from "../data/bertPretraining";
import type { BertForPretraining } from "../models/bert";
import { softmaxCrossEntropyFromLabels } from "../train/losses";

export interface PretrainingEvaluation {
  /** Mean cross-entropy at the masked positions (nats). */
  maskedLmLoss: number;
  /** Share of masked positions whose top-1 prediction is the original token. */
  maskedLmAccuracy: number;
  /** Mean NSP cross-entropy. */
  nextSentenceLoss: number;
  /** Share of pairs whose IsNext/NotNext prediction is right. */
  nextSentenceAccuracy: number;
  /** How many masked tokens and pairs the numbers are over. */
  maskedTokens: number;
  pairs: number;
}

/** Both tasks' losses and accuracies over `batches`, in inference mode (no dropout). */
export function evaluatePretraining(
  model: BertForPretraining,
  batches: readonly PretrainingBatch[],
): PretrainingEvaluation {
  let mlmLoss = 0;
  let mlmCorrect = 0;
  let masked = 0;
  let nspLoss = 0;
  let nspCorrect = 0;
  let pairs = 0;
  for (const batch of batches) {
    const [mlmLosses, mlmTop, nspLosses, nspTop] = tf.tidy(() => {
      const logits = model.logits(batch, false);
      return [
        softmaxCrossEntropyFromLabels(logits.maskedLm, batch.maskedLabels).dataSync(),
        tf.argMax(logits.maskedLm, 1).dataSync(),
        softmaxCrossEntropyFromLabels(logits.nextSentence, batch.isNext).dataSync(),
        tf.argMax(logits.nextSentence, 1).dataSync(),
      ];
    });
    for (let i = 0; i < batch.maskedLabels.length; i++) {
      mlmLoss += mlmLosses[i];
      if (mlmTop[i] === batch.maskedLabels[i]) mlmCorrect += 1;
    }
    for (let b = 0; b < batch.batchSize; b++) {
      nspLoss += nspLosses[b];
      if (nspTop[b] === batch.isNext[b]) nspCorrect += 1;
    }
    masked += batch.maskedLabels.length;
    pairs += batch.batchSize;
  }
  if (masked === 0 || pairs === 0) throw new Error("evaluatePretraining: the batches hold no masked token or no pair");
  return {
    maskedLmLoss: mlmLoss / masked,
    maskedLmAccuracy: mlmCorrect / masked,
    nextSentenceLoss: nspLoss / pairs,
    nextSentenceAccuracy: nspCorrect / pairs,
    maskedTokens: masked,
    pairs,
  };
}

/**
 * The most-frequent-token baseline: the token that the training batches most often ask for at a
 * masked position, and the share of `heldOut`'s masked positions where it is the answer.
 */
export function mostFrequentTokenBaseline(
  train: readonly PretrainingBatch[],
  heldOut: readonly PretrainingBatch[],
): { tokenId: number; accuracy: number } {
  const counts = new Map<number, number>();
  for (const batch of train) for (const label of batch.maskedLabels) counts.set(label, (counts.get(label) ?? 0) + 1);
  if (counts.size === 0) throw new Error("mostFrequentTokenBaseline: the training batches hold no masked token");
  let tokenId = -1;
  let best = -1;
  for (const [token, count] of counts) {
    if (count > best || (count === best && token < tokenId)) [tokenId, best] = [token, count];
  }
  let hits = 0;
  let total = 0;
  for (const batch of heldOut) {
    for (const label of batch.maskedLabels) if (label === tokenId) hits += 1;
    total += batch.maskedLabels.length;
  }
  if (total === 0) throw new Error("mostFrequentTokenBaseline: the held-out batches hold no masked token");
  return { tokenId, accuracy: hits / total };
}
