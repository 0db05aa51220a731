// What every explainer in src/explain returns, so that explanations of different models can be compared
// and put through the same deletion test (faithfulness.ts): for one user and one recommended item, the
// user's history positions ranked by how much each is said to matter for that item.
//
//   neighbours.ts   "because you watched X": item-kNN's score is a sum over the history, one term per item
//   content.ts      the shared TF-IDF terms (genres, title words) and the history items they come from
//   attention.ts    the attention the predicting position of SASRec or BERT4Rec puts on each history item
//
// An explanation answers "which of the things you did led here?" (a post-hoc attribution over the input;
// Tintarev and Masthoff, "A Survey of Explanations in Recommender Systems", ICDE Workshops 2007). Whether
// it is *faithful*, i.e. whether the model actually depends on what it points at, is a separate question
// that faithfulness.ts measures.

import { checkInteger } from "../checks";

/** One history position and the importance an explainer gives it. */
export interface HistoryAttribution {
  /** Index into the history (0 = the earliest item of a sequence). */
  position: number;
  /** The item at that position. */
  item: number;
  /** How much it matters; larger is more. The scale is the method's own (a score share, an attention weight). */
  importance: number;
}

/** Every position of a history, most important first (ties: earlier position first). */
export type HistoryExplanation = HistoryAttribution[];

/**
 * Scores every item [numItems] from a history, as the model would for a user with that history. `user`
 * is the user the history belongs to, for scorers that need more of them than their items (their
 * ratings); most scorers ignore it, and a function `(history) => Float32Array` is one of these.
 */
export interface HistoryScorer {
  (history: readonly number[], user: number): Float32Array;
  /**
   * Optional: several histories of one user in one call, [histories.length × numItems] row-major, for
   * models that score a batch faster than one at a time (a Transformer's forward pass). Occlusion and
   * the deletion test use it when it is there (see `scoreHistories`).
   */
  many?: (histories: ReadonlyArray<readonly number[]>, user: number) => Float32Array;
}

/** Each history's scores [numItems], through `score.many` when the scorer has it, else one by one. */
export function scoreHistories(
  score: HistoryScorer,
  histories: ReadonlyArray<readonly number[]>,
  user: number,
): Float32Array[] {
  if (score.many === undefined || histories.length === 0) return histories.map((history) => score(history, user));
  const all = score.many(histories, user);
  const width = all.length / histories.length;
  if (!Number.isInteger(width)) {
    throw new Error(`scoreHistories: ${all.length} scores do not split into ${histories.length} equal rows`);
  }
  return histories.map((_, b) => all.subarray(b * width, (b + 1) * width));
}

/** Ranks the positions of `history` by their importance for `target` (see `HistoryExplanation`). */
export type HistoryExplainer = (history: readonly number[], target: number, user: number) => HistoryExplanation;

/**
 * The positions of `history` ranked by `importance[position]`, largest first, ties to the earlier
 * position (so that an explainer that finds nothing, all zeros, still gives one deterministic order).
 */
export function rankPositions(history: readonly number[], importance: ArrayLike<number>): HistoryExplanation {
  if (importance.length !== history.length) {
    throw new Error(`rankPositions: ${importance.length} importances for a history of ${history.length} items`);
  }
  const ranked: HistoryExplanation = [];
  for (let p = 0; p < history.length; p++) {
    const value = importance[p];
    if (Number.isNaN(value)) throw new Error(`rankPositions: the importance of position ${p} is NaN`);
    ranked.push({ position: p, item: history[p], importance: value });
  }
  return ranked.sort((a, b) => b.importance - a.importance || a.position - b.position);
}

/** `history` checked: integer items in [0, numItems). */
export function checkHistory(caller: string, history: readonly number[], numItems: number): readonly number[] {
  if (!Array.isArray(history) && !ArrayBuffer.isView(history)) {
    throw new Error(`${caller}: history must be an array of item indices`);
  }
  for (let p = 0; p < history.length; p++) {
    const item = history[p];
    if (!(Number.isInteger(item) && item >= 0 && item < numItems)) {
      throw new Error(`${caller}: history[${p}] = ${item} is outside the items [0, ${numItems})`);
    }
  }
  return history;
}

/** `target` checked: an item index in [0, numItems). */
export function checkTarget(caller: string, target: number, numItems: number): number {
  checkInteger(caller, "target", target, 0);
  if (target >= numItems) throw new Error(`${caller}: target ${target} is outside the items [0, ${numItems})`);
  return target;
}
