// The AdamW update of one variable as one wasm kernel (simd.wat), for `AdamW` in src/train/optimizers.ts.
//
// Composed from tfjs ops, the update is thirteen kernel calls per variable, each allocating its
// output; a BERT step's 46 variables made ~600 calls and ~6 ms of a ~90 ms step, most of it per-call
// cost on tensors of a few hundred floats. Here it is one pass per variable that reads θ, m, v and
// the gradient and writes the three new tensors, with every operation rounded to float32 as the ops
// round it: the same bits. Large variables are split among the kernel pool's threads.
// Custom kernel name; registered for the wasm backend only.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs, float32Input } from "./kernelArgs";

/**
 * Inputs theta, m, v and g (float32, one shape); attrs as in AdamWUpdate; outputs θ', m', v'. Has no
 * gradient: it runs outside the tape, in the optimizer.
 */
export const ADAMW = "RecsysAdamW";

/** The constants of one AdamW update (simd.wat): m' = β₁m + (1 − β₁)g, ..., θ' = θ·decay − m'/(...)·stepSize. */
export interface AdamWUpdate {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** √(1 − β₂ᵗ), which divides √v. */
  sqrtCorrection2: number;
  /** lr/(1 − β₁ᵗ). */
  stepSize: number;
  /** 1 − lr·λ where the variable decays, else 1. */
  decay: number;
}

export function adamwWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const names = ["theta", "m", "v", "g"] as const;
  const [theta, m, v, g] = names.map((name) => float32Input(ADAMW, name, args.inputs[name]));
  for (const [name, t] of [
    ["m", m],
    ["v", v],
    ["g", g],
  ] as const) {
    if (!tf.util.arraysEqual(t.shape, theta.shape))
      throw new Error(`${ADAMW}: ${name} [${t.shape}] and theta [${theta.shape}] differ in shape`);
  }
  const { beta1, beta2, epsilon, sqrtCorrection2, stepSize, decay } = args.attrs as unknown as AdamWUpdate;
  const simd = requireSimdKernels(backend, ADAMW);
  const outputs = [theta, m, v].map(() => backend.makeOutput(theta.shape, "float32"));
  const n = tf.util.sizeFromShape(theta.shape);
  // 1 − β as the ops compute it: in float64, then rounded to float32 as a tensor's scalar.
  const operands = [
    ...[theta, m, v, g, ...outputs].map((t) => heapOffset(backend, t)),
    n,
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    sqrtCorrection2,
    epsilon,
    decay,
    stepSize,
  ];
  const job: PooledRows = {
    kernel: "adamw",
    args: operands,
    perRow: [4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    count: 7,
    rows: n,
    rowAlign: 4,
  };
  runRowKernel(backend, simd, job, 1);
  return outputs;
}

export const adamwWasmConfig: tf.KernelConfig = {
  kernelName: ADAMW,
  backendName: "wasm",
  kernelFunc: adamwWasm as unknown as tf.KernelConfig["kernelFunc"],
};
