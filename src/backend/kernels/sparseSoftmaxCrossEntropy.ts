// Softmax cross-entropy from integer labels, as two wasm kernels (forward and gradient), for
// `softmaxCrossEntropyFromLabels` in src/train/losses.ts.
//
// Composed from tfjs ops, the loss over a catalogue-sized softmax makes several full passes over the
// [N, C] logits (max, subtract, exp, sum, log, the one-hot product, and as many again backwards), and
// wasm's Exp alone runs at ~15 ns per element. Here (simd.wat) the forward pass is one sweep per row
// (max, then exp and sum, keeping the probabilities for the gradient) and the gradient one more:
//
//   loss_i = log Σ_c exp(z_ic) − z_i,y_i          ∂loss_i/∂z_ic = p_ic − [c = y_i]
//
// Custom kernel names: tfjs has no such op. They are registered for the wasm backend only; the loss
// composes ordinary ops on other backends.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs } from "./kernelArgs";

/** Inputs logits [N, C] float32, labels [N] int32; outputs losses [N] and probabilities [N, C]. */
export const SPARSE_SOFTMAX_CROSS_ENTROPY = "RecsysSparseSoftmaxCrossEntropy";
/** Inputs probabilities [N, C], labels [N] int32, dLosses [N]; output dLogits [N, C]. */
export const SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD = "RecsysSparseSoftmaxCrossEntropyGrad";

function checkInputs(
  where: string,
  matrix: tf.TensorInfo | undefined,
  labels: tf.TensorInfo | undefined,
): [number, number] {
  if (matrix === undefined || labels === undefined) throw new Error(`${where}: missing input`);
  if (matrix.shape.length !== 2 || matrix.dtype !== "float32") {
    throw new Error(`${where}: expected float32 [N, C] scores, got ${matrix.dtype} [${matrix.shape}]`);
  }
  const [rows, classes] = matrix.shape;
  if (labels.dtype !== "int32" || labels.shape.length !== 1 || labels.shape[0] !== rows) {
    throw new Error(`${where}: labels must be int32 [${rows}], got ${labels.dtype} [${labels.shape}]`);
  }
  return [rows, classes];
}

/** Forward: per-row loss and softmax probabilities; a label outside [0, C) is an error. */
export function sparseSoftmaxCrossEntropyWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { logits, labels } = args.inputs as { logits?: tf.TensorInfo; labels?: tf.TensorInfo };
  const where = "softmaxCrossEntropyFromLabels (wasm)";
  const [rows, classes] = checkInputs(where, logits, labels);
  const ids = backend.typedArrayFromHeap(labels!) as Int32Array;
  for (let i = 0; i < rows; i++) {
    // Checked before any output is allocated, so that an error leaves nothing behind.
    if (!(ids[i] >= 0 && ids[i] < classes))
      throw new Error(`${where}: labels[${i}] = ${ids[i]} is outside [0, ${classes})`);
  }
  const simd = requireSimdKernels(backend, where);
  const losses = backend.makeOutput([rows], "float32");
  const probs = backend.makeOutput([rows, classes], "float32");
  const at = (x: tf.TensorInfo) => heapOffset(backend, x);
  const operands = [at(logits!), at(labels!), rows, classes, at(losses), at(probs)];
  const row = 4 * classes;
  const job: PooledRows = {
    kernel: "softmax_cross_entropy",
    args: operands,
    perRow: [row, 4, 0, 0, 4, row],
    count: 2,
    rows,
    rowAlign: 1,
  };
  runRowKernel(backend, simd, job, classes);
  return [losses, probs];
}

/** Gradient: dLogits[i, c] = dLosses[i]·(p[i, c] − [c = labels[i]]). */
export function sparseSoftmaxCrossEntropyGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { probs, labels, dLosses } = args.inputs as {
    probs?: tf.TensorInfo;
    labels?: tf.TensorInfo;
    dLosses?: tf.TensorInfo;
  };
  const where = "softmaxCrossEntropyFromLabels gradient (wasm)";
  const [rows, classes] = checkInputs(where, probs, labels);
  if (dLosses === undefined || dLosses.dtype !== "float32" || tf.util.sizeFromShape(dLosses.shape) !== rows) {
    throw new Error(`${where}: dLosses must be float32 [${rows}]`);
  }
  const simd = requireSimdKernels(backend, where);
  const out = backend.makeOutput([rows, classes], "float32");
  const operands = [
    heapOffset(backend, probs!),
    heapOffset(backend, labels!),
    heapOffset(backend, dLosses),
    rows,
    classes,
    heapOffset(backend, out),
  ];
  const row = 4 * classes;
  const job: PooledRows = {
    kernel: "softmax_cross_entropy_grad",
    args: operands,
    perRow: [row, 4, 4, 0, 0, row],
    count: 3,
    rows,
    rowAlign: 1,
  };
  runRowKernel(backend, simd, job, classes);
  return out;
}

export const sparseSoftmaxCrossEntropyWasmConfigs: readonly tf.KernelConfig[] = [
  {
    kernelName: SPARSE_SOFTMAX_CROSS_ENTROPY,
    backendName: "wasm",
    kernelFunc: sparseSoftmaxCrossEntropyWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
  { kernelName: SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD, backendName: "wasm", kernelFunc: sparseSoftmaxCrossEntropyGradWasm },
];
