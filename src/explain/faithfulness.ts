// The deletion test of an explanation's faithfulness: if the history item an explainer ranks first is
// really what the recommendation rests on, taking it out of the history should hurt the recommended
// item more than taking out a random one (the "comprehensiveness" of DeYoung et al., "ERASER: A
// Benchmark to Evaluate Rationalized NLP Models", ACL 2020; the deletion curve of Petsiuk, Das and
// Saenko, "RISE", BMVC 2018, cut to its first step). Per user:
//
//   1. score every item from the full history H; the target i* is the top-1 item outside H
//   2. for each method, delete the history position it ranks first: H' = H \ {h_m} (or its top n, with
//      `deletions: n`); for the baseline, a uniformly random position (n distinct ones; seeded, averaged
//      over `randomDraws` draws)
//   3. re-score from H'; record the score drop s(i*) − s'(i*), the rank drop rank'(i*) − 1 (ranks
//      among the items outside H, ties to the lower index) and whether i* left the top k
//
// and over users, per method: the mean score drop, the mean and median rank drop, and the fraction of
// users whose top item left the top k, beside the same numbers for the random deletion. A method no
// better than random says nothing about what the model uses, however plausible it looks.
//
// The test needs nothing of the model but a way to re-score a user from a modified history (a
// `HistoryScorer`): item-kNN and content-based models compute their scores from the history
// (neighbours.ts, content.ts), a sequential Transformer reads the sequence (attention.ts).
//
// The known caveat for attention: Jain and Wallace ("Attention is not Explanation", NAACL 2019) found
// attention weights often uncorrelated with gradient and leave-one-out importance, and different
// attention maps giving the same predictions; Wiegreffe and Pinter ("Attention is not not Explanation",
// EMNLP 2019) answered that whether attention explains depends on the model and on the test, and that
// such tests must be run, not assumed. This file is such a test: in a Transformer, the residual stream
// and the feed-forward blocks carry information around the attention weights, so attention (even rolled
// out) may point away from the items the score depends on. Two references bracket a method: random
// deletion below, and occlusion (occlusion.ts, which deletes each item in turn and keeps the largest
// score drop) above; item-kNN's neighbour explanation, an exact decomposition of a sum, reaches that
// ceiling by construction. For sequential models, `recencyExplainer` (the latest item first) is a third
// reference: a method that only matches it has learned that recent items matter, nothing more. Notebook
// 08 shows where attention falls between them.

import { Rng } from "../backend/random";
import { checkInteger, checkPositiveInteger, checkSeed } from "../checks";
import { HistoryExplainer, HistoryScorer, rankPositions, scoreHistories } from "./explanation";

export interface DeletionTestConfig {
  /** The top list the recommended item is watched in. Default 10. */
  k?: number;
  /** Random deletions per user for the baseline, averaged. Default 5. */
  randomDraws?: number;
  /**
   * How many history items each deletion removes: a method's top n, or n distinct random ones. Default 1,
   * the test as usually run; more show rank changes where one item among a hundred barely moves a score.
   */
  deletions?: number;
  /** Users whose history is shorter are skipped, so that a deletion leaves a history. Default and minimum: deletions + 1. */
  minHistory?: number;
  /** Rank only the items outside the history (seen items are not recommended). Default true. */
  excludeHistory?: boolean;
  /** The user of each history, passed to the scorer and the explainers. Default 0, 1, … */
  users?: ArrayLike<number>;
  /** Seeds the random baseline. */
  seed: number;
}

/** One user's deletion under one method. */
export interface DeletionOutcome {
  user: number;
  /** i*, the top-1 item before the deletion. */
  target: number;
  historyLength: number;
  /** The deleted history positions, ascending: one set for a method, one per random draw. */
  deleted: number[][];
  /** s(i*) before. */
  scoreBefore: number;
  /** s(i*) − s'(i*) (mean over random draws); negative when the deletion raised the score. */
  scoreDrop: number;
  /** rank'(i*) − 1 (mean over random draws): 0 when i* is still first. */
  rankDrop: number;
  /** The fraction of deletions (1 or 0 for a method) after which i* is outside the top k. */
  leftTopK: number;
}

/** One method's deletion test over all users. */
export interface DeletionSummary {
  method: string;
  users: number;
  meanScoreDrop: number;
  meanRankDrop: number;
  medianRankDrop: number;
  /** The fraction of users whose top item left the top k (for random deletion, averaged over the draws). */
  leftTopK: number;
}

export interface DeletionReport {
  k: number;
  deletions: number;
  /** The explainers' summaries in the order given, then "random". */
  summaries: DeletionSummary[];
  /** Every user's outcome by method. */
  outcomes: Record<string, DeletionOutcome[]>;
  /** Users left out: a history shorter than minHistory, or no item left to rank. */
  skipped: number;
}

/** The name of the random baseline in the report. */
export const RANDOM_DELETION = "random";

/**
 * A baseline explainer that knows nothing of the model: the latest history item first. A sequential
 * model leans on the latest items, so an attention method must beat this, not just random, before its
 * ranking says more than "you watched this last".
 */
export const recencyExplainer: HistoryExplainer = (history) =>
  rankPositions(
    history,
    history.map((_, p) => p),
  );

/**
 * Runs the deletion test (see the file header) of each explainer, and of random deletion, on the users
 * of `histories`, with `score` re-scoring a user from a modified history.
 */
