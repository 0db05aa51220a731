// Negative sampling for implicit feedback: items a user has NOT interacted with, drawn uniformly or
// in proportion to their popularity, for BPR-style training (one negative per positive) and for
// sampled ranking evaluation (e.g. 100 negatives per test user, as in NCF and BERT4Rec).
//
// Draws never need rejection against the seen set: each is one inverse-CDF lookup over the items
// the user has not seen. With C(x) the total weight of items below x and S_j the weight of the
// user's first j seen items (sorted), the unseen weight below item x is C(x) - S_j for x in the
// j-th gap between seen items; a binary search over the gaps, then one within the chosen gap, finds
// the item. A draw costs O(log d + log I) (d seen items, I items), whatever the share of items seen.

import { Rng } from "../backend/random";
import { checkInteger } from "../checks";
import { Interactions } from "./interactions";
import { itemPopularity } from "./stats";
import { UserItems } from "./userIndex";

/** "uniform": every unseen item equally likely; "popularity": in proportion to count^power in the data. */
export type NegativeStrategy = "uniform" | "popularity";

export interface NegativeSamplerConfig {
  /** Default "uniform". */
  strategy?: NegativeStrategy;
  /**
   * Interactions whose items also count as seen (the validation and test positives, say), from
   * the same split as the data. Popularity is counted on the data only, never on these.
   */
  exclude?: Interactions | Interactions[];
  /**
   * Popularity weights are interaction count^power; items never interacted with have weight 0
   * and are never drawn. 1 (default) is proportional to popularity; 0.75 is word2vec's smoothing.
   */
  power?: number;
}

export interface SampleNegativesOptions {
  /** Negatives per user. */
  count: number;
  rng: Rng;
  /** Draw with replacement. Default false: a user's negatives are distinct. */
  replace?: boolean;
}

/**
 * Draws items that each user has not seen. Build one per training set and reuse it across
 * batches: construction is O(n + numItems + numUsers), draws are O(log) each.
 */
export class NegativeSampler {
  readonly strategy: NegativeStrategy;
  /** The items treated as seen: the data plus `exclude`. */
  readonly seen: UserItems;
  /** Sampling weight of each item (1 for uniform; count^power for popularity). */
  readonly weights: Float64Array;
  private readonly data: Interactions;
  /** cumulative[x] = total weight of items 0..x-1. */
  private readonly cumulative: Float64Array;
  /** Aligned with `seen.items`: the weight of the user's seen items up to and including this one. */
  private readonly seenWeightThrough: Float64Array;
  /** Total weight of the items each user has not seen. */
  private readonly unseenWeight: Float64Array;
  /** How many items have positive weight. */
  private readonly drawableItems: number;

  constructor(data: Interactions, config: NegativeSamplerConfig = {}) {
    const strategy = config.strategy ?? "uniform";
    if (strategy !== "uniform" && strategy !== "popularity") {
      throw new Error(`NegativeSampler: strategy must be "uniform" or "popularity", got ${String(strategy)}`);
    }
    const power = config.power ?? 1;
    if (!(power >= 0 && Number.isFinite(power))) {
      throw new Error(`NegativeSampler: power must be a finite number >= 0, got ${power}`);
    }
    const extra = config.exclude === undefined ? [] : Array.isArray(config.exclude) ? config.exclude : [config.exclude];
    this.strategy = strategy;
    this.data = data;
    this.seen = UserItems.from(data, ...extra);

    const numItems = data.numItems;
    const weights = new Float64Array(numItems);
    if (strategy === "uniform") {
      weights.fill(1);
    } else {
      const counts = itemPopularity(data);
      for (let x = 0; x < numItems; x++) weights[x] = counts[x] > 0 ? Math.pow(counts[x], power) : 0;
    }
    this.weights = weights;
    const cumulative = new Float64Array(numItems + 1);
    for (let x = 0; x < numItems; x++) cumulative[x + 1] = cumulative[x] + weights[x];
    this.cumulative = cumulative;
    let drawable = 0;
    for (let x = 0; x < numItems; x++) if (weights[x] > 0) drawable++;
    this.drawableItems = drawable;

    const { offsets, items } = this.seen;
    const through = new Float64Array(items.length);
    const unseen = new Float64Array(data.numUsers);
    for (let u = 0; u < data.numUsers; u++) {
      let sum = 0;
      for (let j = offsets[u]; j < offsets[u + 1]; j++) through[j] = sum += weights[items[j]];
      // Recomputed from counts for uniform so that the total is an exact integer.
      unseen[u] = strategy === "uniform" ? numItems - (offsets[u + 1] - offsets[u]) : cumulative[numItems] - sum;
    }
    this.seenWeightThrough = through;
    this.unseenWeight = unseen;
  }

