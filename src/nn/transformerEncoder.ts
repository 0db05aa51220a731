// The Transformer encoder (Vaswani et al. 2017, §3.1), the body of BERT, SASRec and BERT4Rec: N identical
// blocks of self-attention and a position-wise feed-forward network, each sub-layer wrapped in a
// residual connection, dropout and layer normalisation. Two placements of the normalisation:
//
//   "post" (Vaswani, BERT):   x ← LN(x + Dropout(MultiHead(x)));   x ← LN(x + Dropout(FFN(x)))
//   "pre"  (GPT-2):           x ← x + Dropout(MultiHead(LN(x)));   x ← x + Dropout(FFN(LN(x)))
//
// Pre-norm keeps an un-normalised residual path from input to output, which trains deep stacks without
// learning-rate warm-up (Xiong et al. 2020); its stack therefore ends with one more LN. (SASRec's code
// is a pre-norm variant that normalises only the queries, MultiHead(LN(x), x, x), with the residual taken
// from LN(x): build it from MultiHeadAttention's [query, value, mask] inputs.)
//
// Inputs: x [B, T, D], or [x, mask] with a mask as MultiHeadAttention takes it (1 = attend, 0 = blocked;
// [B, T] for padding). `causal: true` adds the causal mask. The output has x's shape.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { Rng } from "../backend/random";
import { checkChoice, checkInteger, checkPositive, checkRate, checkSeed } from "../checks";
import { shapeList } from "./args";
import { CompositeLayer } from "./compositeLayer";
import { SeededDropout } from "./dropout";
import { FEED_FORWARD_ACTIVATIONS, FeedForwardActivation, PositionwiseFeedForward } from "./feedForward";
import { KernelInitializerArgs, resolveKernelInitializer } from "./initializers";
import { LayerNormalization } from "./layerNorm";
import { MultiHeadAttention } from "./multiHeadAttention";

export type NormPosition = "post" | "pre";

export interface TransformerEncoderBlockArgs extends LayerArgs, KernelInitializerArgs {
  /** h, the number of attention heads; D must be divisible by it. */
  numHeads: number;
  /** d_ff, the feed-forward inner width (Vaswani: 4·D; BERT's intermediate_size). */
  hiddenDim: number;
  /** Dropout on each sub-layer's output before the residual sum; default 0.1 (Vaswani, BERT). */
  dropout?: number;
  /** Dropout on the attention weights; default `dropout` (BERT's attention_probs_dropout_prob). */
  attentionDropout?: number;
  /** Default "gelu" (BERT); "relu" for Vaswani and SASRec. */
  activation?: FeedForwardActivation;
  /** Where layer normalisation sits; default "post" (Vaswani, BERT). */
  norm?: NormPosition;
  /** LN's ε; default 1e-5 (PyTorch, Keras); BERT uses 1e-12, SASRec 1e-8. */
  layerNormEpsilon?: number;
  /** Block attention to later positions (SASRec); default false (BERT). */
  causal?: boolean;
  /** Seeds every sublayer's initial weights and dropout masks. */
  seed: number;
}

/** The block arguments with defaults filled in, as getConfig stores them. */
export interface TransformerBlockSettings extends Required<KernelInitializerArgs> {
  numHeads: number;
  hiddenDim: number;
  dropout: number;
  attentionDropout: number;
  activation: FeedForwardActivation;
  norm: NormPosition;
  layerNormEpsilon: number;
  causal: boolean;
  seed: number;
}

function resolveBlockSettings(owner: string, args: TransformerEncoderBlockArgs): TransformerBlockSettings {
  const dropout = checkRate(owner, "dropout", args.dropout ?? 0.1);
  return {
    numHeads: checkInteger(owner, "numHeads", args.numHeads),
    hiddenDim: checkInteger(owner, "hiddenDim", args.hiddenDim),
    dropout,
    attentionDropout: checkRate(owner, "attentionDropout", args.attentionDropout ?? dropout),
    activation: checkChoice(owner, "activation", args.activation ?? "gelu", FEED_FORWARD_ACTIVATIONS),
    norm: checkChoice(owner, "norm", args.norm ?? "post", ["post", "pre"] as const),
    layerNormEpsilon: checkPositive(owner, "layerNormEpsilon", args.layerNormEpsilon ?? 1e-5),
    causal: args.causal ?? false,
    seed: checkSeed(owner, args.seed),
    ...resolveKernelInitializer(owner, args),
  };
}

