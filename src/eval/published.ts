// Published results the course reproduces, with where they come from. Reproduction scripts and
// notebooks print ours beside these.

/** One algorithm's published rating-prediction result. */
export interface PublishedRatingResult {
  algorithm: string;
  rmse: number;
  mae: number;
}

/**
 * The Surprise benchmark on MovieLens 100K: 5-fold cross-validation (KFold, random_state=0), default
 * hyper-parameters of every algorithm (Surprise README and docs, `examples/benchmark.py`).
 */
export const SURPRISE_ML100K: readonly PublishedRatingResult[] = [
  { algorithm: "NormalPredictor", rmse: 1.518, mae: 1.219 },
  { algorithm: "BaselineOnly", rmse: 0.944, mae: 0.748 },
  { algorithm: "KNNBasic", rmse: 0.98, mae: 0.774 },
  { algorithm: "KNNWithMeans", rmse: 0.951, mae: 0.749 },
  { algorithm: "KNNBaseline", rmse: 0.931, mae: 0.733 },
  { algorithm: "SlopeOne", rmse: 0.946, mae: 0.743 },
  { algorithm: "SVD", rmse: 0.934, mae: 0.737 },
  { algorithm: "SVD++", rmse: 0.919, mae: 0.721 },
];

/**
 * Microsoft Recommenders' top-10 benchmark on MovieLens 100K (per-user stratified 75/25 split, k = 10,
 * all test interactions relevant): nDCG@10 of their algorithms (benchmarks README, movielens notebook).
 */
export const MS_RECOMMENDERS_ML100K_NDCG10: Readonly<Record<string, number>> = {
  BPR: 0.442,
  NCF: 0.396,
  SAR: 0.382,
  SVD: 0.096,
};
