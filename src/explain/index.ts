// Explanations of one user's recommendation as a ranking of their history (neighbours, content terms,
// attention), and the deletion test of how faithful each is.

export {
  checkHistory,
  checkTarget,
  rankPositions,
  type HistoryAttribution,
  type HistoryExplainer,
  type HistoryExplanation,
  type HistoryScorer,
} from "./explanation";
export {
  itemKnnExplainer,
  itemKnnHistoryScorer,
  itemKnnSimilarity,
  neighbourExplanation,
  similarityMatrixLookup,
  type NeighbourExplanationConfig,
} from "./neighbours";
export {
  contentExplainer,
  contentExplanation,
  contentHistoryScorer,
  type ContentExplanation,
  type ContentExplanationConfig,
  type ContentScorerConfig,
  type RatingLookup,
  type TermContribution,
} from "./content";
export {
  attentionExplainer,
  attentionExplanation,
  attentionImportance,
  sequentialHistoryScorer,
  type AttentionAggregation,
  type AttentionImportanceConfig,
  type AttentionStack,
} from "./attention";
export { occlusionExplainer } from "./occlusion";
export {
  deletionTest,
  RANDOM_DELETION,
  recencyExplainer,
  type DeletionOutcome,
  type DeletionReport,
  type DeletionSummary,
  type DeletionTestConfig,
} from "./faithfulness";
