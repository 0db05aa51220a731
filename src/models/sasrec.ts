// SASRec (Kang and McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018): a causal Transformer
// over a user's item sequence that predicts, at every position, the next item from the items so far.
//
//   input      [PAD …] s_1 … s_{n−1}, targets o_t = s_{t+1}                     (src/data/sequences.ts)
//   embed      h_0 = Dropout(√D·E[x_t] + P[t])                                §III-B; the √D is the authors' code
//   encode     h_L = TransformerEncoder(h_0): causal, pre-norm, ReLU FFN,       §III-C, III-D, Eq. (4)–(5)
//              layer-norm ε 1e-8, padding keys masked
//   output     r_{i,t} = h_L,t · E_i                                           §III-E, Eq. (6): shared item embedding
//   loss       "softmax" (default): −mean_t log softmax(r_t)[o_t] over all items;
//              "bce" (the paper, Eq. (7)): −mean_t [log σ(r_{o_t,t}) + log(1 − σ(r_{j,t}))], j ∉ S^u sampled
//   inference  the history as is; the scores at its last position
//
// The authors' code normalises only the attention's queries (MultiHead(LN(x), x, x)) and takes the
// residual from LN(x); this uses the standard pre-norm block of src/nn/transformerEncoder.ts, which
// normalises queries, keys and values alike. Full softmax usually beats the one-negative BCE by a wide
// margin (Klenitskiy and Vasilev, "Turning Dross Into Gold Loss: is BERT4Rec really better than
// SASRec?", RecSys 2023), hence the default. The model returns losses and scores; `fit` trains it.

import { SASREC_ITEM_OFFSET, SasRecBatch, UserSequences } from "../data/sequences";
import {
  resolveSequentialConfig,
  ResolvedSequentialConfig,
  SequentialArchitecture,
  SequentialTransformer,
  SequentialTransformerConfig,
} from "../nn/sequentialTransformer";
import { tfModelFormat } from "../train/savedModel";

/** SASRec's hyper-parameters. */
export interface SasRecConfig extends SequentialTransformerConfig {
  // numItems, seed and the fields below are documented on SequentialTransformerConfig; SASRec's defaults:
  // maxLength 50 (the paper: 200 on ML-1m), hiddenSize 64 (the paper: 50), numLayers 2, numHeads 1,
  // intermediateSize 4·D (the paper: D), dropout 0.2 (ML-1m; 0.5 on sparse data), initializerRange 0.02,
  // layerNormEpsilon 1e-8.
  /** "softmax" over all items (default) or "bce", the paper's loss with one negative per position. */
  loss?: "softmax" | "bce";
}

export const SASREC_ARCHITECTURE: Readonly<SequentialArchitecture> = {
  owner: "SasRec",
  itemOffset: SASREC_ITEM_OFFSET,
  activation: "relu",
  norm: "pre",
  causal: true,
  scaleEmbeddings: true,
  embeddingNorm: false,
  outputBias: false,
  appendMask: false,
  losses: ["softmax", "bce"],
};

/** `config` with SASRec's defaults filled in and every field checked. */
export function resolveSasRecConfig(config: SasRecConfig): ResolvedSequentialConfig {
  return resolveSequentialConfig(SASREC_ARCHITECTURE, config, {
    maxLength: 50,
    hiddenSize: 64,
    numLayers: 2,
    numHeads: 1,
    dropout: 0.2,
    initializerRange: 0.02,
    layerNormEpsilon: 1e-8,
    numSampled: 100,
    scoreBatchSize: 256,
    loss: "softmax",
  });
}

/**
 * SASRec: `LossModel<SasRecBatch>` (train with `fit` on `sasrecBatches`; "bce" needs their negatives)
 * and `ItemScorer` (scores each user's next item from `histories`, the training sequences).
 */
export class SasRec extends SequentialTransformer<SasRecBatch> {
  constructor(config: SasRecConfig, histories: UserSequences) {
    super(SASREC_ARCHITECTURE, resolveSasRecConfig(config), histories);
  }

  /** A model saved by `save`, scoring from `histories` (sequences over the same items). */
  static load(path: string, histories: UserSequences): Promise<SasRec> {
    return SASREC_FORMAT.load(path, histories);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, histories: UserSequences): Promise<SasRec> {
    return SASREC_FORMAT.fromArtifacts(json, weights, histories);
  }
}

const SASREC_FORMAT = tfModelFormat(
  "SasRec",
  (config, histories: UserSequences) => new SasRec(config as unknown as SasRecConfig, histories),
);