export function deletionTest(
  histories: ReadonlyArray<readonly number[]>,
  score: HistoryScorer,
  explainers: Readonly<Record<string, HistoryExplainer>>,
  config: DeletionTestConfig,
): DeletionReport {
  const caller = "deletionTest";
  const k = checkPositiveInteger(caller, "k", config.k ?? 10);
  const draws = checkPositiveInteger(caller, "randomDraws", config.randomDraws ?? 5);
  const deletions = checkPositiveInteger(caller, "deletions", config.deletions ?? 1);
  const minHistory = checkInteger(caller, "minHistory", config.minHistory ?? deletions + 1, deletions + 1);
  const excludeHistory = config.excludeHistory ?? true;
  const rng = new Rng(checkSeed(caller, config.seed));
  const users = config.users;
  if (users !== undefined && users.length !== histories.length) {
    throw new Error(`${caller}: ${users.length} users for ${histories.length} histories`);
  }
  const methods = Object.keys(explainers);
  if (methods.includes(RANDOM_DELETION)) {
    throw new Error(`${caller}: "${RANDOM_DELETION}" names the baseline; call the explainer something else`);
  }
  const outcomes: Record<string, DeletionOutcome[]> = {};
  for (const method of [...methods, RANDOM_DELETION]) outcomes[method] = [];
  let skipped = 0;
  histories.forEach((history, c) => {
    const user = users === undefined ? c : users[c];
    if (history.length < minHistory) {
      skipped++;
      return;
    }
    const full = score(history, user);
    const scores = checkScores(caller, full, full.length, "the full history");
    const excluded = new Set<number>(excludeHistory ? history : []);
    const target = topItem(scores, excluded);
    if (target < 0) {
      skipped++;
      return;
    }
    // The position sets to delete: each method's top `deletions`, then the random draws.
    const sets: number[][] = methods.map((method) => {
      const ranked = explainers[method](history, target, user);
      const top = ranked.slice(0, deletions).map((a) => a.position);
      if (new Set(top).size !== deletions || !top.every((p) => Number.isInteger(p) && p >= 0 && p < history.length)) {
        throw new Error(
          `${caller}: explainer "${method}" did not rank ${deletions} distinct positions of a ${history.length}-item history first`,
        );
      }
      return top.sort((a, b) => a - b);
    });
    for (let d = 0; d < draws; d++) {
      sets.push(Array.from(rng.permutation(history.length).subarray(0, deletions)).sort((a, b) => a - b));
    }
    const reduced = sets.map((set) => history.filter((_, p) => !set.includes(p)));
    const after = scoreHistories(score, reduced, user).map((row, j) =>
      checkScores(caller, row, scores.length, `the history less positions ${sets[j].join(", ")}`),
    );
    const before = scores[target];
    const outcome = (from: number, to: number): DeletionOutcome => {
      let scoreDrop = 0;
      let rankDrop = 0;
      let left = 0;
      for (let j = from; j < to; j++) {
        const rank = rankOf(after[j], target, excluded);
        scoreDrop += before - after[j][target];
        rankDrop += rank - 1;
        left += rank > k ? 1 : 0;
      }
      const n = to - from;
      return {
        user,
        target,
        historyLength: history.length,
        deleted: sets.slice(from, to),
        scoreBefore: before,
        scoreDrop: scoreDrop / n,
        rankDrop: rankDrop / n,
        leftTopK: left / n,
      };
    };
    methods.forEach((method, m) => outcomes[method].push(outcome(m, m + 1)));
    outcomes[RANDOM_DELETION].push(outcome(methods.length, sets.length));
  });
  const summaries = [...methods, RANDOM_DELETION].map((method) => summarize(method, outcomes[method]));
  return { k, deletions, summaries, outcomes, skipped };
}

/** The item with the highest score outside `excluded`, ties to the lower index; −1 if none. */
function topItem(scores: Float32Array, excluded: Set<number>): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) {
    if (!excluded.has(i) && (best < 0 || scores[i] > scores[best])) best = i;
  }
  return best;
}

/** 1 + the items outside `excluded` that score above the target, or equal with a lower index. */
function rankOf(scores: Float32Array, target: number, excluded: Set<number>): number {
  const s = scores[target];
  let above = 0;
  for (let i = 0; i < scores.length; i++) {
    if (i === target || excluded.has(i)) continue;
    if (scores[i] > s || (scores[i] === s && i < target)) above++;
  }
  return 1 + above;
}

function checkScores(caller: string, scores: Float32Array, length: number, what: string): Float32Array {
  if (!(scores instanceof Float32Array)) throw new Error(`${caller}: the scorer must return a Float32Array (${what})`);
  if (scores.length !== length) {
    throw new Error(`${caller}: the scorer returned ${scores.length} scores for ${what}, ${length} before`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`${caller}: the scorer gave item ${i} a NaN score (${what})`);
  }
  return scores;
}

function summarize(method: string, outcomes: DeletionOutcome[]): DeletionSummary {
  const n = outcomes.length;
  const mean = (f: (o: DeletionOutcome) => number) => (n === 0 ? NaN : outcomes.reduce((s, o) => s + f(o), 0) / n);
  const drops = outcomes.map((o) => o.rankDrop).sort((a, b) => a - b);
  const median = n === 0 ? NaN : n % 2 === 1 ? drops[(n - 1) / 2] : (drops[n / 2 - 1] + drops[n / 2]) / 2;
  return {
    method,
    users: n,
    meanScoreDrop: mean((o) => o.scoreDrop),
    meanRankDrop: mean((o) => o.rankDrop),
    medianRankDrop: median,
    leftTopK: mean((o) => o.leftTopK),
  };
}
