// A seeded generator of interaction logs whose ground truth is known: the embedded default data set
// when MovieLens is not available, and a test bed where a model's answers can be checked against
// the rule that made the data.
//
// Generative model (all draws from one seeded Rng; each stage forks its own stream):
//   genres     every item has a primary genre (uniform) and, with probability 0.3, a second one;
//              every user a favourite genre. With a catalogue, genres come from its tags.
//   factors    genre centroids c_g ~ N(0, I_d); item v_i = √γ·mean(c_g over its genres) + √(1-γ)·ε,
//              user u = √γ·c_fav + √(1-γ)·ε, ε ~ N(0, I_d), γ = genreStrength; both are then divided
//              by d^¼ so that the affinity a_ui = u·v_i has variance of order one.
//   popularity p_i ∝ rank_i^(-s) over a random ranking of the items (Zipf, s = zipfExponent).
//   choice     user u consumes n_u distinct items; n_u = round(exp(N(ln median, σ²))) clamped to
//              [min, max] (heavy-tailed, as in MovieLens). Each next item is, with probability
//              sequentialStrength, a successor of the previous one (below; if the user already has
//              it, fall through); otherwise an item the user has not consumed yet, drawn with
//              weight p_i·exp(β·a_ui), β = preferenceStrength (successive sampling).
//   successors each item has T successors (same primary genre when possible, drawn by
//              popularity), chosen with probabilities ∝ 2^-t, t = 0..T-1: a first-order Markov chain.
//   ratings    r_ui = clamp(round(μ + b_u + b_i + λ·a_ui + N(0, ratingNoise²)), 1, 5), μ = 2.7,
//              b ~ N(0, 0.35²), λ = 0.8; the noise-free part is `trueRating`. μ sits below the
//              observed mean because users pick items they like (selection bias, as in MovieLens).
//   time       a user starts at startTime + U(0, timeSpan) and waits 1 + Exp(meanGap) seconds
//              (whole seconds) between interactions, so a user's timestamps strictly increase.
//
// Measured with the defaults over seeds 1–5 (≈ 20,000 interactions; test/data/synthetic.test.ts
// checks looser bounds): the log-log slope of item count against count rank over ranks 10–500 is
// -0.79 to -0.86 for s = 1 (flatter than Zipf at the head because a user consumes an item at most
// once, and spread by the affinity term); the top 10% of items hold 46–50% of interactions (19%
// for s = 0); 37–39% of consecutive pairs follow a successor edge (chance: T / numItems = 0.3%);
// mean rating 3.4–3.65 with all five levels used (about 3/14/30/29/24%). Generation takes about
// 0.1 s at the defaults and 2–3 s at MovieLens-1M scale (6,040 × 3,700, latentDim 16, ≈ 815k rows).

import { Rng } from "../backend/random";
import { ItemCatalogue } from "./catalogue";
import { IdIndex, Interactions, ItemInfo } from "./interactions";
import { topKIndices } from "./topK";

/** The heavy-tailed number of interactions per user. */
export interface InteractionsPerUser {
  /** Default 5. */
  min?: number;
  /** Median of the log-normal before clamping. Default 30. */
  median?: number;
  /** Standard deviation of ln n_u. Default 0.8. */
  sigma?: number;
  /** Default numItems (a user cannot consume more distinct items than exist). */
  max?: number;
}

