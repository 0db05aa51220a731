// Evaluation metrics: rating error (RMSE, MAE), top-K ranking quality (precision, recall, NDCG, MAP,
// hit rate, MRR), AUC, and beyond-accuracy measures (catalogue coverage, novelty, intra-list
// diversity).
//
// Definitions follow Microsoft Recommenders' `python_evaluation` module wherever it departs from a
// textbook, so that a notebook's numbers can be checked against theirs:
//   - precision@K divides by K even when the list is shorter than K (as Spark does);
//   - recall@K divides by the number of relevant items, so it can stay below 1 when |R| > K;
//   - NDCG@K uses binary relevance by default, with the ideal DCG over min(K, |R|) positions;
//   - MAP@K (their `map_at_k`, after Spark's meanAveragePrecisionAt) divides by min(K, |R|); their
//     older `map` divides by |R| and is available as an option;
//   - AUC is the ROC area (sklearn's roc_auc_score), ties between a positive and a negative count 1/2;
//   - coverage, novelty and diversity use their `catalog_coverage`, `novelty` and `diversity` forms.
//
// Per-user functions score one ranked list against one user's relevant items; the `mean…` / `map…` /
// `mrr…` / `hitRate…` versions average over users. A user with no relevant items scores 0 in the
// per-user functions (nothing can be found, and 0 keeps sums finite), and is left out of the averages,
// as Microsoft Recommenders leaves out users absent from the ground truth. An average over no users is
// NaN: there is nothing to average.

import { checkPositiveInteger } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { itemPopularity } from "../data/stats";

/** The items that count as relevant for one user: a set, or any array of item indices. */
export type RelevantItems = ReadonlySet<number> | ArrayLike<number>;

/** Graded relevance for one user: item index -> grade (0 = not relevant). */
export type GradedRelevance = ReadonlyMap<number, number>;

/** A similarity between two items (by dense index), typically in [0, 1]. */
export type ItemSimilarity = (a: number, b: number) => number;

/** Dense item feature vectors, row-major [numItems × dim]; similarity is their cosine. */
export interface ItemFeatures {
  features: Float32Array | Float64Array;
  dim: number;
}

// ---------------------------------------------------------------------------------------------
// Rating metrics
// ---------------------------------------------------------------------------------------------

/**
 * Root mean squared error: RMSE = sqrt( (1/n) Σ_j (r_j − r̂_j)² ).
 * @param actual the observed ratings r_j
 * @param predicted the predictions r̂_j, aligned with `actual`
 */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPaired("rmse", actual, predicted);
  let sum = 0;
  for (let j = 0; j < actual.length; j++) {
    const d = actual[j] - predicted[j];
    sum += d * d;
  }
  return Math.sqrt(sum / actual.length);
}

/** Mean absolute error: MAE = (1/n) Σ_j |r_j − r̂_j|. */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPaired("mae", actual, predicted);
  let sum = 0;
  for (let j = 0; j < actual.length; j++) sum += Math.abs(actual[j] - predicted[j]);
  return sum / actual.length;
}

