// Train/validation/test splits of an interaction log: random, k-fold, per-user stratified,
// per-user chronological, leave-one-out and global temporal. Every part is an `Interactions`
// sharing the original id indices (so a model sized on train fits test), rows keep their log
// order, and the random splitters take an explicit seed. All run in O(n) or O(n log n) on typed
// arrays: each row gets a part code, then the parts are gathered in one pass.

import { Rng } from "../backend/random";
import { checkInteger } from "../checks";
import { Interactions } from "./interactions";
import { GroupedRows } from "./csr";
import { RowOrder, argsortStable, assertTimestamps, rowsBy, rowsByUser } from "./userIndex";

/** The parts of a split. `validation` is present only when the splitter was asked for one. */
export interface Split {
  train: Interactions;
  test: Interactions;
  validation?: Interactions;
}

/**
 * Split proportions: a train fraction in (0, 1) (the rest is test), or `[train, test]`, or
 * `[train, validation, test]`; lists are normalised to sum to 1, as in Microsoft Recommenders.
 */
export type SplitRatio = number | readonly [number, number] | readonly [number, number, number];

const TRAIN = 0;
const VALIDATION = 1;
const TEST = 2;
const DROPPED = 3;

export interface RandomSplitConfig {
  /** Default 0.75. */
  ratio?: SplitRatio;
  seed: number;
}

/**
 * Shuffles all rows and cuts them by `ratio`: the first `round(r_train · n)` shuffled rows are
 * train, the next `round((r_train + r_val) · n) - round(r_train · n)` validation, the rest test.
 * Users and items may end up in test only (cold start); use `stratifiedSplit` to keep every user
 * in both.
 */
export function randomSplit(data: Interactions, config: RandomSplitConfig): Split {
  const caller = "randomSplit";
  const ratios = splitRatios(config.ratio ?? 0.75, caller);
  const rng = seededRng(config.seed, caller);
  const n = data.length;
  const order = rng.permutation(n);
  const parts = new Uint8Array(n);
  const codes = partCodes(ratios.length);
  let start = 0;
  let cumulative = 0;
  for (let p = 0; p < ratios.length; p++) {
    cumulative += ratios[p];
    const stop = p === ratios.length - 1 ? n : Math.round(cumulative * n);
    for (let j = start; j < stop; j++) parts[order[j]] = codes[p];
    start = stop;
  }
  return gather(data, parts, ratios.length === 3);
}

export interface KFoldConfig {
  /** Number of folds, at least 2 and at most the number of rows. Default 5. */
  k?: number;
  seed: number;
}

/**
 * k-fold cross-validation over ratings, the protocol of the Surprise benchmarks (its `KFold`):
 * shuffle the rows once, cut them into k consecutive folds whose sizes differ by at most one (the
 * first `n mod k` folds get the extra row), and let fold f be the test set of split f with the other
 * k - 1 folds as its train set. The test sets are disjoint and together cover every row once.
 */
export function kFoldSplit(data: Interactions, config: KFoldConfig): Split[] {
  const caller = "kFoldSplit";
  const k = config.k ?? 5;
  const n = data.length;
  if (!Number.isInteger(k) || k < 2 || k > n) {
    throw new Error(`${caller}: k must be an integer in [2, ${n}] (the number of rows of '${data.name}'), got ${k}`);
  }
  const order = seededRng(config.seed, caller).permutation(n);
  const folds: Split[] = [];
  let stop = 0;
  for (let f = 0; f < k; f++) {
    const start = stop;
    stop = start + Math.floor(n / k) + (f < n % k ? 1 : 0);
    const parts = new Uint8Array(n); // all TRAIN
    for (let j = start; j < stop; j++) parts[order[j]] = TEST;
    const split = gather(data, parts, false, `fold${f + 1}-`);
    folds.push({ train: split.train, test: split.test });
  }
  return folds;
}

export interface StratifiedSplitConfig {
  /** Default 0.75 (train fraction per user). */
  ratio?: SplitRatio;
  seed: number;
  /** Users (or items) with fewer interactions are dropped from every part. Default 1 (keep all). */
  minInteractions?: number;
  /** Stratify per user (default) or per item. */
  by?: "user" | "item";
}

/**
 * A per-user random split that keeps each user's train fraction close to `ratio`: Microsoft
 * Recommenders' `python_stratified_split`. Following it exactly, users with fewer than
 * `minInteractions` rows (their `min_rating`) are dropped first; then each user's rows are put in
 * random order and the k-th of that user's n rows (k = 1..n) goes to the first part whose
 * cumulative ratio c satisfies k / n <= c. With one ratio r, a user therefore keeps floor(r · n)
 * rows in train (3 of 4, 3 of 5 at 0.75) and a user with a single row lands in test only; set
 * `minInteractions: 2` to avoid that. Unlike the original, the last cumulative ratio is taken as
 * exactly 1, so rounding in the sum never drops a row.
 */
