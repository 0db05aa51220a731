// Σ over tensors of Σ x², the squared global norm that gradient clipping needs (src/train/optimizers.ts),
// read in place from the wasm heap by simd.wat's sum_of_squares in float64: one call per tensor where
// tfjs's ops took a Square, a Sum and their bookkeeping for each of a model's ~50 gradients, plus an
// AddN. Elsewhere the same sum from tfjs's ops (in float32).

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffset, simdKernelsFor } from "./simd";

/** The parts of BackendWasm this needs that its typings leave out. */
interface WasmData {
  dataIdMap: { has(dataId: tf.DataId): boolean };
}

/** Σ_t Σ_i t_i² over `tensors` (float32), as a number. */
export function sumOfSquares(tensors: tf.Tensor[]): number {
  if (tensors.length === 0) return 0;
  const backend = tf.getBackend() === "wasm" ? (tf.backend() as BackendWasm) : undefined;
  const simd = backend && simdKernelsFor(backend);
  const inPlace =
    simd !== undefined &&
    tensors.every((t) => t.dtype === "float32" && (backend as unknown as WasmData).dataIdMap.has(t.dataId));
  if (!inPlace) return tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.square(t)))).dataSync()[0]);
  let sum = 0;
  for (const t of tensors) sum += simd.sum_of_squares(heapOffset(backend!, t), t.size);
  return sum;
}
