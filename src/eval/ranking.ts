// Ranking evaluation, the two ways the literature evaluates a ranking model side by side —
//   - full ranking: every item the user has not trained on is a candidate (Microsoft Recommenders,
//     RecBole's "full" mode);
//   - sampled ranking: the held-out item is ranked among N sampled negatives, 100 by default, uniform or
//     popularity-proportional (NCF, SASRec, BERT4Rec, on a leave-one-out split). With several test items
//     per user, all of them are ranked together with the N negatives: a variant, labelled "all-test+N".
// Sampled metrics are much higher than full ones and can even order models differently (Krichene and
// Rendle, "On Sampled Metrics for Item Recommendation", KDD 2020); reporting both makes that visible.

import { Rng } from "../backend/random";
import { checkPositiveInteger } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { NegativeSampler } from "../data/samplers";
import { itemPopularity } from "../data/stats";
import { TopKSelector } from "../data/topK";
import {
  AveragePrecisionNormalization,
  ItemFeatures,
  ItemSimilarity,
  averagePrecisionAtK,
  aucOfScores,
  catalogCoverage,
  cooccurrenceSimilarity,
  cosineFeatureSimilarity,
  hitAtK,
  listDiversity,
  ndcgAtK,
  novelty,
  precisionAtK,
  recallAtK,
  reciprocalRankAtK,
} from "./metrics";
import {
  ItemScorer,
  checkSameItems,
  checkUsersInRange,
  forEachScoredBatch,
  groupByUser,
  setMask,
  toUserArray,
} from "./scorers";

/**
 * Metrics `evaluateRanking` can report; all but "userAuc" are reported at each K. "userAuc" is the mean
 * over users of each user's AUC, not the AUC of all pairs pooled that `auc()` computes.
 */
export type RankingMetricName =
  "precision" | "recall" | "ndcg" | "map" | "hr" | "mrr" | "userAuc" | "coverage" | "novelty" | "diversity";

export const DEFAULT_RANKING_METRICS: readonly RankingMetricName[] = [
  "hr",
  "ndcg",
  "mrr",
  "precision",
  "recall",
  "map",
  "userAuc",
];

/**
 * The sampled protocol's settings. All of a user's test items are ranked together with the user's N
 * negatives: with a leave-one-out split, one positive among N + 1 candidates, as the NCF, SASRec and
 * BERT4Rec papers do; with several test items per user, a variant the report labels "all-test+N".
 */
export interface SampledProtocol {
  /** Negatives per user; default 100. */
  negatives?: number;
  /** "uniform" over the catalogue, or "popularity": proportional to the item's training interactions. */
  strategy?: "uniform" | "popularity";
  seed: number;
}

export type RankingProtocol = "full" | { sampled: SampledProtocol };

export interface EvaluateRankingOptions {
  /** Interactions the model learned from: excluded from each user's candidates. */
  train: Interactions;
  /** Held-out interactions: every test item of a user is relevant to that user. */
  test: Interactions;
  /** Cut-off(s) of the ranked list. */
  k: number | number[];
  /** Default "full". */
  protocol?: RankingProtocol;
  /** Default {@link DEFAULT_RANKING_METRICS}; coverage, novelty and diversity need the full protocol. */
  metrics?: RankingMetricName[];
  /** Evaluate only these users (those among them with test items); default every user with test items. */
  users?: ArrayLike<number>;
  /** Users scored per model call; default 256. */
  batchSize?: number;
  /**
   * NDCG's relevance: "binary" (default; Microsoft Recommenders' default) or graded by the test rating,
   * gain = rating ("linear") or 2^rating − 1 ("exponential").
   */
  ndcgGain?: "binary" | "linear" | "exponential";
  /** MAP's normalisation; default "minKRelevant" (see `averagePrecisionAtK`). */
  mapNormalization?: AveragePrecisionNormalization;
  /** Item similarity for diversity; default the item co-occurrence cosine over `train`. */
  itemSimilarity?: ItemSimilarity | ItemFeatures;
}