/** `x` or `[x, mask]`. */
function unpackSequence(owner: string, inputs: tf.Tensor | tf.Tensor[]): { x: tf.Tensor; mask?: tf.Tensor } {
  if (!Array.isArray(inputs)) return { x: inputs };
  if (inputs.length === 1) return { x: inputs[0] };
  if (inputs.length === 2) return { x: inputs[0], mask: inputs[1] };
  throw new Error(`${owner}: expected x or [x, mask], got ${inputs.length} inputs`);
}

function checkSequenceShape(owner: string, inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  const shape = shapeList(inputShape)[0];
  if (shape.length !== 3 || shape[2] == null)
    throw new Error(`${owner}: expected x [B, T, D] with D known, got [${shape}]`);
  return shape;
}

/**
 * One encoder block. Sublayers (weight-name prefixes): attention, attention_output_dropout,
 * attention_norm, feed_forward, feed_forward_dropout, feed_forward_norm.
 */
export class TransformerEncoderBlock extends CompositeLayer {
  static className = "RecsysTransformerEncoderBlock";
  readonly settings: Readonly<TransformerBlockSettings>;
  readonly attention: MultiHeadAttention;
  readonly attentionNorm: LayerNormalization;
  readonly feedForward: PositionwiseFeedForward;
  readonly feedForwardNorm: LayerNormalization;
  private readonly attentionOutputDropout: SeededDropout;
  private readonly feedForwardDropout: SeededDropout;

  constructor(args: TransformerEncoderBlockArgs) {
    super(args);
    const s = resolveBlockSettings(TransformerEncoderBlock.className, args);
    this.settings = s;
    const rng = new Rng(s.seed);
    const init = { kernelInitializer: s.kernelInitializer, initializerRange: s.initializerRange };
    this.attention = this.addSublayer(
      new MultiHeadAttention({
        name: "attention",
        numHeads: s.numHeads,
        dropout: s.attentionDropout,
        causal: s.causal,
        returnAttentionWeights: true,
        seed: rng.tfSeed(),
        ...init,
      }),
    );
    this.attentionOutputDropout = this.addSublayer(
      new SeededDropout({ name: "attention_output_dropout", rate: s.dropout, seed: rng.tfSeed() }),
    );
    this.attentionNorm = this.addSublayer(
      new LayerNormalization({ name: "attention_norm", epsilon: s.layerNormEpsilon }),
    );
    this.feedForward = this.addSublayer(
      new PositionwiseFeedForward({
        name: "feed_forward",
        hiddenDim: s.hiddenDim,
        activation: s.activation,
        seed: rng.tfSeed(),
        ...init,
      }),
    );
    this.feedForwardDropout = this.addSublayer(
      new SeededDropout({ name: "feed_forward_dropout", rate: s.dropout, seed: rng.tfSeed() }),
    );
    this.feedForwardNorm = this.addSublayer(
      new LayerNormalization({ name: "feed_forward_norm", epsilon: s.layerNormEpsilon }),
    );
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const x = checkSequenceShape(this.name, inputShape);
    this.buildSublayer(this.attention, [x, x]);
    this.buildSublayer(this.attentionOutputDropout, x);
    this.buildSublayer(this.attentionNorm, x);
    this.buildSublayer(this.feedForward, x);
    this.buildSublayer(this.feedForwardDropout, x);
    this.buildSublayer(this.feedForwardNorm, x);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const { x, mask } = unpackSequence(this.name, inputs);
      return this.forward(x, mask, kwargs.training === true).output;
    });
  }

  /**
   * The block's output [B, T, D] and its attention weights [B, H, T, T], for concrete tensors once
   * built; run it inside tf.tidy.
   */
  forward(x: tf.Tensor, mask: tf.Tensor | undefined, training: boolean): { output: tf.Tensor; weights: tf.Tensor } {
    const kwargs = { training };
    const selfAttention = (h: tf.Tensor) =>
      this.attention.apply(mask === undefined ? h : [h, h, mask], kwargs) as tf.Tensor[];
    const apply = (layer: tf.layers.Layer, h: tf.Tensor) => layer.apply(h, kwargs) as tf.Tensor;
    if (this.settings.norm === "post") {
      const [attended, weights] = selfAttention(x);
      const y = apply(this.attentionNorm, tf.add(x, apply(this.attentionOutputDropout, attended)));
      const output = apply(this.feedForwardNorm, tf.add(y, apply(this.feedForwardDropout, apply(this.feedForward, y))));
      return { output, weights };
    }
    const [attended, weights] = selfAttention(apply(this.attentionNorm, x));
    const y = tf.add(x, apply(this.attentionOutputDropout, attended));
    const output = tf.add(y, apply(this.feedForwardDropout, apply(this.feedForward, apply(this.feedForwardNorm, y))));
    return { output, weights };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.settings, ...super.getConfig() };
  }
}
tf.serialization.registerClass(TransformerEncoderBlock);

