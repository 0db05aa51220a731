// The backend layer: which tfjs backend runs the models, the kernels it needs for training, and the
// library's one seeded random source.

export {
  BACKEND_ENV_VAR,
  BACKEND_NAMES,
  describeBackend,
  initBackend,
  type BackendInfo,
  type BackendName,
  type InitBackendOptions,
} from "./backend";
export {
  describeMatrixProducts,
  kernelThreads,
  registerWasmTrainingKernels,
  setKernelThreads,
  setSimdVariant,
  simdVariant,
  type SimdVariant,
} from "./kernels/index";
export { Rng, type ShuffleableArray } from "./random";
