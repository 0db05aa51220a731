// Training BERT4Rec and SASRec as their papers do, on one explicit budget: the model's own batches
// (Cloze masks for BERT4Rec, next-item targets for SASRec) drawn afresh each epoch, Adam(W), and,
// with a validation split, NDCG@10 on it every few epochs, the best weights kept, as the papers select
// their checkpoints. Notebook 07, `npm run reproduce -- sequential-ml100k` and the bench call it.

import * as tf from "@tensorflow/tfjs";
import type { Interactions } from "../data/interactions";
import { bert4recBatches, PAD_TOKEN, sasrecBatches, SequenceBatch, UserSequences } from "../data/sequences";
import { evaluateRanking } from "../eval/protocols";
import type { SequentialTransformer } from "../nn/sequentialTransformer";
import { AdamW } from "./optimizers";
import { EpochLogs, fit, FitReporting, TrainingCallback } from "./trainer";

export interface SequentialTrainingConfig extends FitReporting {
  /** The budget. */
  epochs: number;
  /** Windows per batch. Default 64. */
  batchSize?: number;
  /** Adam's step size. Default 1e-3. */
  learningRate?: number;
  /** AdamW's decoupled λ (matrices only). Default 0. */
  weightDecay?: number;
  /** BERT4Rec's ρ. Default 0.2 (the paper's ML-1m setting). */
  maskProbability?: number;
  /** "cloze" (default): random masks; "lastItem": only the last item masked, BERT4Rec's fine-tuning samples (§3.6). */
  masking?: "cloze" | "lastItem";
  /** Cut histories longer than maxLength into windows this many items apart (see SequenceBatchConfig). */
  windowStride?: number;
  /** Held-out next items to select the epoch on: NDCG@10 (full ranking) every `every` epochs. */
  validation?: { train: Interactions; test: Interactions; every?: number };
  /** Keep the weights of the best validated epoch (default true with a validation split). */
  restoreBest?: boolean;
  /** Seeds batch order, masks and negatives. */
  seed: number;
}

export interface SequentialTrainingResult {
  history: EpochLogs[];
  /** The validated epoch whose weights the model holds (the last epoch without validation). */
  bestEpoch: number;
  /** Wall time of training (validation included) and training throughput in real tokens per second. */
  seconds: number;
  tokensPerSecond: number;
}

/** Real (non-padding) positions of a batch. */
function realTokens(batch: SequenceBatch): number {
  let n = 0;
  for (let k = 0; k < batch.tokenIds.length; k++) if (batch.tokenIds[k] !== PAD_TOKEN) n++;
  return n;
}

/**
 * Trains `model` on `sequences` (the training part of a leave-one-out split) with the batches its
 * architecture needs. The model must score from the same histories for the validation to be honest:
 * the sequences it was built with, whose last items precede the validation items.
 */
export async function trainSequentialRecommender<B extends SequenceBatch>(
  model: SequentialTransformer<B>,
  sequences: UserSequences,
  config: SequentialTrainingConfig,
): Promise<SequentialTrainingResult> {
  const where = "trainSequentialRecommender";
  const { maxLength } = model.config;
  const itemOffset = model.architecture.itemOffset;
  const batchSize = config.batchSize ?? 64;
  const isCloze = model.architecture.appendMask;
  if (config.masking !== undefined && !isCloze)
    throw new Error(`${where}: masking is BERT4Rec's; ${model.architecture.owner} predicts every next item`);
  const batches = (epoch: number): B[] => {
    const common = { maxLength, itemOffset, batchSize, seed: config.seed, windowStride: config.windowStride };
    if (!isCloze) return sasrecBatches(sequences, common, epoch) as unknown as B[];
    return bert4recBatches(
      sequences,
      { ...common, maskProbability: config.maskProbability, masking: config.masking },
      epoch,
    ) as unknown as B[];
  };
  const optimizer = new AdamW({ learningRate: config.learningRate ?? 1e-3, weightDecay: config.weightDecay ?? 0 });
  const callbacks: TrainingCallback[] = [...(config.callbacks ?? [])];
  const validation = config.validation;
  const every = validation?.every ?? 5;
  const restoreBest = validation !== undefined && (config.restoreBest ?? true);
  let best = { epoch: 0, ndcg: -Infinity, weights: null as tf.Tensor[] | null };
  if (validation !== undefined) {
    if (!(Number.isInteger(every) && every >= 1))
      throw new Error(`${where}: validation.every must be a positive integer, got ${every}`);
    callbacks.unshift({
      onEpochEnd: (logs) => {
        if (logs.epoch % every !== 0 && logs.epoch !== config.epochs) return;
        const report = evaluateRanking(model, {
          train: validation.train,
          test: validation.test,
          k: 10,
          metrics: ["ndcg", "hr"],
        });
        const ndcg = report.metrics["ndcg@10"];
        if (ndcg > best.ndcg) {
          if (best.weights !== null) tf.dispose(best.weights);
          best = {
            epoch: logs.epoch,
            ndcg,
            weights: restoreBest ? model.trainableVariables().map((v) => tf.clone(v)) : null,
          };
        }
        return { "valid_ndcg@10": ndcg, "valid_hr@10": report.metrics["hr@10"] };
      },
    });
  }
  const started = performance.now();
  const history = await fit(model, {
    optimizer,
    epochs: config.epochs,
    batches,
    callbacks,
    progress: config.progress,
    label: config.label ?? model.architecture.owner,
    tokensPerBatch: realTokens,
  });
  const seconds = (performance.now() - started) / 1000;
  optimizer.dispose();
  if (best.weights !== null) {
    model.trainableVariables().forEach((v, j) => v.assign(best.weights![j]));
    tf.dispose(best.weights);
  }
  const tokensPerSecond = history.reduce((s, l) => s + (l.tokensPerSecond ?? 0), 0) / Math.max(1, history.length);
  return { history, bestEpoch: validation === undefined ? history.length : best.epoch, seconds, tokensPerSecond };
}