function checkPaired(fn: string, actual: ArrayLike<number>, predicted: ArrayLike<number>): void {
  if (actual.length !== predicted.length) {
    throw new Error(`${fn}: 'actual' has ${actual.length} values but 'predicted' has ${predicted.length}`);
  }
  if (actual.length === 0) throw new Error(`${fn}: no values to compare ('actual' is empty)`);
  for (let j = 0; j < actual.length; j++) {
    if (Number.isNaN(actual[j]) || Number.isNaN(predicted[j])) {
      const field = Number.isNaN(actual[j]) ? "actual" : "predicted";
      throw new Error(`${fn}: '${field}[${j}]' is NaN`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-user ranking metrics
// ---------------------------------------------------------------------------------------------

/**
 * Precision@K = |top-K ∩ R| / K, where top-K is the first K entries of `ranked` and R the relevant
 * items. Divides by K even when `ranked` is shorter (Spark and Microsoft Recommenders do the same), so
 * a list of 3 perfect items scores 0.3 at K = 10. 0 when R is empty.
 */
export function precisionAtK(ranked: ArrayLike<number>, relevant: RelevantItems, k: number): number {
  const n = checkRanking("precisionAtK", ranked, k);
  return precisionCore(ranked, n, toSet(relevant), k);
}

/**
 * Recall@K = |top-K ∩ R| / |R|. Its maximum is min(K, |R|) / |R|, so below 1 when a user has more
 * relevant items than K (as in Microsoft Recommenders). 0 when R is empty.
 */
export function recallAtK(ranked: ArrayLike<number>, relevant: RelevantItems, k: number): number {
  const n = checkRanking("recallAtK", ranked, k);
  return recallCore(ranked, n, toSet(relevant));
}

/** Hit@K = 1 if any of the first K entries is relevant, else 0 (averaged over users: hit rate). */
export function hitAtK(ranked: ArrayLike<number>, relevant: RelevantItems, k: number): number {
  const n = checkRanking("hitAtK", ranked, k);
  return hitCore(ranked, n, toSet(relevant));
}

/**
 * Reciprocal rank@K = 1 / rank of the first relevant entry (ranks count from 1), or 0 when none of the
 * first K entries is relevant (averaged over users: MRR@K).
 */
export function reciprocalRankAtK(ranked: ArrayLike<number>, relevant: RelevantItems, k: number): number {
  const n = checkRanking("reciprocalRankAtK", ranked, k);
  return reciprocalRankCore(ranked, n, toSet(relevant));
}

/**
 * How average precision is normalised. "minKRelevant" (default) divides by min(K, |R|), as Microsoft
 * Recommenders' current `map_at_k` and Spark's meanAveragePrecisionAt do, so that a perfect top-K
 * scores 1 even when the user has more than K relevant items. "numRelevant" divides by |R|, as their
 * `map` (and the classic, uncut AP) does; then AP@K of a perfect list equals recall@K.
 */
export type AveragePrecisionNormalization = "minKRelevant" | "numRelevant";

export interface AveragePrecisionOptions {
  normalization?: AveragePrecisionNormalization;
}

/**
 * Average precision@K = (1 / D) Σ_{i ≤ K, ranked_i ∈ R} P@i, where P@i = (hits among the first i) / i
 * and D = min(K, |R|) (default) or |R|; see {@link AveragePrecisionNormalization}. 0 when R is empty.
 */
export function averagePrecisionAtK(
  ranked: ArrayLike<number>,
  relevant: RelevantItems,
  k: number,
  options: AveragePrecisionOptions = {},
): number {
  const n = checkRanking("averagePrecisionAtK", ranked, k);
  return averagePrecisionCore(ranked, n, toSet(relevant), k, options.normalization ?? "minKRelevant");
}

/**
 * Discounted cumulative gain of gains listed in rank order: DCG@K = Σ_{i=1}^{min(K,n)} g_i / log2(i + 1).
 * Microsoft Recommenders discounts with the natural log by default; the base only scales DCG by a
 * constant, which cancels in NDCG.
 */
export function dcgAtK(gains: ArrayLike<number>, k: number): number {
  const n = checkK("dcgAtK", k, gains.length);
  let dcg = 0;
  for (let i = 0; i < n; i++) dcg += gains[i] / Math.log2(i + 2);
  return dcg;
}

/** How a relevance grade becomes a gain in graded NDCG: g = grade ("linear") or 2^grade − 1 ("exponential"). */
export type GainFunction = "linear" | "exponential";

export interface NdcgOptions {
  /** Only used with graded relevance (a Map); default "linear". */
  gain?: GainFunction;
}

/**
 * NDCG@K = DCG@K / IDCG@K, with DCG@K = Σ_{i=1}^{min(K,n)} g(ranked_i) / log2(i + 1).
 *
 * Binary relevance (a Set or array): g = 1 for relevant items, 0 otherwise, and
 * IDCG@K = Σ_{i=1}^{min(K,|R|)} 1 / log2(i + 1) (Microsoft Recommenders' default `score_type="binary"`).
 * Graded relevance (a Map item → grade): g = grade or 2^grade − 1 (their "raw" and "exp"), and IDCG
 * takes the K largest gains among all graded items, whether ranked or not.
 * 0 when no item has a positive gain.
 */
export function ndcgAtK(
  ranked: ArrayLike<number>,
  relevant: RelevantItems | GradedRelevance,
  k: number,
  options: NdcgOptions = {},
): number {
  const n = checkRanking("ndcgAtK", ranked, k);
  if (isMap(relevant)) return gradedNdcgCore(ranked, n, relevant, k, options.gain ?? "linear");
  return ndcgCore(ranked, n, toSet(relevant), k);
}

/**
 * Area under the ROC curve of one scored list: the probability that a random positive outscores a
 * random negative, ties counting 1/2 (the Mann–Whitney statistic; equal to sklearn's roc_auc_score,
 * which Microsoft Recommenders' `auc` calls on all user–item pairs at once).
 *   AUC = (1 / (|P|·|N|)) Σ_{p∈P} Σ_{q∈N} ( [s_p > s_q] + ½ [s_p = s_q] )
 * @param labels 1 (or any nonzero) for positives, 0 for negatives
 * @param scores the model's scores, aligned with `labels`
 */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  if (labels.length !== scores.length) {
    throw new Error(`auc: 'labels' has ${labels.length} values but 'scores' has ${scores.length}`);
  }
  let numPositive = 0;
  for (let j = 0; j < labels.length; j++) if (labels[j] !== 0) numPositive++;
  const positive = new Float64Array(numPositive);
  const negative = new Float64Array(labels.length - numPositive);
  let p = 0;
  let q = 0;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j] !== 0) positive[p++] = scores[j];
    else negative[q++] = scores[j];
  }
  return aucOfScores(positive, negative);
}

