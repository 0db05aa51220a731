// Neighbour-based explanations, "because you watched X" (Herlocker, Konstan and Riedl, "Explaining
// Collaborative Filtering Recommendations", CSCW 2000, found the neighbour style the most persuasive of
// the 21 interfaces they tried). An item-based score is a sum over the user's history,
//
//   s(u, i) = Σ_{j ∈ H_u} w_uj · sim(i, j)        item-kNN (src/models/itemKnn.ts): w_uj = 1, sim pruned to N_k(j)
//
// so each history item j carries exactly the term c_j = w_uj · sim(i, j), and ranking the history by c_j
// is the explanation. Because the score is that sum, removing the top-ranked item lowers the score by the
// largest amount any single removal can: for item-kNN this explanation is faithful by construction, which
// makes it the reference the other methods are measured against in the deletion test (faithfulness.ts).

import { checkFinite, checkInteger } from "../checks";
import type { SimilarityMatrix } from "../data/similarities";
import type { ItemSimilarity } from "../eval/metrics";
import type { ItemKnnRecommender } from "../models/itemKnn";
import {
  checkHistory,
  checkTarget,
  HistoryExplainer,
  HistoryExplanation,
  HistoryScorer,
  rankPositions,
} from "./explanation";

/**
 * Item-kNN's term for history item j and target i: sim(i, j) when i is among j's kept neighbours
 * N_k(j), else 0, as `ItemKnnRecommender.scoreItems` adds it. Looks i up in j's list (O(k)).
 */
export function itemKnnSimilarity(model: ItemKnnRecommender): ItemSimilarity {
  const graph = model.similarityGraph;
  return (historyItem, target) => {
    for (let e = graph.offsets[historyItem]; e < graph.offsets[historyItem + 1]; e++) {
      if (graph.items[e] === target) return graph.similarities[e];
    }
    return 0;
  };
}

/** sim(i, j) read from a dense item-item similarity matrix (`similarityMatrix(..., { userBased: false })`). */
export function similarityMatrixLookup(matrix: SimilarityMatrix): ItemSimilarity {
  if (matrix.userBased) {
    throw new Error("similarityMatrixLookup: the matrix is user-based; explanations need item-item similarities");
  }
  return (historyItem, target) => matrix.values[target * matrix.size + historyItem];
}

export interface NeighbourExplanationConfig {
  /**
   * w_uj, the weight of each history position: a rating, or r_uj − r̄_u for a mean-centred model.
   * Default 1 each (implicit feedback).
   */
  weights?: ArrayLike<number>;
  /**
   * Count a repeated item once, at its first position, and give its repeats 0 (item-kNN scores the
   * set of a user's items). Default false: every position counts.
   */
  distinct?: boolean;
}

/**
 * The history ranked by each position's term c_j = w_j · similarity(history[j], target) of the
 * item-based score; the importances sum to the score. `similarity(historyItem, target)` is what a history
 * item adds to the target's score per unit of weight (any of eval's `ItemSimilarity` functions, or the two
 * above); it need not be symmetric: item-kNN's pruning keeps i as a neighbour of j without the converse.
 */
export function neighbourExplanation(
  similarity: ItemSimilarity,
  history: readonly number[],
  target: number,
  config: NeighbourExplanationConfig = {},
): HistoryExplanation {
  const caller = "neighbourExplanation";
  checkHistory(caller, history, Number.MAX_SAFE_INTEGER);
  checkInteger(caller, "target", target, 0);
  const weights = config.weights;
  if (weights !== undefined && weights.length !== history.length) {
    throw new Error(`${caller}: ${weights.length} weights for a history of ${history.length} items`);
  }
  const seen = new Set<number>();
  const importance = new Float64Array(history.length);
  for (let p = 0; p < history.length; p++) {
    const item = history[p];
    if (config.distinct) {
      if (seen.has(item)) continue;
      seen.add(item);
    }
    const w = weights === undefined ? 1 : checkFinite(caller, `weights[${p}]`, weights[p]);
    importance[p] = w * similarity(item, target);
  }
  return rankPositions(history, importance);
}

/** `neighbourExplanation` of an item-kNN model's score: its pruned similarities, each item counted once. */
export function itemKnnExplainer(model: ItemKnnRecommender): HistoryExplainer {
  const similarity = itemKnnSimilarity(model);
  const numItems = model.numItems;
  return (history, target) => {
    checkHistory("itemKnnExplainer", history, numItems);
    checkTarget("itemKnnExplainer", target, numItems);
    return neighbourExplanation(similarity, history, target, { distinct: true });
  };
}

/**
 * Item-kNN's scores for any history, the sum of the neighbours of its distinct items: for a user's own
 * training items it equals `model.scoreItems` of that user.
 */
export function itemKnnHistoryScorer(model: ItemKnnRecommender): HistoryScorer {
  const graph = model.similarityGraph;
  const numItems = model.numItems;
  return (history) => {
    checkHistory("itemKnnHistoryScorer", history, numItems);
    const scores = new Float32Array(numItems);
    for (const j of new Set(history)) {
      for (let e = graph.offsets[j]; e < graph.offsets[j + 1]; e++) scores[graph.items[e]] += graph.similarities[e];
    }
    return scores;
  };
}
