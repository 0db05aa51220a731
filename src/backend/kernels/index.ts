// Kernels that recsys-ts adds to tfjs backends which lack them, so that every model in the course
// trains on whichever backend `initBackend` picks.

import * as tf from "@tensorflow/tfjs";
import { registerFastBatchMatMul } from "./batchMatMul";
import { registerFastGather } from "./gatherV2";
import { registerSharedIdentity } from "./identity";
import { registerFastSum } from "./sum";
import { sparseSoftmaxCrossEntropyWasmConfigs } from "./sparseSoftmaxCrossEntropy";
import { unsortedSegmentSumWasmConfig } from "./unsortedSegmentSum";

export { unsortedSegmentSumWasm } from "./unsortedSegmentSum";
export {
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD,
} from "./sparseSoftmaxCrossEntropy";
export { fastBatchMatMul, registerFastBatchMatMul, type FastBatchMatMulOptions } from "./batchMatMul";
export { gatherV2Wasm, registerFastGather } from "./gatherV2";
export { identityWasm, registerSharedIdentity } from "./identity";
export { fastSum, leadingReduction, registerFastSum } from "./sum";

/**
 * What training needs from the wasm backend of tfjs 4.22 and it does not ship: the gradient of
 * gather, and the fused softmax cross-entropy from labels (custom kernel names, used by
 * src/train/losses.ts). The other gradients a transformer or embedding model uses (matMul, softmax,
 * logSoftmax, moments, erf, tanh, dropout, clipByValue, cumsum, oneHot, select, the Adam update)
 * already run on wasm.
 */
const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [unsortedSegmentSumWasmConfig, ...sparseSoftmaxCrossEntropyWasmConfigs];

/**
 * Registers the kernels in WASM_TRAINING_KERNELS with tfjs's global kernel registry, and replaces the
 * wasm BatchMatMul with one that takes XNNPack's fast path for every product (see batchMatMul.ts)
 * and GatherV2 with a heap-to-heap copy (see gatherV2.ts); Identity shares memory instead of copying
 * (identity.ts); Sum over leading axes is a column sum in JavaScript (sum.ts).
 * Safe to call more than once; a kernel already registered (a later tfjs-backend-wasm may ship its
 * own) is kept. Kernels are registered for "wasm" only: other backends run unchanged.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName) === undefined) {
      tf.registerKernel(config);
    }
  }
  registerFastBatchMatMul();
  registerFastGather();
  registerSharedIdentity();
  registerFastSum();
}