/**
 * AUC from the positives' and the negatives' scores separately (see {@link auc}); O((|P| + |N|) log |P|).
 * Throws when either side is empty (the area is undefined, as in sklearn) or a score is NaN.
 */
export function aucOfScores(positiveScores: ArrayLike<number>, negativeScores: ArrayLike<number>): number {
  if (positiveScores.length === 0 || negativeScores.length === 0) {
    throw new Error(
      `auc: needs at least one positive and one negative, got ${positiveScores.length} and ${negativeScores.length}`,
    );
  }
  const sorted = Float64Array.from(positiveScores as ArrayLike<number>);
  for (let j = 0; j < sorted.length; j++) {
    if (Number.isNaN(sorted[j])) throw new Error(`auc: positive score ${j} is NaN`);
  }
  sorted.sort();
  const numPositive = sorted.length;
  let wins = 0;
  for (let j = 0; j < negativeScores.length; j++) {
    const s = negativeScores[j];
    if (Number.isNaN(s)) throw new Error(`auc: negative score ${j} is NaN`);
    const below = lowerBound(sorted, s); // positives scoring < s
    const notAbove = upperBound(sorted, s); // positives scoring <= s
    wins += numPositive - notAbove + 0.5 * (notAbove - below);
  }
  return wins / (numPositive * negativeScores.length);
}

