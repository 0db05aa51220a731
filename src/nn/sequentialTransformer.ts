// What SASRec (src/models/sasrec.ts) and BERT4Rec (src/models/bert4rec.ts) share: a Transformer encoder
// over item-token sequences whose output at a position scores every item through the item embedding
// table it was fed from (a tied output).
//
//   embed      h_0 = Dropout(LN?(s·E[x_t] + P[t]))       s = √D for SASRec, 1 for BERT4Rec; LN for BERT4Rec
//   encode     h_L = TransformerEncoder(h_0), padding keys masked (and later keys, for SASRec)
//   score      r_t = h_L,t · E_itemsᵀ (+ b)              E_items = E[itemOffset …], the real items only
//   losses     "softmax"         −(1/P) Σ_p log softmax(r_p)[y_p]                      over all items
//              "sampledSoftmax"  the same over y_p and S shared sampled items (large catalogues)
//              "bce"             −(1/P) Σ_p [log σ(r_p,y_p) + log σ(−r_p,j_p)]           one negative j_p
//
// The loss is taken at the batch's positions only (masked ones, or real ones), gathered before the
// projection to the catalogue, which is the expensive step. Scoring reads position T − 1: sequences are
// left-padded, so the latest token always sits there.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { Rng } from "../backend/random";
import { inferenceInputs, PAD_TOKEN, SasRecBatch, SequenceBatch, UserSequences } from "../data/sequences";
import type { ItemScorer } from "../eval/scorers";
import { checkChoice, checkInteger, checkPositive, checkRate, checkSeed } from "../checks";
import { shapeList } from "./args";
import { buildLayer, CompositeLayer } from "./compositeLayer";
import { SeededDropout } from "./dropout";
import type { FeedForwardActivation } from "./feedForward";
import { kernelInitializer } from "./initializers";
import { LayerNormalization } from "./layerNorm";
import { LayeredModel } from "./layeredModel";
import { gatherRows } from "./mlp";
import { LearnedPositionEmbedding } from "./positionEmbedding";
import { NormPosition, TransformerEncoder } from "./transformerEncoder";
import type { LossModel } from "../train/trainer";
import { gatherPositions, sampledSoftmaxCrossEntropy, softmaxCrossEntropyFromLabels } from "../train/losses";
import { saveModel } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// 1. Embeddings: item tokens + positions
// ---------------------------------------------------------------------------------------------

export interface ItemSequenceEmbeddingArgs extends LayerArgs {
  /** Rows of the token table: numItems + itemOffset. */
  vocabSize: number;
  hiddenSize: number;
  maxLength: number;
  dropout: number;
  /** Multiply the token rows by √D before adding positions (SASRec's code). */
  scaleByWidth: boolean;
  /** LN's ε after the sum (BERT4Rec), or null for none (SASRec). */
  layerNormEpsilon: number | null;
  initializerRange: number;
  seed: number;
}

/**
 * Input token ids [B, T] int32; output [B, T, D]. Weights: item_embeddings [V, D] (tied to the output),
 * position_embeddings/embeddings [T_max, D], and norm/gamma, norm/beta when normalised.
 */
export class ItemSequenceEmbedding extends CompositeLayer {
  static className = "RecsysItemSequenceEmbedding";
  readonly settings: Readonly<Omit<ItemSequenceEmbeddingArgs, keyof LayerArgs>>;
  private readonly positions: LearnedPositionEmbedding;
  private readonly norm: LayerNormalization | null;
  private readonly dropout: SeededDropout;
  private table: tf.LayerVariable | null = null;

