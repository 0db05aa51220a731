// Multi-head attention (Vaswani et al. 2017, §3.2.2; the seed's section 1.3.1.2, 多头注意力):
//
//   head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V)
//   MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W^O
//
// All heads at once: one projection to [B, T, H·d_k], reshaped and transposed to [B, H, T, d_k], so that
// one batched matMul computes every head (no per-head loop), then merged back to [B, T, H·d_v] for W^O.
// On wasm, one kernel attends with every head where the projections lie (packedHeadsAttention), and
// self-attention makes Q, K and V in one product, as nanoGPT's c_attn does.
//
// Inputs, as a single tensor or a list (masks are explicit inputs, not Keras's implicit mask propagation,
// so that they appear in the functional graph and in model summaries):
//   x                      self-attention, Q = K = V = x            [B, T, D]
//   [query, value]         attention from query to value (K = V)    [B, T_q, D_q], [B, T_k, D_v]
//   [query, value, mask]   with a mask, 1 = attend, 0 = blocked:   [B, T_k] (padding), [B, T_q, T_k],
//                          or already broadcastable [B, 1, 1, T_k] / [B, 1, T_q, T_k]
// For masked self-attention pass [x, x, mask]. `causal: true` adds the causal mask on top.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { Rng } from "../backend/random";
import { checkInteger, checkRate, checkSeed } from "../checks";
import { shapeList } from "./args";
import { ATTENTION, type AttentionAttrs, hasFusedKernel, SELF_ATTENTION } from "../backend/kernels/index";
import { type AttentionOptions, type AttentionResult, causalMask, scaledDotProductAttention } from "./attention";
import { KernelInitializerArgs, kernelInitializer, resolveKernelInitializer } from "./initializers";
import { linear } from "./linear";

export interface MultiHeadAttentionArgs extends LayerArgs, KernelInitializerArgs {
  /** h, the number of heads. */
  numHeads: number;
  /** d_k, the size of each head's queries and keys; default D_query / numHeads (Vaswani's d_model / h). */
  keyDim?: number;
  /** d_v, the size of each head's values; default keyDim. */
  valueDim?: number;
  /** Width of the output; default D_query, so that the layer fits a residual connection. */
  outputDim?: number;
  /** Biases on the four projections; default true (BERT has them). */
  useBias?: boolean;
  /** Dropout rate on the attention weights in training; default 0 (BERT: 0.1). */
  dropout?: number;
  /** Block attention to later positions (SASRec); default false (BERT). */
  causal?: boolean;
  /** Also output the attention weights [B, H, T_q, T_k], e.g. to plot them; default false. */
  returnAttentionWeights?: boolean;
  /** Seeds the initial weights and the dropout masks. */
  seed: number;
}

/** [B, T, H·d] → [B, H, T, d]: the heads' slices of the last axis become a batch axis. */
export function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor4D {
  const [batch, length, width] = x.shape;
  if (x.rank !== 3 || width % numHeads !== 0) {
    throw new Error(`splitHeads: expected [B, T, H·d] with H = ${numHeads}, got shape [${x.shape}]`);
  }
  return tf.tidy(() => tf.transpose(tf.reshape(x, [batch, length, numHeads, width / numHeads]), [0, 2, 1, 3]));
}

/** [B, H, T, d] → [B, T, H·d]: Concat(head_1, …, head_h) along the last axis. */
export function mergeHeads(x: tf.Tensor): tf.Tensor3D {
  if (x.rank !== 4) throw new Error(`mergeHeads: expected [B, H, T, d], got shape [${x.shape}]`);
  const [batch, numHeads, length, width] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, length, numHeads * width]));
}

/** A mask of rank 2, 3 or 4 (see the header) as a tensor broadcastable to [B, H, T_q, T_k]. */
function broadcastableMask(mask: tf.Tensor): tf.Tensor {
  switch (mask.rank) {
    case 2: {
      const [batch, keys] = mask.shape as number[];
      return tf.reshape(mask, [batch, 1, 1, keys]);
    }
    case 3:
      return tf.expandDims(mask, 1);
    case 4:
      return mask;
    default:
      throw new Error(`MultiHeadAttention: the mask must be [B, T_k], [B, T_q, T_k] or 4-D, got shape [${mask.shape}]`);
  }
}

