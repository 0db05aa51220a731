// Training losses for models that score a whole item catalogue (next-item and masked-item prediction):
// softmax cross-entropy from integer labels, the rows to score picked out first, and sampled softmax for
// catalogues too large to score in full.
//
// None of them builds a one-hot [N, C] matrix: on the wasm backend the loss is one fused kernel
// (src/backend/kernels/sparseSoftmaxCrossEntropy.ts); elsewhere it is log-sum-exp minus the label's logit,
// picked with a gather.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import {
  hasFusedKernel,
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD,
} from "../backend/kernels/index";
import { checkPositiveInteger } from "../checks";

function labelTensor(where: string, labels: tf.Tensor1D | Int32Array, rows: number): tf.Tensor1D {
  const tensor = labels instanceof Int32Array ? tf.tensor1d(labels, "int32") : labels;
  if (tensor.rank !== 1 || tensor.shape[0] !== rows || tensor.dtype !== "int32") {
    throw new Error(
      `${where}: labels must be int32 [${rows}] (one per row of logits), got ${tensor.dtype} [${tensor.shape}]`,
    );
  }
  return tensor;
}

/** Per-row losses through the fused wasm kernels, with their gradient. */
function fusedLosses(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const run = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = inputs as [tf.Tensor, tf.GradSaveFunc];
    const [losses, probs] = tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, { logits: z, labels }) as tf.Tensor[];
    save([probs, labels]); // kept for the backward pass, which runs after this forward's tidy
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf
        .engine()
        .runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD, { probs: saved[0], labels: saved[1], dLosses: dy }) as tf.Tensor;
    return { value: losses, gradFunc };
  });
  return run(logits) as tf.Tensor1D;
}

/** Per-row losses from ordinary ops: logSumExp(z_i) − z_i,y_i, the label's logit taken by gather. */
function composedLosses(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [rows, classes] = logits.shape;
  const flatIndex = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(classes, "int32")), labels); // i·C + y_i
  const picked = tf.gather(tf.reshape(logits, [-1]), flatIndex); // [N]
  return tf.sub(tf.logSumExp(logits, 1), picked) as tf.Tensor1D;
}

/**
 * Softmax cross-entropy of each row of `logits` [N, C] against its integer label:
 *
 *   loss_i = −log softmax(z_i)_{y_i} = log Σ_c exp(z_ic) − z_i,y_i
 *
 * returned per row ([N]); take `tf.mean` for the usual batch loss. Same values and gradients as
 * `tf.losses.softmaxCrossEntropy(oneHot(labels), logits, …, Reduction.NONE)`, without the one-hot
 * matrix. Labels must lie in [0, C).
 */
export function softmaxCrossEntropyFromLabels(logits: tf.Tensor2D, labels: tf.Tensor1D | Int32Array): tf.Tensor1D {
  const where = "softmaxCrossEntropyFromLabels";
  if (logits.rank !== 2) throw new Error(`${where}: logits must be [N, C], got [${logits.shape}]`);
  return tf.tidy(() => {
    const y = labelTensor(where, labels, logits.shape[0]);
    const fused = hasFusedKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, logits);
    if (!fused) {
      const values = y.dataSync();
      for (let i = 0; i < values.length; i++) {
        if (!(values[i] >= 0 && values[i] < logits.shape[1])) {
          throw new Error(`${where}: labels[${i}] = ${values[i]} is outside [0, ${logits.shape[1]})`);
        }
      }
    }
    return fused ? fusedLosses(logits, y) : composedLosses(logits, y);
  });
}

/**
 * The rows of `hidden` [B, T, D] at flat positions b·T + t ([P] int32), as [P, D]: score only the
 * positions a loss needs (BERT4Rec's masked positions, the last position) before projecting to the
 * catalogue, which is the expensive step.
 */
