// BERT4Rec (Sun, Liu, Wu, Pei, Lin, Ou and Jiang, "BERT4Rec: Sequential Recommendation with Bidirectional
// Encoder Representations from Transformer", CIKM 2019): BERT's encoder over a user's item sequence,
// trained on the Cloze task, so that every position sees the items before AND after it.
//
//   input      [PAD …] s_1 … s_n with some s_t replaced by [MASK]         (src/data/sequences.ts)
//   embed      h_0 = Dropout(LN(E[x_t] + P[t]))                            §3.4, learned positions
//   encode     h_L = TransformerEncoder(h_0): bidirectional, post-norm, GELU  §3.3, Eq. (1)–(5)
//   output     P(v | h_L,t) = softmax(h_L,t·E_itemsᵀ + b)                  §3.5, Eq. (7), output tied to E
//   loss       L = −(1/|M|) Σ_{t∈M} log P(s_t | h_L,t)                       §3.6, Eq. (8), masked positions only
//   inference  append [MASK] to the history and read its position          §3.6
//   fine-tune  Bert4RecLikeClassifier: a binary head on the [MASK] state, "will this user like item X"
//
// The paper's output layer puts a GELU projection before the tied softmax; here it is left out, as in
// several re-implementations: one linear map into E's space is the part that ties the output. Defaults
// are the paper's ML-1m setting except the width and length (D = 64 like its other data sets, T = 100);
// for catalogues of many thousands of items, `loss: "sampledSoftmax"` scores S sampled items instead of
// all of them. The model returns losses and scores; `fit` trains it.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkSeed } from "../checks";
import { BERT4REC_ITEM_OFFSET, Bert4RecBatch, LikeBatch, UserSequences } from "../data/sequences";
import { buildLayer } from "../nn/compositeLayer";
import { LayeredModel } from "../nn/layeredModel";
import { gatherRows } from "../nn/mlp";
import {
  resolveSequentialConfig,
  ResolvedSequentialConfig,
  SequentialArchitecture,
  SequentialTransformer,
  SequentialTransformerConfig,
} from "../nn/sequentialTransformer";
import { tfModelFormat } from "../train/savedModel";
import type { LossModel } from "../train/trainer";

/** BERT4Rec's hyper-parameters; the defaults in brackets. */
export interface Bert4RecConfig extends SequentialTransformerConfig {
  // numItems, seed and the fields below are documented on SequentialTransformerConfig; BERT4Rec's defaults:
  // maxLength 100, hiddenSize 64, numLayers 2, numHeads 2, intermediateSize 4·D, dropout 0.1,
  // initializerRange 0.02, layerNormEpsilon 1e-12 (BERT), numSampled 100.
  /** "softmax" over all items (default, the paper) or "sampledSoftmax" over numSampled sampled items. */
  loss?: "softmax" | "sampledSoftmax";
}

export const BERT4REC_ARCHITECTURE: Readonly<SequentialArchitecture> = {
  owner: "Bert4Rec",
  itemOffset: BERT4REC_ITEM_OFFSET,
  activation: "gelu",
  norm: "post",
  causal: false,
  scaleEmbeddings: false,
  embeddingNorm: true,
  outputBias: true,
  appendMask: true,
  losses: ["softmax", "sampledSoftmax"],
};

/** `config` with BERT4Rec's defaults filled in and every field checked. */
export function resolveBert4RecConfig(config: Bert4RecConfig): ResolvedSequentialConfig {
  return resolveSequentialConfig(BERT4REC_ARCHITECTURE, config, {
    maxLength: 100,
    hiddenSize: 64,
    numLayers: 2,
    numHeads: 2,
    dropout: 0.1,
    initializerRange: 0.02,
    layerNormEpsilon: 1e-12,
    numSampled: 100,
    scoreBatchSize: 256,
    loss: "softmax",
  });
}

/**
 * BERT4Rec: `LossModel<Bert4RecBatch>` (train with `fit` on `bert4recBatches`) and `ItemScorer` (scores
 * each user's next item from `histories`, the training sequences, with [MASK] appended).
 */
export class Bert4Rec extends SequentialTransformer<Bert4RecBatch> {
  constructor(config: Bert4RecConfig, histories: UserSequences) {
    super(BERT4REC_ARCHITECTURE, resolveBert4RecConfig(config), histories);
  }

  /** A model saved by `save`, scoring from `histories` (sequences over the same items). */
  static load(path: string, histories: UserSequences): Promise<Bert4Rec> {
    return BERT4REC_FORMAT.load(path, histories);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, histories: UserSequences): Promise<Bert4Rec> {
    return BERT4REC_FORMAT.fromArtifacts(json, weights, histories);
  }
}

const BERT4REC_FORMAT = tfModelFormat(
  "Bert4Rec",
  (config, histories: UserSequences) => new Bert4Rec(config as unknown as Bert4RecConfig, histories),
);

// ---------------------------------------------------------------------------------------------
// Fine-tuning for "will this user like item X": a classification head on the [MASK] state
// ---------------------------------------------------------------------------------------------