export interface PackedHeadsAttentionOptions extends AttentionOptions {
  /** H: the projections hold H heads side by side in their last axis. */
  numHeads: number;
  /** Also block attention to later positions (T_q = T_k); default false. */
  causal?: boolean;
}

/**
 * The projected queries, keys and values, each [B, T, H·d] with the heads side by side: three tensors,
 * or, for self-attention, one qkv [B, T, H·(2·d_k + d_v)] holding Q, K and V in that order (one product
 * of x with the three projections' kernels side by side).
 */
export type HeadProjections = { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } | { qkv: tf.Tensor; keyDim: number };

/**
 * Concat(head_1, …, head_H) for projections with the heads side by side in the last axis: q [B, T_q,
 * H·d_k], k [B, T_k, H·d_k], v [B, T_k, H·d_v] (or qkv) → output [B, T_q, H·d_v] and the weights
 * [B, H, T_q, T_k]. The mask is as MultiHeadAttention's. Where the backend has the fused kernels (wasm)
 * and the mask is a padding mask ([B, T_k] or [B, 1, 1, T_k]) or absent, one kernel computes every head
 * in place (src/backend/kernels/attention.ts), dropping the same units; otherwise the heads are split
 * into a batch axis for `scaledDotProductAttention` and merged back.
 */