export function stratifiedSplit(data: Interactions, config: StratifiedSplitConfig): Split {
  const caller = "stratifiedSplit";
  const ratios = splitRatios(config.ratio ?? 0.75, caller);
  const rng = seededRng(config.seed, caller);
  const groups = strataOf(data, config.by ?? "user", "row", caller);
  const rows = groups.rows;
  for (let g = 0; g + 1 < groups.offsets.length; g++) {
    // Fisher–Yates on this group's slice of the row list.
    const start = groups.offsets[g];
    for (let j = groups.offsets[g + 1] - 1; j > start; j--) {
      const other = start + rng.int(j - start + 1);
      const tmp = rows[j];
      rows[j] = rows[other];
      rows[other] = tmp;
    }
  }
  return assignByRank(data, groups, ratios, config.minInteractions ?? 1, caller);
}

export interface ChronologicalSplitConfig {
  /** Default 0.75 (train fraction per user: that user's earliest interactions). */
  ratio?: SplitRatio;
  /** Users (or items) with fewer interactions are dropped from every part. Default 1 (keep all). */
  minInteractions?: number;
  /** Split per user (default) or per item. */
  by?: "user" | "item";
  /**
   * "time" (default) orders each user's rows by timestamp, ties in log order; "row" trusts the
   * log's order (for data sets without timestamps whose rows are already chronological).
   */
  order?: RowOrder;
}

/**
 * A per-user split in time: each user's earliest interactions go to train and the latest to test,
 * with the rank rule of `stratifiedSplit` (Microsoft Recommenders' `python_chrono_split`): the k-th
 * of a user's n rows in time order goes to the first part whose cumulative ratio c has k / n <= c.
 * Every train row of a user is therefore no later than any of that user's test rows. Deterministic.
 */
export function chronologicalSplit(data: Interactions, config: ChronologicalSplitConfig = {}): Split {
  const caller = "chronologicalSplit";
  const ratios = splitRatios(config.ratio ?? 0.75, caller);
  const groups = strataOf(data, config.by ?? "user", config.order ?? "time", caller);
  return assignByRank(data, groups, ratios, config.minInteractions ?? 1, caller);
}

export interface LeaveOneOutConfig {
  /** Hold out the second-latest interaction of each user as validation. Default true. */
  validation?: boolean;
  /**
   * Users with fewer interactions stay in train only. Default (and minimum) 3 with validation,
   * 2 without, so that every held-out user keeps at least one training interaction.
   */
  minInteractions?: number;
  /** "time" (default): order by timestamp, ties in log order; "row": the log's order. */
  order?: RowOrder;
}

/**
 * The next-item protocol of SASRec and BERT4Rec: per user, in time order, the last interaction is
 * test, the second-last validation (when `validation` is on) and the rest train. Users with fewer
 * than `minInteractions` interactions keep them all in train. Deterministic; timestamps that tie
 * are ordered by their position in the log (a later row counts as later).
 */
export function leaveOneOutSplit(data: Interactions, config: LeaveOneOutConfig = {}): Split {
  const caller = "leaveOneOutSplit";
  const withValidation = config.validation ?? true;
  const floor = withValidation ? 3 : 2;
  const minimum = config.minInteractions ?? floor;
  if (!Number.isInteger(minimum) || minimum < floor) {
    throw new Error(
      `${caller}: minInteractions must be an integer >= ${floor} ` +
        `(${withValidation ? "train, validation and test" : "train and test"} each need a row), got ${minimum}`,
    );
  }
  const groups = rowsByUser(data, config.order ?? "time");
  const parts = new Uint8Array(data.length); // all TRAIN
  for (let u = 0; u < data.numUsers; u++) {
    const start = groups.offsets[u];
    const stop = groups.offsets[u + 1];
    if (stop - start < minimum) continue;
    parts[groups.rows[stop - 1]] = TEST;
    if (withValidation) parts[groups.rows[stop - 2]] = VALIDATION;
  }
  return gather(data, parts, withValidation);
}

export interface TemporalSplitConfig {
  /**
   * Fraction of interactions (in (0, 1)) that should fall at or after the cut time. Default 0.2.
   * Ignored when `cutTime` is given.
   */
  testFraction?: number;
  /** The cut, in the timestamps' unit (seconds): rows at or after it are test. */
  cutTime?: number;
  /** Drop test rows whose user or item never occurs in train (no cold start in test). Default false. */
  dropUnseen?: boolean;
}

/** A global temporal split, with the time it was cut at. */
export interface TemporalSplit extends Split {
  cutTime: number;
}

/**
 * One global cut in time, as in a production replay: every interaction at or after `cutTime` is
 * test, everything before is train, so no training row is later than any test row. Without an
 * explicit `cutTime` it is the timestamp of the row at position n - round(testFraction · n) in time
 * order; rows tied with it also go to test, so the test share can exceed `testFraction` slightly.
 * With `dropUnseen`, test rows of users or items absent from train are removed (in neither part).
 */
