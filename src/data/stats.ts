// Descriptive statistics of an interaction log: the numbers a data tour reports (size, density,
// rating scale, time span) and the popularity counts behind long-tail plots, samplers and novelty.

import { Interactions } from "./interactions";

/** How many times each index in 0..size-1 occurs in `indices`. */
export function countOccurrences(indices: Int32Array, size: number): Int32Array {
  const counts = new Int32Array(size);
  for (let k = 0; k < indices.length; k++) counts[indices[k]]++;
  return counts;
}

/** Interactions per item (item popularity), indexed by dense item index. */
export function itemPopularity(data: Interactions): Int32Array {
  return countOccurrences(data.items, data.numItems);
}

/** Interactions per user (user activity), indexed by dense user index. */
export function userActivity(data: Interactions): Int32Array {
  return countOccurrences(data.users, data.numUsers);
}

/**
 * Each item's rank by popularity: 1 for the item with the highest count, ties broken by the lower index
 * (so every rank 1..n is used once). The scale on which "how popular are the recommended items" reads.
 */
export function popularityRanks(counts: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: counts.length }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const ranks = new Int32Array(counts.length);
  order.forEach((item, position) => (ranks[item] = position + 1));
  return ranks;
}

/** Fraction of the user × item matrix that is observed: |R| / (|U|·|I|). */
export function density(data: Interactions): number {
  return data.length / (data.numUsers * data.numItems);
}

/**
 * Share of all interactions that fall on the `topFraction` most popular items (0.2 → the "80/20"
 * figure of a long tail).
 */
export function headShare(counts: ArrayLike<number>, topFraction: number): number {
  if (!(topFraction > 0 && topFraction <= 1))
    throw new RangeError(`headShare: topFraction must be in (0, 1], got ${topFraction}`);
  const sorted = Float64Array.from(counts).sort().reverse();
  const head = Math.max(1, Math.round(topFraction * sorted.length));
  let total = 0;
  let top = 0;
  for (let i = 0; i < sorted.length; i++) {
    total += sorted[i];
    if (i < head) top += sorted[i];
  }
  return total === 0 ? 0 : top / total;
}

/**
 * Gini coefficient of a count distribution: 0 when every item is equally popular, → 1 when one item
 * takes everything. G = Σ_i (2i − n − 1)·c_(i) / (n·Σ c), with c sorted ascending and i = 1..n.
 */
export function giniCoefficient(counts: ArrayLike<number>): number {
  const sorted = Float64Array.from(counts).sort();
  const n = sorted.length;
  let weighted = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    weighted += (2 * (i + 1) - n - 1) * sorted[i];
    total += sorted[i];
  }
  return total === 0 ? 0 : weighted / (n * total);
}

/** The mean rating, NaN for an empty log. */
export function meanRating(data: Interactions): number {
  let sum = 0;
  for (let k = 0; k < data.length; k++) sum += data.ratings[k];
  return data.length > 0 ? sum / data.length : NaN;
}

/** The lowest and highest rating, [Infinity, -Infinity] for an empty log. */
export function ratingRange(data: Interactions): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const r = data.ratings[k];
    if (r < low) low = r;
    if (r > high) high = r;
  }
  return [low, high];
}

export interface DatasetSummary {
  name: string;
  interactions: number;
  users: number;
  items: number;
  /** Items with at least one interaction (catalogues can list more). */
  ratedItems: number;
  density: number;
  rating: { min: number; max: number; mean: number };
  /** First and last timestamp as ISO dates, or null when the data has no time. */
  timeSpan: { first: string; last: string } | null;
}

export function summarize(data: Interactions): DatasetSummary {
  const [min, max] = ratingRange(data);
  let first = Infinity;
  let last = -Infinity;
  for (let k = 0; k < data.length; k++) {
    const t = data.timestamps[k];
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const popularity = itemPopularity(data);
  let ratedItems = 0;
  for (let i = 0; i < popularity.length; i++) if (popularity[i] > 0) ratedItems++;
  const isoDate = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
  return {
    name: data.name,
    interactions: data.length,
    users: data.numUsers,
    items: data.numItems,
    ratedItems,
    density: density(data),
    rating: { min, max, mean: meanRating(data) },
    timeSpan: Number.isFinite(first) ? { first: isoDate(first), last: isoDate(last) } : null,
  };
}

/** Which users and items have at least one row in `data`. */
export function ratedMasks(data: Interactions): { users: Uint8Array; items: Uint8Array } {
  const users = new Uint8Array(data.numUsers);
  const items = new Uint8Array(data.numItems);
  for (let k = 0; k < data.length; k++) {
    users[data.users[k]] = 1;
    items[data.items[k]] = 1;
  }
  return { users, items };
}