  constructor(args: ItemSequenceEmbeddingArgs) {
    super(args);
    const owner = ItemSequenceEmbedding.className;
    this.settings = {
      vocabSize: checkInteger(owner, "vocabSize", args.vocabSize, 2),
      hiddenSize: checkInteger(owner, "hiddenSize", args.hiddenSize),
      maxLength: checkInteger(owner, "maxLength", args.maxLength),
      dropout: checkRate(owner, "dropout", args.dropout),
      scaleByWidth: args.scaleByWidth === true,
      layerNormEpsilon:
        args.layerNormEpsilon === null ? null : checkPositive(owner, "layerNormEpsilon", args.layerNormEpsilon),
      initializerRange: checkPositive(owner, "initializerRange", args.initializerRange),
      seed: checkSeed(owner, args.seed),
    };
    const rng = new Rng(this.settings.seed);
    this.positions = this.addSublayer(
      new LearnedPositionEmbedding({
        name: "position_embeddings",
        maxLength: this.settings.maxLength,
        kernelInitializer: "truncatedNormal",
        initializerRange: this.settings.initializerRange,
        seed: rng.tfSeed(),
      }),
    );
    const epsilon = this.settings.layerNormEpsilon;
    this.norm = epsilon === null ? null : this.addSublayer(new LayerNormalization({ name: "norm", epsilon }));
    this.dropout = this.addSublayer(
      new SeededDropout({ name: "dropout", rate: this.settings.dropout, seed: rng.tfSeed() }),
    );
  }

