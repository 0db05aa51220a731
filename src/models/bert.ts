// BERT (Devlin, Chang, Lee and Toutanova, "BERT: Pre-training of Deep Bidirectional Transformers for
// Language Understanding", NAACL 2019; the seed's section 1.3.2): a Transformer encoder pretrained without
// labels on two tasks, then fine-tuned.
//
//   input      [CLS] A_1 … A_n [SEP] B_1 … B_m [SEP] [PAD] …        token type 0 for [CLS] A [SEP], 1 for B [SEP]
//   embed      h_0 = LN(E_tok[x_t] + E_pos[t] + E_seg[s_t]),  then dropout                     §3, Figure 2
//   encode     h_L = TransformerEncoder(h_0), post-norm, GELU, padding masked                   §3
//   MLM head   z_i = LN(GELU(h_L,i·W_t + b_t))·E_tokᵀ + b_out     (output tied to E_tok)         §3.1, Task 1
//   NSP head   c = tanh(h_L,[CLS]·W_p + b_p) ("pooler");  y = c·W_nsp + b_nsp, 2 logits          §3.1, Task 2
//   loss       L = −(1/|M|) Σ_{i∈M} log softmax(z_i)[w_i]  −  (1/B) Σ_b log softmax(y_b)[isNext_b]
//
// M is the set of masked positions (about 15% of the non-special tokens, src/data/bertPretraining.ts):
// only their rows are projected to the vocabulary, the expensive step, never every position. The NSP
// head is a two-way softmax, which is the binary cross-entropy of σ(y_1 − y_0): label 1 = IsNext.
//
// The models return logits and losses; training (optimizer, schedule, epochs, checkpoints) is `fit`'s.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { Rng } from "../backend/random";
import type { PretrainingBatch } from "../data/bertPretraining";
import { textClassificationBatches, type TextClassificationBatch, type TextEncoder } from "../data/textClassification";
import { checkInteger, checkPositive, checkRate, checkSeed } from "../checks";
import { shapeList } from "../nn/args";
import { buildLayer, CompositeLayer } from "../nn/compositeLayer";
import { SeededDropout } from "../nn/dropout";
import { gelu } from "../nn/feedForward";
import { kernelInitializer } from "../nn/initializers";
import { LayerNormalization } from "../nn/layerNorm";
import { LayeredModel } from "../nn/layeredModel";
import { gatherRows } from "../nn/mlp";
import { LearnedPositionEmbedding } from "../nn/positionEmbedding";
import { TransformerEncoder } from "../nn/transformerEncoder";
import { gatherPositions, softmaxCrossEntropyFromLabels } from "../train/losses";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// 1. Configuration
// ---------------------------------------------------------------------------------------------

/** BERT's hyper-parameters (the names of Google's bert_config.json, camel-cased). */
export interface BertConfig {
  /** V, the tokenizer's vocabulary size. */
  vocabSize: number;
  /** D, the width of every hidden state. Default 64 (BERT-base: 768; BERT-tiny: 128). */
  hiddenSize?: number;
  /** L, the number of encoder blocks. Default 2 (BERT-base: 12). */
  numLayers?: number;
  /** H, attention heads per block; D must be divisible by it. Default 2 (BERT-base: 12). */
  numHeads?: number;
  /** d_ff, the feed-forward inner width. Default 4·D. */
  intermediateSize?: number;
  /** The longest input, [CLS] and [SEP]s included (BERT: 512). Default 64. */
  maxPositions?: number;
  /** Number of segments (token types). Default 2 (A and B). */
  typeVocabSize?: number;
  /** Dropout on embeddings and sub-layer outputs. Default 0.1 (BERT). */
  dropout?: number;
  /** Dropout on attention weights. Default 0.1 (BERT). */
  attentionDropout?: number;
  /** Standard deviation of the truncated-normal initialisation of every kernel and table. Default 0.02. */
  initializerRange?: number;
  /** Layer norm's ε. Default 1e-12 (BERT). */
  layerNormEpsilon?: number;
  /** Seeds every initial weight and dropout mask. */
  seed: number;
}

export type ResolvedBertConfig = Required<BertConfig>;