  /**
   * `count` negatives for each user in `users` (dense indices), as one Int32Array per user (views
   * of one buffer). Without replacement (the default), each draw excludes the user's earlier ones:
   * successive sampling, which for popularity weights is what a "100 negatives by popularity"
   * evaluation protocol draws.
   */
  sample(users: ArrayLike<number>, options: SampleNegativesOptions): Int32Array[] {
    const { count, rng } = options;
    const replace = options.replace ?? false;
    checkInteger("NegativeSampler.sample", "count", count, 0);
    const buffer = new Int32Array(users.length * count);
    const out: Int32Array[] = [];
    const taken = new Uint8Array(this.data.numItems); // marks this user's draws, cleared after each user
    for (let r = 0; r < users.length; r++) {
      const u = this.checkedUser(users[r], "sample");
      const row = buffer.subarray(r * count, (r + 1) * count);
      out.push(row);
      if (count === 0) continue;
      if (replace) {
        for (let c = 0; c < count; c++) row[c] = this.draw(u, rng);
        continue;
      }
      const available = this.countAvailable(u);
      if (available === 0) throw this.exhausted(u);
      if (count > available) {
        throw new Error(
          `NegativeSampler.sample: user '${this.userId(u)}' has only ${available} unseen item${available === 1 ? "" : "s"}` +
            `${this.strategy === "popularity" ? " with nonzero popularity" : ""}, ${count} distinct negatives were asked for`,
        );
      }
      // Rejection against this user's own draws is cheap while they are a small share of the
      // unseen items and weight; otherwise (asked for over half, or out of tries) draw exactly.
      if (2 * count > available) {
        this.drawDistinctExactly(u, row, rng);
        continue;
      }
      let filled = 0;
      let tries = 0;
      const budget = 8 * count + 64;
      while (filled < count && tries < budget) {
        tries++;
        const x = this.draw(u, rng);
        if (taken[x]) continue;
        taken[x] = 1;
        row[filled++] = x;
      }
      for (let c = 0; c < filled; c++) taken[row[c]] = 0;
      if (filled < count) this.drawDistinctExactly(u, row, rng);
    }
    return out;
  }

  /** One negative per entry of `users` (one per positive of a training batch), with replacement. */
  sampleForEach(users: Int32Array, rng: Rng): Int32Array {
    const out = new Int32Array(users.length);
    for (let r = 0; r < users.length; r++) out[r] = this.draw(this.checkedUser(users[r], "sampleForEach"), rng);
    return out;
  }