export function gatherPositions(hidden: tf.Tensor3D, positions: tf.Tensor1D | Int32Array): tf.Tensor2D {
  const [batch, length, width] = hidden.shape;
  return tf.tidy(() => {
    const index = positions instanceof Int32Array ? tf.tensor1d(positions, "int32") : positions;
    if (index.rank !== 1 || index.dtype !== "int32") {
      throw new Error(`gatherPositions: positions must be int32 [P], got ${index.dtype} [${index.shape}]`);
    }
    const values = index.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] >= 0 && values[i] < batch * length)) {
        throw new Error(`gatherPositions: positions[${i}] = ${values[i]} is outside [0, B·T = ${batch * length})`);
      }
    }
    return tf.gather(tf.reshape(hidden, [batch * length, width]), index) as tf.Tensor2D;
  });
}

export interface SampledSoftmaxConfig {
  /** S, the number of negatives drawn per batch (shared by its rows). */
  numSampled: number;
  /** Draws the negatives; seeds are explicit. */
  rng: Rng;
  /**
   * The proposal q over the C items the negatives are drawn from (with replacement): "uniform", or
   * probabilities (e.g. item popularity), normalised here. Default "uniform".
   */
  proposal?: "uniform" | Float32Array | Float64Array;
  /**
   * Subtract log(S·q(item)) from every candidate's logit (Bengio and Senécal 2008; Jean et al. 2015;
   * the "logQ correction" of Yi et al. 2019), so that the sampled loss estimates the full softmax's
   * gradient. Default true. With a uniform proposal it shifts every logit equally and changes nothing.
   */
  logQCorrection?: boolean;
}

/** The candidates of one sampled-softmax batch: S items drawn from q, and their log(S·q). */
function drawNegatives(
  where: string,
  classes: number,
  config: SampledSoftmaxConfig,
): { items: Int32Array; logExpected: (item: number) => number } {
  const count = config.numSampled;
  checkPositiveInteger(where, "numSampled", count);
  const items = new Int32Array(count);
  const proposal = config.proposal ?? "uniform";
  if (proposal === "uniform") {
    for (let s = 0; s < count; s++) items[s] = config.rng.int(classes);
    return { items, logExpected: () => Math.log(count / classes) };
  }
  if (proposal.length !== classes)
    throw new Error(`${where}: proposal has ${proposal.length} entries, expected C = ${classes}`);
  const cumulative = new Float64Array(classes);
  let total = 0;
  for (let c = 0; c < classes; c++) {
    if (!(proposal[c] >= 0)) throw new Error(`${where}: proposal[${c}] = ${proposal[c]} must be a non-negative number`);
    total += proposal[c];
    cumulative[c] = total;
  }
  if (!(total > 0)) throw new Error(`${where}: the proposal sums to ${total}; it needs positive mass`);
  for (let s = 0; s < count; s++) {
    const u = config.rng.next() * total;
    let lo = 0;
    let hi = classes - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    items[s] = lo;
  }
  // An item of zero mass can still be a label: floor its probability so that the log stays finite.
  return { items, logExpected: (item) => Math.log(count * Math.max(proposal[item] / total, 1e-12)) };
}

/**
 * Sampled softmax cross-entropy (Jean et al. 2015): instead of scoring all C items, score each row's
 * label and S negatives drawn once per batch from the proposal q, and take the softmax over those
 * 1 + S candidates:
 *
 *   o_ij = h_i·w_j + b_j − log(S·q(j))          (the correction only with logQCorrection)
 *   loss_i = −log softmax(o_i,y_i, o_i,s_1, …, o_i,s_S)_0
 *
 * A negative that equals the row's label (an "accidental hit") is left out of that row's softmax.
 * `hidden` [N, D]; `itemWeights` [C, D] (e.g. a tied item-embedding table); `itemBias` [C] optional;
 * labels [N]. Returns the per-row losses [N]. Its expectation is not the full loss; report the full
 * softmax loss on validation data.
 */
