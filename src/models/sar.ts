// SAR, the Simple Algorithm for Recommendation of Microsoft Recommenders (`SARSingleNode`,
// recommenders/models/sar/sar_singlenode.py): recommend items like those a user already showed an
// affinity to. Three pieces, no training loop:
//
//   affinity       a_ui = Σ_{rows (u, i, r, t)} r · min(1, 2^(−(t₀ − t)/T))       (time decay on)
//                  a_ui = Σ_{rows (u, i, r)} r                                     (time decay off)
//   co-occurrence  C = XᵀX over the binary user × item X: c_ij users with both i and j, c_ii users
//                  with i; entries below `threshold` set to 0
//   similarity     jaccard         s_ij = c_ij / (c_ii + c_jj − c_ij)
//                  lift            s_ij = c_ij / (c_ii · c_jj)
//                  cooccurrence    s_ij = c_ij
//                  cosine          s_ij = c_ij / √(c_ii · c_jj)
//                  inclusion index s_ij = c_ij / min(c_ii, c_jj)
//   scores         s_u = a_u S                                                      [numItems]
//
// T is the half-life (`halfLifeDays`, default 30 days) and t₀ the time "now" (default: the latest
// training timestamp). Count favours popular items, lift rare ones, Jaccard sits between (the
// default). Defaults are SARSingleNode's: jaccard, no time decay, threshold 1, no normalisation;
// Microsoft's MovieLens benchmark turns time decay on. Items the user has are scored like any other;
// the evaluation protocol removes them (SAR's `remove_seen`).
//
// Where a similarity divides 0 by 0 (an item no one has), SAR's numpy code gives NaN; here it is 0,
// so such an item scores 0 rather than NaN. SAR's mutual-information similarities are left out:
// they are −∞ wherever c_ij = 0, which makes almost every score −∞.

import { checkChoice, checkInteger, checkPositive, requireFitted } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { sparseGram } from "../data/linalg";
import { checkUsersInRange, ItemScorer } from "../eval/scorers";
import { arrayModelFormat, csrArrays, readCsr, TrainingData } from "../train/savedModel";

export const SAR_SIMILARITIES = ["jaccard", "lift", "cooccurrence", "cosine", "inclusion index"] as const;
export type SarSimilarity = (typeof SAR_SIMILARITIES)[number];

export interface SarConfig {
  /** The item-item similarity. Default "jaccard". */
  similarity?: SarSimilarity;
  /** Decay each interaction's weight with its age (SAR's `timedecay_formula`). Default false. */
  timeDecay?: boolean;
  /** T, the half-life of the decay, in days (SAR's `time_decay_coefficient`). Default 30. */
  halfLifeDays?: number;
  /** t₀, "now", in seconds since the epoch, as the timestamps are. Default: the latest training timestamp. */
  timeNow?: number;
  /** Co-occurrence counts below this are set to 0. Default 1 (keep all); must be >= 1. */
  threshold?: number;
  /**
   * Map each user's scores to the rating scale, as SAR's `normalize` does (a per-user affine map, so
   * the ranking is unchanged; see `scoreItems`). Default false.
   */
  normalize?: boolean;
}

const SECONDS_PER_DAY = 24 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// 1. Affinity
// ---------------------------------------------------------------------------------------------

/** min(1, 2^(−(t₀ − t)/T)): 1 at t₀ (and after), 1/2 one half-life before. */
export function timeDecayFactor(t: number, timeNow: number, halfLifeSeconds: number): number {
  return Math.min(1, Math.pow(0.5, (timeNow - t) / halfLifeSeconds));
}

/**
 * A = [a_ui], users × items, sparse: each row's ratings times their decay factors (or times 1 when
 * `decay` is null), repeated (u, i) pairs summed. With `unity`, every rating counts as 1 (SAR's
 * "unity" affinity, which `normalize` needs).
 */
export function sarAffinity(
  train: Interactions,
  decay: { timeNow: number; halfLifeSeconds: number } | null,
  unity = false,
): CsrMatrix {
  const weights = new Float64Array(train.length);
  for (let r = 0; r < train.length; r++) {
    const rating = unity ? 1 : train.ratings[r];
    weights[r] =
      decay === null ? rating : rating * timeDecayFactor(train.timestamps[r], decay.timeNow, decay.halfLifeSeconds);
  }
  return CsrMatrix.fromTriples(train.numUsers, train.numItems, train.users, train.items, weights).dedupe("sum");
}

// ---------------------------------------------------------------------------------------------
// 2. Co-occurrence and 3. similarity
// ---------------------------------------------------------------------------------------------

/** C = XᵀX of the binary user × item matrix (distinct pairs), entries below `threshold` set to 0. [I × I]. */
export function sarCooccurrence(train: Interactions, threshold: number): Float64Array {
  const binary = CsrMatrix.fromTriples(train.numUsers, train.numItems, train.users, train.items).dedupe("first");
  const counts = sparseGram(binary);
  for (let k = 0; k < counts.length; k++) if (counts[k] < threshold) counts[k] = 0;
  return counts;
}

