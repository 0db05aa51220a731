// Training: the generic loop and its callbacks, batches, losses, optimizers, schedules, progress and saved models.

export * from "./trainer";
export * from "./losses";
export * from "./batches";
export * from "./ratingSgd";
export * from "./implicitFeedback";
export * from "./learnBpr";
export {
  fitBaselines,
  type Baselines,
  type BaselineConfig,
  type AlsBaselineConfig,
  type SgdBaselineConfig,
} from "./baselineEstimates";
export * from "./progress";
export * from "./optimizers";
export * from "./schedules";
export * from "./checkpoint";
export { CheckpointArrays, CheckpointError, encodeArrays, type NamedArray, type SavedArray } from "./checkpointFormat";
export * from "./savedModel";
export * from "./bertPretraining";
export * from "./sequentialTraining";