/**
 * Binary cross-entropy of predicted probabilities (sklearn's log_loss), clipped to [ε, 1 − ε] so that a
 * confident mistake costs −log ε rather than infinity:
 *   logloss = −(1/n) Σ_j [ y_j log p_j + (1 − y_j) log(1 − p_j) ]
 * @param labels 1 for positives, 0 for negatives
 * @param probabilities P(y = 1), aligned with `labels`
 */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>, epsilon = 1e-15): number {
  if (labels.length !== probabilities.length) {
    throw new Error(`logLoss: 'labels' has ${labels.length} values but 'probabilities' has ${probabilities.length}`);
  }
  if (labels.length === 0) throw new Error("logLoss: no examples");
  let total = 0;
  for (let j = 0; j < labels.length; j++) {
    const y = labels[j];
    const p = probabilities[j];
    if (y !== 0 && y !== 1) throw new Error(`logLoss: label ${j} is ${y}, expected 0 or 1`);
    if (!(p >= 0 && p <= 1)) throw new Error(`logLoss: probability ${j} is ${p}, expected a number in [0, 1]`);
    const clipped = Math.min(Math.max(p, epsilon), 1 - epsilon);
    total -= y === 1 ? Math.log(clipped) : Math.log(1 - clipped);
  }
  return total / labels.length;
}

// ---------------------------------------------------------------------------------------------
// Averages over users
// ---------------------------------------------------------------------------------------------

/** Mean precision@K over users with at least one relevant item. */
export function meanPrecisionAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
): number {
  return meanOverUsers("meanPrecisionAtK", rankings, relevant, k, (r, n, s) => precisionCore(r, n, s, k));
}

/** Mean recall@K over users with at least one relevant item. */
export function meanRecallAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
): number {
  return meanOverUsers("meanRecallAtK", rankings, relevant, k, recallCore);
}

/** Hit rate@K: the fraction of users (with at least one relevant item) with a relevant item in their top K. */
export function hitRateAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
): number {
  return meanOverUsers("hitRateAtK", rankings, relevant, k, hitCore);
}

/** MRR@K: mean reciprocal rank@K over users with at least one relevant item. */
export function mrrAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
): number {
  return meanOverUsers("mrrAtK", rankings, relevant, k, reciprocalRankCore);
}

/** MAP@K: mean average precision@K over users with at least one relevant item. */
export function mapAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
  options: AveragePrecisionOptions = {},
): number {
  const normalization = options.normalization ?? "minKRelevant";
  return meanOverUsers("mapAtK", rankings, relevant, k, (r, n, s) => averagePrecisionCore(r, n, s, k, normalization));
}

/** Mean binary NDCG@K over users with at least one relevant item. */
export function meanNdcgAtK(
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
): number {
  return meanOverUsers("meanNdcgAtK", rankings, relevant, k, (r, n, s) => ndcgCore(r, n, s, k));
}

function meanOverUsers(
  fn: string,
  rankings: ReadonlyArray<ArrayLike<number>>,
  relevant: ReadonlyArray<RelevantItems>,
  k: number,
  metric: (ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>) => number,
): number {
  if (rankings.length !== relevant.length) {
    throw new Error(`${fn}: ${rankings.length} rankings but ${relevant.length} relevant-item lists`);
  }
  let sum = 0;
  let users = 0;
  for (let u = 0; u < rankings.length; u++) {
    const n = checkRanking(`${fn} (user ${u})`, rankings[u], k);
    const set = toSet(relevant[u]);
    if (set.size === 0) continue;
    sum += metric(rankings[u], n, set);
    users++;
  }
  return users === 0 ? NaN : sum / users;
}

// ---------------------------------------------------------------------------------------------
// Beyond accuracy
// ---------------------------------------------------------------------------------------------

/**
 * Catalogue coverage = |∪_u L_u| / |I|: the share of the catalogue that appears in at least one
 * recommendation list (Shani and Gunawardana 2011).
 * @param catalog the catalogue size |I|, or training data, in which case |I| is the number of distinct
 *   items it contains (Microsoft Recommenders' `catalog_coverage`) and lists may hold any index below
 *   its `numItems`
 */