/** S from C (see the header), [I × I] row-major; 0 where the formula divides by 0. */
export function sarSimilarity(cooccurrence: Float64Array, numItems: number, similarity: SarSimilarity): Float32Array {
  const n = numItems;
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const cii = cooccurrence[i * n + i];
    for (let j = 0; j < n; j++) {
      const cij = cooccurrence[i * n + j];
      if (cij === 0) continue;
      const cjj = cooccurrence[j * n + j];
      let denominator: number;
      switch (similarity) {
        case "jaccard":
          denominator = cii + cjj - cij;
          break;
        case "lift":
          denominator = cii * cjj;
          break;
        case "cooccurrence":
          denominator = 1;
          break;
        case "cosine":
          denominator = Math.sqrt(cii * cjj);
          break;
        case "inclusion index":
          denominator = Math.min(cii, cjj);
          break;
      }
      // A threshold can zero c_ii while keeping c_ij: SAR then divides by 0 too.
      out[i * n + j] = denominator > 0 ? cij / denominator : 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

interface Fitted {
  /** A, users × items. */
  affinity: CsrMatrix;
  /** The unity affinity and the min and max of A's entries, for `normalize`; null otherwise. */
  normalization: { unity: CsrMatrix; ratingMin: number; ratingMax: number } | null;
  /** S, [numItems × numItems] row-major. */
  similarity: Float32Array;
  /** t₀ as resolved at fit time (null without time decay), saved in the config. */
  timeNow: number | null;
}

/** SAR: `new Sar(config).fit(train)` builds A and S; `scoreItems` gives a_u S. */
export class Sar implements ItemScorer {
  readonly similarityType: SarSimilarity;
  readonly timeDecay: boolean;
  readonly halfLifeDays: number;
  readonly threshold: number;
  readonly normalize: boolean;
  private readonly timeNowOption: number | undefined;
  private state: Fitted | null = null;
  /** The data A and S were built from (or its saved record), recorded by `save`. */
  private trainedOn: TrainingData | null = null;

  constructor(config: SarConfig = {}) {
    const caller = "Sar";
    this.similarityType = checkChoice(caller, "similarity", config.similarity ?? "jaccard", SAR_SIMILARITIES);
    this.timeDecay = config.timeDecay ?? false;
    this.halfLifeDays = checkPositive(caller, "halfLifeDays", config.halfLifeDays ?? 30);
    this.threshold = checkPositive(caller, "threshold", config.threshold ?? 1);
    if (this.threshold < 1) throw new Error(`${caller}: threshold must be >= 1, got ${this.threshold}`);
    this.normalize = config.normalize ?? false;
    if (config.timeNow !== undefined && !Number.isFinite(config.timeNow))
      throw new Error(`${caller}: timeNow must be a finite number of seconds, got ${config.timeNow}`);
    this.timeNowOption = config.timeNow;
  }

  /** Builds A (with the time decay when on), C and S from `train`. */
  fit(train: Interactions): this {
    if (train.length === 0) throw new Error(`Sar.fit: the train data '${train.name}' has no interactions`);
    const cooccurrence = sarCooccurrence(train, this.threshold);
    this.state = this.withAffinity(train, sarSimilarity(cooccurrence, train.numItems, this.similarityType));
    this.trainedOn = train;
    return this;
  }

  get numUsers(): number {
    return this.fitted("numUsers").affinity.numRows;
  }

  get numItems(): number {
    return this.fitted("numItems").affinity.numCols;
  }

  /** S, [numItems × numItems] row-major. */
  get similarity(): Float32Array {
    return this.fitted("similarity").similarity;
  }

  /** A, users × items. */
  get affinity(): CsrMatrix {
    return this.fitted("affinity").affinity;
  }

  /**
   * a_u S for each user: [users.length × numItems]. With `normalize`, each user's row is then mapped
   * as SAR does: with c_u = unity_u S and r_min, r_max the smallest and largest entry of A,
   * s ↦ r_min + (s − r_min·min c_u) (r_max − r_min) / (r_max·max c_u − r_min·min c_u).
   * A user without training items scores 0 everywhere (SAR refuses such users).
   */
  scoreItems(users: Int32Array): Float64Array {
    const { affinity, similarity, normalization } = this.fitted("scoreItems");
    checkUsersInRange("Sar.scoreItems", users, affinity.numRows);
    const n = affinity.numCols;
    const out = new Float64Array(users.length * n);
    const counts = normalization === null ? null : new Float64Array(n);
    for (let b = 0; b < users.length; b++) {
      const row = out.subarray(b * n, (b + 1) * n);
      addRowTimesMatrix(affinity, users[b], similarity, row);
      if (normalization === null || counts === null) continue;
      counts.fill(0);
      addRowTimesMatrix(normalization.unity, users[b], similarity, counts);
      let lowest = Infinity;
      let highest = -Infinity;
      for (let j = 0; j < n; j++) {
        lowest = Math.min(lowest, counts[j]);
        highest = Math.max(highest, counts[j]);
      }
      const { ratingMin, ratingMax } = normalization;
      const from = lowest * ratingMin;
      const span = highest * ratingMax - from;
      // A constant row (no items, or nothing similar) has no scale to map: it stays as it is.
      if (span > 0) for (let j = 0; j < n; j++) row[j] = ((row[j] - from) / span) * (ratingMax - ratingMin) + ratingMin;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Saving and loading (train/savedModel.ts): A (`affinity/…`, float64), with `normalize` the unity
  // affinity's values (`unityAffinity`, on A's pattern) and S (`similarity`) are saved as they are, so
  // a loaded model scores without the training data (which `load` checks against the saved record
  // when given). The config holds t₀ as resolved at fit time.
  // -------------------------------------------------------------------------------------------

  /** Saves the config (with t₀ as resolved), A and S, with a record of the training data, to the folder `path`. */
  save(path: string): Promise<void> {
    const { affinity, normalization, similarity, timeNow } = this.fitted("save");
    const config = {
      similarity: this.similarityType,
      timeDecay: this.timeDecay,
      halfLifeDays: this.halfLifeDays,
      threshold: this.threshold,
      normalize: this.normalize,
      ...(timeNow === null ? {} : { timeNow }),
    };
    const n = affinity.numCols;
    return Sar.format.save(path, {
      config,
      fitted: { numUsers: affinity.numRows, numItems: n },
      arrays: [
        ...csrArrays("affinity", affinity),
        ...(normalization === null
          ? []
          : [{ name: "unityAffinity", values: normalization.unity.values, shape: [affinity.nnz] }]),
        { name: "similarity", values: similarity, shape: [n, n] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, ready to score; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<Sar> {
    return Sar.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<Sar> {
    return Sar.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "Sar",
    ({ config, fitted, arrays, data }) => {
      const model = new Sar(config as SarConfig);
      if (model.timeDecay && model.timeNowOption === undefined)
        throw new Error("timeDecay is on but the config holds no timeNow (t₀ as resolved at fit time)");
      const numUsers = checkInteger("Sar", "numUsers", fitted.numUsers, 0);
      const numItems = checkInteger("Sar", "numItems", fitted.numItems, 0);
      const affinity = readCsr(arrays, "affinity", numUsers, numItems);
      const unity = model.normalize
        ? new CsrMatrix(
            numUsers,
            numItems,
            affinity.offsets,
            affinity.indices,
            arrays.float64("unityAffinity", [affinity.nnz]),
          )
        : null;
      model.state = {
        affinity,
        normalization: unity === null ? null : { unity, ...valueRange(affinity) },
        similarity: arrays.float32("similarity", [numItems, numItems]),
        timeNow: model.timeDecay ? (model.timeNowOption ?? null) : null,
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  /** The fitted state around `similarity`: A (and what `normalize` needs) built from `train`. */
  private withAffinity(train: Interactions, similarity: Float32Array): Fitted {
    let decay: { timeNow: number; halfLifeSeconds: number } | null = null;
    if (this.timeDecay) {
      let latest = -Infinity;
      for (let r = 0; r < train.length; r++) {
        const t = train.timestamps[r];
        if (!Number.isFinite(t))
          throw new Error(`Sar: timeDecay needs timestamps; '${train.name}' row ${r} has timestamp ${t}`);
        latest = Math.max(latest, t);
      }
      decay = { timeNow: this.timeNowOption ?? latest, halfLifeSeconds: this.halfLifeDays * SECONDS_PER_DAY };
    }
    const affinity = sarAffinity(train, decay);
    const normalization = this.normalize ? { unity: sarAffinity(train, decay, true), ...valueRange(affinity) } : null;
    return { affinity, normalization, similarity, timeNow: decay?.timeNow ?? null };
  }

  private fitted(what: string): Fitted {
    return requireFitted(`Sar.${what}`, this.state);
  }
}

/** The smallest and largest entry of A, r_min and r_max of `normalize`. */
function valueRange(affinity: CsrMatrix): { ratingMin: number; ratingMax: number } {
  let ratingMin = Infinity;
  let ratingMax = -Infinity;
  for (const a of affinity.values) {
    ratingMin = Math.min(ratingMin, a);
    ratingMax = Math.max(ratingMax, a);
  }
  return { ratingMin, ratingMax };
}

/** out += (row `user` of the sparse `rows`) · dense [numCols × n] `matrix`. */
function addRowTimesMatrix(rows: CsrMatrix, user: number, matrix: Float32Array, out: Float64Array): void {
  const n = out.length;
  for (let p = rows.offsets[user]; p < rows.offsets[user + 1]; p++) {
    const a = rows.values[p];
    const from = rows.indices[p] * n;
    for (let j = 0; j < n; j++) out[j] += a * matrix[from + j];
  }
}
