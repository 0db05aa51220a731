// Evaluation: metrics, ranking and rating protocols, cross-validation, published results to compare with,
// retrieval (exact and approximate nearest neighbours) and cost (parameters, bytes, latency).

export * from "./metrics";
export * from "./protocols";
export * from "./crossValidation";
export * from "./published";
export * from "./pretraining";
export * from "./candidates";
export * from "./retrieval";
export * from "./cost";
