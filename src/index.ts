// The public API of recsys-ts: what notebooks, scripts and users import.
// Notebooks import it as "./src/index" (notebooks/src links to this folder).

// backend: TensorFlow.js backend choice, training kernels, the seeded random source
export * from "./backend/index";

// data: interactions, loaders and cache, splitters, samplers, synthetic data, statistics
export * from "./data/interactions";
export * from "./data/catalogue";
export * from "./data/cache";
export { DataFormatError } from "./data/delimited";
export * from "./data/movielens";
export * from "./data/goodbooks";
export * from "./data/csv";
export * from "./data/datasets";
export * from "./data/defaultDataset";
export * from "./data/dataframe";
export * from "./data/splitters";
export * from "./data/samplers";
export * from "./data/synthetic";
export * from "./data/csr";
export * from "./data/topK";
export * from "./data/userIndex";
export * from "./data/featureMatrix";
export { SparseRatings, type RatingRows, type SparseRatingsConfig } from "./data/sparseRatings";
export * from "./data/stats";
export * from "./data/coldStart";
export * from "./data/bertPretraining";
export * from "./data/sequences";
export * from "./data/textClassification";

// eval: metrics, protocols, cross-validation, published results
export * from "./eval/metrics";
export * from "./eval/protocols";
export * from "./eval/crossValidation";
export * from "./eval/published";
export * from "./eval/pretraining";
export * from "./eval/candidates";

// text: tokenizers
export * from "./text/tokenize";
export * from "./text/termWeighting";
export {
  basicTokenize,
  normalizeBertText,
  isBertPunctuation,
  isBertChineseChar,
  type BertNormalizerOptions,
} from "./text/bertNormalizer";
export {
  WordPieceTokenizer,
  BERT_SPECIAL_TOKENS,
  CONTINUATION_PREFIX,
  type WordPieceOptions,
  type EncodeOptions,
  type Encoding,
  type DecodeOptions,
} from "./text/wordpiece";
export {
  trainWordPiece,
  type WordPieceTrainingConfig,
  type WordPieceTraining,
  type WordPieceMerge,
} from "./text/wordpieceTraining";

// models: one file per model
export * from "./models/baselines";
export * from "./models/contentBased";
export {
  NormalPredictor,
  type NormalPredictorConfig,
  BaselineOnly,
  type BaselineOnlyConfig,
} from "./models/ratingBaselines";
export {
  similarityMatrix,
  type SimilarityMatrix,
  type SimilarityConfig,
  type SimilarityName,
  resolveSimilarityConfig,
} from "./data/similarities";
export { KNNBasic, KNNWithMeans, KNNBaseline, type KnnConfig } from "./models/knn";
export { SlopeOne, type SlopeOneConfig } from "./models/slopeOne";
export {
  MatrixFactorization,
  type MatrixFactorizationConfig,
  SVD_SGD_DEFAULTS,
  matrixFactorizationLoss,
  matrixFactorizationEstimate,
  type MatrixFactorizationParams,
} from "./models/matrixFactorization";
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
} from "./models/svdpp";
export {
  BprMf,
  type BprMfConfig,
  type BprMfParams,
  bprBatches,
  type BprBatch,
  type BprBatchesConfig,
  bprMfLoss,
  bprScorePairs,
} from "./models/bpr";
export {
  fitWals,
  type WalsConfig,
  type WalsStrength,
  WalsModel,
  walsLoss,
  implicitMatrix,
  solveSide,
  choleskySolve,
  gram,
  type SparseRows,
} from "./models/wals";
export * from "./models/ncf";
export * from "./models/twoTower";
export * from "./models/hybrid";
export * from "./models/featureEmbedding";
export * from "./models/bert";
export * from "./models/bert4rec";
export * from "./models/sasrec";
export * from "./models/itemKnn";
export * from "./models/markovChain";

// nn: attention, Transformer layers, saving models in Node
export * from "./nn/attention";
export * from "./nn/multiHeadAttention";
export * from "./nn/positionEmbedding";
export * from "./nn/layerNorm";
export * from "./nn/feedForward";
export * from "./nn/dropout";
export * from "./nn/transformerEncoder";
export * from "./nn/sequentialTransformer";
export * from "./nn/compositeLayer";
export * from "./nn/layeredModel";
export * from "./nn/fileSystemIO";
export * from "./nn/initializers";
export { linear } from "./nn/linear";
export { DenseTower, gatherRows } from "./nn/mlp";

// train: the training loop, batches, progress of long loops
export * from "./train/trainer";
export * from "./train/losses";
export * from "./train/batches";
export * from "./train/ratingSgd";
export * from "./train/implicitFeedback";
export {
  fitBaselines,
  type Baselines,
  type BaselineConfig,
  type AlsBaselineConfig,
  type SgdBaselineConfig,
} from "./train/baselineEstimates";
export * from "./train/progress";
export * from "./train/optimizers";
export * from "./train/schedules";
export * from "./train/checkpoint";
export * from "./train/savedModel";
export * from "./train/bertPretraining";
export * from "./train/sequentialTraining";

// viz: Plotly figures and rich display in notebooks
export * from "./viz/display";
export * from "./viz/plotly";
export * from "./viz/charts";
export * from "./viz/projection";
export * from "./viz/liveCurves";