export interface RankingReport {
  /**
   * A short column label: "full"; "sampled-100-uniform" when every user has one held-out item (the papers'
   * protocol); "all-test+100-uniform" when users' several test items are ranked together with the negatives.
   */
  label: string;
  /** What was ranked against what, in words. */
  protocol: string;
  /** Number of users evaluated (users with at least one test item). */
  numUsers: number;
  k: number[];
  /**
   * Mean of each metric over the evaluated users, keyed "ndcg@10", "hr@10", …, "userAuc". A user for whom a
   * metric is undefined (AUC when all the user's test items are train items; diversity of a list with
   * one item) is left out of that metric's mean. "coverage@K" and "novelty@K" are computed over all
   * lists at once, as their definitions say.
   */
  metrics: Record<string, number>;
  /** Per-user values behind `metrics` (NaN where undefined), aligned with `users`; none for coverage. */
  perUser: Record<string, Float64Array>;
  /** The evaluated users. */
  users: Int32Array;
}

/**
 * Evaluates a ranking model under the full or the sampled protocol. Each user with test items gets one
 * ranked list of the max K candidates; metrics at smaller K read its prefix. Three steps: resolve the
 * options, rank and score each user's list, then average over users.
 */
export function evaluateRanking(model: ItemScorer, options: EvaluateRankingOptions): RankingReport {
  const resolved = resolveRankingOptions(model, options);
  const { perUser, lists } = rankAndScore(model, resolved);
  const metrics = aggregateRanking(resolved, perUser, lists, model.numItems);
  const { label, description, ks, users } = resolved;
  return { label, protocol: description, numUsers: users.length, k: ks, metrics, perUser, users };
}

/** `EvaluateRankingOptions` checked and with defaults filled in, plus what every user's scoring reads. */
interface ResolvedRanking {
  train: Interactions;
  test: Interactions;
  ks: number[];
  maxK: number;
  metricNames: RankingMetricName[];
  /** The sampled protocol's settings, null for the full protocol. */
  sampled: { negatives: number; strategy: "uniform" | "popularity"; seed: number } | null;
  label: string;
  description: string;
  batchSize: number;
  ndcgGain: "binary" | "linear" | "exponential";
  mapNormalization: AveragePrecisionNormalization;
  /** Train items (excluded) and test items (relevant) of each user, as sparse rows. */
  seen: CsrMatrix;
  held: CsrMatrix;
  users: Int32Array;
  /** Training popularity, for novelty; null when novelty is not asked for. */
  trainCounts: Int32Array | null;
  /** Item similarity, for diversity; null when diversity is not asked for. */
  similarity: ItemSimilarity | null;
}