export interface SyntheticConfig {
  seed: number;
  /** Default 500. */
  numUsers?: number;
  /** Default 1000, or the catalogue's size. With a catalogue, its first numItems entries are used. */
  numItems?: number;
  /** Dimension of the true user and item factors. Default 8. */
  latentDim?: number;
  /**
   * Number of genres (default 8, named after MovieLens genres while they last) or their names. With
   * a catalogue: a count picks its most frequent tags, names are matched to tags case-insensitively.
   */
  genres?: number | string[];
  /** Share γ in [0, 1] of the factors' variance set by genre. Default 0.6. */
  genreStrength?: number;
  /** Zipf exponent s in [0, 10] of item popularity (0: uniform). Default 1. */
  zipfExponent?: number;
  /** β >= 0: how much a user's affinity, against popularity, decides what they consume. Default 1.5. */
  preferenceStrength?: number;
  interactionsPerUser?: InteractionsPerUser;
  /** First possible timestamp, seconds since the epoch. Default 1577836800 (2020-01-01 UTC). */
  startTime?: number;
  /** Users start uniformly within this many seconds of startTime. Default one year. */
  timeSpan?: number;
  /** Mean seconds between a user's consecutive interactions. Default one day. */
  meanGap?: number;
  /** Probability in [0, 1] that the next item follows the Markov successor rule. Default 0.5. */
  sequentialStrength?: number;
  /** Successors per item, T. Default 3. */
  successorsPerItem?: number;
  /** Standard deviation of the rating noise. Default 0.5. */
  ratingNoise?: number;
  /** Length of each user's true top-K list. Default 10. */
  topK?: number;
  /** Items, with their titles and tags, to generate interactions over. */
  catalogue?: ItemCatalogue;
  /** Name of the resulting Interactions. Default "synthetic". */
  name?: string;
}

/** What generated the data; every array is indexed by dense user or item index of the Interactions. */
export interface SyntheticTruth {
  latentDim: number;
  /** numUsers × latentDim, row-major. */
  userFactors: Float32Array;
  /** numItems × latentDim, row-major. */
  itemFactors: Float32Array;
  userBias: Float32Array;
  itemBias: Float32Array;
  /** μ of the rating model. */
  globalMean: number;
  /** λ of the rating model (weight of the affinity). */
  affinityWeight: number;
  genreNames: string[];
  /** Genre indices of each item, primary first. */
  itemGenres: number[][];
  /** Favourite genre of each user. */
  userGenre: Int32Array;
  /** Zipf popularity of each item (sums to 1). */
  popularity: Float64Array;
  sequentialStrength: number;
  /** Successors per item, T. */
  successorsPerItem: number;
  /** numItems × T, row-major: item i's successors, most likely first. */
  successors: Int32Array;
  /** The T successor probabilities, shared by every item. */
  successorProbabilities: Float64Array;
  /** K of `topK`. */
  k: number;
  /** numUsers × k, row-major: each user's items by descending `trueRating`, over all items. */
  topK: Int32Array;
}

export interface SyntheticData {
  interactions: Interactions;
  truth: SyntheticTruth;
}

/** The noise-free, unrounded rating of item `i` by user `u`: μ + b_u + b_i + λ·(u·v_i). */
export function trueRating(truth: SyntheticTruth, u: number, i: number): number {
  const d = truth.latentDim;
  let dot = 0;
  for (let f = 0; f < d; f++) dot += truth.userFactors[u * d + f] * truth.itemFactors[i * d + f];
  return truth.globalMean + truth.userBias[u] + truth.itemBias[i] + truth.affinityWeight * dot;
}

const GLOBAL_MEAN = 2.7; // see the header: selection bias lifts the observed mean to ≈ 3.5
const AFFINITY_WEIGHT = 0.8;
const BIAS_STD = 0.35;
const SECOND_GENRE_PROBABILITY = 0.3;

/**
 * Generates an interaction log and the truth behind it (see the file header for the model).
 * Deterministic in `seed`. Cost O(numUsers · numItems · latentDim) for the affinities plus
 * O(numUsers · numItems · log K) for the rankings.
 */
