// GELU and its gradient as two wasm kernels (simd.wat), for `gelu` in src/nn/feedForward.ts.
//
// Composed from tfjs ops, the exact GELU ½·x·(1 + erf(x/√2)) is five elementwise passes forward
// and about ten backward, with Erf and Exp at ~10 ns per element on wasm; the feed-forward layer's
// [B, T, d_ff] activation made it a tenth of a BERT4Rec step. Here it is one pass each way.
// Custom kernel names (tfjs has no GELU op); registered for the wasm backend only. Large tensors are
// split among the kernel pool's threads (kernelPool.ts); each element's result is the same either way.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs, float32Input } from "./kernelArgs";

/** Input x (float32); output GELU(x). */
export const GELU = "RecsysGelu";
/** Inputs x and dy (float32, one shape); output GELU'(x)·dy. */
export const GELU_GRAD = "RecsysGeluGrad";

export function geluWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = float32Input(GELU, "x", args.inputs.x);
  const out = backend.makeOutput(x.shape, "float32");
  const n = tf.util.sizeFromShape(x.shape);
  const operands = [heapOffset(backend, x), heapOffset(backend, out), n];
  const job: PooledRows = { kernel: "gelu", args: operands, perRow: [4, 4, 0], count: 2, rows: n, rowAlign: 4 };
  runRowKernel(backend, requireSimdKernels(backend, GELU), job, 1);
  return out;
}

export function geluGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = float32Input(GELU_GRAD, "x", args.inputs.x);
  const dy = float32Input(GELU_GRAD, "dy", args.inputs.dy);
  if (!tf.util.arraysEqual(x.shape, dy.shape))
    throw new Error(`${GELU_GRAD}: x [${x.shape}] and dy [${dy.shape}] differ in shape`);
  const out = backend.makeOutput(x.shape, "float32");
  const n = tf.util.sizeFromShape(x.shape);
  const operands = [heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), n];
  const job: PooledRows = { kernel: "gelu_grad", args: operands, perRow: [4, 4, 4, 0], count: 3, rows: n, rowAlign: 4 };
  runRowKernel(backend, requireSimdKernels(backend, GELU_GRAD), job, 1);
  return out;
}

export const geluWasmConfigs: readonly tf.KernelConfig[] = [
  { kernelName: GELU, backendName: "wasm", kernelFunc: geluWasm as unknown as tf.KernelConfig["kernelFunc"] },
  { kernelName: GELU_GRAD, backendName: "wasm", kernelFunc: geluGradWasm as unknown as tf.KernelConfig["kernelFunc"] },
];

export const geluGradConfig: tf.GradConfig = {
  kernelName: GELU,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => ({
    x: () => tf.engine().runKernel(GELU_GRAD, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
  }),
};
