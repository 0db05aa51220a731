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
 * The two other algorithms of the same Surprise table (README and docs): NMF and CoClustering, also
 * with their default hyper-parameters. Kept apart from `SURPRISE_ML100K`, the eight rows the table
 * started with; notebook 02 and `npm run reproduce -- surprise-ml100k` run all ten.
 */
export const SURPRISE_ML100K_MORE: readonly PublishedRatingResult[] = [
  { algorithm: "NMF", rmse: 0.963, mae: 0.758 },
  { algorithm: "CoClustering", rmse: 0.963, mae: 0.753 },
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

/** One algorithm's row of Microsoft Recommenders' top-10 table. */
export interface PublishedTop10Result {
  /** Their `map`: average precision@10 divided by the user's number of relevant items (mapNormalization "numRelevant"). */
  map: number;
  ndcg: number;
  precision: number;
  recall: number;
}

/**
 * The whole top-10 table of the same benchmark (Microsoft Recommenders README, "Algorithm Comparison";
 * examples/06_benchmarks/movielens.ipynb): SAR with Jaccard similarity and a 30-day time decay.
 */
export const MS_RECOMMENDERS_ML100K_TOP10: Readonly<Record<string, PublishedTop10Result>> = {
  ALS: { map: 0.004732, ndcg: 0.044239, precision: 0.048462, recall: 0.017796 },
  BiVAE: { map: 0.146126, ndcg: 0.475077, precision: 0.411771, recall: 0.219145 },
  BPR: { map: 0.132478, ndcg: 0.441997, precision: 0.388229, recall: 0.212522 },
  FastAI: { map: 0.025503, ndcg: 0.147866, precision: 0.130329, recall: 0.053824 },
  LightGCN: { map: 0.088526, ndcg: 0.419846, precision: 0.379626, recall: 0.144336 },
  NCF: { map: 0.10772, ndcg: 0.396118, precision: 0.347296, recall: 0.180775 },
  SAR: { map: 0.110591, ndcg: 0.382461, precision: 0.330753, recall: 0.176385 },
  SVD: { map: 0.012873, ndcg: 0.09593, precision: 0.091198, recall: 0.032783 },
};