export function generateSynthetic(config: SyntheticConfig): SyntheticData {
  const c = resolveConfig(config);
  const root = new Rng(c.seed);
  const genreRng = root.fork();
  const factorRng = root.fork();
  const popularityRng = root.fork();
  const successorRng = root.fork();
  const behaviourRng = root.fork();
  const textRng = root.fork();

  const { numUsers, numItems, latentDim: d } = c;
  const { genreNames, itemGenres } = assignGenres(c, genreRng);
  const numGenres = genreNames.length;

  // Factors: a genre part shared within a genre and an individual part.
  const centroids = new Float64Array(numGenres * d);
  for (let k = 0; k < centroids.length; k++) centroids[k] = factorRng.normal();
  const shared = Math.sqrt(c.genreStrength);
  const own = Math.sqrt(1 - c.genreStrength);
  const scale = 1 / Math.pow(d, 0.25);
  const itemFactors = new Float32Array(numItems * d);
  for (let i = 0; i < numItems; i++) {
    const gs = itemGenres[i];
    for (let f = 0; f < d; f++) {
      let centre = 0;
      for (const g of gs) centre += centroids[g * d + f];
      itemFactors[i * d + f] = scale * (shared * (centre / gs.length) + own * factorRng.normal());
    }
  }
  const userGenre = new Int32Array(numUsers);
  const userFactors = new Float32Array(numUsers * d);
  for (let u = 0; u < numUsers; u++) {
    const g = factorRng.int(numGenres);
    userGenre[u] = g;
    for (let f = 0; f < d; f++)
      userFactors[u * d + f] = scale * (shared * centroids[g * d + f] + own * factorRng.normal());
  }
  const userBias = new Float32Array(numUsers);
  const itemBias = new Float32Array(numItems);
  for (let u = 0; u < numUsers; u++) userBias[u] = factorRng.normal(0, BIAS_STD);
  for (let i = 0; i < numItems; i++) itemBias[i] = factorRng.normal(0, BIAS_STD);

  // Zipf popularity over a random ranking.
  const rankOf = popularityRng.permutation(numItems);
  const popularity = new Float64Array(numItems);
  let total = 0;
  for (let i = 0; i < numItems; i++) total += popularity[i] = Math.pow(rankOf[i] + 1, -c.zipfExponent);
  for (let i = 0; i < numItems; i++) popularity[i] /= total;

  const T = c.successorsPerItem;
  const successors = drawSuccessors(itemGenres, popularity, T, successorRng);
  const successorProbabilities = new Float64Array(T);
  for (let t = 0; t < T; t++) successorProbabilities[t] = Math.pow(2, -t) / (2 - Math.pow(2, 1 - T));
  const successorCumulative = new Float64Array(T);
  for (let t = 0, sum = 0; t < T; t++) successorCumulative[t] = sum += successorProbabilities[t];

  // Interaction counts first, so that the columns are allocated once.
  const counts = new Int32Array(numUsers);
  let n = 0;
  const { min, median, sigma, max } = c.perUser;
  for (let u = 0; u < numUsers; u++) {
    const drawn = Math.round(Math.exp(behaviourRng.normal(Math.log(median), sigma)));
    n += counts[u] = Math.min(max, Math.max(min, drawn));
  }
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Float64Array(n);

  const K = c.topK;
  const topK = new Int32Array(numUsers * K);
  const affinity = new Float64Array(numItems);
  const keys = new Float64Array(numItems);
  const logPopularity = popularity.map(Math.log);
  const consumed = new Uint8Array(numItems);
  const itemMatrix = Float64Array.from(itemFactors); // float64 reads are faster in the hot loop
  const userVector = new Float64Array(d);
  const choice = new SuccessiveSampler(numItems);
  const beta = c.preferenceStrength;
  let row = 0;
  for (let u = 0; u < numUsers; u++) {
    for (let f = 0; f < d; f++) userVector[f] = userFactors[u * d + f];
    let largest = -Infinity;
    for (let i = 0, at = 0; i < numItems; i++) {
      let dot = 0;
      for (let f = 0; f < d; f++) dot += userVector[f] * itemMatrix[at++];
      affinity[i] = dot;
      keys[i] = itemBias[i] + AFFINITY_WEIGHT * dot; // trueRating minus terms constant in i
      const logWeight = logPopularity[i] + beta * dot;
      if (logWeight > largest) largest = logWeight;
    }
    topK.set(topKIndices(keys, K), u * K);
    // Choice weights p_i·exp(β·a_ui), scaled so that the largest is 1.
    for (let i = 0; i < numItems; i++) choice.weights[i] = Math.exp(logPopularity[i] + beta * affinity[i] - largest);
    choice.reset();

    const m = counts[u];
    let previous = -1;
    let time = c.startTime + Math.floor(behaviourRng.next() * c.timeSpan);
    for (let step = 0; step < m; step++) {
      let item = -1;
      if (previous >= 0 && behaviourRng.next() < c.sequentialStrength) {
        const x = behaviourRng.next();
        let t = 0;
        while (t < T - 1 && x >= successorCumulative[t]) t++;
        const next = successors[previous * T + t];
        if (!consumed[next]) item = next;
      }
      if (item < 0) item = choice.draw(behaviourRng, consumed);
      consumed[item] = 1;
      if (step > 0) time += 1 + Math.floor(-Math.log(1 - behaviourRng.next()) * c.meanGap);
      const expected = GLOBAL_MEAN + userBias[u] + itemBias[item] + AFFINITY_WEIGHT * affinity[item];
      const rating = Math.round(expected + behaviourRng.normal(0, c.ratingNoise));
      users[row] = u;
      items[row] = item;
      ratings[row] = Math.min(5, Math.max(1, rating));
      timestamps[row] = time;
      row++;
      previous = item;
    }
    for (let j = row - m; j < row; j++) consumed[items[j]] = 0;
  }

  const userIndex = new IdIndex();
  for (let u = 0; u < numUsers; u++) userIndex.add(String(u + 1));
  const itemIndex = new IdIndex();
  const catalogue = c.catalogue;
  for (let i = 0; i < numItems; i++) itemIndex.add(catalogue ? catalogue.ids[i] : String(i + 1));
  if (itemIndex.size !== numItems) {
    throw new Error(
      `generateSynthetic: the catalogue '${catalogue?.name}' repeats an id among its first ${numItems} items`,
    );
  }
  const genresOfItems = itemGenres.map((gs) => gs.map((g) => genreNames[g]));
  let itemInfo: ItemInfo;
  if (catalogue) {
    itemInfo = {
      titles: catalogue.titles.slice(0, numItems),
      genres: genresOfItems,
      tags: catalogue.tags.slice(0, numItems).map((tags) => tags.slice()),
    };
    if (catalogue.years) itemInfo.years = catalogue.years.slice(0, numItems);
  } else {
    itemInfo = { genres: genresOfItems, ...itemText(itemGenres, genreNames, textRng) };
  }

  const interactions = new Interactions({
    users,
    items,
    ratings,
    timestamps,
    userIndex,
    itemIndex,
    itemInfo,
    name: c.name,
  });
  const truth: SyntheticTruth = {
    latentDim: d,
    userFactors,
    itemFactors,
    userBias,
    itemBias,
    globalMean: GLOBAL_MEAN,
    affinityWeight: AFFINITY_WEIGHT,
    genreNames,
    itemGenres,
    userGenre,
    popularity,
    sequentialStrength: c.sequentialStrength,
    successorsPerItem: T,
    successors,
    successorProbabilities,
    k: K,
    topK,
  };
  return { interactions, truth };
}