export function sampledSoftmaxCrossEntropy(
  hidden: tf.Tensor2D,
  itemWeights: tf.Tensor2D,
  itemBias: tf.Tensor1D | undefined,
  labels: tf.Tensor1D | Int32Array,
  config: SampledSoftmaxConfig,
): tf.Tensor1D {
  const where = "sampledSoftmaxCrossEntropy";
  const [rows, width] = hidden.shape;
  const [classes, itemWidth] = itemWeights.shape;
  if (hidden.rank !== 2 || itemWeights.rank !== 2 || width !== itemWidth) {
    throw new Error(
      `${where}: hidden [N, D] and itemWeights [C, D] must share D, got [${hidden.shape}] and [${itemWeights.shape}]`,
    );
  }
  if (itemBias !== undefined && (itemBias.rank !== 1 || itemBias.shape[0] !== classes)) {
    throw new Error(`${where}: itemBias must be [${classes}], got [${itemBias.shape}]`);
  }
  return tf.tidy(() => {
    const y = labelTensor(where, labels, rows);
    const labelValues = y.dataSync() as Int32Array;
    for (let i = 0; i < rows; i++) {
      if (!(labelValues[i] >= 0 && labelValues[i] < classes))
        throw new Error(`${where}: labels[${i}] = ${labelValues[i]} is outside [0, ${classes})`);
    }
    const { items, logExpected } = drawNegatives(where, classes, config);
    const correct = config.logQCorrection ?? true;
    const negatives = tf.tensor1d(items, "int32");

    // The label's logit per row, and every row against the shared negatives.
    const labelRows = tf.gather(itemWeights, y); // [N, D]
    let positive = tf.sum(tf.mul(hidden, labelRows), 1); // [N]
    let sampled = tf.matMul(hidden, tf.gather(itemWeights, negatives), false, true); // [N, S]
    if (itemBias !== undefined) {
      positive = tf.add(positive, tf.gather(itemBias, y));
      sampled = tf.add(sampled, tf.gather(itemBias, negatives));
    }
    // Constant per-candidate offsets: the logQ correction, and −1e9 on accidental hits.
    const positiveOffset = new Float32Array(rows);
    const sampledOffset = new Float32Array(rows * items.length);
    for (let i = 0; i < rows; i++) {
      if (correct) positiveOffset[i] = -logExpected(labelValues[i]);
      for (let s = 0; s < items.length; s++) {
        let offset = correct ? -logExpected(items[s]) : 0;
        if (items[s] === labelValues[i]) offset = -1e9;
        sampledOffset[i * items.length + s] = offset;
      }
    }
    positive = tf.add(positive, tf.tensor1d(positiveOffset));
    sampled = tf.add(sampled, tf.tensor2d(sampledOffset, [rows, items.length]));
    const candidates = tf.concat([tf.reshape(positive, [rows, 1]), sampled], 1) as tf.Tensor2D; // [N, 1 + S]
    return softmaxCrossEntropyFromLabels(candidates, new Int32Array(rows)); // the label is candidate 0
  });
}

/**
 * The log loss of a batch, as a mean over its B·(1 + n) examples: positives labelled 1, negatives 0,
 *   L = [Σ_b −ln σ(x⁺_b) + Σ_{b,k} −ln(1 − σ(x⁻_bk))] / (B·(1 + n)),
 * written with softplus (−ln σ(x) = softplus(−x), −ln(1 − σ(x)) = softplus(x)), exact for any x.
 */
export function sampledLogLoss(positiveLogits: tf.Tensor1D, negativeLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const total = tf.add(tf.sum(tf.softplus(tf.neg(positiveLogits))), tf.sum(tf.softplus(negativeLogits)));
    return tf.div(total, positiveLogits.size + negativeLogits.size) as tf.Scalar;
  });
}

/** The BPR loss, the mean over the B·n (positive, negative) pairs of −ln σ(x⁺_b − x⁻_bk). */
export function bprLoss(positiveLogits: tf.Tensor1D, negativeLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const margins = tf.sub(tf.expandDims(positiveLogits, 1), negativeLogits); // [B, n]
    return tf.mean(tf.softplus(tf.neg(margins))) as tf.Scalar;
  });
}
