// Kernels that recsys-ts adds to tfjs backends which lack them, so that every model in the course
// trains on whichever backend `initBackend` picks.

import * as tf from "@tensorflow/tfjs";
import { registerTransposingBatchMatMul } from "./batchMatMul";
import { unsortedSegmentSumWasmConfig } from "./unsortedSegmentSum";

export { unsortedSegmentSumWasm } from "./unsortedSegmentSum";
export { transposingBatchMatMul } from "./batchMatMul";

/**
 * What training needs from the wasm backend of tfjs 4.22 and it does not ship. The other gradients
 * a transformer or embedding model uses (matMul, softmax, logSoftmax, moments, erf, tanh, dropout,
 * clipByValue, cumsum, oneHot, select, the Adam update) already run on wasm.
 */
const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [unsortedSegmentSumWasmConfig];

/**
 * Registers the kernels in WASM_TRAINING_KERNELS with tfjs's global kernel registry, and replaces the
 * wasm BatchMatMul with one that is fast for transposed operands (see batchMatMul.ts). Safe to call
 * more than once; a kernel already registered (a later tfjs-backend-wasm may ship its own) is kept.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName) === undefined) {
      tf.registerKernel(config);
    }
  }
  registerTransposingBatchMatMul();
}