function resolveRankingOptions(model: ItemScorer, options: EvaluateRankingOptions): ResolvedRanking {
  const fn = "evaluateRanking";
  const { train, test } = options;
  checkSameItems(fn, "train", train.numItems, model.numItems);
  checkSameItems(fn, "test", test.numItems, model.numItems);
  if (train.numUsers !== test.numUsers) {
    throw new Error(
      `${fn}: train has ${train.numUsers} users but test has ${test.numUsers}; they must share one user index`,
    );
  }
  const ks = (Array.isArray(options.k) ? options.k : [options.k]).map((k) => checkPositiveInteger(fn, "k", k));
  if (ks.length === 0) throw new Error(`${fn}: 'k' is an empty list`);
  const metricNames = options.metrics ?? DEFAULT_RANKING_METRICS.slice();
  for (const name of metricNames) {
    if (!(RANKING_METRICS as readonly string[]).includes(name)) {
      const renamed =
        (name as string) === "auc"
          ? " ('auc' is now 'userAuc': the mean of per-user AUCs, unlike auc(), which pools all pairs)"
          : "";
      throw new Error(`${fn}: unknown metric '${name}'; expected one of ${RANKING_METRICS.join(", ")}${renamed}`);
    }
  }
  const protocol = options.protocol ?? "full";
  let sampled: ResolvedRanking["sampled"] = null;
  let label = "full";
  let description = `full ranking: each user's test items among all ${model.numItems} items, minus the user's train items`;
  if (protocol !== "full") {
    const listMetrics = metricNames.filter((name) => LIST_METRICS.includes(name));
    if (listMetrics.length > 0) {
      throw new Error(
        `${fn}: ${listMetrics.join(", ")} describe(s) real recommendation lists and need protocol "full", not a ranking of sampled candidates`,
      );
    }
    const negatives = checkPositiveInteger(fn, "negatives", protocol.sampled.negatives ?? 100);
    const strategy = protocol.sampled.strategy ?? "uniform";
    if (strategy !== "uniform" && strategy !== "popularity") {
      throw new Error(`${fn}: sampled.strategy must be "uniform" or "popularity", got '${strategy}'`);
    }
    const seed = protocol.sampled.seed;
    if (!Number.isFinite(seed)) throw new Error(`${fn}: sampled.seed must be a finite number, got ${seed}`);
    sampled = { negatives, strategy, seed };
  }
  const held = groupByUser(test);
  const users = usersToEvaluate(fn, held, options.users, test.numUsers);
  if (users.length === 0) {
    throw new Error(
      `${fn}: no user to evaluate: test '${test.name}' (${test.length} rows) has no test items for ${options.users === undefined ? "any user" : "the users given in 'users'"}`,
    );
  }
  if (sampled !== null) {
    // The papers' protocol ranks ONE held-out item among the negatives; ranking all of a user's test items
    // together with them is a different (and easier) task, so it gets a different name.
    const { negatives, strategy, seed } = sampled;
    const meanHeld = meanDistinctTestItems(held, users);
    const drawn = `${negatives} ${strategy === "uniform" ? "uniformly sampled" : "popularity-sampled"} negatives (seed ${seed}), drawn from items outside the user's train and test items`;
    if (meanHeld === 1) {
      label = `sampled-${negatives}-${strategy}`;
      description = `sampled ranking: each user's one held-out item among ${drawn}`;
    } else {
      label = `all-test+${negatives}-${strategy}`;
      description = `sampled ranking: all of each user's test items (${meanHeld.toFixed(1)} on average) ranked together with ${drawn}`;
    }
  }
  let similarity: ItemSimilarity | null = null;
  if (metricNames.includes("diversity")) {
    const given = options.itemSimilarity;
    similarity =
      given === undefined
        ? cooccurrenceSimilarity(train)
        : typeof given === "function"
          ? given
          : cosineFeatureSimilarity(given.features, given.dim);
  }
  return {
    train,
    test,
    ks,
    maxK: Math.max(...ks),
    metricNames,
    sampled,
    label,
    description,
    batchSize: checkPositiveInteger(fn, "batchSize", options.batchSize ?? 256),
    ndcgGain: options.ndcgGain ?? "binary",
    mapNormalization: options.mapNormalization ?? "minKRelevant",
    seen: groupByUser(train),
    held,
    users,
    trainCounts: metricNames.includes("novelty") ? itemPopularity(train) : null,
    similarity,
  };
}

/**
 * Ranks each user's candidates and fills the per-user metrics (NaN where undefined); keeps every list
 * when coverage or novelty, which are over all lists at once, are asked for.
 */
