// Evaluation: metrics, ranking and rating protocols, cross-validation and published results to compare with.

export * from "./metrics";
export * from "./protocols";
export * from "./crossValidation";
export * from "./published";
export * from "./pretraining";
export * from "./candidates";
