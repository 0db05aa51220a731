// Feature-based explanations of a content-based score: which words (TF-IDF terms of titles, genres, tags)
// the recommended item shares with the user's profile, and which history items those words come from
// (Vig, Sen and Riedl, "Tagsplanations: Explaining Recommendations Using Tags", IUI 2009; Symeonidis,
// Nanopoulos and Manolopoulos, "Providing Justifications in Recommender Systems", IEEE TSMC-A 2008).
//
// ContentBasedRecommender (src/models/contentBased.ts) scores with unit item vectors v and the profile
//
//   p_u = Σ_j w_j v_j / W,   W = Σ_j w_j,   s(u, i) = p_u · v_i / ||p_u||
//
// which splits exactly, term by term and history item by history item:
//
//   s(u, i) = Σ_t Σ_j  w_j · v_j[t] · v_i[t] / (W · ||p_u||)
//             term t's share: the sum over j;  history item j's share c_j: the sum over t
//
// so both rankings add up to the score. Unlike item-kNN's (neighbours.ts), the shares are not what a
// deletion removes: dropping item j also changes W and ||p_u|| (and, for "aboveMean" profiles, the mean
// that sets every weight), so the score does not fall by exactly c_j.

import type { CsrMatrix, SparseVector } from "../data/csr";
import type { ContentBasedRecommender } from "../models/contentBased";
import type { Vocabulary } from "../text/tokenize";
import {
  checkHistory,
  checkTarget,
  HistoryExplainer,
  HistoryExplanation,
  HistoryScorer,
  rankPositions,
} from "./explanation";

/** A term the target shares with the profile. */
export interface TermContribution {
  /** The term's column in the item vectors. */
  term: number;
  /** Its text, when the vocabulary was given. */
  text?: string;
  /** p_u[t] · v_i[t] / ||p_u||: its share of the score. */
  contribution: number;
  /** The history positions whose vectors have the term, ranked by their part of `contribution`; zeros left out. */
  sources: HistoryExplanation;
}

export interface ContentExplanation {
  target: number;
  /** s(u, i) for this history: the sum of `history`'s importances, and of `terms`' contributions. */
  score: number;
  /** Every history position ranked by its share c_j of the score (0 for an item outside the profile). */
  history: HistoryExplanation;
  /** The shared terms, largest contribution first (ties: lower term id). */
  terms: TermContribution[];
}

export interface ContentExplanationConfig {
  /**
   * The user's rating of each history position, for the model's "aboveMean" profiles (w_j = r_j − r̄);
   * without them every position weighs 1, as the model does for a user whose ratings are all equal.
   */
  ratings?: ArrayLike<number>;
  /** Fills `TermContribution.text` (the `vocabulary` of the `tfidfVectors` the model was built from). */
  vocabulary?: Vocabulary;
}

/** Why `model` scores `target` for a user with this history: its terms and its history items. */
export function contentExplanation(
  model: ContentBasedRecommender,
  history: readonly number[],
  target: number,
  config: ContentExplanationConfig = {},
): ContentExplanation {
  const caller = "contentExplanation";
  checkHistory(caller, history, model.numItems);
  checkTarget(caller, target, model.numItems);
  const weights = profileWeights(caller, model, history, config.ratings);
  const profile = profileOf(model.itemVectors, history, weights);
  const scale = profile.norm === 0 ? 0 : 1 / (profile.weightSum * profile.norm);
  const targetRow = model.itemVectors.row(target);
  const targetTerm = new Map<number, number>();
  for (let k = 0; k < targetRow.indices.length; k++) targetTerm.set(targetRow.indices[k], targetRow.values[k]);
  // parts.get(t)[j] = w_j · v_j[t] · v_i[t] / (W · ||p||)
  const parts = new Map<number, Float64Array>();
  const byPosition = new Float64Array(history.length);
  for (let p = 0; p < history.length; p++) {
    if (weights[p] <= 0 || scale === 0) continue;
    const row = model.itemVectors.row(history[p]);
    for (let k = 0; k < row.indices.length; k++) {
      const vt = targetTerm.get(row.indices[k]);
      if (vt === undefined) continue;
      const part = weights[p] * row.values[k] * vt * scale;
      let column = parts.get(row.indices[k]);
      if (column === undefined) parts.set(row.indices[k], (column = new Float64Array(history.length)));
      column[p] += part;
      byPosition[p] += part;
    }
  }
  const terms: TermContribution[] = [];
  for (const [term, column] of parts) {
    const sources = rankPositions(history, column).filter((a) => a.importance !== 0);
    const contribution = column.reduce((s, x) => s + x, 0);
    if (contribution === 0) continue;
    terms.push({
      term,
      ...(config.vocabulary === undefined ? {} : { text: config.vocabulary.tokenOf(term) }),
      contribution,
      sources,
    });
  }
  terms.sort((a, b) => b.contribution - a.contribution || a.term - b.term);
  const score = byPosition.reduce((s, x) => s + x, 0);
  return { target, score, history: rankPositions(history, byPosition), terms };
}