// ---------------------------------------------------------------------------------------------

interface ResolvedConfig {
  seed: number;
  numUsers: number;
  numItems: number;
  latentDim: number;
  genres: number | string[];
  genreStrength: number;
  zipfExponent: number;
  preferenceStrength: number;
  perUser: Required<InteractionsPerUser>;
  startTime: number;
  timeSpan: number;
  meanGap: number;
  sequentialStrength: number;
  successorsPerItem: number;
  ratingNoise: number;
  topK: number;
  catalogue?: ItemCatalogue;
  name: string;
}

function resolveConfig(config: SyntheticConfig): ResolvedConfig {
  const fail = (field: string, rule: string, value: unknown): never => {
    throw new Error(`generateSynthetic: ${field} must be ${rule}, got ${JSON.stringify(value)}`);
  };
  const integer = (field: string, value: number, least: number): number =>
    Number.isInteger(value) && value >= least ? value : fail(field, `an integer >= ${least}`, value);
  const inRange = (field: string, value: number, lo: number, hi: number): number =>
    value >= lo && value <= hi ? value : fail(field, `a number in [${lo}, ${hi}]`, value);
  const nonNegative = (field: string, value: number): number =>
    value >= 0 && Number.isFinite(value) ? value : fail(field, "a finite number >= 0", value);

  if (typeof config.seed !== "number" || !Number.isFinite(config.seed)) fail("seed", "a finite number", config.seed);
  const catalogue = config.catalogue;
  if (
    catalogue &&
    (catalogue.titles.length !== catalogue.ids.length || catalogue.tags.length !== catalogue.ids.length)
  ) {
    throw new Error(
      `generateSynthetic: catalogue '${catalogue.name}' has ${catalogue.ids.length} ids but ` +
        `${catalogue.titles.length} titles and ${catalogue.tags.length} tag lists`,
    );
  }
  const numItems = integer("numItems", config.numItems ?? (catalogue ? catalogue.ids.length : 1000), 2);
  if (catalogue && numItems > catalogue.ids.length) {
    throw new Error(
      `generateSynthetic: numItems ${numItems} exceeds the ${catalogue.ids.length} items of catalogue '${catalogue.name}'`,
    );
  }
  const genres = config.genres ?? 8;
  if (typeof genres === "number") integer("genres", genres, 1);
  else if (!Array.isArray(genres) || genres.length === 0 || new Set(genres).size !== genres.length) {
    fail("genres", "a count or a non-empty list of distinct names", genres);
  }
  const perUser = config.interactionsPerUser ?? {};
  const min = integer("interactionsPerUser.min", perUser.min ?? 5, 1);
  const max = integer("interactionsPerUser.max", perUser.max ?? numItems, min);
  if (max > numItems) fail("interactionsPerUser.max", `at most numItems (${numItems})`, max);
  const median = perUser.median ?? 30;
  if (!(median > 0 && Number.isFinite(median))) fail("interactionsPerUser.median", "a positive number", median);
  const successorsPerItem = integer("successorsPerItem", config.successorsPerItem ?? 3, 1);
  if (successorsPerItem >= numItems) fail("successorsPerItem", `less than numItems (${numItems})`, successorsPerItem);
  const topK = integer("topK", config.topK ?? 10, 1);
  const startTime = config.startTime ?? 1577836800;
  if (topK > numItems) fail("topK", `at most numItems (${numItems})`, topK);
  return {
    seed: config.seed,
    numUsers: integer("numUsers", config.numUsers ?? 500, 1),
    numItems,
    latentDim: integer("latentDim", config.latentDim ?? 8, 1),
    genres,
    genreStrength: inRange("genreStrength", config.genreStrength ?? 0.6, 0, 1),
    // Above 10 the tail weights of large catalogues underflow to zero.
    zipfExponent: inRange("zipfExponent", config.zipfExponent ?? 1, 0, 10),
    preferenceStrength: nonNegative("preferenceStrength", config.preferenceStrength ?? 1.5),
    perUser: { min, median, sigma: nonNegative("interactionsPerUser.sigma", perUser.sigma ?? 0.8), max },
    startTime: Number.isFinite(startTime) ? startTime : fail("startTime", "a finite number of seconds", startTime),
    timeSpan: nonNegative("timeSpan", config.timeSpan ?? 365 * 86400),
    meanGap: nonNegative("meanGap", config.meanGap ?? 86400),
    sequentialStrength: inRange("sequentialStrength", config.sequentialStrength ?? 0.5, 0, 1),
    successorsPerItem,
    ratingNoise: nonNegative("ratingNoise", config.ratingNoise ?? 0.5),
    topK,
    catalogue,
    name: config.name ?? "synthetic",
  };
}