/** `config` with defaults filled in and every field checked. */
export function resolveBertConfig(config: BertConfig): ResolvedBertConfig {
  const owner = "BertConfig";
  const hiddenSize = checkInteger(owner, "hiddenSize", config.hiddenSize ?? 64);
  const numHeads = checkInteger(owner, "numHeads", config.numHeads ?? 2);
  if (hiddenSize % numHeads !== 0)
    throw new Error(`${owner}: hiddenSize ${hiddenSize} must be divisible by numHeads ${numHeads}`);
  const dropout = checkRate(owner, "dropout", config.dropout ?? 0.1);
  return {
    vocabSize: checkInteger(owner, "vocabSize", config.vocabSize, 2),
    hiddenSize,
    numLayers: checkInteger(owner, "numLayers", config.numLayers ?? 2),
    numHeads,
    intermediateSize: checkInteger(owner, "intermediateSize", config.intermediateSize ?? 4 * hiddenSize),
    maxPositions: checkInteger(owner, "maxPositions", config.maxPositions ?? 64),
    typeVocabSize: checkInteger(owner, "typeVocabSize", config.typeVocabSize ?? 2),
    dropout,
    attentionDropout: checkRate(owner, "attentionDropout", config.attentionDropout ?? dropout),
    initializerRange: checkPositive(owner, "initializerRange", config.initializerRange ?? 0.02),
    layerNormEpsilon: checkPositive(owner, "layerNormEpsilon", config.layerNormEpsilon ?? 1e-12),
    seed: checkSeed(owner, config.seed),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Embeddings: token + position + segment, then LN and dropout
// ---------------------------------------------------------------------------------------------

export interface BertEmbeddingsArgs extends LayerArgs {
  vocabSize: number;
  hiddenSize: number;
  maxPositions: number;
  typeVocabSize: number;
  dropout: number;
  initializerRange: number;
  layerNormEpsilon: number;
  seed: number;
}

/**
 * Inputs [tokenIds, tokenTypeIds], both int32 [B, T]; output [B, T, D]. Weights: word_embeddings [V, D]
 * (tied to the MLM output), token_type_embeddings [S, D], position_embeddings/embeddings [T_max, D],
 * norm/gamma, norm/beta.
 */
export class BertEmbeddings extends CompositeLayer {
  static className = "RecsysBertEmbeddings";
  readonly settings: Readonly<Omit<BertEmbeddingsArgs, keyof LayerArgs>>;
  readonly positions: LearnedPositionEmbedding;
  private readonly norm: LayerNormalization;
  private readonly dropout: SeededDropout;
  private words: tf.LayerVariable | null = null;
  private segments: tf.LayerVariable | null = null;

  constructor(args: BertEmbeddingsArgs) {
    super(args);
    const owner = BertEmbeddings.className;
    this.settings = {
      vocabSize: checkInteger(owner, "vocabSize", args.vocabSize, 2),
      hiddenSize: checkInteger(owner, "hiddenSize", args.hiddenSize),
      maxPositions: checkInteger(owner, "maxPositions", args.maxPositions),
      typeVocabSize: checkInteger(owner, "typeVocabSize", args.typeVocabSize),
      dropout: checkRate(owner, "dropout", args.dropout),
      initializerRange: checkPositive(owner, "initializerRange", args.initializerRange),
      layerNormEpsilon: checkPositive(owner, "layerNormEpsilon", args.layerNormEpsilon),
      seed: checkSeed(owner, args.seed),
    };
    const rng = new Rng(this.settings.seed);
    this.positions = this.addSublayer(
      new LearnedPositionEmbedding({
        name: "position_embeddings",
        maxLength: this.settings.maxPositions,
        kernelInitializer: "truncatedNormal",
        initializerRange: this.settings.initializerRange,
        seed: rng.tfSeed(),
      }),
    );
    this.norm = this.addSublayer(new LayerNormalization({ name: "norm", epsilon: this.settings.layerNormEpsilon }));
    this.dropout = this.addSublayer(
      new SeededDropout({ name: "dropout", rate: this.settings.dropout, seed: rng.tfSeed() }),
    );
  }

  /** E_tok [V, D], the table the MLM head's output is tied to. */
  get wordEmbeddings(): tf.LayerVariable {
    if (this.words === null) throw new Error(`${this.name}: not built yet`);
    return this.words;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [ids] = shapeList(inputShape);
    if (ids.length !== 2) throw new Error(`${this.name}: expected token ids [B, T], got [${ids}]`);
    const { vocabSize, hiddenSize, typeVocabSize, initializerRange } = this.settings;
    const rng = new Rng(this.settings.seed + 1); // separate from the sublayers' stream
    const init = { kernelInitializer: "truncatedNormal" as const, initializerRange };
    this.words = this.addWeight("word_embeddings", [vocabSize, hiddenSize], "float32", kernelInitializer(init, rng));
    this.segments = this.addWeight(
      "token_type_embeddings",
      [typeVocabSize, hiddenSize],
      "float32",
      kernelInitializer(init, rng),
    );
    const x = [ids[0], ids[1], hiddenSize];
    this.buildSublayer(this.positions, x);
    this.buildSublayer(this.norm, x);
    this.buildSublayer(this.dropout, x);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2)
      throw new Error(`${this.name}: expected [tokenIds, tokenTypeIds]`);
    const [ids, types] = inputs;
    return tf.tidy(() => {
      const [batch, length] = ids.shape;
      const look = (table: tf.LayerVariable, rows: tf.Tensor) =>
        tf.reshape(gatherRows(table.read() as tf.Tensor2D, tf.reshape(rows, [-1]) as tf.Tensor1D), [batch, length, -1]); // [B, T, D]
      const summed = tf.add(look(this.words!, ids), look(this.segments!, types)); // E_tok[x_t] + E_seg[s_t]
      const positioned = this.positions.apply(summed) as tf.Tensor; // + E_pos[t]
      return this.dropout.apply(this.norm.apply(positioned), kwargs) as tf.Tensor;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [ids] = shapeList(inputShape);
    return [ids[0], ids[1], this.settings.hiddenSize];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.settings, ...super.getConfig() };
  }
}
tf.serialization.registerClass(BertEmbeddings);

// ---------------------------------------------------------------------------------------------
// 3. A dense layer with BERT's initialisation (pooler, heads)
// ---------------------------------------------------------------------------------------------

function bertDense(
  name: string,
  units: number,
  initializerRange: number,
  rng: Rng,
  activation: "linear" | "tanh" = "linear",
) {
  return tf.layers.dense({
    name,
    units,
    activation,
    kernelInitializer: tf.initializers.truncatedNormal({ mean: 0, stddev: initializerRange, seed: rng.tfSeed() }),
    biasInitializer: "zeros",
  });
}

// ---------------------------------------------------------------------------------------------
// 4. The masked-language-model head, tied to the word embeddings
// ---------------------------------------------------------------------------------------------

export interface MaskedLanguageModelHeadArgs extends LayerArgs {
  /** V, the number of output logits. */
  vocabSize: number;
  /** D, the width of the hidden states (and of the tied table). */
  hiddenSize: number;
  initializerRange: number;
  layerNormEpsilon: number;
  seed: number;
}

/**
 * Inputs [hidden [P, D], wordEmbeddings [V, D]], output logits [P, V]:
 * z = LN(GELU(h·W_t + b_t))·E_tokᵀ + b_out. Tying the output to E_tok (Press and Wolf 2017), as BERT does,
 * saves V·D weights and lets every masked prediction train the input table too. Own weights:
 * transform/kernel, transform/bias, norm/gamma, norm/beta, output_bias [V].
 */
export class MaskedLanguageModelHead extends CompositeLayer {
  static className = "RecsysMaskedLanguageModelHead";
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly initializerRange: number;
  readonly layerNormEpsilon: number;
  readonly seed: number;
  private readonly transform: tf.layers.Layer;
  private readonly norm: LayerNormalization;
  private outputBias: tf.LayerVariable | null = null;

  constructor(args: MaskedLanguageModelHeadArgs) {
    super(args);
    const owner = MaskedLanguageModelHead.className;
    this.vocabSize = checkInteger(owner, "vocabSize", args.vocabSize, 2);
    this.hiddenSize = checkInteger(owner, "hiddenSize", args.hiddenSize);
    this.initializerRange = checkPositive(owner, "initializerRange", args.initializerRange);
    this.layerNormEpsilon = checkPositive(owner, "layerNormEpsilon", args.layerNormEpsilon);
    this.seed = checkSeed(owner, args.seed);
    this.transform = this.addSublayer(
      bertDense("transform", this.hiddenSize, this.initializerRange, new Rng(this.seed)),
    );
    this.norm = this.addSublayer(new LayerNormalization({ name: "norm", epsilon: this.layerNormEpsilon }));
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [hidden, table] = shapeList(inputShape);
    const [vocab, width] = [this.vocabSize, this.hiddenSize];
    if (hidden.length !== 2 || hidden[1] !== width || table === undefined || table[0] !== vocab || table[1] !== width) {
      throw new Error(
        `${this.name}: expected [hidden [P, ${width}], wordEmbeddings [${vocab}, ${width}]], got [${hidden}] and [${table}]`,
      );
    }
    this.buildSublayer(this.transform, hidden);
    this.buildSublayer(this.norm, hidden);
    this.outputBias = this.addWeight("output_bias", [this.vocabSize], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2)
      throw new Error(`${this.name}: expected [hidden, wordEmbeddings]`);
    const [hidden, table] = inputs; // [P, D], [V, D]
    return tf.tidy(() => {
      const transformed = this.norm.apply(gelu(this.transform.apply(hidden) as tf.Tensor)) as tf.Tensor; // [P, D]
      return tf.add(tf.matMul(transformed, table, false, true), this.outputBias!.read()); // [P, V]
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [shapeList(inputShape)[0][0], this.vocabSize];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      vocabSize: this.vocabSize,
      hiddenSize: this.hiddenSize,
      initializerRange: this.initializerRange,
      layerNormEpsilon: this.layerNormEpsilon,
      seed: this.seed,
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(MaskedLanguageModelHead);

// ---------------------------------------------------------------------------------------------
// 5. The encoder: embeddings → Transformer → sequence output and pooled [CLS]
// ---------------------------------------------------------------------------------------------

/** A batch of encoded inputs, int32 [B, T] each (as `WordPieceTokenizer.encode` lays them out). */
export interface BertInputs {
  tokenIds: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  /** 1 = a real token, 0 = padding. */
  attentionMask: tf.Tensor2D;
}

export interface BertOutput {
  /** h_L, one vector per position: [B, T, D]. */
  sequence: tf.Tensor3D;
  /** tanh(h_L,[CLS]·W_p + b_p): [B, D]. */
  pooled: tf.Tensor2D;
}

/** The BERT encoder (Hugging Face's BertModel): what fine-tuning reuses. */
export class Bert {
  readonly config: Readonly<ResolvedBertConfig>;
  readonly embeddings: BertEmbeddings;
  readonly encoder: TransformerEncoder;
  readonly pooler: tf.layers.Layer;

  constructor(config: BertConfig) {
    const c = resolveBertConfig(config);
    this.config = c;
    const rng = new Rng(c.seed);
    this.embeddings = new BertEmbeddings({
      name: "embeddings",
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      maxPositions: c.maxPositions,
      typeVocabSize: c.typeVocabSize,
      dropout: c.dropout,
      initializerRange: c.initializerRange,
      layerNormEpsilon: c.layerNormEpsilon,
      seed: rng.tfSeed(),
    });
    this.encoder = new TransformerEncoder({
      name: "encoder",
      numLayers: c.numLayers,
      numHeads: c.numHeads,
      hiddenDim: c.intermediateSize,
      dropout: c.dropout,
      attentionDropout: c.attentionDropout,
      activation: "gelu",
      norm: "post",
      layerNormEpsilon: c.layerNormEpsilon,
      kernelInitializer: "truncatedNormal",
      initializerRange: c.initializerRange,
      seed: rng.tfSeed(),
    });
    this.pooler = bertDense("pooler", c.hiddenSize, c.initializerRange, rng, "tanh");
    // Built now, so that the weights exist (and are named) before the first forward pass.
    buildLayer(this.embeddings, [
      [null, c.maxPositions],
      [null, c.maxPositions],
    ] as unknown as tf.Shape[]);
    buildLayer(this.encoder, [null, c.maxPositions, c.hiddenSize]);
    buildLayer(this.pooler, [null, c.hiddenSize]);
  }

  /** h_L and the pooled [CLS] vector. Run inside tf.tidy (or dispose the outputs). */
  forward(inputs: BertInputs, training: boolean): BertOutput {
    const { tokenIds, tokenTypeIds, attentionMask } = checkBertInputs(inputs, this.config.maxPositions);
    const kwargs = { training };
    const embedded = this.embeddings.apply([tokenIds, tokenTypeIds], kwargs) as tf.Tensor3D; // [B, T, D]
    const sequence = this.encoder.apply([embedded, attentionMask], kwargs) as tf.Tensor3D; // [B, T, D]
    const [batch, , width] = sequence.shape;
    const cls = tf.reshape(tf.slice(sequence, [0, 0, 0], [batch, 1, width]), [batch, width]); // [B, D]: position 0, [CLS]
    return { sequence, pooled: this.pooler.apply(cls) as tf.Tensor2D };
  }

  /** Every block's attention weights [B, H, T, T] in inference mode; the caller disposes them. */
  attentionWeights(inputs: BertInputs): tf.Tensor[] {
    const { tokenIds, tokenTypeIds, attentionMask } = checkBertInputs(inputs, this.config.maxPositions);
    const embedded = this.embeddings.apply([tokenIds, tokenTypeIds]) as tf.Tensor3D;
    const weights = this.encoder.attentionWeights([embedded, attentionMask]);
    embedded.dispose();
    return weights;
  }

  get layers(): tf.layers.Layer[] {
    return [this.embeddings, this.encoder, this.pooler];
  }
}

function checkBertInputs(inputs: BertInputs, maxPositions: number): BertInputs {
  const { tokenIds, tokenTypeIds, attentionMask } = inputs;
  for (const [field, t] of Object.entries(inputs) as Array<[string, tf.Tensor]>) {
    if (t.rank !== 2 || t.shape[0] !== tokenIds.shape[0] || t.shape[1] !== tokenIds.shape[1]) {
      throw new Error(`Bert: ${field} must be [B, T] like tokenIds [${tokenIds.shape}], got [${t.shape}]`);
    }
  }
  if (tokenIds.shape[1] > maxPositions)
    throw new Error(`Bert: inputs of length ${tokenIds.shape[1]} exceed maxPositions ${maxPositions}`);
  if (tokenIds.dtype !== "int32" || tokenTypeIds.dtype !== "int32")
    throw new Error("Bert: tokenIds and tokenTypeIds must be int32");
  return { tokenIds, tokenTypeIds, attentionMask };
}

/** The batch's arrays as tensors (inside a tidy, they are disposed with it). */
export function pretrainingInputs(batch: PretrainingBatch): BertInputs {
  const shape: [number, number] = [batch.batchSize, batch.length];
  return {
    tokenIds: tf.tensor2d(batch.tokenIds, shape, "int32"),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, "int32"),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, "int32"),
  };
}

// ---------------------------------------------------------------------------------------------
// 6. Pretraining: BERT + MLM head + NSP head, and the two losses
// ---------------------------------------------------------------------------------------------

export interface PretrainingLogits {
  /** Vocabulary logits at the masked positions, in the batch's order: [P, V]. */
  maskedLm: tf.Tensor2D;
  /** [NotNext, IsNext] logits per pair: [B, 2]. */
  nextSentence: tf.Tensor2D;
}

export interface PretrainingLosses {
  maskedLm: tf.Scalar;
  nextSentence: tf.Scalar;
  /** maskedLm + nextSentence, what BERT minimises. */
  total: tf.Scalar;
}

/** BERT with both pretraining heads (Hugging Face's BertForPreTraining). */
export class BertForPretraining extends LayeredModel {
  readonly bert: Bert;
  readonly maskedLmHead: MaskedLanguageModelHead;
  readonly nextSentenceHead: tf.layers.Layer;

  constructor(config: BertConfig) {
    super();
    this.bert = new Bert(config);
    const c = this.bert.config;
    const rng = new Rng(c.seed + 1);
    this.maskedLmHead = new MaskedLanguageModelHead({
      name: "mlm_head",
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      initializerRange: c.initializerRange,
      layerNormEpsilon: c.layerNormEpsilon,
      seed: rng.tfSeed(),
    });
    this.nextSentenceHead = bertDense("nsp_head", 2, c.initializerRange, rng);
    buildLayer(this.maskedLmHead, [
      [null, c.hiddenSize],
      [c.vocabSize, c.hiddenSize],
    ] as unknown as tf.Shape[]);
    buildLayer(this.nextSentenceHead, [null, c.hiddenSize]);
  }

  get config(): Readonly<ResolvedBertConfig> {
    return this.bert.config;
  }

  /** Saves the weights and the resolved config to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    return BERT_PRETRAINING_FORMAT.save(path, { ...this.config }, this.namedWeights());
  }

  /** A model saved by `save`. */
  static load(path: string): Promise<BertForPretraining> {
    return BERT_PRETRAINING_FORMAT.load(path);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array): Promise<BertForPretraining> {
    return BERT_PRETRAINING_FORMAT.fromArtifacts(json, weights);
  }

  /** Both heads' logits for a batch. Run inside tf.tidy. */
  logits(batch: PretrainingBatch, training: boolean): PretrainingLogits {
    const { sequence, pooled } = this.bert.forward(pretrainingInputs(batch), training);
    const masked = gatherPositions(sequence, batch.maskedPositions); // [P, D]: only the rows M
    const table = this.bert.embeddings.wordEmbeddings.read(); // [V, D]
    return {
      maskedLm: this.maskedLmHead.apply([masked, table]) as tf.Tensor2D, // [P, V]
      nextSentence: this.nextSentenceHead.apply(pooled) as tf.Tensor2D, // [B, 2]
    };
  }

  /** The MLM and NSP losses (means over masked tokens and over pairs) and their sum. */
  losses(batch: PretrainingBatch, training: boolean): PretrainingLosses {
    return tf.tidy(() => {
      const { maskedLm, nextSentence } = this.logits(batch, training);
      const mlm = tf.mean(softmaxCrossEntropyFromLabels(maskedLm, batch.maskedLabels)) as tf.Scalar;
      const nsp = tf.mean(softmaxCrossEntropyFromLabels(nextSentence, batch.isNext)) as tf.Scalar;
      return { maskedLm: mlm, nextSentence: nsp, total: tf.add(mlm, nsp) as tf.Scalar };
    });
  }

  /** `LossModel`: the total loss. */
  loss(batch: PretrainingBatch, training: boolean): tf.Scalar {
    return this.losses(batch, training).total;
  }

  /** The k most probable tokens at each masked position of `batch`, most probable first. */
  topMaskedPredictions(batch: PretrainingBatch, k: number): Array<{ tokenIds: number[]; probabilities: number[] }> {
    if (batch.maskedPositions.length === 0) return [];
    const { values, indices } = tf.tidy(() => {
      const top = tf.topk(tf.softmax(this.logits(batch, false).maskedLm), Math.min(k, this.config.vocabSize));
      return { values: top.values.arraySync() as number[][], indices: top.indices.arraySync() as number[][] };
    });
    return indices.map((tokenIds, i) => ({ tokenIds, probabilities: values[i] }));
  }

  /** P(IsNext) for each pair of `batch`. */
  nextSentenceProbabilities(batch: PretrainingBatch): Float32Array {
    return tf.tidy(() => {
      const probabilities = tf.softmax(this.logits(batch, false).nextSentence); // [B, 2]
      return tf.slice(probabilities, [0, 1], [batch.batchSize, 1]).dataSync() as Float32Array;
    });
  }

  get layers(): tf.layers.Layer[] {
    return [...this.bert.layers, this.maskedLmHead, this.nextSentenceHead];
  }
}

const BERT_PRETRAINING_FORMAT = tfModelFormat(
  "BertForPretraining",
  (config) => new BertForPretraining(config as unknown as BertConfig),
);

// ---------------------------------------------------------------------------------------------
// 7. Fine-tuning: BERT + a classifier on the pooled [CLS] vector
// ---------------------------------------------------------------------------------------------

export interface SequenceClassificationConfig {
  /** The encoder: a pretrained one (taken over, weights and all: fine-tuning updates it) or a config for a fresh one. */
  bert: Bert | BertConfig;
  /** K, the number of classes. */
  numLabels: number;
  /** Dropout on the pooled vector before the classifier. Default: the encoder's hidden dropout. */
  dropout?: number;
  /** Seeds the classifier's initial weights and its dropout masks. */
  seed: number;
}

/** The logits of a batch, and its loss when the batch carries labels (as Hugging Face returns them). */
export interface SequenceClassificationOutput {
  /** y = Dropout(c)·W_c + b_c: [B, K]. */
  logits: tf.Tensor2D;
  /** −mean_b log softmax(y_b)[label_b], or null when the batch has no labels. */
  loss: tf.Scalar | null;
}

/**
 * BERT with a classifier over the pooled [CLS] vector (Hugging Face's BertForSequenceClassification;
 * Devlin et al. §4.1): y = softmax(Dropout(tanh(h_L,[CLS]·W_p + b_p))·W_c + b_c), trained with the
 * cross-entropy of the labels. Every weight is fine-tuned, the encoder's included.
 */
export class BertForSequenceClassification extends LayeredModel {
  readonly bert: Bert;
  readonly numLabels: number;
  readonly dropout: tf.layers.Layer;
  readonly classifier: tf.layers.Layer;

  constructor(config: SequenceClassificationConfig) {
    super();
    const owner = "BertForSequenceClassification";
    this.bert = config.bert instanceof Bert ? config.bert : new Bert(config.bert);
    const c = this.bert.config;
    this.numLabels = checkInteger(owner, "numLabels", config.numLabels, 2);
    const rng = new Rng(checkSeed(owner, config.seed));
    this.dropout = new SeededDropout({
      name: "classifier_dropout",
      rate: checkRate(owner, "dropout", config.dropout ?? c.dropout),
      seed: rng.tfSeed(),
    });
    this.classifier = bertDense("classifier", this.numLabels, c.initializerRange, rng);
    buildLayer(this.classifier, [null, c.hiddenSize]);
  }

  /** Logits, and the loss when `batch.labels` is given. Run inside tf.tidy. */
  forward(batch: TextClassificationBatch, training: boolean): SequenceClassificationOutput {
    const { pooled } = this.bert.forward(classificationInputs(batch), training); // [B, D]
    const logits = this.classifier.apply(this.dropout.apply(pooled, { training })) as tf.Tensor2D; // [B, K]
    if (batch.labels === null) return { logits, loss: null };
    for (let b = 0; b < batch.labels.length; b++) {
      if (batch.labels[b] >= this.numLabels)
        throw new Error(
          `BertForSequenceClassification: label ${batch.labels[b]} of row ${b} is outside [0, ${this.numLabels})`,
        );
    }
    return { logits, loss: tf.mean(softmaxCrossEntropyFromLabels(logits, batch.labels)) as tf.Scalar };
  }

  /** `LossModel`: the batch's cross-entropy; a batch without labels has none to train on. */
  loss(batch: TextClassificationBatch, training: boolean): tf.Scalar {
    return tf.tidy(() => {
      const { loss } = this.forward(batch, training);
      if (loss === null)
        throw new Error(
          "BertForSequenceClassification.loss: the batch has no labels, so there is no loss to minimise (pass the labels with the inputs)",
        );
      return loss;
    });
  }

  /** Saves the weights and the config (the encoder's included) to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = {
      bert: { ...this.bert.config },
      numLabels: this.numLabels,
      dropout: (this.dropout as SeededDropout).rate,
    };
    return SEQUENCE_CLASSIFIER_FORMAT.save(path, config, this.namedWeights());
  }

  /** A model saved by `save`. */
  static load(path: string): Promise<BertForSequenceClassification> {
    return SEQUENCE_CLASSIFIER_FORMAT.load(path);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array): Promise<BertForSequenceClassification> {
    return SEQUENCE_CLASSIFIER_FORMAT.fromArtifacts(json, weights);
  }

  /** softmax(y) of each row: [B × K], row-major. */
  probabilities(batch: TextClassificationBatch): Float32Array {
    return tf.tidy(() => tf.softmax(this.forward({ ...batch, labels: null }, false).logits).dataSync() as Float32Array);
  }

  get layers(): tf.layers.Layer[] {
    return [...this.bert.layers, this.classifier];
  }
}

/** A classifier with a saved config's shape; loading then assigns every weight (the seed is irrelevant). */
const SEQUENCE_CLASSIFIER_FORMAT = tfModelFormat(
  "BertForSequenceClassification",
  (config) =>
    new BertForSequenceClassification({
      ...(config as unknown as Omit<SequenceClassificationConfig, "seed">),
      seed: 0,
    }),
);

/** A classification batch's arrays as tensors (inside a tidy, they are disposed with it). */
export function classificationInputs(batch: TextClassificationBatch): BertInputs {
  const shape: [number, number] = [batch.batchSize, batch.length];
  for (const field of ["tokenIds", "tokenTypeIds", "attentionMask"] as const) {
    if (batch[field].length !== batch.batchSize * batch.length) {
      throw new Error(
        `BertForSequenceClassification: ${field} has ${batch[field].length} entries, expected batchSize·length = ${batch.batchSize}·${batch.length}`,
      );
    }
  }
  return {
    tokenIds: tf.tensor2d(batch.tokenIds, shape, "int32"),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, "int32"),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, "int32"),
  };
}

// ---------------------------------------------------------------------------------------------
// 8. Text embeddings: what a pretrained encoder says about a text, without fine-tuning
// ---------------------------------------------------------------------------------------------

export interface TextEmbeddingConfig {
  /** T: texts are truncated and padded to it. Default: the encoder's maxPositions. */
  maxLength?: number;
  /** "mean" (default) of h_L over the text's real tokens, or the pooled "cls" vector. */
  pooling?: "mean" | "cls";
  /** Texts per forward pass. Default 128. */
  batchSize?: number;
}

/**
 * One vector per text from a (pretrained) encoder: [texts.length × D], row-major. Mean pooling over the
 * real tokens is the usual choice for an encoder never trained to put a sentence into [CLS] (Reimers
 * and Gurevych, "Sentence-BERT", 2019, found it the better of the two).
 */
export function textEmbeddings(
  bert: Bert,
  encoder: TextEncoder,
  texts: readonly string[],
  config: TextEmbeddingConfig = {},
): Float32Array {
  const where = "textEmbeddings";
  const maxLength = checkInteger(where, "maxLength", config.maxLength ?? bert.config.maxPositions, 2);
  const batchSize = checkInteger(where, "batchSize", config.batchSize ?? 128);
  const pooling = config.pooling ?? "mean";
  if (pooling !== "mean" && pooling !== "cls")
    throw new Error(`${where}: pooling must be "mean" or "cls", got '${pooling}'`);
  const D = bert.config.hiddenSize;
  const out = new Float32Array(texts.length * D);
  const batches = textClassificationBatches(texts, null, encoder, { batchSize, maxLength });
  let row = 0;
  for (const batch of batches) {
    const vectors = tf.tidy(() => {
      const inputs = classificationInputs(batch);
      const { sequence, pooled } = bert.forward(inputs, false); // [B, T, D], [B, D]
      if (pooling === "cls") return pooled.dataSync() as Float32Array;
      const mask = tf.expandDims(tf.cast(inputs.attentionMask, "float32"), 2); // [B, T, 1]
      return tf.div(tf.sum(tf.mul(sequence, mask), 1), tf.sum(mask, 1)).dataSync() as Float32Array; // [B, D]
    });
    out.set(vectors, row * D);
    row += batch.batchSize;
  }
  return out;
}