export interface Bert4RecLikeClassifierConfig {
  /** Seeds the head's initial weights. */
  seed: number;
}

/**
 * BERT4Rec fine-tuned as a binary classifier, the seed's question asked with items as tokens. With h the
 * last hidden state at the [MASK] appended to the history, e = E[X] and s = h·e + b_X (the pretrained
 * next-item logit):
 *
 *   P(like | history, X) = σ(w·(h ⊙ e) + a·s + c),   loss = binary cross-entropy of the like labels
 *
 * The head starts from what the Cloze task learned (s) and learns which agreements of state and item
 * mean "liked" rather than "watched next"; the encoder and the item table are fine-tuned with it.
 */
export class Bert4RecLikeClassifier extends LayeredModel implements LossModel<LikeBatch> {
  readonly head: tf.layers.Layer;

  constructor(
    readonly base: Bert4Rec,
    config: Bert4RecLikeClassifierConfig,
  ) {
    super();
    const rng = new Rng(checkSeed("Bert4RecLikeClassifier", config.seed));
    const D = base.config.hiddenSize;
    this.head = tf.layers.dense({
      name: "like_head",
      units: 1,
      kernelInitializer: tf.initializers.truncatedNormal({
        mean: 0,
        stddev: base.config.initializerRange,
        seed: rng.tfSeed(),
      }),
    });
    buildLayer(this.head, [null, D + 1]);
  }

  /** z, one logit per example: [B]. Run inside tf.tidy. */
  logits(batch: LikeBatch, training: boolean): tf.Tensor1D {
    const { batchSize: B, length: T } = batch;
    const D = this.base.config.hiddenSize;
    if (batch.items.length !== B)
      throw new Error(`Bert4RecLikeClassifier: ${batch.items.length} items for ${B} histories`);
    const hidden = this.base.forward(tf.tensor2d(batch.tokenIds, [B, T], "int32"), training); // [B, T, D]
    const h = tf.reshape(tf.slice(hidden, [0, T - 1, 0], [B, 1, D]), [B, D]); // the [MASK] position
    const items = tf.tensor1d(batch.items, "int32");
    const e = gatherRows(this.base.itemTable(), items); // [B, D]
    const agreement = tf.mul(h, e); // [B, D]
    let score = tf.sum(agreement, 1); // [B]: h·e
    if (this.base.outputBias !== null) score = tf.add(score, tf.gather(this.base.outputBias.weights[0].read(), items));
    const features = tf.concat([agreement, tf.expandDims(score, 1)], 1); // [B, D + 1]
    return tf.reshape(this.head.apply(features) as tf.Tensor2D, [B]) as tf.Tensor1D; // [B]
  }

  /** `LossModel`: −mean[y log σ(z) + (1 − y) log(1 − σ(z))] = mean[softplus(−z)·y + softplus(z)·(1 − y)]. */
  loss(batch: LikeBatch, training: boolean): tf.Scalar {
    const labels = batch.labels;
    if (labels === null) throw new Error("Bert4RecLikeClassifier.loss: the batch has no labels");
    return tf.tidy(() => {
      const z = this.logits(batch, training);
      const y = tf.tensor1d(Float32Array.from(labels), "float32");
      return tf.mean(tf.add(tf.mul(tf.softplus(tf.neg(z)), y), tf.mul(tf.softplus(z), tf.sub(1, y)))) as tf.Scalar;
    });
  }

  /** P(like) per example. */
  probabilities(batch: LikeBatch): Float32Array {
    return tf.tidy(() => tf.sigmoid(this.logits(batch, false)).dataSync() as Float32Array);
  }

  get layers(): tf.layers.Layer[] {
    return [...this.base.layers, this.head];
  }

  /**
   * Saves the fine-tuned encoder, item table and head, with the base's resolved config, to the folder
   * `path` (see train/savedModel.ts). The histories are data: `load` takes them again.
   */
  save(path: string): Promise<void> {
    return LIKE_CLASSIFIER_FORMAT.save(path, { base: { ...this.base.config } }, this.namedWeights());
  }

  /** A classifier saved by `save`, its base reading `histories` (sequences over the same items). */
  static load(path: string, histories: UserSequences): Promise<Bert4RecLikeClassifier> {
    return LIKE_CLASSIFIER_FORMAT.load(path, histories);
  }

  /** A saved classifier from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    histories: UserSequences,
  ): Promise<Bert4RecLikeClassifier> {
    return LIKE_CLASSIFIER_FORMAT.fromArtifacts(json, weights, histories);
  }
}

/** A classifier of a saved config's shape: a fresh base and head, every weight of both then assigned. */
const LIKE_CLASSIFIER_FORMAT = tfModelFormat("Bert4RecLikeClassifier", (config, histories: UserSequences) => {
  const base = config.base;
  if (base === null || typeof base !== "object") throw new Error("'base' must be the saved Bert4Rec's config");
  return new Bert4RecLikeClassifier(new Bert4Rec(base as Bert4RecConfig, histories), { seed: 0 });
});