  /** E [V, D], the table the output scores are tied to. */
  get itemEmbeddings(): tf.LayerVariable {
    if (this.table === null) throw new Error(`${this.name}: not built yet`);
    return this.table;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [ids] = shapeList(inputShape);
    if (ids.length !== 2) throw new Error(`${this.name}: expected token ids [B, T], got [${ids}]`);
    const { vocabSize, hiddenSize, initializerRange } = this.settings;
    const init = kernelInitializer(
      { kernelInitializer: "truncatedNormal", initializerRange },
      new Rng(this.settings.seed + 1),
    );
    this.table = this.addWeight("item_embeddings", [vocabSize, hiddenSize], "float32", init);
    const x = [ids[0], ids[1], hiddenSize];
    this.buildSublayer(this.positions, x);
    if (this.norm !== null) this.buildSublayer(this.norm, x);
    this.buildSublayer(this.dropout, x);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const ids = Array.isArray(inputs) ? inputs[0] : inputs; // [B, T]
    return tf.tidy(() => {
      const [batch, length] = ids.shape;
      let h = tf.reshape(gatherRows(this.table!.read() as tf.Tensor2D, tf.reshape(ids, [-1]) as tf.Tensor1D), [
        batch,
        length,
        -1,
      ]); // [B, T, D]
      if (this.settings.scaleByWidth) h = tf.mul(h, Math.sqrt(this.settings.hiddenSize));
      h = this.positions.apply(h) as tf.Tensor; // + P[t]
      if (this.norm !== null) h = this.norm.apply(h) as tf.Tensor;
      return this.dropout.apply(h, kwargs) as tf.Tensor;
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
tf.serialization.registerClass(ItemSequenceEmbedding);

// ---------------------------------------------------------------------------------------------
// 2. Configuration shared by both models
// ---------------------------------------------------------------------------------------------

export type SequenceLoss = "softmax" | "sampledSoftmax" | "bce";

/** The hyper-parameters both models take (each model has its own defaults). */
export interface SequentialTransformerConfig {
  /** The catalogue size; items are 0..numItems − 1. */
  numItems: number;
  /** T, the longest sequence (the position table's size). */
  maxLength?: number;
  /** D, the width of item embeddings and hidden states. */
  hiddenSize?: number;
  /** Encoder blocks. */
  numLayers?: number;
  /** Attention heads per block; hiddenSize must be divisible by it. */
  numHeads?: number;
  /** The feed-forward inner width. Default 4·D. */
  intermediateSize?: number;
  /** Dropout on embeddings and sub-layer outputs. */
  dropout?: number;
  /** Dropout on attention weights. Default `dropout`. */
  attentionDropout?: number;
  /** Standard deviation of the truncated-normal initialisation of tables and kernels. Default 0.02. */
  initializerRange?: number;
  /** Layer norm's ε. */
  layerNormEpsilon?: number;
  /** S, the negatives per batch of the "sampledSoftmax" loss. Default 100. */
  numSampled?: number;
  /** Users scored per forward pass in scoreItems. Default 256. */
  scoreBatchSize?: number;
  /** Seeds every initial weight, dropout mask and sampled negative. */
  seed: number;
}

/** What differs between the two models, fixed by each model's class. */
export interface SequentialArchitecture {
  owner: string;
  itemOffset: number;
  activation: FeedForwardActivation;
  norm: NormPosition;
  causal: boolean;
  scaleEmbeddings: boolean;
  embeddingNorm: boolean;
  outputBias: boolean;
  /** Append [MASK] to histories when scoring (BERT4Rec). */
  appendMask: boolean;
  losses: readonly SequenceLoss[];
}

export interface ResolvedSequentialConfig extends Required<SequentialTransformerConfig> {
  loss: SequenceLoss;
}

/** `config` with `defaults` filled in and every field checked, errors naming `architecture.owner`. */
export function resolveSequentialConfig(
  architecture: SequentialArchitecture,
  config: SequentialTransformerConfig & { loss?: SequenceLoss },
  defaults: Required<
    Omit<SequentialTransformerConfig, "numItems" | "seed" | "intermediateSize" | "attentionDropout">
  > & { loss: SequenceLoss },
): ResolvedSequentialConfig {
  const owner = architecture.owner;
  if (config === null || typeof config !== "object") throw new Error(`${owner}: config must be an object`);
  const hiddenSize = checkInteger(owner, "hiddenSize", config.hiddenSize ?? defaults.hiddenSize);
  const numHeads = checkInteger(owner, "numHeads", config.numHeads ?? defaults.numHeads);
  if (hiddenSize % numHeads !== 0)
    throw new Error(`${owner}: hiddenSize ${hiddenSize} must be divisible by numHeads ${numHeads}`);
  const dropout = checkRate(owner, "dropout", config.dropout ?? defaults.dropout);
  return {
    numItems: checkInteger(owner, "numItems", config.numItems),
    maxLength: checkInteger(
      owner,
      "maxLength",
      config.maxLength ?? defaults.maxLength,
      architecture.appendMask ? 2 : 1,
    ),
    hiddenSize,
    numLayers: checkInteger(owner, "numLayers", config.numLayers ?? defaults.numLayers),
    numHeads,
    intermediateSize: checkInteger(owner, "intermediateSize", config.intermediateSize ?? 4 * hiddenSize),
    dropout,
    attentionDropout: checkRate(owner, "attentionDropout", config.attentionDropout ?? dropout),
    initializerRange: checkPositive(owner, "initializerRange", config.initializerRange ?? defaults.initializerRange),
    layerNormEpsilon: checkPositive(owner, "layerNormEpsilon", config.layerNormEpsilon ?? defaults.layerNormEpsilon),
    numSampled: checkInteger(owner, "numSampled", config.numSampled ?? defaults.numSampled),
    scoreBatchSize: checkInteger(owner, "scoreBatchSize", config.scoreBatchSize ?? defaults.scoreBatchSize),
    loss: checkChoice(owner, "loss", config.loss ?? defaults.loss, architecture.losses),
    seed: checkSeed(owner, config.seed),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. The model
// ---------------------------------------------------------------------------------------------

/** The encoder, the tied output and the losses; Bert4Rec and SasRec fix the architecture and defaults. */
export class SequentialTransformer<Batch extends SequenceBatch>
  extends LayeredModel
  implements LossModel<Batch>, ItemScorer
{
  readonly config: Readonly<ResolvedSequentialConfig>;
  readonly architecture: Readonly<SequentialArchitecture>;
  readonly embedding: ItemSequenceEmbedding;
  readonly encoder: TransformerEncoder;
  /** b [numItems] of the output when the architecture has one (weight "output_bias/bias"). */
  readonly outputBias: tf.layers.Layer | null;
  private histories: UserSequences;
  private readonly samplingRng: Rng;

  constructor(architecture: SequentialArchitecture, config: ResolvedSequentialConfig, histories: UserSequences) {
    super();
    this.architecture = architecture;
    this.config = config;
    const c = config;
    this.histories = this.checkHistories(histories);
    const rng = new Rng(c.seed);
    this.embedding = new ItemSequenceEmbedding({
      name: "embeddings",
      vocabSize: c.numItems + architecture.itemOffset,
      hiddenSize: c.hiddenSize,
      maxLength: c.maxLength,
      dropout: c.dropout,
      scaleByWidth: architecture.scaleEmbeddings,
      layerNormEpsilon: architecture.embeddingNorm ? c.layerNormEpsilon : null,
      initializerRange: c.initializerRange,
      seed: rng.tfSeed(),
    });
    this.encoder = new TransformerEncoder({
      name: "encoder",
      numLayers: c.numLayers,
      numHeads: c.numHeads,
      hiddenDim: c.intermediateSize,
      dropout: c.dropout,
      attentionDropout: c.attentionDropout,
      activation: architecture.activation,
      norm: architecture.norm,
      causal: architecture.causal,
      layerNormEpsilon: c.layerNormEpsilon,
      kernelInitializer: "truncatedNormal",
      initializerRange: c.initializerRange,
      seed: rng.tfSeed(),
    });
    // A layer of its own, so that the bias is saved under a stable name like every other weight.
    this.outputBias = architecture.outputBias ? new OutputBias({ name: "output_bias", units: c.numItems }) : null;
    this.samplingRng = new Rng(rng.tfSeed());
    // Built now, so that the weights exist (and are named) before the first forward pass.
    buildLayer(this.embedding, [null, c.maxLength]);
    buildLayer(this.encoder, [null, c.maxLength, c.hiddenSize]);
    if (this.outputBias !== null) buildLayer(this.outputBias, [null, c.numItems]);
  }

  get numItems(): number {
    return this.config.numItems;
  }

  /** The users of the histories scored from. */
  get numUsers(): number {
    return this.histories.numUsers;
  }

  /** The histories scoreItems reads (the training sequences, by default). */
  get userHistories(): UserSequences {
    return this.histories;
  }

  /** Score from other histories from now on, e.g. train + validation before the test. */
  setHistories(histories: UserSequences): void {
    this.histories = this.checkHistories(histories);
  }

  /** h_L [B, T, D] for token ids [B, T]; padding is masked as keys. Run inside tf.tidy. */
  forward(tokenIds: tf.Tensor2D, training: boolean): tf.Tensor3D {
    const { owner } = this.architecture;
    if (tokenIds.rank !== 2 || tokenIds.dtype !== "int32")
      throw new Error(`${owner}: tokenIds must be int32 [B, T], got ${tokenIds.dtype} [${tokenIds.shape}]`);
    if (tokenIds.shape[1] > this.config.maxLength)
      throw new Error(`${owner}: sequences of length ${tokenIds.shape[1]} exceed maxLength ${this.config.maxLength}`);
    const kwargs = { training };
    const embedded = this.embedding.apply(tokenIds, kwargs) as tf.Tensor3D; // [B, T, D]
    const keep = tf.cast(tf.notEqual(tokenIds, PAD_TOKEN), "int32"); // [B, T]: 1 = a real token
    return this.encoder.apply([embedded, keep], kwargs) as tf.Tensor3D; // [B, T, D]
  }

  /** E_items [numItems, D]: the item rows of the token table. Run inside tf.tidy. */
  itemTable(): tf.Tensor2D {
    const table = this.embedding.itemEmbeddings.read() as tf.Tensor2D;
    return tf.slice(table, [this.architecture.itemOffset, 0], [this.config.numItems, this.config.hiddenSize]);
  }

  /** r = h·E_itemsᵀ (+ b): [N, numItems] from hidden rows [N, D]. Run inside tf.tidy. */
  itemLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    const logits = tf.matMul(hidden, this.itemTable(), false, true) as tf.Tensor2D; // [N, numItems]
    return this.outputBias === null ? logits : (this.outputBias.apply(logits) as tf.Tensor2D);
  }

  /** Item logits at the batch's positions: [P, numItems]. Run inside tf.tidy. */
  logits(batch: Batch, training: boolean): tf.Tensor2D {
    return this.itemLogits(gatherPositions(this.forward(this.batchTokens(batch), training), batch.positions));
  }

  /** `LossModel`: the mean loss over the batch's positions (see the file header). */
  loss(batch: Batch, training: boolean): tf.Scalar {
    const { owner } = this.architecture;
    if (batch.positions.length === 0) throw new Error(`${owner}.loss: the batch has no positions to predict`);
    if (batch.labels.length !== batch.positions.length)
      throw new Error(`${owner}.loss: ${batch.labels.length} labels for ${batch.positions.length} positions`);
    return tf.tidy(() => {
      const rows = gatherPositions(this.forward(this.batchTokens(batch), training), batch.positions); // [P, D]
      const bias = this.outputBias === null ? undefined : (this.outputBias.weights[0].read() as tf.Tensor1D);
      switch (this.config.loss) {
        case "softmax":
          return tf.mean(softmaxCrossEntropyFromLabels(this.itemLogits(rows), batch.labels)) as tf.Scalar;
        case "sampledSoftmax":
          return tf.mean(
            sampledSoftmaxCrossEntropy(rows, this.itemTable(), bias, batch.labels, {
              numSampled: this.config.numSampled,
              rng: this.samplingRng,
            }),
          ) as tf.Scalar;
        case "bce":
          return this.binaryCrossEntropy(rows, bias, batch);
      }
    });
  }

  private binaryCrossEntropy(rows: tf.Tensor2D, bias: tf.Tensor1D | undefined, batch: Batch): tf.Scalar {
    const negatives = (batch as unknown as SasRecBatch).negatives;
    const { owner } = this.architecture;
    if (!(negatives instanceof Int32Array) || negatives.length !== batch.positions.length) {
      throw new Error(
        `${owner}.loss: the "bce" loss needs one negative per position (build the batches with a negativeSampler)`,
      );
    }
    this.checkItems(batch.labels, "labels");
    this.checkItems(negatives, "negatives");
    const table = this.embedding.itemEmbeddings.read() as tf.Tensor2D;
    const score = (items: Int32Array) => {
      const ids = tf.tensor1d(
        items.map((i) => i + this.architecture.itemOffset),
        "int32",
      );
      const r = tf.sum(tf.mul(rows, gatherRows(table, ids)), 1); // [P]: h_p · e_item
      return bias === undefined ? r : tf.add(r, tf.gather(bias, tf.tensor1d(items, "int32")));
    };
    // −log σ(r⁺) − log(1 − σ(r⁻)) = softplus(−r⁺) + softplus(r⁻)
    return tf.mean(tf.add(tf.softplus(tf.neg(score(batch.labels))), tf.softplus(score(negatives)))) as tf.Scalar;
  }

  /**
   * Scores of every item at position T − 1 of each sequence of token ids [batchSize × T] (as
   * `inferenceInputs` lays them out): [batchSize × numItems], row-major.
   */
  scoreSequences(tokenIds: Int32Array, batchSize: number): Float32Array {
    const T = this.config.maxLength;
    if (tokenIds.length !== batchSize * T)
      throw new Error(
        `${this.architecture.owner}.scoreSequences: expected ${batchSize}·${T} token ids, got ${tokenIds.length}`,
      );
    this.checkTokens(tokenIds);
    return tf.tidy(() => {
      const hidden = this.forward(tf.tensor2d(tokenIds, [batchSize, T], "int32"), false); // [B, T, D]
      const last = tf.reshape(tf.slice(hidden, [0, T - 1, 0], [batchSize, 1, this.config.hiddenSize]), [
        batchSize,
        this.config.hiddenSize,
      ]); // [B, D]
      return Float32Array.from(this.itemLogits(last as tf.Tensor2D).dataSync() as Float32Array);
    });
  }

  /** `ItemScorer`: each user's scores from the stored history, in batches of scoreBatchSize users. */
  scoreItems(users: Int32Array): Float32Array {
    const { numItems, maxLength, scoreBatchSize } = this.config;
    const encoding = { maxLength, itemOffset: this.architecture.itemOffset, appendMask: this.architecture.appendMask };
    const out = new Float32Array(users.length * numItems);
    for (let start = 0; start < users.length; start += scoreBatchSize) {
      const part = users.subarray(start, Math.min(start + scoreBatchSize, users.length));
      out.set(this.scoreSequences(inferenceInputs(this.histories, part, encoding), part.length), start * numItems);
    }
    return out;
  }

  /**
   * Every block's attention weights [B, H, T, T] for token ids [batchSize × T] (as `inferenceInputs` lays
   * them out), in inference mode: row t of a head is what position t read. The caller disposes them.
   */
  attentionWeights(tokenIds: Int32Array, batchSize: number): tf.Tensor4D[] {
    const T = this.config.maxLength;
    if (tokenIds.length !== batchSize * T)
      throw new Error(
        `${this.architecture.owner}.attentionWeights: expected ${batchSize}·${T} token ids, got ${tokenIds.length}`,
      );
    this.checkTokens(tokenIds);
    return tf.tidy(() => {
      const ids = tf.tensor2d(tokenIds, [batchSize, T], "int32");
      const embedded = this.embedding.apply(ids, { training: false }) as tf.Tensor3D; // [B, T, D]
      const keep = tf.cast(tf.notEqual(ids, PAD_TOKEN), "int32"); // [B, T]
      return this.encoder.attentionWeights([embedded, keep]) as tf.Tensor4D[];
    });
  }

  get layers(): tf.layers.Layer[] {
    return this.outputBias === null ? [this.embedding, this.encoder] : [this.embedding, this.encoder, this.outputBias];
  }

  /** The batch's token ids as a tensor, checked against its shape and the vocabulary. */
  private batchTokens(batch: Batch): tf.Tensor2D {
    const { owner } = this.architecture;
    if (batch.tokenIds.length !== batch.batchSize * batch.length) {
      throw new Error(
        `${owner}: tokenIds has ${batch.tokenIds.length} entries, expected batchSize·length = ${batch.batchSize * batch.length}`,
      );
    }
    this.checkTokens(batch.tokenIds);
    return tf.tensor2d(batch.tokenIds, [batch.batchSize, batch.length], "int32");
  }

  // gatherRows would read past the table without an error; a bad id must fail here instead.
  private checkTokens(tokenIds: Int32Array): void {
    const vocab = this.config.numItems + this.architecture.itemOffset;
    for (let k = 0; k < tokenIds.length; k++) {
      if (!(tokenIds[k] >= 0 && tokenIds[k] < vocab))
        throw new Error(`${this.architecture.owner}: token id ${tokenIds[k]} at ${k} is outside [0, ${vocab})`);
    }
  }

  /**
   * Saves the weights and the resolved config to the folder `path` (see train/savedModel.ts). The
   * histories are data, not model: `Bert4Rec.load` / `SasRec.load` take them again (any histories over
   * the same items, as `setHistories` does).
   */
  save(path: string): Promise<void> {
    return saveModel(path, this.architecture.owner, { ...this.config }, this.namedWeights());
  }

  private checkItems(items: Int32Array, field: string): void {
    for (let k = 0; k < items.length; k++) {
      if (!(items[k] >= 0 && items[k] < this.config.numItems))
        throw new Error(
          `${this.architecture.owner}.loss: ${field}[${k}] = ${items[k]} is outside [0, ${this.config.numItems})`,
        );
    }
  }

  private checkHistories(histories: UserSequences): UserSequences {
    if (!(histories instanceof UserSequences))
      throw new Error(`${this.architecture.owner}: histories must be UserSequences (UserSequences.from(train))`);
    if (histories.numItems !== this.config.numItems) {
      throw new Error(
        `${this.architecture.owner}: histories have ${histories.numItems} items, the model numItems = ${this.config.numItems}`,
      );
    }
    return histories;
  }
}

// ---------------------------------------------------------------------------------------------
// 4. The output bias
// ---------------------------------------------------------------------------------------------

/** A trainable bias [units] ("bias"), zero-initialised; apply(x) returns x + b. */
export class OutputBias extends tf.layers.Layer {
  static className = "RecsysOutputBias";
  readonly units: number;

  constructor(args: LayerArgs & { units: number }) {
    super(args);
    this.units = checkInteger(OutputBias.className, "units", args.units);
  }

  override build(_inputShape: tf.Shape | tf.Shape[]): void {
    this.addWeight("bias", [this.units], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.add(x, this.weights[0].read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { units: this.units, ...super.getConfig() };
  }
}
tf.serialization.registerClass(OutputBias);
