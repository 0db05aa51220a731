// The data layer: interactions, loaders and their cache, splitters, samplers, sparse rows, synthetic data and
// statistics.

export * from "./interactions";
export * from "./catalogue";
export * from "./cache";
export { DataFormatError } from "./delimited";
export * from "./movielens";
export * from "./goodbooks";
export * from "./csv";
export * from "./datasets";
export * from "./defaultDataset";
export * from "./dataframe";
export * from "./splitters";
export * from "./samplers";
export * from "./synthetic";
export * from "./csr";
export * from "./topK";
export * from "./userIndex";
export * from "./featureMatrix";
export {
  SparseRatings,
  type RatingRows,
  type RatingSpace,
  type SparseRatingsConfig,
  type SparseRatingsParts,
} from "./sparseRatings";
export * from "./stats";
export * from "./coldStart";
export * from "./bertPretraining";
export * from "./sequences";
export * from "./textClassification";
export {
  similarityMatrix,
  type SimilarityMatrix,
  type SimilarityConfig,
  type SimilarityName,
  resolveSimilarityConfig,
} from "./similarities";
export { gram, sparseGram, choleskyFactor, choleskySolve, spdInverse } from "./linalg";
