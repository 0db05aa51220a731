// `Sum` for tfjs's wasm backend when the reduced axes lead: a SIMD column sum (simd.wat) over the heap.
//
// The shipped kernel reduces only over trailing axes, so for any other axes it first transposes the
// input into a temporary: 17 ms to sum a [12800, 256] matrix over its rows, against 2.7 ms over its
// columns. Reductions over leading axes are what every bias gradient is (the gradient of a broadcast
// add), and the output layer's bias gradient reduces a [rows, catalogue] matrix. Here they are one
// linear pass with float64 sums per output element and block of SUM_BLOCK_ROWS rows, the blocks split
// among the kernel pool's threads and their sums added in order (so any thread count gives the same
// bits). Other reductions, non-float32 inputs, and engines without WebAssembly SIMD go to the shipped
// kernel.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, simdKernelsFor } from "./simd";
import { KernelArgs } from "./kernelArgs";
import { markWrapper, registerWrapperOnce, type KernelFunc } from "./wrappedKernel";

/** Rows per block of float64 partial sums (sum.ts, layerNorm.ts): a unit of the threads' work. */
export const SUM_BLOCK_ROWS = 64;

/** [rows, cols] when summing `axes` of `shape` is a sum over the rows of a [rows, cols] matrix, else null. */
export function leadingReduction(shape: number[], axes: number[]): [number, number] | null {
  // Size-1 axes change nothing: the reduction leads if every reduced axis of size > 1 precedes every kept one.
  let lastReduced = -1;
  let firstKept = shape.length;
  for (let axis = 0; axis < shape.length; axis++) {
    if (shape[axis] === 1) continue;
    if (axes.includes(axis)) lastReduced = axis;
    else firstKept = Math.min(firstKept, axis);
  }
  if (lastReduced < 0 || firstKept === shape.length || lastReduced > firstKept) return null;
  const rows = shape.slice(0, firstKept).reduce((a, b) => a * b, 1);
  return [rows, tf.util.sizeFromShape(shape) / rows];
}

/** A Sum kernel that runs leading-axis float32 sums here and everything else through `original`. */
export function fastSum(original: KernelFunc): KernelFunc {
  const wrapped = (args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as tf.SumInputs;
    const { axis, keepDims } = (args.attrs ?? {}) as unknown as tf.SumAttrs;
    const simd = simdKernelsFor(backend);
    if (x === undefined || x.dtype !== "float32" || simd === undefined)
      return original(args as Parameters<KernelFunc>[0]);
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const matrix = leadingReduction(x.shape, axes);
    if (matrix === null) return original(args as Parameters<KernelFunc>[0]);
    const [rows, cols] = matrix;
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = backend.makeOutput(
      keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape,
      "float32",
    );
    const blocks = Math.ceil(rows / SUM_BLOCK_ROWS);
    const accumulators = backend.makeOutput([2 * cols * Math.max(1, blocks)], "float32"); // cols float64s a block
    const at = heapOffset(backend, accumulators);
    const job: PooledRows = {
      kernel: "column_sum_rows",
      args: [heapOffset(backend, x), rows, cols, at, 0, SUM_BLOCK_ROWS],
      perRow: [4 * cols, 0, 0, 0, 1, 0],
      count: 1,
      rows,
      rowAlign: SUM_BLOCK_ROWS,
    };
    runRowKernel(backend, simd, job, cols);
    simd.column_sums_finish(at, blocks, cols, heapOffset(backend, out));
    backend.disposeData(accumulators.dataId);
    return out;
  };
  return markWrapper(wrapped as unknown as KernelFunc, original);
}

/** Replaces the wasm backend's Sum with `fastSum(tfjs's kernel)`; never wraps twice. */
export function registerFastSum(): void {
  registerWrapperOnce(tf.Sum, fastSum);
}
