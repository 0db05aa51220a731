// Occlusion (leave-one-out) explanations: the importance of a history item is how much the target's
// score falls when that item alone is taken out, s(i | H) − s(i | H \ {h_j}) (Zeiler and Fergus,
// "Visualizing and Understanding Convolutional Networks", ECCV 2014, for image patches; Li, Monroe and
// Jurafsky, "Understanding Neural Networks through Representation Erasure", 2016, for words). It needs
// only a `HistoryScorer`, so it explains any model, at the price of one re-scoring per history item.
//
// Its first-ranked item is, by definition, the single deletion that lowers the score most: in the
// deletion test (faithfulness.ts) its score drop is the ceiling every other method is measured against,
// as random deletion is the floor. It explains the score, not the rank: a deletion can lower the target's
// score less and still let more items overtake it.

import type { HistoryExplainer, HistoryScorer } from "./explanation";
import { rankPositions, scoreHistories } from "./explanation";

/**
 * Ranks each history position by the target's score drop when it alone is deleted (see the file header).
 * One re-scoring per position, in one batch when the scorer has `many`.
 */
export function occlusionExplainer(score: HistoryScorer): HistoryExplainer {
  return (history, target, user) => {
    const full = score(history, user);
    if (!(target >= 0 && target < full.length && Number.isInteger(target))) {
      throw new Error(`occlusionExplainer: target ${target} is outside the ${full.length} scored items`);
    }
    const reduced = history.map((_, p) => history.filter((__, q) => q !== p));
    const drops = scoreHistories(score, reduced, user).map((scores) => full[target] - scores[target]);
    return rankPositions(history, drops);
  };
}
