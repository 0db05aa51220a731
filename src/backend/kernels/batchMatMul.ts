// A faster `BatchMatMul` for tfjs's wasm backend when an operand is transposed.
//
// The wasm kernel multiplies with transposeA/transposeB flags 6–30× slower than it multiplies plain
// operands (measured here: 154–304 ms against 9–26 ms for the shapes of a transformer's backward
// pass), and tfjs's matMul gradient always passes such flags, so every dense layer trained slowly.
// Transposing the flagged operand explicitly (a cheap copy) and calling the original kernel without
// flags gives the same product at the fast kernel's speed.

import * as tf from "@tensorflow/tfjs";

type KernelFunc = tf.KernelConfig["kernelFunc"];

/** Marks the wrapper, so that registering twice never wraps the wrapper. */
const WRAPPED = Symbol("recsys-ts transposing BatchMatMul");

/** A BatchMatMul kernel that transposes flagged operands with `transpose` before calling `original`. */
export function transposingBatchMatMul(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  const wrapped: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
    if (!transposeA && !transposeB) return original({ inputs, backend, attrs });
    // Swap the last two axes of x: [..., m, n] -> [..., n, m].
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const perm = x.shape.map((_, axis) => axis);
      const rank = perm.length;
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
    };
    const aPlain = transposeA ? swapLast(a) : a;
    const bPlain = transposeB ? swapLast(b) : b;
    try {
      return original({ inputs: { a: aPlain, b: bPlain }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      // The transposed copies are this kernel's own intermediates: free them at once.
      const data = backend as { disposeData(dataId: tf.DataId): boolean };
      if (transposeA) data.disposeData(aPlain.dataId);
      if (transposeB) data.disposeData(bPlain.dataId);
    }
  };
  (wrapped as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  return wrapped;
}

/** True when the wasm BatchMatMul registered now is already the transposing wrapper. */
export function isTransposingBatchMatMul(kernel: KernelFunc): boolean {
  return (kernel as unknown as Record<symbol, boolean>)[WRAPPED] === true;
}

/** Replaces the wasm backend's BatchMatMul with the transposing wrapper (once). */
export function registerTransposingBatchMatMul(): void {
  const current = tf.getKernel(tf.BatchMatMul, "wasm");
  const transpose = tf.getKernel(tf.Transpose, "wasm");
  if (current === undefined || transpose === undefined || isTransposingBatchMatMul(current.kernelFunc)) return;
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel({ ...current, kernelFunc: transposingBatchMatMul(current.kernelFunc, transpose.kernelFunc) });
}
