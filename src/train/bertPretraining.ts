// Pretraining a small BERT end to end, as BERT's run_pretraining.py does at scale: MLM + NSP on sentence
// pairs with dynamic masking, AdamW with decoupled weight decay, linear warm-up then linear decay,
// gradient clipping at global norm 1, held-out MLM and NSP metrics after every epoch, and a checkpoint
// per epoch that a later run resumes from. Notebook 06 runs it on its budget, `npm run reproduce --
// bert-pretrain` on the full one, and notebook 07 loads what either saved.

import { Rng } from "../backend/random";
import {
  MaskingConfig,
  nextSentencePairs,
  PairEncoder,
  pretrainingBatch,
  PretrainingBatch,
  pretrainingBatches,
  TextPair,
} from "../data/bertPretraining";
import { evaluatePretraining, PretrainingEvaluation } from "../eval/pretraining";
import { BertConfig, BertForPretraining } from "../models/bert";
import { checkpointEvery, hasCheckpoint, loadCheckpoint } from "./checkpoint";
import { AdamW } from "./optimizers";
import { linearWarmupDecay } from "./schedules";
import { EpochLogs, fit, FitReporting } from "./trainer";

/** A tokenizer as pretraining needs it: pair encoding, the vocabulary size and the special ids. */
export interface PretrainingTokenizer extends PairEncoder {
  readonly vocabSize: number;
  readonly maskId: number;
  /** The ids below it are special tokens, never drawn as random replacements. */
  readonly firstNonSpecialId: number;
}

export interface BertPretrainingConfig extends FitReporting {
  /** The model's size; vocabSize and maxPositions come from the tokenizer and maxLength. */
  model?: Omit<BertConfig, "vocabSize" | "maxPositions" | "seed">;
  /** T, the padded length of a pair. Default 48. */
  maxLength?: number;
  /** Default 64. */
  batchSize?: number;
  epochs: number;
  /** Peak of the warm-up/decay schedule. Default 1e-3 (small BERTs; BERT-base used 1e-4). */
  peakLearningRate?: number;
  /** Share of all steps spent warming up. Default 0.1. */
  warmupFraction?: number;
  /** AdamW's λ. Default 0.01 (BERT). */
  weightDecay?: number;
  /** Global-norm clip. Default 1 (BERT). */
  clipGradientNorm?: number;
  /** Masking rates; ids come from the tokenizer. */
  masking?: Partial<Pick<MaskingConfig, "maskProbability" | "maskTokenRate" | "randomTokenRate" | "maxPredictions">>;
  /** A checkpoint is written here after every epoch, and training resumes from one found here. */
  checkpointDir?: string;
  /** Seeds the model, the batch order, the NSP pairs and the masks. */
  seed: number;
}

export interface BertPretrainingResult {
  model: BertForPretraining;
  /** One entry per epoch, restored ones included, with held-out metrics: heldOut_mlmAccuracy, … */
  history: EpochLogs[];
  /** The fixed held-out batches (pairs and masks drawn once), for further evaluation. */
  heldOutBatches: PretrainingBatch[];
  /** Held-out metrics after the last epoch. */
  evaluation: PretrainingEvaluation;
  /** Epochs restored from the checkpoint (0 when trained from scratch). */
  resumedEpochs: number;
  /** Wall time of the epochs run now, and their throughput (real, unpadded tokens). */
  seconds: number;
  tokensPerSecond: number;
}

/** The held-out batches: pairs and masks drawn once from `seed`, so every evaluation sees the same ones. */
export function heldOutPretrainingBatches(
  documents: readonly TextPair[],
  tokenizer: PretrainingTokenizer,
  config: { maxLength: number; batchSize: number; masking: MaskingConfig },
  seed: number,
): PretrainingBatch[] {
  const rng = new Rng(seed);
  const pairs = nextSentencePairs(documents, rng);
  const batches: PretrainingBatch[] = [];
  for (let start = 0; start < pairs.length; start += config.batchSize) {
    batches.push(pretrainingBatch(pairs.slice(start, start + config.batchSize), tokenizer, config, rng));
  }
  return batches;
}

/** The masking settings for `tokenizer`, with the rates of `config`. */
export function tokenizerMasking(
  tokenizer: PretrainingTokenizer,
  rates: BertPretrainingConfig["masking"] = {},
): MaskingConfig {
  return {
    ...rates,
    maskId: tokenizer.maskId,
    vocabSize: tokenizer.vocabSize,
    firstRandomId: tokenizer.firstNonSpecialId,
  };
}

/** Real (unpadded) tokens in a batch. */
function realTokens(batch: PretrainingBatch): number {
  let n = 0;
  for (let i = 0; i < batch.attentionMask.length; i++) n += batch.attentionMask[i];
  return n;
}