  /** One item user `u` has not seen, by inverse CDF over the unseen items (see the file header). */
  private draw(u: number, rng: Rng): number {
    const mass = this.unseenWeight[u];
    if (!(mass > 0)) throw this.exhausted(u);
    const { offsets, items } = this.seen;
    const cumulative = this.cumulative;
    const through = this.seenWeightThrough;
    const start = offsets[u];
    const d = offsets[u + 1] - start;
    const target = this.strategy === "uniform" ? rng.int(mass) : rng.next() * mass;

    // Gap j holds the unseen items between seen items j-1 and j; before it lies unseen weight
    // cumulative[items[start + j - 1] + 1] - through[start + j - 1]. Find the last gap starting at or before target.
    let lo = 0;
    let hi = d;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const before = cumulative[items[start + mid - 1] + 1] - through[start + mid - 1];
      if (before <= target) lo = mid;
      else hi = mid - 1;
    }
    const gap = lo;
    const seenBefore = gap === 0 ? 0 : through[start + gap - 1];
    const first = gap === 0 ? 0 : items[start + gap - 1] + 1;
    const end = gap === d ? this.data.numItems : items[start + gap]; // exclusive
    // The last item x of the gap with unseen weight below x at most target.
    let a = first;
    let b = end - 1;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if (cumulative[mid] - seenBefore <= target) a = mid;
      else b = mid - 1;
    }
    if (a < end && this.weights[a] > 0) return a;
    return this.nearestDrawable(u, first, end);
  }

  /** Guards float rounding at a gap's edge: the closest item of positive weight the user has not seen. */
  private nearestDrawable(u: number, first: number, end: number): number {
    for (let x = end - 1; x >= first; x--) if (this.weights[x] > 0) return x;
    for (let x = 0; x < this.data.numItems; x++) if (this.weights[x] > 0 && !this.seen.has(u, x)) return x;
    throw this.exhausted(u);
  }

  /** Successive sampling without replacement over all unseen items via Efraimidis–Spirakis keys. */
  private drawDistinctExactly(u: number, row: Int32Array, rng: Rng): void {
    const candidates: number[] = [];
    const keys: number[] = [];
    const seenItems = this.seen.itemsOf(u);
    let next = 0;
    for (let x = 0; x < this.data.numItems; x++) {
      if (next < seenItems.length && seenItems[next] === x) {
        next++;
        continue;
      }
      const w = this.weights[x];
      if (w > 0) {
        candidates.push(x);
        keys.push(Math.log(rng.next()) / w); // the largest keys are a weighted sample, in draw order
      }
    }
    const order = candidates.map((_, i) => i).sort((i, j) => keys[j] - keys[i] || i - j);
    for (let c = 0; c < row.length; c++) row[c] = candidates[order[c]];
  }

  private countAvailable(u: number): number {
    if (this.strategy === "uniform") return this.unseenWeight[u];
    let positive = this.drawableItems;
    const seenItems = this.seen.itemsOf(u);
    for (let j = 0; j < seenItems.length; j++) if (this.weights[seenItems[j]] > 0) positive--;
    return positive;
  }

  private checkedUser(u: number, caller: string): number {
    if (!(Number.isInteger(u) && u >= 0 && u < this.data.numUsers)) {
      throw new RangeError(`NegativeSampler.${caller}: user index ${u} is out of range [0, ${this.data.numUsers})`);
    }
    return u;
  }

  private userId(u: number): string {
    return this.data.userIndex.idOf(u);
  }

  private exhausted(u: number): Error {
    const what = this.strategy === "popularity" ? "every item with nonzero popularity" : "every item";
    return new Error(
      `NegativeSampler: user '${this.userId(u)}' (index ${u}) has seen ${what} of '${this.data.name}', ` +
        `so no negative can be drawn; drop such users before sampling`,
    );
  }
}

/** Options of the one-shot `sampleNegatives`. */
export interface SampleNegativesConfig extends NegativeSamplerConfig, SampleNegativesOptions {}

/**
 * `count` negatives per user in `users`, excluding every item the user has in `data` (and in
 * `exclude`). One-shot; build a `NegativeSampler` to sample repeatedly from the same data.
 */
export function sampleNegatives(
  data: Interactions,
  users: ArrayLike<number>,
  config: SampleNegativesConfig,
): Int32Array[] {
  return new NegativeSampler(data, config).sample(users, config);
}

/** Options of the one-shot `sampleNegativeForEach`. */
export interface SampleNegativeForEachConfig extends NegativeSamplerConfig {
  rng: Rng;
}

/**
 * One negative for each entry of `users` (the user column of a batch of positives). One-shot; for
 * training loops build a `NegativeSampler` once and call its `sampleForEach` per batch.
 */
export function sampleNegativeForEach(
  data: Interactions,
  users: Int32Array,
  config: SampleNegativeForEachConfig,
): Int32Array {
  return new NegativeSampler(data, config).sampleForEach(users, config.rng);
}