/** A user's ratings by item, for the explainer and scorer below: r(user, item). */
export type RatingLookup = (user: number, item: number) => number;

export interface ContentScorerConfig {
  /** Each history item's rating, for "aboveMean" profiles; default: all equal (each weighs 1). */
  ratings?: RatingLookup;
}

/** `contentExplanation(...).history` as a `HistoryExplainer` for the deletion test. */
export function contentExplainer(model: ContentBasedRecommender, config: ContentScorerConfig = {}): HistoryExplainer {
  const lookup = config.ratings;
  return (history, target, user) =>
    contentExplanation(model, history, target, {
      ratings: lookup === undefined ? undefined : history.map((item) => lookup(user, item)),
    }).history;
}

/**
 * The model's scores s(u, i) = p·v_i / ||p|| from any history: for a user's own training items (and
 * their ratings) it equals `model.scoreItems` of that user.
 */
export function contentHistoryScorer(model: ContentBasedRecommender, config: ContentScorerConfig = {}): HistoryScorer {
  // The transpose, so that a profile touches only the items sharing one of its terms.
  const termItems = model.itemVectors.transpose();
  const lookup = config.ratings;
  return (history, user) => {
    const caller = "contentHistoryScorer";
    checkHistory(caller, history, model.numItems);
    const ratings = lookup === undefined ? undefined : history.map((item) => lookup(user, item));
    const profile = profileOf(model.itemVectors, history, profileWeights(caller, model, history, ratings));
    const scores = new Float64Array(model.numItems);
    if (profile.norm === 0) return new Float32Array(model.numItems);
    for (const [t, value] of profile.terms) {
      const q = value / profile.weightSum;
      for (let k = termItems.offsets[t]; k < termItems.offsets[t + 1]; k++) {
        scores[termItems.indices[k]] += q * termItems.values[k];
      }
    }
    const inverse = 1 / profile.norm;
    return Float32Array.from(scores, (s) => s * inverse);
  };
}

/**
 * w_j of each history position as ContentBasedRecommender.fit sets it: "aboveMean" gives r_j − r̄ to
 * the positions rated above the mean (0 to the rest), or 1 to all when none is; "uniform" gives 1.
 */
function profileWeights(
  caller: string,
  model: ContentBasedRecommender,
  history: readonly number[],
  ratings: ArrayLike<number> | undefined,
): Float64Array {
  const weights = new Float64Array(history.length).fill(1);
  if (ratings === undefined || model.profileWeighting === "uniform") return weights;
  if (ratings.length !== history.length) {
    throw new Error(`${caller}: ${ratings.length} ratings for a history of ${history.length} items`);
  }
  let mean = 0;
  for (let p = 0; p < ratings.length; p++) {
    if (!Number.isFinite(ratings[p]))
      throw new Error(`${caller}: ratings[${p}] must be a finite number, got ${ratings[p]}`);
    mean += ratings[p];
  }
  mean /= Math.max(ratings.length, 1);
  let anyAbove = false;
  for (let p = 0; p < ratings.length; p++) anyAbove ||= ratings[p] > mean;
  if (anyAbove) for (let p = 0; p < ratings.length; p++) weights[p] = Math.max(ratings[p] - mean, 0);
  return weights;
}

/** Σ_j w_j v_j (before dividing by W), W and ||p|| = ||Σ_j w_j v_j|| / W. */
function profileOf(
  vectors: CsrMatrix,
  history: readonly number[],
  weights: Float64Array,
): { terms: Map<number, number>; weightSum: number; norm: number } {
  const terms = new Map<number, number>();
  let weightSum = 0;
  for (let p = 0; p < history.length; p++) {
    if (!(weights[p] > 0)) continue;
    weightSum += weights[p];
    const row: SparseVector = vectors.row(history[p]);
    for (let k = 0; k < row.indices.length; k++) {
      terms.set(row.indices[k], (terms.get(row.indices[k]) ?? 0) + weights[p] * row.values[k]);
    }
  }
  let squares = 0;
  for (const value of terms.values()) squares += value * value;
  const norm = weightSum === 0 ? 0 : Math.sqrt(squares) / weightSum;
  return { terms, weightSum, norm };
}
