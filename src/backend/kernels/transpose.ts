// `Transpose` for tfjs's wasm backend when it swaps two adjacent axes: runs copied whole (simd.wat).
//
// Attention splits its projections into heads and merges them back with [B, T, H, d] ⇄ [B, H, T, d]
// (src/nn/multiHeadAttention.ts), twice per layer forward and again backward: 16 transposes of the
// whole activation per BERT step. The shipped kernel moves them one float at a time (0.4-0.7 ns each);
// here each run of d floats is copied by SIMD loads and stores (0.2-0.3 ns a float, about what a
// copy of the tensor costs: on one thread, as a second gained nothing), and a swap of the last two axes
// (a batch of matrix transposes) goes to the 4×4-block transpose. With a single head the layout does
// not change, and the result shares the input's memory. Other permutations, non-float32 inputs and
// engines without WebAssembly SIMD go to the shipped kernel.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { heapOffset, simdKernelsFor } from "./simd";
import { KernelArgs } from "./kernelArgs";
import { markWrapper, registerWrapperOnce, type KernelFunc } from "./wrappedKernel";

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

/** A Transpose kernel that runs float32 adjacent swaps here and everything else through `original`. */
export function fastTranspose(original: KernelFunc): KernelFunc {
  const wrapped = (args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as tf.TransposeInputs;
    const { perm } = (args.attrs ?? {}) as unknown as tf.TransposeAttrs;
    const simd = simdKernelsFor(backend);
    const swap = x !== undefined && x.dtype === "float32" ? adjacentSwap(x.shape, perm) : null;
    if (x === undefined || swap === null || simd === undefined) return original(args as Parameters<KernelFunc>[0]);
    const shape = perm.map((axis) => x.shape[axis]);
    const { outer, a, b, inner } = swap;
    if (a === 1 || b === 1) {
      // The layout does not change (a single head): the same memory under the new shape, as Reshape does.
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape, dtype: x.dtype };
    }
    const out = backend.makeOutput(shape, "float32");
    const [from, to] = [heapOffset(backend, x), heapOffset(backend, out)];
    if (inner === 1) simd.transpose(from, to, outer, a, b);
    else simd.swap_axes(from, to, outer, a, b, inner);
    return out;
  };
  return markWrapper(wrapped as unknown as KernelFunc, original);
}

/** Replaces the wasm backend's Transpose with `fastTranspose(tfjs's kernel)`; never wraps twice. */
export function registerFastTranspose(): void {
  registerWrapperOnce(tf.Transpose, fastTranspose);
}