export function catalogCoverage(lists: ReadonlyArray<ArrayLike<number>>, catalog: number | Interactions): number {
  let indexRange: number;
  let catalogSize: number;
  if (catalog instanceof Interactions) {
    indexRange = catalog.numItems;
    const present = new Uint8Array(indexRange);
    catalogSize = 0;
    for (let r = 0; r < catalog.length; r++) {
      if (present[catalog.items[r]] === 0) {
        present[catalog.items[r]] = 1;
        catalogSize++;
      }
    }
    if (catalogSize === 0) throw new Error(`catalogCoverage: the catalogue data '${catalog.name}' has no interactions`);
  } else {
    if (!Number.isInteger(catalog) || catalog <= 0) {
      throw new Error(`catalogCoverage: the catalogue size must be a positive integer, got ${catalog}`);
    }
    indexRange = catalogSize = catalog;
  }
  const seen = new Uint8Array(indexRange);
  let distinct = 0;
  for (let u = 0; u < lists.length; u++) {
    const list = lists[u];
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      if (!(item >= 0 && item < indexRange && Number.isInteger(item))) {
        throw new Error(`catalogCoverage: list ${u} entry ${i} is ${item}, not an item index in [0, ${indexRange})`);
      }
      if (seen[item] === 0) {
        seen[item] = 1;
        distinct++;
      }
    }
  }
  return distinct / catalogSize;
}

/**
 * Novelty = the mean self-information of the recommended items,
 *   novelty = (1 / |E|) Σ_{(u,i) ∈ E} −log2 p(i),   p(i) = count(i) / Σ_j count(j),
 * over all entries E of all lists (Castells, Vargas and Wang 2011, the item-choice model; Microsoft
 * Recommenders' `novelty`). Higher means less popular items. Items never seen in the popularity source
 * have no defined self-information and are left out of E; Microsoft Recommenders drops them from the
 * sum but not from the count, which reads them as novelty 0. NaN when E is empty.
 * @param popularity the data whose interaction counts define p(i), or the counts themselves
 */
export function novelty(lists: ReadonlyArray<ArrayLike<number>>, popularity: Interactions | ArrayLike<number>): number {
  const counts = popularity instanceof Interactions ? itemPopularity(popularity) : popularity;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  let sum = 0;
  let entries = 0;
  for (let u = 0; u < lists.length; u++) {
    const list = lists[u];
    for (let j = 0; j < list.length; j++) {
      const c = counts[list[j]];
      if (c === undefined) {
        throw new Error(`novelty: list ${u} entry ${j} is item ${list[j]}, outside the ${counts.length} counted items`);
      }
      if (c > 0) {
        sum -= Math.log2(c / total);
        entries++;
      }
    }
  }
  return entries === 0 ? NaN : sum / entries;
}

/**
 * Diversity of one list = 1 − (mean similarity over its unordered pairs of distinct items),
 *   div(L) = 1 − (2 / (|L|(|L|−1))) Σ_{i<j} sim(L_i, L_j)
 * (the complement of Ziegler et al.'s intra-list similarity, as in Microsoft Recommenders'
 * `user_diversity`). 0 for lists with fewer than two distinct items, which have no pairs.
 */
export function listDiversity(list: ArrayLike<number>, similarity: ItemSimilarity | ItemFeatures): number {
  const value = listDiversityCore(list, toSimilarity(similarity));
  return Number.isNaN(value) ? 0 : value;
}

/**
 * Intra-list diversity: the mean of {@link listDiversity} over the lists that have at least one pair
 * (Microsoft Recommenders' `diversity`). With cosine similarities in [0, 1] it lies in [0, 1].
 * @param similarity a similarity function, or item feature vectors (cosine similarity)
 */
export function intraListDiversity(
  lists: ReadonlyArray<ArrayLike<number>>,
  similarity: ItemSimilarity | ItemFeatures,
): number {
  const sim = toSimilarity(similarity);
  let sum = 0;
  let counted = 0;
  for (const list of lists) {
    const value = listDiversityCore(list, sim);
    if (Number.isNaN(value)) continue;
    sum += value;
    counted++;
  }
  return counted === 0 ? NaN : sum / counted;
}

/**
 * Cosine similarity of item feature vectors (row-major [numItems × dim]); 0 when either vector is zero.
 */