/** Genre names and each item's genre indices (primary first). */
function assignGenres(c: ResolvedConfig, rng: Rng): { genreNames: string[]; itemGenres: number[][] } {
  const { numItems, catalogue } = c;
  let genreNames: string[];
  if (!catalogue) {
    genreNames = typeof c.genres === "number" ? defaultGenreNames(c.genres) : c.genres.slice();
    const itemGenres: number[][] = [];
    for (let i = 0; i < numItems; i++) {
      const primary = rng.int(genreNames.length);
      const gs = [primary];
      if (genreNames.length > 1 && rng.next() < SECOND_GENRE_PROBABILITY) {
        const second = (primary + 1 + rng.int(genreNames.length - 1)) % genreNames.length;
        gs.push(second);
      }
      itemGenres.push(gs);
    }
    return { genreNames, itemGenres };
  }
  // With a catalogue, genres are tags: the given names, or the most frequent tags.
  const tags = catalogue.tags.slice(0, numItems);
  if (typeof c.genres === "number") {
    const frequency = new Map<string, number>();
    for (const list of tags)
      for (const tag of new Set(list.map((t) => t.toLowerCase()))) frequency.set(tag, (frequency.get(tag) ?? 0) + 1);
    // Map iteration is first-appearance order, so the stable sort breaks ties by it.
    genreNames = [...frequency.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, c.genres)
      .map((e) => e[0]);
    if (genreNames.length === 0) {
      throw new Error(
        `generateSynthetic: catalogue '${catalogue.name}' has no tags to take genres from; pass genre names`,
      );
    }
  } else {
    genreNames = c.genres.slice();
  }
  const byName = new Map(genreNames.map((name, g) => [name.toLowerCase(), g] as [string, number]));
  const itemGenres = tags.map((list) => {
    const gs: number[] = [];
    for (const tag of list) {
      const g = byName.get(tag.toLowerCase());
      if (g !== undefined && !gs.includes(g)) gs.push(g);
    }
    // An item tagged with none of the genres still needs a place in the latent space.
    if (gs.length === 0) gs.push(rng.int(genreNames.length));
    return gs;
  });
  return { genreNames, itemGenres };
}

