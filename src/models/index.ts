// The recommenders and language models, one file each.

export * from "./baselines";
export * from "./contentBased";
export { NormalPredictor, type NormalPredictorConfig, BaselineOnly, type BaselineOnlyConfig } from "./ratingBaselines";
export { KNNBasic, KNNWithMeans, KNNBaseline, type KnnConfig } from "./knn";
export { SlopeOne, type SlopeOneConfig } from "./slopeOne";
export { NMF, type NmfConfig, type NmfParams, fitNmf } from "./nmf";
export {
  CoClustering,
  type CoClusteringConfig,
  type ClusterMeans,
  clusterMeans,
  fitCoClustering,
} from "./coClustering";
export {
  MatrixFactorization,
  type MatrixFactorizationConfig,
  SVD_SGD_DEFAULTS,
  matrixFactorizationLoss,
  matrixFactorizationEstimate,
  type MatrixFactorizationParams,
  type MatrixFactorizationTables,
  svdSgdEpoch,
} from "./matrixFactorization";
export {
  Svdpp,
  type SvdppConfig,
  type SvdppParams,
  SVDPP_SGD_DEFAULTS,
  svdppLoss,
  svdppEstimate,
  implicitBatch,
  type ImplicitBatch,
  implicitFeedback,
  type SvdppTables,
  svdppSgdEpoch,
} from "./svdpp";
export {
  BprMf,
  type BprMfConfig,
  type BprMfParams,
  bprBatches,
  type BprBatch,
  type BprBatchesConfig,
  bprMfLoss,
  bprScorePairs,
} from "./bpr";
export {
  fitWals,
  type WalsConfig,
  type WalsStrength,
  WalsModel,
  walsLoss,
  implicitMatrix,
  solveSide,
  type SparseRows,
} from "./wals";
export * from "./ncf";
export * from "./twoTower";
export * from "./hybrid";
export * from "./featureEmbedding";
export * from "./bert";
export * from "./bert4rec";
export * from "./sasrec";
export * from "./itemKnn";
export {
  Sar,
  type SarConfig,
  type SarSimilarity,
  SAR_SIMILARITIES,
  sarAffinity,
  sarCooccurrence,
  sarSimilarity,
  timeDecayFactor,
} from "./sar";
export { Ease, type EaseConfig, easeWeights } from "./ease";
export * from "./markovChain";
export { LightGcn, type LightGcnConfig, type LightGcnParams, lightGcnPropagate, lightGcnLoss } from "./lightGcn";
export {
  MultVae,
  type MultVaeConfig,
  type MultVaeBatch,
  type MultVaeBatchesConfig,
  multVaeBatches,
  gaussianKl,
  multinomialLogLikelihood,
  reparameterize,
} from "./multVae";