function rankAndScore(
  model: ItemScorer,
  r: ResolvedRanking,
): { perUser: Record<string, Float64Array>; lists: Int32Array[] } {
  const { ks, metricNames, held, users, ndcgGain, mapNormalization, trainCounts, similarity } = r;
  const numUsers = users.length;
  const perUser: Record<string, Float64Array> = {};
  const atK = metricNames.filter((name) => name !== "userAuc" && name !== "coverage");
  for (const name of atK) for (const k of ks) perUser[`${name}@${k}`] = new Float64Array(numUsers).fill(NaN);
  const wantAuc = metricNames.includes("userAuc");
  if (wantAuc) perUser.userAuc = new Float64Array(numUsers).fill(NaN);
  const keepLists = metricNames.includes("coverage") || metricNames.includes("novelty");
  const lists: Int32Array[] = [];

  const scoreList = (row: number, ranked: Int32Array, user: number): void => {
    const relevant = relevantItems(held, user);
    const graded = ndcgGain === "binary" ? null : gradedRelevance(held, user);
    for (const k of ks) {
      for (const name of atK) {
        const key = `${name}@${k}`;
        let value: number;
        switch (name) {
          case "precision":
            value = precisionAtK(ranked, relevant, k);
            break;
          case "recall":
            value = recallAtK(ranked, relevant, k);
            break;
          case "hr":
            value = hitAtK(ranked, relevant, k);
            break;
          case "mrr":
            value = reciprocalRankAtK(ranked, relevant, k);
            break;
          case "map":
            value = averagePrecisionAtK(ranked, relevant, k, { normalization: mapNormalization });
            break;
          case "ndcg":
            value =
              graded === null
                ? ndcgAtK(ranked, relevant, k)
                : ndcgAtK(ranked, graded, k, { gain: ndcgGain as "linear" | "exponential" });
            break;
          case "novelty":
            value = novelty([ranked.subarray(0, k)], trainCounts!);
            break;
          case "diversity":
            // Top-K lists hold distinct items, so a list has a pair exactly when it has two entries.
            value =
              Math.min(k, ranked.length) >= 2
                ? listDiversity(ranked.subarray(0, k), similarity as ItemSimilarity)
                : NaN;
            break;
          default:
            continue;
        }
        perUser[key][row] = value;
      }
    }
    if (keepLists) lists.push(ranked.slice());
  };

  const aucOut = wantAuc ? perUser.userAuc : null;
  if (r.sampled === null) {
    evaluateFull(model, users, r.seen, held, r.maxK, r.batchSize, aucOut, scoreList);
  } else {
    const { negatives, strategy, seed } = r.sampled;
    // Negatives come from outside each user's train and test items; popularity is counted on train.
    const sampler = new NegativeSampler(r.train, { strategy, exclude: r.test });
    const rng = new Rng(seed);
    const draw = (batch: Int32Array) => sampler.sample(batch, { count: negatives, rng });
    evaluateSampled(model, users, held, r.maxK, draw, r.batchSize, aucOut, scoreList);
  }
  return { perUser, lists };
}

/** The mean of each per-user metric over the users it is defined for; coverage and novelty over all lists. */
function aggregateRanking(
  r: ResolvedRanking,
  perUser: Record<string, Float64Array>,
  lists: Int32Array[],
  numItems: number,
): Record<string, number> {
  const { ks, trainCounts } = r;
  const metrics: Record<string, number> = {};
  for (const name of r.metricNames) {
    if (name === "userAuc") {
      metrics.userAuc = meanIgnoringNaN(perUser.userAuc);
    } else if (name === "coverage") {
      // Over the whole catalogue, not the items seen in train: lists may hold cold items, and a share
      // of the train items alone could then exceed 1.
      for (const k of ks) metrics[`coverage@${k}`] = catalogCoverage(truncate(lists, k), numItems);
    } else if (name === "novelty") {
      for (const k of ks) metrics[`novelty@${k}`] = novelty(truncate(lists, k), trainCounts!);
    } else {
      for (const k of ks) metrics[`${name}@${k}`] = meanIgnoringNaN(perUser[`${name}@${k}`]);
    }
  }
  return metrics;
}

export interface CompareProtocolsOptions extends Omit<EvaluateRankingOptions, "protocol"> {
  /** One or more sampled settings to put beside the full protocol. */
  sampled: SampledProtocol | SampledProtocol[];
}

/**
 * The full protocol's report followed by each sampled protocol's, for the same model, data and K.
 * Coverage, novelty and diversity, if asked for, appear in the full report only.
 */
export function compareProtocols(model: ItemScorer, options: CompareProtocolsOptions): RankingReport[] {
  const { sampled, ...common } = options;
  const settings = Array.isArray(sampled) ? sampled : [sampled];
  const sampledMetrics = (common.metrics ?? DEFAULT_RANKING_METRICS.slice()).filter(
    (name) => !LIST_METRICS.includes(name),
  );
  return [
    evaluateRanking(model, { ...common, protocol: "full" }),
    ...settings.map((s) => evaluateRanking(model, { ...common, metrics: sampledMetrics, protocol: { sampled: s } })),
  ];
}

/**
 * A plain-text table with one row per metric and one column per report, e.g.
 *
 *     metric      full     sampled-100-uniform
 *     hr@10       0.0721   0.5430
 */
