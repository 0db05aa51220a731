// Softmax over the last axis and its gradient as two wasm kernels (simd.wat), for the attention
// weights in src/nn/attention.ts.
//
// tfjs's Softmax gradient is four kernels over the [B, H, T, T] weights (multiply, sum, subtract,
// multiply); here it is one pass per row, dz = y ⊙ (dy − Σ dy·y), and the forward pass uses the
// SIMD exp. Custom kernel names; registered for the wasm backend only. Rows are split among the kernel
// pool's threads when there are enough (kernelPool.ts).

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs, float32Input } from "./kernelArgs";

/** Input logits (float32, rank ≥ 1); output the softmax over the last axis. */
export const SOFTMAX = "RecsysSoftmax";
/** Inputs y (the softmax's output) and dy, one shape; output the gradient w.r.t. the logits. */
export const SOFTMAX_GRAD = "RecsysSoftmaxGrad";

function rowsOf(where: string, ...tensors: Array<[string, tf.TensorInfo | undefined]>): [number, number] {
  for (const [name, input] of tensors) {
    const t = float32Input(where, name, input, 1);
    if (!tf.util.arraysEqual(t.shape, tensors[0][1]!.shape))
      throw new Error(`${where}: ${name} [${t.shape}] differs in shape from [${tensors[0][1]!.shape}]`);
  }
  const shape = tensors[0][1]!.shape;
  const cols = shape[shape.length - 1];
  return [cols === 0 ? 0 : tf.util.sizeFromShape(shape) / cols, cols];
}

export function softmaxWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const [rows, cols] = rowsOf(SOFTMAX, ["logits", args.inputs.logits]);
  const logits = args.inputs.logits!;
  const out = backend.makeOutput(logits.shape, "float32");
  const operands = [heapOffset(backend, logits), rows, cols, heapOffset(backend, out)];
  const job: PooledRows = {
    kernel: "softmax",
    args: operands,
    perRow: [4 * cols, 0, 0, 4 * cols],
    count: 1,
    rows,
    rowAlign: 1,
  };
  runRowKernel(backend, requireSimdKernels(backend, SOFTMAX), job, cols);
  return out;
}

export function softmaxGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const [rows, cols] = rowsOf(SOFTMAX_GRAD, ["y", args.inputs.y], ["dy", args.inputs.dy]);
  const { y, dy } = args.inputs as Record<string, tf.TensorInfo>;
  const out = backend.makeOutput(y.shape, "float32");
  const operands = [heapOffset(backend, y), heapOffset(backend, dy), rows, cols, heapOffset(backend, out)];
  const row = 4 * cols;
  const job: PooledRows = {
    kernel: "softmax_grad",
    args: operands,
    perRow: [row, row, 0, 0, row],
    count: 2,
    rows,
    rowAlign: 1,
  };
  runRowKernel(backend, requireSimdKernels(backend, SOFTMAX_GRAD), job, cols);
  return out;
}

export const softmaxWasmConfigs: readonly tf.KernelConfig[] = [
  { kernelName: SOFTMAX, backendName: "wasm", kernelFunc: softmaxWasm as unknown as tf.KernelConfig["kernelFunc"] },
  {
    kernelName: SOFTMAX_GRAD,
    backendName: "wasm",
    kernelFunc: softmaxGradWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
];

export const softmaxGradConfig: tf.GradConfig = {
  kernelName: SOFTMAX,
  outputsToSave: [true],
  gradFunc: (dy, saved) => ({
    logits: () => tf.engine().runKernel(SOFTMAX_GRAD, { y: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
  }),
};
