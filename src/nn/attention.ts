// Scaled dot-product attention (Vaswani et al., "Attention Is All You Need", 2017, §3.2.1; the seed's
// section 1.3.1.1, 自注意力机制):
//
//   Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V
//
// and the masks that keep a position from attending to padding or to the future.
//
// Mask convention, used by every layer in src/nn: 1 = may attend, 0 = blocked. A mask is any tensor that
// broadcasts against the scores [B, H, T_q, T_k]: a padding mask [B, 1, 1, T_k] (one row per sequence,
// blocking its padded keys), a causal mask [1, 1, T, T] (lower-triangular), or their product. Blocked
// scores get MASK_FILL added before the softmax, so their weights underflow to exactly 0 while a row whose
// keys are all blocked (a padding query) stays finite: uniform, never NaN.

import * as tf from "@tensorflow/tfjs";
import { hasFusedKernel, SOFTMAX } from "../backend/kernels/index";
import type { Rng } from "../backend/random";
import { checkChoice, checkInteger, checkRate } from "../checks";
import { dropUnits } from "./dropout";

/**
 * What a blocked score becomes (added to it): −1e9. BERT's code uses −10000, enough for its score range;
 * −1e9 leaves no doubt, and float32 still represents it exactly enough for exp() to give 0.
 */
export const MASK_FILL = -1e9;

export interface AttentionOptions {
  /** 1 = attend, 0 = blocked; broadcastable to the scores [..., T_q, T_k]. Any dtype (cast to float32). */
  mask?: tf.Tensor;
  /** Dropout rate on the attention weights, applied only when `training`; default 0. */
  dropout?: number;
  /** Default false. */
  training?: boolean;
  /** Draws the dropout mask's keys, fresh ones per call; required when dropout is active. */
  rng?: Rng;
}

export interface AttentionResult {
  /** softmax(Q·Kᵀ/√d_k)·V: [..., T_q, D_v]. */
  output: tf.Tensor;
  /** The attention weights (before dropout), each row summing to 1: [..., T_q, T_k]. */
  weights: tf.Tensor;
}

/**
 * Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + fill·(1 − mask))·V over the last two axes, batched over the
 * leading ones: q [..., T_q, d_k], k [..., T_k, d_k], v [..., T_k, d_v] (typically [B, H, T, D]).
 * Returns new tensors; the caller disposes them.
 */
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions = {},
): AttentionResult {
  checkAttentionShapes(q, k, v);
  const rate = checkRate("scaledDotProductAttention", "dropout", options.dropout ?? 0);
  const dropoutActive = rate > 0 && options.training === true;
  if (dropoutActive && options.rng === undefined) {
    throw new Error("scaledDotProductAttention: dropout in training needs an rng (seeds are explicit in recsys-ts)");
  }
  return tf.tidy(() => {
    const keyDim = q.shape[q.rank - 1];
    // (Q/√d_k)·Kᵀ: the scale on Q's T·d_k elements, not on the T·T scores (the same product).
    let scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(keyDim)), k, false, true); // [..., T_q, T_k]
    if (options.mask !== undefined) {
      const blocked = tf.sub(1, tf.cast(options.mask, "float32")); // 1 where blocked
      scores = tf.add(scores, tf.mul(blocked, MASK_FILL));
    }
    const weights = softmaxOverKeys(scores); // over T_k
    const attended = dropoutActive
      ? dropUnits(weights, { rate, key1: options.rng!.nextUint32(), key2: options.rng!.nextUint32() })
      : weights;
    const output = tf.matMul(attended, v); // [..., T_q, D_v]
    return { output, weights };
  });
}

/** tf.softmax over the last axis; one SIMD kernel each way where the backend has it (wasm). */
function softmaxOverKeys(scores: tf.Tensor): tf.Tensor {
  if (hasFusedKernel(SOFTMAX, scores)) {
    return tf.engine().runKernel(SOFTMAX, { logits: scores }) as tf.Tensor;
  }
  return tf.softmax(scores);
}

function checkAttentionShapes(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  const where = "scaledDotProductAttention";
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new Error(`${where}: q, k, v must have the same rank >= 2, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  if (q.shape[q.rank - 1] !== k.shape[k.rank - 1]) {
    throw new Error(`${where}: q and k must share their last axis d_k, got [${q.shape}] and [${k.shape}]`);
  }
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new Error(`${where}: k and v must have the same length T_k, got [${k.shape}] and [${v.shape}]`);
  }
}

/**
 * The causal mask [1, 1, t, t]: position i may attend to positions j <= i only, so that a
 * left-to-right model (SASRec) cannot see the items it is asked to predict.
 */
export function causalMask(t: number): tf.Tensor4D {
  checkInteger("causalMask", "t", t);
  return tf.tidy(() => tf.reshape(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), [1, 1, t, t]));
}

/** The padding mask [B, 1, 1, T] of token ids [B, T]: 1 where the id is not `padId`, 0 where it is. */
export function paddingMask(ids: tf.Tensor, padId = 0): tf.Tensor4D {
  if (ids.rank !== 2) throw new Error(`paddingMask: ids must be [B, T], got shape [${ids.shape}]`);
  const [batch, length] = ids.shape;
  return tf.tidy(() => tf.reshape(tf.cast(tf.notEqual(ids, padId), "float32"), [batch, 1, 1, length]));
}

export interface LengthMaskConfig {
  /** T, the padded length. */
  maxLength: number;
  /** Which side the padding is on: "right" (tokens first) or "left" (tokens last, as SASRec pads). Default "right". */
  padding?: "right" | "left";
}

/** The padding mask [B, 1, 1, T] of sequences with the given real lengths (each <= maxLength). */
export function lengthMask(lengths: ArrayLike<number>, config: LengthMaskConfig): tf.Tensor4D {
  const t = checkInteger("lengthMask", "maxLength", config.maxLength);
  const padding = checkChoice("lengthMask", "padding", config.padding ?? "right", ["right", "left"] as const);
  const values = new Float32Array(lengths.length * t);
  for (let b = 0; b < lengths.length; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 0 || n > t) {
      throw new Error(`lengthMask: lengths[${b}] must be an integer in [0, ${t}], got ${n}`);
    }
    const start = padding === "right" ? 0 : t - n;
    values.fill(1, b * t + start, b * t + start + n);
  }
  return tf.tensor4d(values, [lengths.length, 1, 1, t]);
}
