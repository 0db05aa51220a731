// What tfjs hands every kernel function, and the input check the float32 kernels share.

import * as tf from "@tensorflow/tfjs";

/** A kernel function's argument (tfjs's `KernelFunc` takes an untyped one). */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Input `name` of kernel `where`, which must exist, be float32 and have at least `minRank` axes. */
export function float32Input(where: string, name: string, t: tf.TensorInfo | undefined, minRank = 0): tf.TensorInfo {
  if (t === undefined || t.dtype !== "float32" || t.shape.length < minRank) {
    const rank = minRank > 0 ? ` of rank ≥ ${minRank}` : "";
    throw new Error(
      `${where}: ${name} must be a float32 tensor${rank}, got ${t === undefined ? "none" : `${t.dtype} [${t.shape}]`}`,
    );
  }
  return t;
}