export function packedHeadsAttention(
  projections: HeadProjections,
  options: PackedHeadsAttentionOptions,
): AttentionResult {
  const { numHeads, mask, causal = false } = options;
  const rate = checkRate("packedHeadsAttention", "dropout", options.dropout ?? 0);
  const dropoutActive = rate > 0 && options.training === true;
  if (dropoutActive && options.rng === undefined) {
    throw new Error("packedHeadsAttention: dropout in training needs an rng (seeds are explicit in recsys-ts)");
  }
  const packed = "qkv" in projections;
  const first = packed ? projections.qkv : projections.q;
  const [batch, queries, width] = first.shape;
  const keyDim = packed ? projections.keyDim : (width as number) / numHeads;
  const keys = packed ? queries : projections.k.shape[1];
  if (fusedKernelRuns(packed ? SELF_ATTENTION : ATTENTION, first, mask, keys as number)) {
    const [key1, key2] = dropoutActive ? [options.rng!.nextUint32(), options.rng!.nextUint32()] : [0, 0];
    const attrs: AttentionAttrs = {
      numHeads,
      keyDim,
      scale: 1 / Math.sqrt(keyDim),
      causal,
      rate: dropoutActive ? rate : 0,
      key1,
      key2,
    };
    return tf.tidy(() => {
      const inputs: tf.NamedTensorMap = packed
        ? { qkv: projections.qkv }
        : { q: projections.q, k: projections.k, v: projections.v };
      if (mask !== undefined) inputs.mask = tf.cast(tf.reshape(mask, [batch, keys as number]), "float32"); // [B, T_k]
      const [output, weights] = tf
        .engine()
        .runKernel(packed ? SELF_ATTENTION : ATTENTION, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { output, weights };
    });
  }
  return tf.tidy(() => {
    let [q, k, v] = packed ? [] : [projections.q, projections.k, projections.v];
    if (packed) {
      const valueWidth = (width as number) - 2 * numHeads * keyDim;
      [q, k, v] = tf.split(projections.qkv, [numHeads * keyDim, numHeads * keyDim, valueWidth], 2);
    }
    let attentionMask = mask === undefined ? undefined : broadcastableMask(mask);
    if (causal) {
      const future = causalMask(queries as number); // [1, 1, T, T]
      attentionMask = attentionMask === undefined ? future : tf.mul(attentionMask, future);
    }
    const heads = scaledDotProductAttention(
      splitHeads(q!, numHeads), // [B, H, T_q, d_k]
      splitHeads(k!, numHeads), // [B, H, T_k, d_k]
      splitHeads(v!, numHeads), // [B, H, T_k, d_v]
      { mask: attentionMask, dropout: rate, training: options.training, rng: options.rng },
    );
    return { output: mergeHeads(heads.output), weights: heads.weights };
  });
}

/**
 * Whether `packedHeadsAttention` runs `kernelName` (ATTENTION or SELF_ATTENTION) on projections like
 * x [B, T, ·] over `keys` keys with this mask: where registered (wasm), for a padding mask or none.
 */
function fusedKernelRuns(kernelName: string, x: tf.Tensor, mask: tf.Tensor | undefined, keys: number): boolean {
  return hasFusedKernel(kernelName, x) && x.rank === 3 && (mask === undefined || isPaddingMask(mask, x.shape[0], keys));
}

/** Whether `mask` is a padding mask, one row of keys per sequence: [B, T_k] or [B, 1, 1, T_k]. */
function isPaddingMask(mask: tf.Tensor, batch: number, keys: number): boolean {
  return tf.util.arraysEqual(mask.shape, [batch, keys]) || tf.util.arraysEqual(mask.shape, [batch, 1, 1, keys]);
}

/**
 * Weights, in `getWeights()` order: query/kernel [D_q, H·d_k], query/bias, key/kernel [D_v, H·d_k],
 * key/bias, value/kernel [D_v, H·d_v], value/bias, output/kernel [H·d_v, D_out], output/bias (biases
 * only with useBias).
 */
export class MultiHeadAttention extends tf.layers.Layer {
  static className = "RecsysMultiHeadAttention";
  readonly numHeads: number;
  readonly useBias: boolean;
  readonly dropout: number;
  readonly causal: boolean;
  readonly returnAttentionWeights: boolean;
  readonly seed: number;
  // As given (null = derive from the input shapes), for build and getConfig.
  private readonly requested: { keyDim: number | null; valueDim: number | null; outputDim: number | null };
  private readonly init: Required<KernelInitializerArgs>;
  private readonly initRng: Rng;
  private readonly dropoutRng: Rng;
  // Resolved at build time from the input shapes.
  private dims: { keyDim: number; valueDim: number; outputDim: number } | null = null;
  private kernels: {
    query: tf.LayerVariable;
    key: tf.LayerVariable;
    value: tf.LayerVariable;
    output: tf.LayerVariable;
  } | null = null;
  private biases: {
    query: tf.LayerVariable;
    key: tf.LayerVariable;
    value: tf.LayerVariable;
    output: tf.LayerVariable;
  } | null = null;

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    const owner = MultiHeadAttention.className;
    this.numHeads = checkInteger(owner, "numHeads", args.numHeads);
    const optionalDim = (field: string, value: number | null | undefined) =>
      value == null ? null : checkInteger(owner, field, value);
    this.requested = {
      keyDim: optionalDim("keyDim", args.keyDim),
      valueDim: optionalDim("valueDim", args.valueDim),
      outputDim: optionalDim("outputDim", args.outputDim),
    };
    this.useBias = args.useBias ?? true;
    this.dropout = checkRate(owner, "dropout", args.dropout ?? 0);
    this.causal = args.causal ?? false;
    this.returnAttentionWeights = args.returnAttentionWeights ?? false;
    this.seed = checkSeed(owner, args.seed);
    this.init = resolveKernelInitializer(owner, args);
    const rng = new Rng(this.seed);
    this.initRng = rng.fork();
    this.dropoutRng = rng.fork();
  }

  /** d_k, d_v and the output width, once built. */
  get dimensions(): { keyDim: number; valueDim: number; outputDim: number } {
    if (this.dims === null) throw new Error(`${this.name}: the layer is not built yet`);
    return this.dims;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = shapeList(inputShape);
    const [queryShape, valueShape] = [shapes[0], shapes[1] ?? shapes[0]];
    for (const shape of [queryShape, valueShape]) {
      if (shape.length !== 3 || shape[2] == null) {
        throw new Error(`${this.name}: query and value must be [B, T, D] with D known, got [${shape}]`);
      }
    }
    const queryWidth = queryShape[2] as number;
    const valueWidth = valueShape[2] as number;
    let keyDim = this.requested.keyDim;
    if (keyDim === null) {
      if (queryWidth % this.numHeads !== 0) {
        throw new Error(
          `${this.name}: the query width ${queryWidth} is not divisible by numHeads ${this.numHeads}; set keyDim`,
        );
      }
      keyDim = queryWidth / this.numHeads;
    }
    const valueDim = this.requested.valueDim ?? keyDim;
    const outputDim = this.requested.outputDim ?? queryWidth;
    this.dims = { keyDim, valueDim, outputDim };

    const h = this.numHeads;
    const kernel = (name: string, shape: number[]) =>
      this.addWeight(`${name}/kernel`, shape, "float32", kernelInitializer(this.init, this.initRng));
    const bias = (name: string, size: number) =>
      this.addWeight(`${name}/bias`, [size], "float32", tf.initializers.zeros());
    const query = kernel("query", [queryWidth, h * keyDim]);
    const queryBias = this.useBias ? bias("query", h * keyDim) : null;
    const key = kernel("key", [valueWidth, h * keyDim]);
    const keyBias = this.useBias ? bias("key", h * keyDim) : null;
    const value = kernel("value", [valueWidth, h * valueDim]);
    const valueBias = this.useBias ? bias("value", h * valueDim) : null;
    const output = kernel("output", [h * valueDim, outputDim]);
    const outputBias = this.useBias ? bias("output", outputDim) : null;
    this.kernels = { query, key, value, output };
    if (queryBias && keyBias && valueBias && outputBias) {
      this.biases = { query: queryBias, key: keyBias, value: valueBias, output: outputBias };
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const { query, value, mask } = this.unpack(inputs);
      const { output, weights } = this.attend(query, value, mask, kwargs.training === true);
      return this.returnAttentionWeights ? [output, weights] : output;
    });
  }

  /** The output [B, T_q, D_out] and the attention weights [B, H, T_q, T_k] for concrete inputs. */
  private attend(query: tf.Tensor, value: tf.Tensor, mask: tf.Tensor | undefined, training: boolean) {
    const kernels = this.kernels!;
    const biases = this.biases;
    if (this.causal && query.shape[1] !== value.shape[1]) {
      throw new Error(`${this.name}: causal attention needs T_q = T_k, got ${query.shape[1]} and ${value.shape[1]}`);
    }
    let projections: HeadProjections;
    if (query === value && fusedKernelRuns(SELF_ATTENTION, query, mask, query.shape[1] as number)) {
      // One product with the three kernels side by side: [B, T, H·(2·d_k + d_v)].
      const kernel = tf.concat([kernels.query.read(), kernels.key.read(), kernels.value.read()], 1);
      const bias = biases && tf.concat([biases.query.read(), biases.key.read(), biases.value.read()], 0);
      const qkv = linear(query, kernel, bias ?? undefined);
      projections = { qkv, keyDim: this.dimensions.keyDim };
    } else {
      projections = {
        q: linear(query, kernels.query.read(), biases?.query.read()), // [B, T_q, H·d_k]
        k: linear(value, kernels.key.read(), biases?.key.read()), // [B, T_k, H·d_k]
        v: linear(value, kernels.value.read(), biases?.value.read()), // [B, T_k, H·d_v]
      };
    }
    const heads = packedHeadsAttention(projections, {
      numHeads: this.numHeads,
      mask,
      causal: this.causal,
      dropout: this.dropout,
      training,
      rng: this.dropoutRng,
    }); // output [B, T_q, H·d_v] (the heads concatenated), weights [B, H, T_q, T_k]
    const output = linear(heads.output, kernels.output.read(), biases?.output.read()); // [B, T_q, D_out]
    return { output, weights: heads.weights };
  }

  private unpack(inputs: tf.Tensor | tf.Tensor[]): { query: tf.Tensor; value: tf.Tensor; mask?: tf.Tensor } {
    if (!Array.isArray(inputs)) return { query: inputs, value: inputs };
    if (inputs.length === 1) return { query: inputs[0], value: inputs[0] };
    if (inputs.length === 2) return { query: inputs[0], value: inputs[1] };
    if (inputs.length === 3) return { query: inputs[0], value: inputs[1], mask: inputs[2] };
    throw new Error(`${this.name}: expected x, [query, value] or [query, value, mask], got ${inputs.length} inputs`);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = shapeList(inputShape);
    const [queryShape, valueShape] = [shapes[0], shapes[1] ?? shapes[0]];
    const outputDim = this.requested.outputDim ?? queryShape[2];
    const output: tf.Shape = [queryShape[0], queryShape[1], outputDim];
    if (!this.returnAttentionWeights) return output;
    return [output, [queryShape[0], this.numHeads, queryShape[1], valueShape[1]]];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      numHeads: this.numHeads,
      keyDim: this.requested.keyDim,
      valueDim: this.requested.valueDim,
      outputDim: this.requested.outputDim,
      useBias: this.useBias,
      dropout: this.dropout,
      causal: this.causal,
      returnAttentionWeights: this.returnAttentionWeights,
      kernelInitializer: this.init.kernelInitializer,
      initializerRange: this.init.initializerRange,
      seed: this.seed,
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(MultiHeadAttention);
