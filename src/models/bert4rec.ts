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
//
// The paper's output layer puts a GELU projection before the tied softmax; here it is left out, as in
// several re-implementations: one linear map into E's space is the part that ties the output. Defaults
// are the paper's ML-1m setting except the width and length (D = 64 like its other data sets, T = 100);
// for catalogues of many thousands of items, `loss: "sampledSoftmax"` scores S sampled items instead of
// all of them. The model returns losses and scores; `fit` trains it.

import { BERT4REC_ITEM_OFFSET, Bert4RecBatch, UserSequences } from "../data/sequences";
import { resolveSequentialConfig, ResolvedSequentialConfig, SequentialArchitecture, SequentialTransformer, SequentialTransformerConfig } from "../nn/sequentialTransformer";
import { loadModel, modelFromArtifacts } from "../train/savedModel";

/** BERT4Rec's hyper-parameters; the defaults in brackets. */
export interface Bert4RecConfig extends SequentialTransformerConfig {
  // numItems, seed and the fields below are documented on SequentialTransformerConfig; BERT4Rec's defaults:
  // maxLength 100, hiddenSize 64, numLayers 2, numHeads 2, intermediateSize 4·D, dropout 0.1,
  // initializerRange 0.02, layerNormEpsilon 1e-12 (BERT), numSampled 100.
  /** "softmax" over all items (default, the paper) or "sampledSoftmax" over numSampled sampled items. */
  loss?: "softmax" | "sampledSoftmax";
}

export const BERT4REC_ARCHITECTURE: Readonly<SequentialArchitecture> = {
  owner: "Bert4Rec", itemOffset: BERT4REC_ITEM_OFFSET, activation: "gelu", norm: "post", causal: false, scaleEmbeddings: false,
  embeddingNorm: true, outputBias: true, appendMask: true, losses: ["softmax", "sampledSoftmax"],
};

/** `config` with BERT4Rec's defaults filled in and every field checked. */
export function resolveBert4RecConfig(config: Bert4RecConfig): ResolvedSequentialConfig {
  return resolveSequentialConfig(BERT4REC_ARCHITECTURE, config, {
    maxLength: 100, hiddenSize: 64, numLayers: 2, numHeads: 2, dropout: 0.1, initializerRange: 0.02, layerNormEpsilon: 1e-12,
    numSampled: 100, scoreBatchSize: 256, loss: "softmax",
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
    return loadModel("Bert4Rec.load", path, "Bert4Rec", (c) => new Bert4Rec(c as unknown as Bert4RecConfig, histories));
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, histories: UserSequences): Promise<Bert4Rec> {
    return modelFromArtifacts("Bert4Rec.fromArtifacts", json, weights, "Bert4Rec", (c) => new Bert4Rec(c as unknown as Bert4RecConfig, histories));
  }
}