export function formatReports(reports: readonly RankingReport[], digits = 4): string {
  const keys: string[] = [];
  for (const report of reports) for (const key of Object.keys(report.metrics)) if (!keys.includes(key)) keys.push(key);
  const header = ["metric", ...reports.map((r) => r.label)];
  const rows = keys.map((key) => [
    key,
    ...reports.map((r) => (key in r.metrics ? r.metrics[key].toFixed(digits) : "—")),
  ]);
  rows.push(["users", ...reports.map((r) => String(r.numUsers))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

const RANKING_METRICS: readonly RankingMetricName[] = [
  "precision",
  "recall",
  "ndcg",
  "map",
  "hr",
  "mrr",
  "userAuc",
  "coverage",
  "novelty",
  "diversity",
];
const LIST_METRICS: readonly RankingMetricName[] = ["coverage", "novelty", "diversity"];

/** Mean number of distinct test items of the evaluated users (1 exactly when each has one). */
function meanDistinctTestItems(held: CsrMatrix, users: Int32Array): number {
  let total = 0;
  for (const user of users) total += relevantItems(held, user).size;
  return total / users.length;
}

function relevantItems(held: CsrMatrix, user: number): Set<number> {
  const set = new Set<number>();
  for (let g = held.offsets[user]; g < held.offsets[user + 1]; g++) set.add(held.indices[g]);
  return set;
}

/** Test rating of each of the user's test items (the highest, if an item was rated twice). */
function gradedRelevance(held: CsrMatrix, user: number): Map<number, number> {
  const grades = new Map<number, number>();
  for (let g = held.offsets[user]; g < held.offsets[user + 1]; g++) {
    const rating = held.values[g];
    const item = held.indices[g];
    if (!(rating >= 0)) {
      throw new Error(
        `evaluateRanking: user ${user}'s test item ${item} has rating ${rating}; graded NDCG needs ratings >= 0`,
      );
    }
    grades.set(item, Math.max(rating, grades.get(item) ?? 0));
  }
  return grades;
}

function usersToEvaluate(
  fn: string,
  held: CsrMatrix,
  subset: ArrayLike<number> | undefined,
  numUsers: number,
): Int32Array {
  const out: number[] = [];
  if (subset === undefined) {
    for (let u = 0; u < numUsers; u++) if (held.offsets[u + 1] > held.offsets[u]) out.push(u);
  } else {
    const list = toUserArray(fn, subset);
    checkUsersInRange(fn, list, numUsers);
    for (const u of list) if (held.offsets[u + 1] > held.offsets[u]) out.push(u);
  }
  return Int32Array.from(out);
}

type ListVisitor = (row: number, ranked: Int32Array, user: number) => void;

function evaluateFull(
  model: ItemScorer,
  users: Int32Array,
  seen: CsrMatrix,
  held: CsrMatrix,
  maxK: number,
  batchSize: number,
  aucOut: Float64Array | null,
  visit: ListVisitor,
): void {
  const numItems = model.numItems;
  const selector = new TopKSelector(maxK);
  const mask = new Uint8Array(numItems); // 1 = train item (excluded), 2 = test item (positive)
  const topItems = new Int32Array(maxK);
  const topScores = new Float32Array(maxK);
  const positives = new Float64Array(numItems);
  const negatives = new Float64Array(numItems);
  forEachScoredBatch("evaluateRanking", model, users, batchSize, (start, batch, scores) => {
    for (let b = 0; b < batch.length; b++) {
      const user = batch[b];
      const offset = b * numItems;
      setMask(mask, seen, user, 1);
      const count = selector.select(scores, offset, numItems, mask, topItems, topScores, 0, user);
      visit(start + b, topItems.subarray(0, count), user);
      if (aucOut !== null) {
        for (let g = held.offsets[user]; g < held.offsets[user + 1]; g++) {
          if (mask[held.indices[g]] === 0) mask[held.indices[g]] = 2;
        }
        let p = 0;
        let q = 0;
        for (let i = 0; i < numItems; i++) {
          if (mask[i] === 0) negatives[q++] = scores[offset + i];
          else if (mask[i] === 2) positives[p++] = scores[offset + i];
        }
        aucOut[start + b] = p > 0 && q > 0 ? aucOfScores(positives.subarray(0, p), negatives.subarray(0, q)) : NaN;
        setMask(mask, held, user, 0);
      }
      setMask(mask, seen, user, 0);
    }
  });
}

function evaluateSampled(
  model: ItemScorer,
  users: Int32Array,
  held: CsrMatrix,
  maxK: number,
  drawNegatives: (batch: Int32Array) => Int32Array[],
  batchSize: number,
  aucOut: Float64Array | null,
  visit: ListVisitor,
): void {
  const numItems = model.numItems;
  const heldDistinct = held.dedupe("first");
  const selector = new TopKSelector(maxK);
  const topPositions = new Int32Array(maxK);
  const topScores = new Float32Array(maxK);
  const ranked = new Int32Array(maxK);
  const isPositive = new Uint8Array(numItems);
  for (let start = 0; start < users.length; start += batchSize) {
    const batch = users.subarray(start, Math.min(start + batchSize, users.length));
    // Candidates of each user, ascending by item so that position order is item order (ties).
    const candidateOffsets = new Int32Array(batch.length + 1);
    const candidateLists: Int32Array[] = [];
    const batchNegatives = drawNegatives(batch);
    for (let b = 0; b < batch.length; b++) {
      const user = batch[b];
      const negatives = batchNegatives[b];
      const positives = heldDistinct.row(user).indices;
      const candidates = new Int32Array(positives.length + negatives.length);
      candidates.set(positives);
      candidates.set(negatives, positives.length);
      candidates.sort();
      candidateLists.push(candidates);
      candidateOffsets[b + 1] = candidateOffsets[b] + candidates.length;
    }
    const scores = scoreCandidates(model, batch, candidateLists, candidateOffsets);
    for (let b = 0; b < batch.length; b++) {
      const user = batch[b];
      const candidates = candidateLists[b];
      const offset = candidateOffsets[b];
      const count = selector.select(scores, offset, candidates.length, null, topPositions, topScores, 0, user);
      for (let i = 0; i < count; i++) ranked[i] = candidates[topPositions[i]];
      visit(start + b, ranked.subarray(0, count), user);
      if (aucOut !== null) {
        setMask(isPositive, held, user, 1);
        const positiveScores: number[] = [];
        const negativeScores: number[] = [];
        for (let i = 0; i < candidates.length; i++) {
          (isPositive[candidates[i]] === 1 ? positiveScores : negativeScores).push(scores[offset + i]);
        }
        aucOut[start + b] = aucOfScores(positiveScores, negativeScores);
        setMask(isPositive, held, user, 0);
      }
    }
  }
}

/** Scores each user's candidates, flat in candidate order, through scorePairs when the model has it. */
function scoreCandidates(
  model: ItemScorer,
  batch: Int32Array,
  candidateLists: Int32Array[],
  candidateOffsets: Int32Array,
): Float32Array | Float64Array {
  const total = candidateOffsets[batch.length];
  if (model.scorePairs !== undefined) {
    const pairUsers = new Int32Array(total);
    const pairItems = new Int32Array(total);
    for (let b = 0; b < batch.length; b++) {
      pairUsers.fill(batch[b], candidateOffsets[b], candidateOffsets[b + 1]);
      pairItems.set(candidateLists[b], candidateOffsets[b]);
    }
    const scores = model.scorePairs(pairUsers, pairItems);
    if (scores.length !== total) {
      throw new Error(`evaluateRanking: scorePairs returned ${scores.length} scores for ${total} pairs`);
    }
    return scores;
  }
  const out = new Float64Array(total);
  forEachScoredBatch("evaluateRanking", model, batch, batch.length, (_start, _batch, scores) => {
    for (let b = 0; b < batch.length; b++) {
      const candidates = candidateLists[b];
      const row = b * model.numItems;
      for (let i = 0; i < candidates.length; i++) out[candidateOffsets[b] + i] = scores[row + candidates[i]];
    }
  });
  return out;
}

function truncate(lists: Int32Array[], k: number): Int32Array[] {
  return lists.map((list) => list.subarray(0, Math.min(k, list.length)));
}

function meanIgnoringNaN(values: Float64Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === values[i]) {
      sum += values[i];
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}
