// Evaluation protocols: top-K recommendation for any scoring model, and the two ways the literature
// evaluates a ranking model side by side —
//   - full ranking: every item the user has not trained on is a candidate (Microsoft Recommenders,
//     RecBole's "full" mode);
//   - sampled ranking: the held-out item(s) are ranked among N sampled negatives, 100 by default,
//     uniform or popularity-proportional (NCF, SASRec, BERT4Rec).
// Sampled metrics are much higher than full ones and can even order models differently (Krichene and
// Rendle, "On Sampled Metrics for Item Recommendation", KDD 2020); reporting both makes that visible.
// Also rating evaluation (RMSE, MAE) for models that predict a rating per user–item pair.

import { Rng } from "../backend/random";
import { Interactions } from "../data/interactions";
import { NegativeSampler } from "../data/samplers";
import { itemPopularity } from "../data/stats";
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
  mae,
  ndcgAtK,
  novelty,
  precisionAtK,
  recallAtK,
  reciprocalRankAtK,
  rmse,
} from "./metrics";

/**
 * A model that scores items for users, higher meaning more relevant. One call scores a whole batch of
 * users, so a tfjs model can run one `predict` per batch (`scores.dataSync()` gives the row-major
 * buffer) and a plain JS model can fill the buffer in a loop.
 */
export interface ItemScorer {
  readonly numItems: number;
  /** Users 0..numUsers−1 can be scored; when given, `recommendTopK` rejects any other user. */
  readonly numUsers?: number;
  /** Scores of every item for each user: [users.length × numItems], row-major. */
  scoreItems(users: Int32Array): Float32Array | Float64Array;
  /**
   * Optional: the scores of the pairs (users[j], items[j]). The sampled protocol uses it when present,
   * for models that score a few candidates much more cheaply than the whole catalogue; it must agree
   * with `scoreItems`.
   */
  scorePairs?(users: Int32Array, items: Int32Array): Float32Array | Float64Array;
}

/** A model that predicts the rating of each pair (users[j], items[j]). */
export interface RatingPredictor {
  predict(users: Int32Array, items: Int32Array): Float32Array | Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Top-K recommendation
// ---------------------------------------------------------------------------------------------

/** The top-K lists of a batch of users, best first; row `r` belongs to `users[r]`. */
export class TopKRecommendations {
  constructor(
    readonly users: Int32Array,
    readonly k: number,
    /** [users.length × k], row-major; a row with fewer than k candidates is padded with -1. */
    readonly items: Int32Array,
    /** Scores aligned with `items`, NaN in the padding. */
    readonly scores: Float32Array,
    /** How many real entries each row has (k unless the user had fewer unseen items). */
    readonly counts: Int32Array,
  ) {}

  get length(): number {
    return this.users.length;
  }

  /** Row `row`'s recommended items, best first, without padding (a view, not a copy). */
  itemsOf(row: number): Int32Array {
    return this.items.subarray(row * this.k, row * this.k + this.counts[row]);
  }

  /** Row `row`'s scores, aligned with `itemsOf(row)`. */
  scoresOf(row: number): Float32Array {
    return this.scores.subarray(row * this.k, row * this.k + this.counts[row]);
  }

