// Evaluation protocols, one module per job, gathered here: the interfaces models implement
// (scorers.ts), top-K recommendation (recommendTopK.ts), ranking evaluation under the full and the
// sampled protocol (ranking.ts) and rating evaluation (ratings.ts).

export type { ItemScorer, RatingPredictor } from "./scorers";
export { TopKRecommendations, recommendTopK, type RecommendTopKOptions } from "./recommendTopK";
export {
  DEFAULT_RANKING_METRICS,
  compareProtocols,
  evaluateRanking,
  formatReports,
  type CompareProtocolsOptions,
  type EvaluateRankingOptions,
  type RankingMetricName,
  type RankingProtocol,
  type RankingReport,
  type SampledProtocol,
} from "./ranking";
export { evaluateRatings, type RatingReport } from "./ratings";
