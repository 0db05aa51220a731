// `Transpose` for tfjs's wasm backend when it swaps two adjacent axes: runs copied whole (simd.wat).
//
// Attention splits its projections into heads and merges them back with [B, T, H, d] ⇄ [B, H, T, d]
// (src/nn/multiHeadAttention.ts), twice per layer forward and again backward: 16 transposes of the
// whole activation per BERT step. The shipped kernel moves them one float at a time (~0.7 ns each);
// here each run of d floats is copied by SIMD loads and stores, and a swap of the last two axes (a
// batch of matrix transposes) goes to the 4×4-block transpose. Large tensors are split among the
// kernel pool's threads. Other permutations, non-float32 inputs and engines without WebAssembly SIMD
// go to the shipped kernel.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, simdKernelsFor, type SimdKernels } from "./simd";
import { KernelArgs } from "./kernelArgs";

type KernelFunc = tf.KernelConfig["kernelFunc"];
/** Marks the wrapper and keeps the kernel it wraps. */
const ORIGINAL = Symbol("recsys-ts Transpose: the wrapped kernel");

/** A permutation that swaps axes p and p + 1 of `shape`, as [outer, a, b, inner] sizes around them. */
export interface AdjacentSwap {
  outer: number;
  a: number;
  b: number;
  inner: number;
}

/** The adjacent swap that `perm` is on `shape`, or null if it is any other permutation. */
export function adjacentSwap(shape: number[], perm: number[]): AdjacentSwap | null {
  const moved = perm.flatMap((axis, i) => (axis === i ? [] : [i]));
  if (moved.length !== 2 || moved[1] !== moved[0] + 1 || perm[moved[0]] !== moved[1]) return null;
  const p = moved[0];
  const size = (axes: number[]) => axes.reduce((product, axis) => product * shape[axis], 1);
  return {
    outer: size(perm.slice(0, p)),
    a: shape[p],
    b: shape[p + 1],
    inner: size(perm.slice(p + 2)),
  };
}

/**
 * y = each of the `count` matrices [rows, cols] at byte offset x transposed, on simd.wat's 4×4-block
 * transpose (a batch split among the pool's threads when large).
 */
export function transposeMatrices(
  backend: BackendWasm,
  simd: SimdKernels,
  x: number,
  y: number,
  count: number,
  rows: number,
  cols: number,
): void {
  const bytes = 4 * rows * cols;
  const job: PooledRows = {
    kernel: "transpose",
    args: [x, y, count, rows, cols],
    perRow: [bytes, bytes, 0, 0, 0],
    count: 2,
    rows: count,
    rowAlign: 1,
  };
  runRowKernel(backend, simd, job, rows * cols);
}

/** A Transpose kernel that runs float32 adjacent swaps here and everything else through `original`. */
export function fastTranspose(original: KernelFunc): KernelFunc {
  const wrapped = (args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as tf.TransposeInputs;
    const { perm } = (args.attrs ?? {}) as unknown as tf.TransposeAttrs;
    const simd = simdKernelsFor(backend);
    const swap = x !== undefined && x.dtype === "float32" ? adjacentSwap(x.shape, perm) : null;
    if (x === undefined || swap === null || simd === undefined) return original(args as Parameters<KernelFunc>[0]);
    const out = backend.makeOutput(
      perm.map((axis) => x.shape[axis]),
      "float32",
    );
    const { outer, a, b, inner } = swap;
    const block = a * b * inner; // floats per outer index
    const [from, to] = [heapOffset(backend, x), heapOffset(backend, out)];
    if (inner === 1) {
      transposeMatrices(backend, simd, from, to, outer, a, b);
      return out;
    }
    const job: PooledRows = {
      kernel: "swap_axes",
      args: [from, to, outer, a, b, inner],
      perRow: [4 * block, 4 * block, 0, 0, 0, 0],
      count: 2,
      rows: outer,
      rowAlign: 1,
    };
    runRowKernel(backend, simd, job, block);
    return out;
  };
  (wrapped as unknown as Record<symbol, KernelFunc>)[ORIGINAL] = original;
  return wrapped as unknown as KernelFunc;
}

/** Replaces the wasm backend's Transpose with `fastTranspose(tfjs's kernel)`; never wraps twice. */
export function registerFastTranspose(): void {
  const current = tf.getKernel(tf.Transpose, "wasm");
  if (current === undefined || (current.kernelFunc as unknown as Record<symbol, unknown>)[ORIGINAL] !== undefined)
    return;
  tf.unregisterKernel(tf.Transpose, "wasm");
  tf.registerKernel({ ...current, kernelFunc: fastTranspose(current.kernelFunc) });
}