/** T successors per item, from its primary genre when the genre has enough items, by popularity. */
function drawSuccessors(itemGenres: number[][], popularity: Float64Array, T: number, rng: Rng): Int32Array {
  const numItems = itemGenres.length;
  const pools = new Map<number, number[]>();
  for (let i = 0; i < numItems; i++) {
    const g = itemGenres[i][0];
    const pool = pools.get(g);
    if (pool) pool.push(i);
    else pools.set(g, [i]);
  }
  const all = Array.from({ length: numItems }, (_, i) => i);
  const cumulativeOf = (pool: number[]): Float64Array => {
    const cumulative = new Float64Array(pool.length);
    for (let j = 0, sum = 0; j < pool.length; j++) cumulative[j] = sum += popularity[pool[j]];
    return cumulative;
  };
  const cumulatives = new Map<number[], Float64Array>();
  const successors = new Int32Array(numItems * T);
  for (let i = 0; i < numItems; i++) {
    const own = pools.get(itemGenres[i][0]) as number[];
    const pool = own.length > 2 * T ? own : all; // too small a genre would force near-deterministic picks
    let cumulative = cumulatives.get(pool);
    if (!cumulative) cumulatives.set(pool, (cumulative = cumulativeOf(pool)));
    const chosen: number[] = [];
    while (chosen.length < T) {
      const x = rng.next() * cumulative[cumulative.length - 1];
      let lo = 0;
      let hi = pool.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] > x) hi = mid;
        else lo = mid + 1;
      }
      const j = pool[lo];
      if (j !== i && !chosen.includes(j)) chosen.push(j);
    }
    successors.set(chosen, i * T);
  }
  return successors;
}

/**
 * Weighted draws without replacement (successive sampling): draw in proportion to `weights` by
 * binary search on their running sums and reject consumed items; after a run of rejections, rebuild
 * the sums without the consumed items, so a draw stays O(log n) amortised however much is consumed.
 */
class SuccessiveSampler {
  readonly weights: Float64Array;
  private readonly cumulative: Float64Array;

  constructor(size: number) {
    this.weights = new Float64Array(size);
    this.cumulative = new Float64Array(size);
  }

  /** Recomputes the running sums after `weights` were set, leaving out items marked in `consumed`. */
  reset(consumed?: Uint8Array): void {
    let sum = 0;
    for (let i = 0; i < this.weights.length; i++) {
      if (consumed && consumed[i]) this.weights[i] = 0;
      this.cumulative[i] = sum += this.weights[i];
    }
  }

  draw(rng: Rng, consumed: Uint8Array): number {
    const n = this.weights.length;
    for (;;) {
      const total = this.cumulative[n - 1];
      if (!(total > 0)) break;
      for (let attempt = 0; attempt < 8; attempt++) {
        const x = rng.next() * total;
        let lo = 0;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.cumulative[mid] > x) hi = mid;
          else lo = mid + 1;
        }
        if (!consumed[lo] && this.weights[lo] > 0) return lo;
      }
      this.reset(consumed);
    }
    // Every unconsumed weight underflowed to zero: take the first unconsumed item.
    for (let i = 0; i < n; i++) if (!consumed[i]) return i;
    throw new Error("generateSynthetic: a user ran out of items (interactionsPerUser.max exceeds numItems)");
  }
}