export function temporalSplit(data: Interactions, config: TemporalSplitConfig = {}): TemporalSplit {
  const caller = "temporalSplit";
  assertTimestamps(data, caller);
  const t = data.timestamps;
  const n = data.length;
  let cutTime: number;
  if (config.cutTime !== undefined) {
    if (Number.isNaN(config.cutTime)) throw new Error(`${caller}: cutTime must be a number, got NaN`);
    cutTime = config.cutTime;
  } else {
    const fraction = config.testFraction ?? 0.2;
    if (!(fraction > 0 && fraction < 1)) {
      throw new Error(`${caller}: testFraction must be in (0, 1), got ${fraction}`);
    }
    const first = n - Math.round(fraction * n);
    cutTime = first >= n ? Infinity : t[argsortStable(t)[first]];
  }
  const parts = new Uint8Array(n);
  for (let k = 0; k < n; k++) parts[k] = t[k] >= cutTime ? TEST : TRAIN;
  if (config.dropUnseen) {
    const userInTrain = new Uint8Array(data.numUsers);
    const itemInTrain = new Uint8Array(data.numItems);
    for (let k = 0; k < n; k++) {
      if (parts[k] === TRAIN) {
        userInTrain[data.users[k]] = 1;
        itemInTrain[data.items[k]] = 1;
      }
    }
    for (let k = 0; k < n; k++) {
      if (parts[k] === TEST && !(userInTrain[data.users[k]] && itemInTrain[data.items[k]])) parts[k] = DROPPED;
    }
  }
  const split = gather(data, parts, false);
  return { train: split.train, test: split.test, cutTime };
}

// ---------------------------------------------------------------------------------------------

function strataOf(data: Interactions, by: "user" | "item", order: RowOrder, caller: string): GroupedRows {
  if (by !== "user" && by !== "item") throw new Error(`${caller}: by must be "user" or "item", got ${String(by)}`);
  return rowsBy(data, by, order, caller);
}

/** Microsoft Recommenders' rank rule: row k (1-based) of a group of n goes to the first part p with k/n <= c_p. */
function assignByRank(
  data: Interactions,
  groups: GroupedRows,
  ratios: number[],
  minimum: number,
  caller: string,
): Split {
  checkInteger(caller, "minInteractions", minimum);
  const thresholds: number[] = [];
  let cumulative = 0;
  for (const r of ratios) thresholds.push((cumulative += r));
  thresholds[thresholds.length - 1] = 1;
  const codes = partCodes(ratios.length);
  const parts = new Uint8Array(data.length);
  const { offsets, rows } = groups;
  for (let g = 0; g + 1 < offsets.length; g++) {
    const start = offsets[g];
    const count = offsets[g + 1] - start;
    if (count < minimum) {
      for (let j = 0; j < count; j++) parts[rows[start + j]] = DROPPED;
      continue;
    }
    let p = 0;
    for (let j = 0; j < count; j++) {
      const rank = (j + 1) / count;
      while (rank > thresholds[p]) p++;
      parts[rows[start + j]] = codes[p];
    }
  }
  return gather(data, parts, ratios.length === 3);
}

function partCodes(numParts: number): number[] {
  return numParts === 3 ? [TRAIN, VALIDATION, TEST] : [TRAIN, TEST];
}

/** Collects the rows of each part in log order and wraps them as Interactions. */
function gather(data: Interactions, parts: Uint8Array, withValidation: boolean, prefix = ""): Split {
  const counts = [0, 0, 0, 0];
  for (let k = 0; k < parts.length; k++) counts[parts[k]]++;
  const rows = counts.map((c) => new Int32Array(c));
  const filled = [0, 0, 0, 0];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    rows[p][filled[p]++] = k;
  }
  const split: Split = {
    train: data.select(rows[TRAIN], `${data.name}/${prefix}train`),
    test: data.select(rows[TEST], `${data.name}/${prefix}test`),
  };
  if (withValidation) split.validation = data.select(rows[VALIDATION], `${data.name}/${prefix}validation`);
  return split;
}

function splitRatios(ratio: SplitRatio, caller: string): number[] {
  if (typeof ratio === "number") {
    if (!(ratio > 0 && ratio < 1)) throw new Error(`${caller}: ratio must be in (0, 1), got ${ratio}`);
    return [ratio, 1 - ratio];
  }
  if (!Array.isArray(ratio) || (ratio.length !== 2 && ratio.length !== 3)) {
    throw new Error(`${caller}: ratio must be a number or a list of 2 or 3 numbers, got ${JSON.stringify(ratio)}`);
  }
  let sum = 0;
  for (const r of ratio) {
    if (!(r > 0 && Number.isFinite(r))) {
      throw new Error(`${caller}: every ratio must be a positive number, got ${JSON.stringify(ratio)}`);
    }
    sum += r;
  }
  return ratio.map((r: number) => r / sum);
}

function seededRng(seed: number, caller: string): Rng {
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new Error(
      `${caller}: config.seed must be a finite number (splits are reproducible by seed), got ${String(seed)}`,
    );
  }
  return new Rng(seed);
}
