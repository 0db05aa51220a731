// Kernels that recsys-ts adds to tfjs backends which lack them, so that every model in the course
// trains on whichever backend `initBackend` picks.

import * as tf from "@tensorflow/tfjs";
import { adamwWasmConfig } from "./adamw";
import { attentionGradConfig, attentionWasmConfigs, selfAttentionGradConfig } from "./attention";
import { registerFastBatchMatMul } from "./batchMatMul";
import { dropoutGradConfig, dropoutWasmConfig } from "./dropout";
import { geluGradConfig, geluWasmConfigs } from "./gelu";
import { layerNormWasmConfigs } from "./layerNorm";
import { registerFastGather } from "./gatherV2";
import { registerSharedIdentity } from "./identity";
import { registerFastSum } from "./sum";
import { registerFastTranspose } from "./transpose";
import { simdSupported } from "./simd";
import { softmaxGradConfig, softmaxWasmConfigs } from "./softmax";
import { sparseSoftmaxCrossEntropyWasmConfigs } from "./sparseSoftmaxCrossEntropy";
import { unsortedSegmentSumWasmConfig } from "./unsortedSegmentSum";

export { unsortedSegmentSumWasm } from "./unsortedSegmentSum";
export { SPARSE_SOFTMAX_CROSS_ENTROPY, SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD } from "./sparseSoftmaxCrossEntropy";
export {
  describeMatrixProducts,
  fastBatchMatMul,
  registerFastBatchMatMul,
  type FastBatchMatMulOptions,
} from "./batchMatMul";
export { gatherV2Wasm, registerFastGather } from "./gatherV2";
export { ADAMW, type AdamWUpdate } from "./adamw";
export { ATTENTION, ATTENTION_GRAD, SELF_ATTENTION, type AttentionAttrs } from "./attention";
export { DROPOUT, dropoutMask, type DropoutMaskSpec } from "./dropout";
export { GELU, GELU_GRAD } from "./gelu";
export { LAYER_NORM, LAYER_NORM_GRAD } from "./layerNorm";
export { fmaSupported, setSimdVariant, SIMD_FMA_ENV_VAR, simdSupported, simdVariant, type SimdVariant } from "./simd";
export { kernelThreads, setKernelThreads, THREADS_ENV_VAR } from "./kernelPool";
export { SOFTMAX, SOFTMAX_GRAD } from "./softmax";
export { identityWasm, registerSharedIdentity } from "./identity";
export { fastSum, leadingReduction, registerFastSum } from "./sum";
export { sumOfSquares } from "./sumOfSquares";
export { adjacentSwap, fastTranspose, registerFastTranspose, type AdjacentSwap } from "./transpose";

/**
 * Whether the current backend has `kernelName` (one of recsys-ts's fused kernels) for a float32 `x`;
 * the library's ops run the fused kernel then, and compose ordinary tfjs ops otherwise.
 */
export function hasFusedKernel(kernelName: string, x: tf.Tensor): boolean {
  return x.dtype === "float32" && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * What training needs from the wasm backend of tfjs 4.22 and it does not ship: the gradient of
 * gather. The other gradients a transformer or embedding model uses (matMul, softmax, logSoftmax,
 * moments, erf, tanh, clipByValue, cumsum, oneHot, select, the Adam update) already run on wasm.
 */
const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [unsortedSegmentSumWasmConfig];

/**
 * Fused kernels in WebAssembly SIMD (simd.wat) under custom names, used where registered: the
 * softmax cross-entropy from labels (src/train/losses.ts), GELU (src/nn/feedForward.ts),
 * counter-based dropout (src/nn/dropout.ts), layer normalisation (src/nn/layerNorm.ts), the
 * attention softmax (src/nn/attention.ts), multi-head attention as a whole (src/nn/multiHeadAttention.ts)
 * and the AdamW update (src/train/optimizers.ts). Kernel
 * gradients are registered with them (the loss and the layer norm use tf.customGrad instead).
 */
const WASM_SIMD_KERNELS: readonly tf.KernelConfig[] = [
  ...sparseSoftmaxCrossEntropyWasmConfigs,
  ...geluWasmConfigs,
  dropoutWasmConfig,
  ...layerNormWasmConfigs,
  ...softmaxWasmConfigs,
  adamwWasmConfig,
  ...attentionWasmConfigs,
];
const SIMD_GRADIENTS: readonly tf.GradConfig[] = [
  geluGradConfig,
  dropoutGradConfig,
  softmaxGradConfig,
  attentionGradConfig,
  selfAttentionGradConfig,
];

/**
 * Registers the kernels in WASM_TRAINING_KERNELS and, where the engine runs WebAssembly SIMD, those in
 * WASM_SIMD_KERNELS with tfjs's global kernel registry, and replaces the wasm BatchMatMul with one
 * that gives every product a fast path, the SIMD gemm's or XNNPack's (see batchMatMul.ts), and GatherV2 with a
 * heap-to-heap copy (see gatherV2.ts); Identity shares memory instead of copying (identity.ts); Sum
 * over leading axes is a SIMD column sum (sum.ts); a Transpose that swaps two adjacent axes copies
 * whole runs (transpose.ts).
 * Safe to call more than once; a kernel already registered (a later tfjs-backend-wasm may ship its
 * own) is kept. Kernels are registered for "wasm" only: other backends run unchanged.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of [...WASM_TRAINING_KERNELS, ...(simdSupported ? WASM_SIMD_KERNELS : [])]) {
    if (tf.getKernel(config.kernelName, config.backendName) === undefined) {
      tf.registerKernel(config);
    }
  }
  if (simdSupported) {
    for (const config of SIMD_GRADIENTS)
      if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
  registerFastBatchMatMul();
  registerFastGather();
  registerSharedIdentity();
  registerFastSum();
  registerFastTranspose();
}