  /** Every row's list, as views. */
  lists(): Int32Array[] {
    const out: Int32Array[] = [];
    for (let r = 0; r < this.users.length; r++) out.push(this.itemsOf(r));
    return out;
  }
}

export interface RecommendTopKOptions {
  k: number;
  /** Items each user interacted with here are never recommended to them (usually the training data). */
  excludeSeen?: Interactions;
  /** Users scored per model call; default 256. */
  batchSize?: number;
}

/**
 * The K best-scoring items for each user, best first, ties broken by the lower item index. Selection
 * keeps a size-K heap per user, O(numItems · log K), instead of sorting the catalogue.
 */
export function recommendTopK(
  model: ItemScorer,
  users: ArrayLike<number>,
  options: RecommendTopKOptions,
): TopKRecommendations {
  const k = checkPositiveInteger("recommendTopK", "k", options.k);
  const batchSize = checkPositiveInteger("recommendTopK", "batchSize", options.batchSize ?? 256);
  const numItems = model.numItems;
  const userList = toUserArray("recommendTopK", users);
  const seen = options.excludeSeen === undefined ? null : groupByUser(options.excludeSeen);
  if (options.excludeSeen !== undefined) {
    checkSameItems("recommendTopK", "excludeSeen", options.excludeSeen.numItems, numItems);
    checkUsersInRange("recommendTopK", userList, options.excludeSeen.numUsers);
  }
  if (model.numUsers !== undefined) checkUsersInRange("recommendTopK", userList, model.numUsers);
  const items = new Int32Array(userList.length * k).fill(-1);
  const scores = new Float32Array(userList.length * k).fill(NaN);
  const counts = new Int32Array(userList.length);
  const selector = new TopKSelector(k);
  const mask = new Uint8Array(numItems);
  forEachScoredBatch("recommendTopK", model, userList, batchSize, (start, batch, batchScores) => {
    for (let b = 0; b < batch.length; b++) {
      const row = start + b;
      if (seen !== null) setMask(mask, seen, batch[b], 1);
      counts[row] = selector.select(batchScores, b * numItems, numItems, seen === null ? null : mask, items, scores, row * k, batch[b]);
      if (seen !== null) setMask(mask, seen, batch[b], 0);
    }
  });
  return new TopKRecommendations(userList, k, items, scores, counts);
}

// ---------------------------------------------------------------------------------------------
// Ranking evaluation
// ---------------------------------------------------------------------------------------------

/**
 * Metrics `evaluateRanking` can report; all but "userAuc" are reported at each K. "userAuc" is the mean
 * over users of each user's AUC, not the AUC of all pairs pooled that `auc()` computes.
 */
export type RankingMetricName =
  | "precision"
  | "recall"
  | "ndcg"
  | "map"
  | "hr"
  | "mrr"
  | "userAuc"
  | "coverage"
  | "novelty"
  | "diversity";

export const DEFAULT_RANKING_METRICS: readonly RankingMetricName[] = ["hr", "ndcg", "mrr", "precision", "recall", "map", "userAuc"];

/**
 * The sampled protocol's settings. All of a user's test items are ranked together with the user's N
 * negatives (with leave-one-out splits, one positive among N + 1 candidates).
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
  /** A short column label: "full" or "sampled-100-uniform". */
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
 * ranked list of the max K candidates; metrics at smaller K read its prefix.
 */
export function evaluateRanking(model: ItemScorer, options: EvaluateRankingOptions): RankingReport {
  const fn = "evaluateRanking";
  const { train, test } = options;
  checkSameItems(fn, "train", train.numItems, model.numItems);
  checkSameItems(fn, "test", test.numItems, model.numItems);
  if (train.numUsers !== test.numUsers) {
    throw new Error(`${fn}: train has ${train.numUsers} users but test has ${test.numUsers}; they must share one user index`);
  }
  const ks = (Array.isArray(options.k) ? options.k : [options.k]).map((k) => checkPositiveInteger(fn, "k", k));
  if (ks.length === 0) throw new Error(`${fn}: 'k' is an empty list`);
  const maxK = Math.max(...ks);
  const metricNames = options.metrics ?? DEFAULT_RANKING_METRICS.slice();
  for (const name of metricNames) {
    if (!(RANKING_METRICS as readonly string[]).includes(name)) {
      const renamed = (name as string) === "auc" ? " ('auc' is now 'userAuc': the mean of per-user AUCs, unlike auc(), which pools all pairs)" : "";
      throw new Error(`${fn}: unknown metric '${name}'; expected one of ${RANKING_METRICS.join(", ")}${renamed}`);
    }
  }
  const protocol = options.protocol ?? "full";
  const sampled = protocol === "full" ? null : protocol.sampled;
  if (sampled !== null) {
    const listMetrics = metricNames.filter((name) => LIST_METRICS.includes(name));
    if (listMetrics.length > 0) {
      throw new Error(
        `${fn}: ${listMetrics.join(", ")} describe(s) real recommendation lists and need protocol "full", not a ranking of sampled candidates`,
      );
    }
  }
  const batchSize = checkPositiveInteger(fn, "batchSize", options.batchSize ?? 256);
  const ndcgGain = options.ndcgGain ?? "binary";
  const mapNormalization = options.mapNormalization ?? "minKRelevant";

  const seen = groupByUser(train);
  const held = groupByUser(test);
  const users = usersToEvaluate(fn, held, options.users, test.numUsers);
  const numUsers = users.length;
  if (numUsers === 0) {
    throw new Error(`${fn}: no user to evaluate: test '${test.name}' (${test.length} rows) has no test items for ${options.users === undefined ? "any user" : "the users given in 'users'"}`);
  }

  const perUser: Record<string, Float64Array> = {};
  const atK = metricNames.filter((name) => name !== "userAuc" && name !== "coverage");
  for (const name of atK) for (const k of ks) perUser[`${name}@${k}`] = new Float64Array(numUsers).fill(NaN);
  const wantAuc = metricNames.includes("userAuc");
  if (wantAuc) perUser.userAuc = new Float64Array(numUsers).fill(NaN);

  // Coverage and novelty are over all lists at once, so only they need every list kept.
  const keepLists = metricNames.includes("coverage") || metricNames.includes("novelty");
  const lists: Int32Array[] = [];
  const trainCounts = metricNames.includes("novelty") ? itemPopularity(train) : null;
  let similarity: ItemSimilarity | null = null;
  if (metricNames.includes("diversity")) {
    const given = options.itemSimilarity;
    similarity =
      given === undefined ? cooccurrenceSimilarity(train)
      : typeof given === "function" ? given
      : cosineFeatureSimilarity(given.features, given.dim);
  }

  const scoreList = (row: number, ranked: Int32Array, user: number): void => {
    const relevant = relevantItems(held, user);
    const graded = ndcgGain === "binary" ? null : gradedRelevance(test, held, user);
    for (const k of ks) {
      for (const name of atK) {
        const key = `${name}@${k}`;
        let value: number;
        switch (name) {
          case "precision": value = precisionAtK(ranked, relevant, k); break;
          case "recall": value = recallAtK(ranked, relevant, k); break;
          case "hr": value = hitAtK(ranked, relevant, k); break;
          case "mrr": value = reciprocalRankAtK(ranked, relevant, k); break;
          case "map": value = averagePrecisionAtK(ranked, relevant, k, { normalization: mapNormalization }); break;
          case "ndcg":
            value = graded === null ? ndcgAtK(ranked, relevant, k) : ndcgAtK(ranked, graded, k, { gain: ndcgGain as "linear" | "exponential" });
            break;
          case "novelty": value = novelty([ranked.subarray(0, k)], trainCounts!); break;
          case "diversity":
            // Top-K lists hold distinct items, so a list has a pair exactly when it has two entries.
            value = Math.min(k, ranked.length) >= 2 ? listDiversity(ranked.subarray(0, k), similarity as ItemSimilarity) : NaN;
            break;
          default: continue;
        }
        perUser[key][row] = value;
      }
    }
    if (keepLists) lists.push(ranked.slice());
  };

  let description: string;
  let label: string;
  if (sampled === null) {
    label = "full";
    description = `full ranking: each user's test items among all ${model.numItems} items, minus the user's train items`;
    evaluateFull(model, users, seen, held, maxK, batchSize, wantAuc ? perUser.userAuc : null, scoreList);
  } else {
    const negatives = checkPositiveInteger(fn, "negatives", sampled.negatives ?? 100);
    const strategy = sampled.strategy ?? "uniform";
    if (strategy !== "uniform" && strategy !== "popularity") {
      throw new Error(`${fn}: sampled.strategy must be "uniform" or "popularity", got '${strategy}'`);
    }
    if (!Number.isFinite(sampled.seed)) throw new Error(`${fn}: sampled.seed must be a finite number, got ${sampled.seed}`);
    label = `sampled-${negatives}-${strategy}`;
    description =
      `sampled ranking: each user's test item(s) among ${negatives} ` +
      `${strategy === "uniform" ? "uniformly sampled" : "popularity-sampled"} ` +
      `negatives (seed ${sampled.seed}), drawn from items outside the user's train and test items`;
    // Negatives come from outside each user's train and test items; popularity is counted on train.
    const sampler = new NegativeSampler(train, { strategy, exclude: test });
    const rng = new Rng(sampled.seed);
    const draw = (batch: Int32Array) => sampler.sample(batch, { count: negatives, rng });
    evaluateSampled(model, users, held, maxK, draw, batchSize, wantAuc ? perUser.userAuc : null, scoreList);
  }

  const metrics: Record<string, number> = {};
  for (const name of metricNames) {
    if (name === "userAuc") {
      metrics.userAuc = meanIgnoringNaN(perUser.userAuc);
    } else if (name === "coverage") {
      // Over the whole catalogue, not the items seen in train: lists may hold cold items, and a share
      // of the train items alone could then exceed 1.
      for (const k of ks) metrics[`coverage@${k}`] = catalogCoverage(truncate(lists, k), model.numItems);
    } else if (name === "novelty") {
      for (const k of ks) metrics[`novelty@${k}`] = novelty(truncate(lists, k), trainCounts!);
    } else if (name === "diversity") {
      for (const k of ks) metrics[`diversity@${k}`] = meanIgnoringNaN(perUser[`diversity@${k}`]);
    } else {
      for (const k of ks) metrics[`${name}@${k}`] = meanIgnoringNaN(perUser[`${name}@${k}`]);
    }
  }
  return { label, protocol: description, numUsers, k: ks, metrics, perUser, users };
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
  const sampledMetrics = (common.metrics ?? DEFAULT_RANKING_METRICS.slice()).filter((name) => !LIST_METRICS.includes(name));
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
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Rating evaluation
// ---------------------------------------------------------------------------------------------

export interface RatingReport {
  rmse: number;
  mae: number;
  /** Number of test ratings compared. */
  count: number;
}

/** RMSE and MAE of the model's predictions on every test interaction (pairs predicted in batches). */
export function evaluateRatings(
  model: RatingPredictor,
  test: Interactions,
  options: { batchSize?: number } = {},
): RatingReport {
  const batchSize = checkPositiveInteger("evaluateRatings", "batchSize", options.batchSize ?? 65536);
  if (test.length === 0) throw new Error(`evaluateRatings: the test data '${test.name}' is empty`);
  const predicted = new Float64Array(test.length);
  for (let start = 0; start < test.length; start += batchSize) {
    const end = Math.min(start + batchSize, test.length);
    const out = model.predict(test.users.subarray(start, end), test.items.subarray(start, end));
    if (out.length !== end - start) {
      throw new Error(`evaluateRatings: predict returned ${out.length} values for ${end - start} pairs`);
    }
    predicted.set(out, start);
  }
  return { rmse: rmse(test.ratings, predicted), mae: mae(test.ratings, predicted), count: test.length };
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

const RANKING_METRICS: readonly RankingMetricName[] = [
  "precision", "recall", "ndcg", "map", "hr", "mrr", "userAuc", "coverage", "novelty", "diversity",
];
const LIST_METRICS: readonly RankingMetricName[] = ["coverage", "novelty", "diversity"];

/** Rows of an interaction log grouped by user (counting sort): user u's rows are rows[offsets[u]..offsets[u+1]). */
interface UserGroups {
  offsets: Int32Array;
  /** Item of each grouped row, ascending within a user. */
  items: Int32Array;
  /** Original row index of each grouped row (to read ratings). */
  rows: Int32Array;
}

function groupByUser(data: Interactions): UserGroups {
  const { numUsers, numItems } = data;
  for (let r = 0; r < data.length; r++) {
    if (!(data.users[r] >= 0 && data.users[r] < numUsers)) {
      throw new Error(`${data.name}: row ${r} has user index ${data.users[r]}, outside [0, ${numUsers})`);
    }
    if (!(data.items[r] >= 0 && data.items[r] < numItems)) {
      throw new Error(`${data.name}: row ${r} has item index ${data.items[r]}, outside [0, ${numItems})`);
    }
  }
  // Two stable counting sorts (by item, then by user) leave each user's rows in item order.
  const byItem = countingSort(data.items, numItems, null);
  const userOffsets = new Int32Array(numUsers + 1);
  const rows = countingSort(data.users, numUsers, byItem, userOffsets);
  const items = new Int32Array(data.length);
  for (let g = 0; g < rows.length; g++) items[g] = data.items[rows[g]];
  return { offsets: userOffsets, items, rows };
}

/**
 * Row indices ordered by `keys[row]` (0 <= key < numKeys), stably with respect to `order` (or row order);
 * writes each key's start into `offsets` when given.
 */
function countingSort(keys: Int32Array, numKeys: number, order: Int32Array | null, offsets = new Int32Array(numKeys + 1)): Int32Array {
  for (let r = 0; r < keys.length; r++) offsets[keys[r] + 1]++;
  for (let key = 0; key < numKeys; key++) offsets[key + 1] += offsets[key];
  const fill = offsets.slice(0, numKeys);
  const out = new Int32Array(keys.length);
  for (let j = 0; j < keys.length; j++) {
    const r = order === null ? j : order[j];
    out[fill[keys[r]]++] = r;
  }
  return out;
}

function setMask(mask: Uint8Array, groups: UserGroups, user: number, value: number): void {
  for (let g = groups.offsets[user]; g < groups.offsets[user + 1]; g++) mask[groups.items[g]] = value;
}

function relevantItems(held: UserGroups, user: number): Set<number> {
  const set = new Set<number>();
  for (let g = held.offsets[user]; g < held.offsets[user + 1]; g++) set.add(held.items[g]);
  return set;
}

/** Test rating of each of the user's test items (the highest, if an item was rated twice). */
function gradedRelevance(test: Interactions, held: UserGroups, user: number): Map<number, number> {
  const grades = new Map<number, number>();
  for (let g = held.offsets[user]; g < held.offsets[user + 1]; g++) {
    const rating = test.ratings[held.rows[g]];
    const item = held.items[g];
    if (!(rating >= 0)) {
      throw new Error(`evaluateRanking: test row ${held.rows[g]} has rating ${rating}; graded NDCG needs ratings >= 0`);
    }
    grades.set(item, Math.max(rating, grades.get(item) ?? 0));
  }
  return grades;
}

function usersToEvaluate(fn: string, held: UserGroups, subset: ArrayLike<number> | undefined, numUsers: number): Int32Array {
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

/** Scores `users` in batches and hands each batch's row-major scores to `visit`. */
function forEachScoredBatch(
  fn: string,
  model: ItemScorer,
  users: Int32Array,
  batchSize: number,
  visit: (start: number, batch: Int32Array, scores: Float32Array | Float64Array) => void,
): void {
  for (let start = 0; start < users.length; start += batchSize) {
    const batch = users.subarray(start, Math.min(start + batchSize, users.length));
    const scores = model.scoreItems(batch);
    if (scores.length !== batch.length * model.numItems) {
      throw new Error(
        `${fn}: scoreItems returned ${scores.length} scores for ${batch.length} users × ${model.numItems} items`,
      );
    }
    visit(start, batch, scores);
  }
}

type ListVisitor = (row: number, ranked: Int32Array, user: number) => void;

function evaluateFull(
  model: ItemScorer,
  users: Int32Array,
  seen: UserGroups,
  held: UserGroups,
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
          if (mask[held.items[g]] === 0) mask[held.items[g]] = 2;
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
  held: UserGroups,
  maxK: number,
  drawNegatives: (batch: Int32Array) => Int32Array[],
  batchSize: number,
  aucOut: Float64Array | null,
  visit: ListVisitor,
): void {
  const numItems = model.numItems;
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
      const positives = distinctItems(held, user);
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

function distinctItems(groups: UserGroups, user: number): Int32Array {
  const out: number[] = [];
  for (let g = groups.offsets[user]; g < groups.offsets[user + 1]; g++) {
    if (g === groups.offsets[user] || groups.items[g] !== groups.items[g - 1]) out.push(groups.items[g]);
  }
  return Int32Array.from(out);
}

/**
 * Selects the k best of n scores with a size-k min-heap whose root is the worst kept entry; "better"
 * means a higher score, or an equal score and a lower position.
 */
class TopKSelector {
  private readonly heapPositions: Int32Array;
  private readonly heapScores: Float64Array;

  constructor(private readonly k: number) {
    this.heapPositions = new Int32Array(k);
    this.heapScores = new Float64Array(k);
  }

  /**
   * Writes the best min(k, eligible) positions of scores[offset .. offset+n), skipping positions where
   * `exclude` is nonzero, best first into outPositions/outScores from outOffset; returns how many.
   */
  select(
    scores: ArrayLike<number>,
    offset: number,
    n: number,
    exclude: Uint8Array | null,
    outPositions: Int32Array,
    outScores: Float32Array,
    outOffset: number,
    user: number,
  ): number {
    const k = this.k;
    const hp = this.heapPositions;
    const hs = this.heapScores;
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (exclude !== null && exclude[j] !== 0) continue;
      const s = scores[offset + j];
      if (s !== s) throw new Error(`score of item ${j} for user ${user} is NaN`);
      if (size < k) {
        // Sift up: move worse parents down.
        let i = size++;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (!(hs[parent] > s || (hs[parent] === s && hp[parent] < j))) break; // parent is worse
          hs[i] = hs[parent];
          hp[i] = hp[parent];
          i = parent;
        }
        hs[i] = s;
        hp[i] = j;
      } else if (s > hs[0]) {
        // j comes after every kept position, so an equal score never beats the root.
        this.replaceRoot(s, j, size);
      }
    }
    // Pop the worst repeatedly, filling the output from its end.
    const count = size;
    for (let last = count - 1; last >= 0; last--) {
      outPositions[outOffset + last] = hp[0];
      outScores[outOffset + last] = hs[0];
      size--;
      if (size > 0) this.replaceRoot(hs[size], hp[size], size);
    }
    return count;
  }

  /** Puts (s, j) at the root of a heap of `size` entries and sifts it down. */
  private replaceRoot(s: number, j: number, size: number): void {
    const hp = this.heapPositions;
    const hs = this.heapScores;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      let worst = left;
      const right = left + 1;
      if (right < size && worse(hs[right], hp[right], hs[left], hp[left])) worst = right;
      if (!worse(hs[worst], hp[worst], s, j)) break;
      hs[i] = hs[worst];
      hp[i] = hp[worst];
      i = worst;
    }
    hs[i] = s;
    hp[i] = j;
  }
}

/** Whether entry (sa, ja) ranks below (sb, jb). */
function worse(sa: number, ja: number, sb: number, jb: number): boolean {
  return sa < sb || (sa === sb && ja > jb);
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

function checkPositiveInteger(fn: string, field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${fn}: '${field}' must be a positive integer, got ${value}`);
  return value;
}

function checkSameItems(fn: string, field: string, dataItems: number, modelItems: number): void {
  if (dataItems !== modelItems) {
    throw new Error(`${fn}: '${field}' has ${dataItems} items but the model scores ${modelItems}`);
  }
}

function toUserArray(fn: string, users: ArrayLike<number>): Int32Array {
  const out = new Int32Array(users.length);
  for (let i = 0; i < users.length; i++) {
    // Above 2^31 − 1 an Int32Array would wrap the id around (2^32 becomes user 0).
    if (!Number.isInteger(users[i]) || users[i] < 0 || users[i] > 0x7fffffff) throw new Error(`${fn}: users[${i}] is ${users[i]}, not a user index`);
    out[i] = users[i];
  }
  return out;
}

function checkUsersInRange(fn: string, users: Int32Array, numUsers: number): void {
  for (let i = 0; i < users.length; i++) {
    if (users[i] >= numUsers) throw new Error(`${fn}: users[${i}] is ${users[i]}, outside the ${numUsers} users of the data`);
  }
}
