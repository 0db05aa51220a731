// `UnsortedSegmentSum` for tfjs's wasm backend, which ships without it (tfjs issue #8082).
//
// It is the gradient of `tf.gather`, so without it no embedding table can be trained on wasm. This
// kernel is a single linear scatter-add over the wasm heap, in WebAssembly SIMD for float32 where the
// engine runs it (simd.wat's segment_sum, ~20× the JavaScript loop), else in JavaScript: it reads the
// inputs and writes the output in place, with no copies and no intermediate tensors.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffset, simdKernelsFor } from "./simd";

/**
 * out[s, ...] = Σ x[i, ...] over the positions i whose segmentIds[i] = s.
 *
 * `segmentIds` has the leading shape of `x` (usually 1-D, segmenting axis 0); the output has shape
 * [numSegments, ...x.shape[segmentIds.rank:]] and `x`'s dtype. Ids outside [0, numSegments) are
 * dropped: negative ids as in TensorFlow, ids ≥ numSegments as in tfjs's cpu backend (TensorFlow's
 * own CPU kernel would raise instead). Float32 sums accumulate in float32, like TensorFlow's.
 */
export function unsortedSegmentSumWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as tf.UnsortedSegmentSumInputs;
  const { numSegments } = (args.attrs ?? {}) as unknown as tf.UnsortedSegmentSumAttrs;

  const where = "unsortedSegmentSum (wasm)";
  if (x === undefined || segmentIds === undefined) {
    throw new Error(`${where}: inputs x and segmentIds are both required`);
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`${where}: attr numSegments must be a non-negative integer, got ${numSegments}`);
  }
  if (segmentIds.dtype !== "int32") {
    throw new Error(`${where}: input segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: input x must be float32 or int32, got ${x.dtype}`);
  }
  const idsRank = segmentIds.shape.length;
  const leadingShape = x.shape.slice(0, idsRank);
  if (idsRank > x.shape.length || segmentIds.shape.some((size, axis) => size !== leadingShape[axis])) {
    throw new Error(`${where}: input segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
  }

  const rowShape = x.shape.slice(idsRank);
  const rowSize = tf.util.sizeFromShape(rowShape);
  const out = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  const simd = x.dtype === "float32" ? simdKernelsFor(backend) : undefined;
  if (simd !== undefined) {
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    const [xAt, idsAt, outAt] = [x, segmentIds, out].map((t) => heapOffset(backend, t));
    simd.segment_sum(xAt, idsAt, rows, rowSize, outAt, numSegments);
    return out;
  }
  // Views are taken after makeOutput: its malloc may grow the heap, which detaches older views.
  const outValues = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xValues = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;

  outValues.fill(0); // makeOutput's memory comes straight from malloc
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) outValues[to + j] += xValues[from + j];
  }
  return out;
}

export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: "wasm",
  kernelFunc: unsortedSegmentSumWasm,
};