/**
 * Pretrains a BERT on `train` pairs, evaluating on `heldOut` after every epoch. With `checkpointDir`,
 * saves weights, optimizer state and history after every epoch and resumes from what it finds there
 * (a checkpoint of another configuration is an error, not silently overwritten).
 */
export async function pretrainBert(
  documents: { train: readonly TextPair[]; heldOut: readonly TextPair[] },
  tokenizer: PretrainingTokenizer,
  config: BertPretrainingConfig,
): Promise<BertPretrainingResult> {
  const maxLength = config.maxLength ?? 48;
  const batchSize = config.batchSize ?? 64;
  const masking = tokenizerMasking(tokenizer, config.masking);
  const modelConfig: BertConfig = {
    ...config.model,
    vocabSize: tokenizer.vocabSize,
    maxPositions: maxLength,
    seed: config.seed,
  };
  const model = new BertForPretraining(modelConfig);
  const stepsPerEpoch = Math.floor(documents.train.length / batchSize);
  if (stepsPerEpoch === 0)
    throw new Error(`pretrainBert: ${documents.train.length} training documents make no batch of ${batchSize}`);
  const totalSteps = stepsPerEpoch * config.epochs;
  const optimizer = new AdamW({
    learningRate: linearWarmupDecay({
      peakLearningRate: config.peakLearningRate ?? 1e-3,
      warmupSteps: Math.round((config.warmupFraction ?? 0.1) * totalSteps),
      totalSteps,
    }),
    weightDecay: config.weightDecay ?? 0.01,
  });
  const heldOutBatches = heldOutPretrainingBatches(
    documents.heldOut,
    tokenizer,
    { maxLength, batchSize, masking },
    config.seed + 1,
  );
  // What a checkpoint must agree on to be resumed: everything that shapes the run.
  const identity = {
    model: model.config,
    maxLength,
    batchSize,
    epochs: config.epochs,
    masking,
    trainDocuments: documents.train.length,
  };

  let resumedEpochs = 0;
  let restored: EpochLogs[] = [];
  const dir = config.checkpointDir;
  if (dir !== undefined && hasCheckpoint(dir)) {
    const state = await loadCheckpoint<{ identity: unknown; epoch: number; history: EpochLogs[] }>(dir, {
      weights: model.namedWeights(),
      optimizer,
    });
    if (JSON.stringify(state.identity) !== JSON.stringify(identity)) {
      model.dispose();
      optimizer.dispose();
      throw new Error(
        `pretrainBert: the checkpoint in ${dir} is of another configuration; remove it or pass another checkpointDir`,
      );
    }
    resumedEpochs = state.epoch;
    restored = state.history;
  }

  const started = performance.now();
  let lastEvaluation: PretrainingEvaluation | null = null;
  let ran: EpochLogs[];
  try {
    ran = await fit(model, {
      optimizer,
      epochs: config.epochs,
      initialEpoch: resumedEpochs,
      clipGradientNorm: config.clipGradientNorm ?? 1,
      // One Rng per epoch, derived from the seed and the epoch: a resumed run draws the same batches.
      batches: (epoch) =>
        pretrainingBatches(
          documents.train,
          tokenizer,
          { batchSize, maxLength, masking },
          new Rng(config.seed * 1000 + epoch),
        ),
      tokensPerBatch: realTokens,
      progress: config.progress,
      label: config.label ?? "BERT pretraining",
      callbacks: [
        {
          onEpochEnd: () => {
            const e = evaluatePretraining(model, heldOutBatches);
            lastEvaluation = e;
            return {
              heldOut_mlmLoss: e.maskedLmLoss,
              heldOut_mlmAccuracy: e.maskedLmAccuracy,
              heldOut_nspLoss: e.nextSentenceLoss,
              heldOut_nspAccuracy: e.nextSentenceAccuracy,
              learningRate: optimizer.lastLearningRate ?? 0,
            };
          },
        },
        { onEpochEnd: (logs) => void restored.push({ ...logs }) },
        ...(dir === undefined
          ? []
          : [
              checkpointEvery({
                dir,
                weights: model.namedWeights(),
                optimizer,
                state: () => ({ identity, history: restored }),
              }),
            ]),
        ...(config.callbacks ?? []),
      ],
    });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose(); // its state is in the checkpoint; the result is the model
  }
  const seconds = (performance.now() - started) / 1000;
  const tokens = ran.reduce((sum, logs) => sum + (logs.tokensPerSecond ?? 0) * logs.seconds, 0);
  return {
    // The last epoch's evaluation is the final one; a run that had nothing left to train evaluates now.
    model,
    history: restored,
    heldOutBatches,
    evaluation: lastEvaluation ?? evaluatePretraining(model, heldOutBatches),
    resumedEpochs,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
  };
}
