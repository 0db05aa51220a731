// Layer normalisation and its gradient as two wasm kernels (simd.wat), for LayerNormalization in
// src/nn/layerNorm.ts.
//
// Composed from tfjs ops, a layer norm over [B, T, D] is nine kernels forward and about twenty
// backward, and tfjs's Mean gradient builds a ones tensor of the input's size in JavaScript: a
// BERT4Rec step spent ~70 ms of its ~1.2 s in its four layer norms. Here it is one pass forward
// and one backward that returns dx and the parameter gradients together. Rows are split among the
// kernel pool's threads (kernelPool.ts); the parameter gradients add up per block of rows (sum.ts).
// Custom kernel names; registered for the wasm backend only.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { SUM_BLOCK_ROWS } from "./sum";
import { heapOffset, requireSimdKernels } from "./simd";
import { KernelArgs, float32Input } from "./kernelArgs";

/** Inputs x [..., D], gamma [D], beta [D] (float32); attr epsilon; output y, x's shape. */
export const LAYER_NORM = "RecsysLayerNorm";
/** Inputs x [..., D], gamma [D], dy (x's shape); attr epsilon; outputs dx and [dγ; dβ] as [2, D]. */
export const LAYER_NORM_GRAD = "RecsysLayerNormGrad";

/** [rows, D] of x, after checking every input is float32 and the parameters are [D]. */
function checkInputs(where: string, inputs: tf.NamedTensorInfoMap, names: string[]): [number, number] {
  for (const name of names) float32Input(where, name, inputs[name]);
  const x = inputs.x!;
  const width = x.shape[x.shape.length - 1];
  if (x.shape.length === 0 || !(width > 0))
    throw new Error(`${where}: x must have a non-empty last axis, got [${x.shape}]`);
  for (const name of names.filter((n) => n === "gamma" || n === "beta")) {
    if (!tf.util.arraysEqual(inputs[name]!.shape, [width]))
      throw new Error(`${where}: ${name} must be [${width}], got [${inputs[name]!.shape}]`);
  }
  return [tf.util.sizeFromShape(x.shape) / width, width];
}

export function layerNormWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const [rows, width] = checkInputs(LAYER_NORM, args.inputs, ["x", "gamma", "beta"]);
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const simd = requireSimdKernels(backend, LAYER_NORM);
  const y = backend.makeOutput(x.shape, "float32");
  const operands = [
    heapOffset(backend, x),
    heapOffset(backend, gamma),
    heapOffset(backend, beta),
    rows,
    width,
    epsilon,
    heapOffset(backend, y),
  ];
  const row = 4 * width;
  const job: PooledRows = {
    kernel: "layer_norm",
    args: operands,
    perRow: [row, 0, 0, 0, 0, 0, row],
    count: 3,
    rows,
    rowAlign: 1,
  };
  runRowKernel(backend, simd, job, width);
  return y;
}

export function layerNormGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const [rows, width] = checkInputs(LAYER_NORM_GRAD, args.inputs, ["x", "gamma", "dy"]);
  const { x, gamma, dy } = args.inputs as Record<string, tf.TensorInfo>;
  if (!tf.util.arraysEqual(x.shape, dy.shape))
    throw new Error(`${LAYER_NORM_GRAD}: x [${x.shape}] and dy [${dy.shape}] differ in shape`);
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const simd = requireSimdKernels(backend, LAYER_NORM_GRAD);
  const dx = backend.makeOutput(x.shape, "float32");
  const params = backend.makeOutput([2, width], "float32");
  // dγ and dβ in float64 per block of rows (2·D float64s each), added in order at the end: any split
  // of the blocks among threads gives the same bits.
  const blocks = Math.ceil(rows / SUM_BLOCK_ROWS);
  const accumulators = backend.makeOutput([4 * width * Math.max(1, blocks)], "float32");
  const at = heapOffset(backend, accumulators);
  const row = 4 * width;
  const job: PooledRows = {
    kernel: "layer_norm_grad",
    args: [
      heapOffset(backend, x),
      heapOffset(backend, gamma),
      heapOffset(backend, dy),
      rows,
      width,
      epsilon,
      heapOffset(backend, dx),
      at,
      0,
      SUM_BLOCK_ROWS,
    ],
    perRow: [row, 0, row, 0, 0, 0, row, 0, 1, 0],
    count: 3,
    rows,
    rowAlign: SUM_BLOCK_ROWS,
  };
  runRowKernel(backend, simd, job, width);
  simd.column_sums_finish(at, blocks, 2 * width, heapOffset(backend, params));
  backend.disposeData(accumulators.dataId);
  return [dx, params];
}

export const layerNormWasmConfigs: readonly tf.KernelConfig[] = [
  {
    kernelName: LAYER_NORM,
    backendName: "wasm",
    kernelFunc: layerNormWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
  {
    kernelName: LAYER_NORM_GRAD,
    backendName: "wasm",
    kernelFunc: layerNormGradWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
];