export function cosineFeatureSimilarity(features: Float32Array | Float64Array, dim: number): ItemSimilarity {
  if (!Number.isInteger(dim) || dim <= 0 || features.length % dim !== 0) {
    throw new Error(`cosineFeatureSimilarity: features has ${features.length} values, not a multiple of dim ${dim}`);
  }
  const numItems = features.length / dim;
  const norms = new Float64Array(numItems);
  for (let i = 0; i < numItems; i++) {
    let s = 0;
    for (let d = i * dim; d < (i + 1) * dim; d++) s += features[d] * features[d];
    norms[i] = Math.sqrt(s);
  }
  return (a, b) => {
    if (!(a >= 0 && a < numItems && b >= 0 && b < numItems)) {
      throw new Error(
        `cosineFeatureSimilarity: item ${a < 0 || a >= numItems ? a : b} has no feature row (${numItems} rows)`,
      );
    }
    if (norms[a] === 0 || norms[b] === 0) return 0;
    let dot = 0;
    const oa = a * dim;
    const ob = b * dim;
    for (let d = 0; d < dim; d++) dot += features[oa + d] * features[ob + d];
    return dot / (norms[a] * norms[b]);
  };
}

/**
 * Item co-occurrence cosine (Zhang et al. 2012; Microsoft Recommenders' default item similarity for
 * diversity): sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|), with U_i the distinct users who interacted
 * with item i in `data`; 0 when either item has no users.
 */
export function cooccurrenceSimilarity(data: Interactions): ItemSimilarity {
  const numItems = data.numItems;
  // Each item's distinct users, ascending: row i of the item × user matrix, repeats merged.
  const { offsets, indices: users } = CsrMatrix.fromTriples(numItems, data.numUsers, data.items, data.users).dedupe(
    "first",
  );
  const ends = offsets.subarray(1);
  const check = (a: number, b: number) => {
    if (!(a >= 0 && a < numItems && b >= 0 && b < numItems)) {
      throw new Error(`cooccurrenceSimilarity: item ${a < 0 || a >= numItems ? a : b} is outside [0, ${numItems})`);
    }
  };
  // Popular items have long user lists; when one bit per (item, user) fits in 16 MiB, |U_a ∩ U_b| is
  // a popcount over two bit rows instead of a merge of two sorted lists.
  const words = Math.ceil(data.numUsers / 32);
  if (numItems * words <= 1 << 22) {
    const bits = new Int32Array(numItems * words);
    for (let i = 0; i < numItems; i++) {
      for (let g = offsets[i]; g < ends[i]; g++) bits[i * words + (users[g] >>> 5)] |= 1 << (users[g] & 31);
    }
    return (a, b) => {
      check(a, b);
      const na = ends[a] - offsets[a];
      const nb = ends[b] - offsets[b];
      if (na === 0 || nb === 0) return 0;
      let common = 0;
      for (let w = 0; w < words; w++) common += popcount(bits[a * words + w] & bits[b * words + w]);
      return common / Math.sqrt(na * nb);
    };
  }
  return (a, b) => {
    check(a, b);
    const na = ends[a] - offsets[a];
    const nb = ends[b] - offsets[b];
    if (na === 0 || nb === 0) return 0;
    let x = offsets[a];
    let y = offsets[b];
    let common = 0;
    while (x < ends[a] && y < ends[b]) {
      if (users[x] < users[y]) x++;
      else if (users[x] > users[y]) y++;
      else {
        common++;
        x++;
        y++;
      }
    }
    return common / Math.sqrt(na * nb);
  };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

// ---------------------------------------------------------------------------------------------
// Cores: no validation; `n` is the number of ranked entries to read (min(K, list length)).
// ---------------------------------------------------------------------------------------------

function precisionCore(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>, k: number): number {
  return countHits(ranked, n, relevant) / k;
}

function recallCore(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>): number {
  return relevant.size === 0 ? 0 : countHits(ranked, n, relevant) / relevant.size;
}

function hitCore(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>): number {
  for (let i = 0; i < n; i++) if (relevant.has(ranked[i])) return 1;
  return 0;
}

function reciprocalRankCore(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>): number {
  for (let i = 0; i < n; i++) if (relevant.has(ranked[i])) return 1 / (i + 1);
  return 0;
}

function averagePrecisionCore(
  ranked: ArrayLike<number>,
  n: number,
  relevant: ReadonlySet<number>,
  k: number,
  normalization: AveragePrecisionNormalization,
): number {
  if (relevant.size === 0) return 0;
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (relevant.has(ranked[i])) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / (normalization === "minKRelevant" ? Math.min(k, relevant.size) : relevant.size);
}

function ndcgCore(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>, k: number): number {
  if (relevant.size === 0) return 0;
  let dcg = 0;
  for (let i = 0; i < n; i++) if (relevant.has(ranked[i])) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  const ideal = Math.min(k, relevant.size);
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

function gradedNdcgCore(
  ranked: ArrayLike<number>,
  n: number,
  grades: GradedRelevance,
  k: number,
  gain: GainFunction,
): number {
  const toGain = gain === "exponential" ? (g: number) => 2 ** g - 1 : (g: number) => g;
  const gains: number[] = [];
  grades.forEach((grade, item) => {
    if (!(grade >= 0)) throw new Error(`ndcgAtK: item ${item} has relevance grade ${grade}; grades must be >= 0`);
    if (grade > 0) gains.push(toGain(grade));
  });
  if (gains.length === 0) return 0;
  gains.sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, gains.length); i++) idcg += gains[i] / Math.log2(i + 2);
  let dcg = 0;
  for (let i = 0; i < n; i++) {
    const grade = grades.get(ranked[i]);
    if (grade !== undefined && grade > 0) dcg += toGain(grade) / Math.log2(i + 2);
  }
  return dcg / idcg;
}

