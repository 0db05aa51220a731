// Dropout with a counter-based mask, as a wasm kernel (simd.wat) and as the same mask in JavaScript
// for the other backends, for `SeededDropout` in src/nn/dropout.ts.
//
// tf.dropout draws its uniforms in JavaScript (seedrandom's alea, ~10 ns each): 70–90 ms for the
// [B, H, T, T] attention weights of a BERT4Rec step at T = 200, twice per layer counting the mask
// ops. Here element i of a tensor is kept when
//
//   fmix32(fmix32((i·0x9E3779B1) ⊕ key1) + key2) ≥ ⌊rate·2³²⌉        (unsigned; MurmurHash3's finaliser)
//
// and scaled by 1/(1 − rate). The mask depends on (i, key1, key2) only: the gradient is the same
// kernel applied to dy with the same keys (nothing is saved), and every backend drops the same units.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs, float32Input } from "./kernelArgs";

/** Input x (float32); attrs rate, key1, key2 (uint32); output x with the units of the mask dropped. */
export const DROPOUT = "RecsysDropout";

/** The keys and rate of one dropout mask. */
export interface DropoutMaskSpec {
  /** Fraction of the units dropped, in [0, 1). */
  rate: number;
  /** Two 32-bit keys (e.g. from Rng.nextUint32()) that select the mask. */
  key1: number;
  key2: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Units whose hash falls below this are dropped. */
export function dropThreshold(rate: number): number {
  return Math.min(0xffffffff, Math.round(rate * 2 ** 32));
}

/** Throws unless rate ∈ [0, 1). */
export function checkDropoutRate(where: string, rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new Error(`${where}: rate must be in [0, 1), got ${rate}`);
}

/** The mask as multipliers: 1/(1 − rate) for kept units, 0 for dropped ones. */
export function dropoutMask(size: number, spec: DropoutMaskSpec): Float32Array {
  checkDropoutRate("dropoutMask", spec.rate);
  const threshold = dropThreshold(spec.rate);
  const scale = Math.fround(1 / (1 - spec.rate));
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const h = fmix32((fmix32(Math.imul(i, 0x9e3779b1) ^ spec.key1) + spec.key2) | 0);
    if (h >= threshold) mask[i] = scale;
  }
  return mask;
}

export function dropoutWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = float32Input(DROPOUT, "x", args.inputs.x);
  const { rate, key1, key2 } = (args.attrs ?? {}) as unknown as DropoutMaskSpec;
  checkDropoutRate(DROPOUT, rate);
  const simd = requireSimdKernels(backend, DROPOUT);
  const out = backend.makeOutput(x.shape, "float32");
  const n = tf.util.sizeFromShape(x.shape);
  const operands = [
    heapOffset(backend, x),
    heapOffset(backend, out),
    n,
    key1 | 0,
    key2 | 0,
    dropThreshold(rate) | 0,
    1 / (1 - rate),
    0,
  ];
  // A block of elements starting at element r hashes indices r, r + 1, ...: the mask of the whole tensor.
  const job: PooledRows = {
    kernel: "dropout",
    args: operands,
    perRow: [4, 4, 0, 0, 0, 0, 0, 1],
    count: 2,
    rows: n,
    rowAlign: 4,
  };
  runRowKernel(backend, simd, job, 1);
  return out;
}

export const dropoutWasmConfig: tf.KernelConfig = {
  kernelName: DROPOUT,
  backendName: "wasm",
  kernelFunc: dropoutWasm as unknown as tf.KernelConfig["kernelFunc"],
};

/** Dropout is linear in x for a fixed mask: the gradient drops the same units of dy. */
export const dropoutGradConfig: tf.GradConfig = {
  kernelName: DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel(DROPOUT, { x: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
  }),
};