const MOVIELENS_GENRES = [
  "Drama",
  "Comedy",
  "Action",
  "Thriller",
  "Romance",
  "Adventure",
  "Crime",
  "Sci-Fi",
  "Horror",
  "Children's",
  "War",
  "Mystery",
  "Musical",
  "Documentary",
  "Animation",
  "Western",
  "Fantasy",
  "Film-Noir",
];

function defaultGenreNames(count: number): string[] {
  return Array.from({ length: count }, (_, g) => MOVIELENS_GENRES[g] ?? `Genre ${g + 1}`);
}

/** Words that make a genre's titles and tags recognisable, so text models have signal too. */
const GENRE_WORDS: Record<string, string[]> = {
  Drama: ["promise", "winter", "letters", "silence", "daughter", "harbor"],
  Comedy: ["blunder", "wedding", "roommate", "prank", "tuxedo", "hiccup"],
  Action: ["strike", "fury", "velocity", "siege", "renegade", "impact"],
  Thriller: ["pursuit", "hostage", "conspiracy", "deadline", "vertigo", "trap"],
  Romance: ["kiss", "heart", "sunset", "valentine", "honeymoon", "serenade"],
  Adventure: ["quest", "voyage", "horizon", "island", "compass", "expedition"],
  Crime: ["heist", "alibi", "precinct", "ransom", "witness", "syndicate"],
  "Sci-Fi": ["android", "nebula", "quantum", "orbit", "cyborg", "galaxy"],
  Horror: ["crypt", "scream", "hollow", "curse", "asylum", "bloodline"],
  "Children's": ["puppy", "treehouse", "giggle", "playground", "lullaby", "kite"],
  War: ["battalion", "trench", "armistice", "frontier", "sniper", "convoy"],
  Mystery: ["riddle", "cipher", "manor", "vanishing", "clue", "enigma"],
  Musical: ["melody", "rhythm", "broadway", "chorus", "rhapsody", "tango"],
  Documentary: ["archive", "glacier", "frontline", "portrait", "harvest", "census"],
  Animation: ["paper", "bunny", "doodle", "pixel", "tiny", "balloon"],
  Western: ["outlaw", "saddle", "canyon", "sheriff", "gunslinger", "prairie"],
  Fantasy: ["wizard", "crown", "dragon", "realm", "amulet", "sorcery"],
  "Film-Noir": ["shadow", "dame", "neon", "gutter", "smoke", "midnight"],
};

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ren",
  "tor",
  "vel",
  "zu",
  "qua",
  "bri",
  "dan",
  "fel",
  "gor",
  "hal",
  "jin",
  "mor",
  "sep",
];

/** Titles ("Nebula Android (1987)"), years and tags drawn from each item's genre vocabulary. */
function itemText(
  itemGenres: number[][],
  genreNames: string[],
  rng: Rng,
): { titles: string[]; tags: string[][]; years: Float64Array } {
  const vocabulary = genreNames.map((name) => {
    const known = GENRE_WORDS[name];
    if (known) return known;
    // Unknown genre names get made-up words, still distinct per genre.
    return Array.from({ length: 6 }, () => SYLLABLES[rng.int(SYLLABLES.length)] + SYLLABLES[rng.int(SYLLABLES.length)]);
  });
  const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
  const titles: string[] = [];
  const tags: string[][] = [];
  const years = new Float64Array(itemGenres.length);
  for (let i = 0; i < itemGenres.length; i++) {
    const gs = itemGenres[i];
    const first = vocabulary[gs[0]];
    const second = vocabulary[gs[rng.int(gs.length)]];
    const a = first[rng.int(first.length)];
    let b = second[rng.int(second.length)];
    if (b === a) b = second[(second.indexOf(b) + 1) % second.length];
    years[i] = 1950 + rng.int(71);
    titles.push(`${capitalise(a)} ${capitalise(b)} (${years[i]})`);
    tags.push([...gs.map((g) => genreNames[g].toLowerCase()), a, b]);
  }
  return { titles, tags, years };
}