/** NaN when the list has no pair of distinct items. */
function listDiversityCore(list: ArrayLike<number>, similarity: ItemSimilarity): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      if (list[i] === list[j]) continue;
      sum += similarity(list[i], list[j]);
      pairs++;
    }
  }
  return pairs === 0 ? NaN : 1 - sum / pairs;
}

/** Interactions per item (rows, duplicates included, as Microsoft Recommenders counts). */
function toSimilarity(similarity: ItemSimilarity | ItemFeatures): ItemSimilarity {
  return typeof similarity === "function" ? similarity : cosineFeatureSimilarity(similarity.features, similarity.dim);
}

function countHits(ranked: ArrayLike<number>, n: number, relevant: ReadonlySet<number>): number {
  let hits = 0;
  for (let i = 0; i < n; i++) if (relevant.has(ranked[i])) hits++;
  return hits;
}

function isMap(x: RelevantItems | GradedRelevance): x is GradedRelevance {
  return typeof (x as GradedRelevance).get === "function" && typeof (x as GradedRelevance).has === "function";
}

function toSet(relevant: RelevantItems): ReadonlySet<number> {
  if (typeof (relevant as ReadonlySet<number>).has === "function") return relevant as ReadonlySet<number>;
  const list = relevant as ArrayLike<number>;
  const set = new Set<number>();
  for (let i = 0; i < list.length; i++) set.add(list[i]);
  return set;
}

function checkK(fn: string, k: number, length: number): number {
  checkPositiveInteger(fn, "k", k);
  return Math.min(k, length);
}

/** Checks K and that the first K ranked entries are distinct; returns how many entries to read. */
function checkRanking(fn: string, ranked: ArrayLike<number>, k: number): number {
  const n = checkK(fn, k, ranked.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const first = seen.get(ranked[i]);
    if (first !== undefined) {
      throw new Error(
        `${fn}: item ${ranked[i]} appears twice in the ranked list (positions ${first + 1} and ${i + 1})`,
      );
    }
    seen.set(ranked[i], i);
  }
  return n;
}

/** Index of the first element >= x in ascending `a`. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x in ascending `a`. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