export interface TransformerEncoderArgs extends TransformerEncoderBlockArgs {
  /** N, the number of blocks (BERT-base: 12; SASRec, BERT4Rec: 2). */
  numLayers: number;
}

/** N TransformerEncoderBlocks ("block_0", …), plus a final LN ("final_norm") when norm is "pre". */
export class TransformerEncoder extends CompositeLayer {
  static className = "RecsysTransformerEncoder";
  readonly numLayers: number;
  readonly settings: Readonly<TransformerBlockSettings>;
  readonly blocks: readonly TransformerEncoderBlock[];
  readonly finalNorm: LayerNormalization | null;

  constructor(args: TransformerEncoderArgs) {
    super(args);
    const owner = TransformerEncoder.className;
    this.numLayers = checkInteger(owner, "numLayers", args.numLayers);
    const s = resolveBlockSettings(owner, args);
    this.settings = s;
    const rng = new Rng(s.seed);
    const blocks: TransformerEncoderBlock[] = [];
    for (let i = 0; i < this.numLayers; i++) {
      blocks.push(this.addSublayer(new TransformerEncoderBlock({ ...s, name: `block_${i}`, seed: rng.tfSeed() })));
    }
    this.blocks = blocks;
    this.finalNorm =
      s.norm === "pre"
        ? this.addSublayer(new LayerNormalization({ name: "final_norm", epsilon: s.layerNormEpsilon }))
        : null;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const x = checkSequenceShape(this.name, inputShape);
    for (const block of this.blocks) this.buildSublayer(block, x);
    if (this.finalNorm !== null) this.buildSublayer(this.finalNorm, x);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const { x, mask } = unpackSequence(this.name, inputs);
      return this.forward(x, mask, kwargs.training === true).output;
    });
  }

  /**
   * Each block's attention weights [B, H, T, T], in inference mode, e.g. to plot which positions attend
   * to which. For concrete tensors; the caller disposes the result.
   */
  attentionWeights(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    if (!this.built) tf.dispose(this.apply(inputs) as tf.Tensor | tf.Tensor[]); // builds, under this layer's name scope
    return tf.tidy(() => {
      const { x, mask } = unpackSequence(this.name, inputs);
      return this.forward(x, mask, false).weights;
    });
  }

  private forward(
    x: tf.Tensor,
    mask: tf.Tensor | undefined,
    training: boolean,
  ): { output: tf.Tensor; weights: tf.Tensor[] } {
    const weights: tf.Tensor[] = [];
    let h = x;
    for (const block of this.blocks) {
      const result = block.forward(h, mask, training);
      weights.push(result.weights);
      h = result.output;
    }
    const output = this.finalNorm === null ? h : (this.finalNorm.apply(h) as tf.Tensor);
    return { output, weights };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { numLayers: this.numLayers, ...this.settings, ...super.getConfig() };
  }
}
tf.serialization.registerClass(TransformerEncoder);
