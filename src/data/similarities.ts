// Similarity matrices between users (or between items) from their co-rated items (or co-rating
// users), the four measures of Surprise's `similarities.pyx`: msd, cosine, pearson and the shrunk
// pearson_baseline. Written for user-based similarities below; the item-based ones swap the roles.
//
// Only the items I_uv rated by both u and v count. Surprise accumulates, for every item, every pair of
// its raters into n × n sums; this file visits the same pairs, O(Σ_i |U_i|²) work, but one user u at a
// time: for each item i of u, for each rater v > u of i, it adds to n-long accumulators indexed by v,
// then turns them into row u of the similarity. That keeps the working set small (no n × n sums),
// and MovieLens 100K takes well under a second for either side.

import { checkNonNegative } from "../checks";
import { Baselines } from "../train/baselineEstimates";
import { RatingRows, SparseRatings } from "./sparseRatings";

/** Surprise's `sim_options['name']` values. */
export type SimilarityName = "msd" | "cosine" | "pearson" | "pearson_baseline";

/** Surprise's `sim_options`, with its defaults. */
export interface SimilarityConfig {
  /** Default "msd". */
  name?: SimilarityName;
  /** Similarities between users (true, default) or between items (false). */
  userBased?: boolean;
  /**
   * Pairs with fewer common items (users) than this get similarity 0. Default 1; pearson_baseline
   * always uses at least 2, as Surprise does.
   */
  minSupport?: number;
  /** pearson_baseline's shrinkage λ, default 100. */
  shrinkage?: number;
}

/** A dense symmetric similarity matrix with ones on the diagonal. */
export interface SimilarityMatrix {
  readonly name: SimilarityName;
  readonly userBased: boolean;
  /** Number of users (userBased) or items. */
  readonly size: number;
  /** [size × size], row-major: sim(a, b) = values[a · size + b]. */
  readonly values: Float32Array;
}

/** The resolved `SimilarityConfig` (every default filled in). */
export type ResolvedSimilarityConfig = Required<SimilarityConfig>;

const SIMILARITY_NAMES: readonly SimilarityName[] = ["msd", "cosine", "pearson", "pearson_baseline"];

/** `config` with Surprise's defaults filled in, checked. */
export function resolveSimilarityConfig(
  config: SimilarityConfig = {},
  caller = "similarityMatrix",
): ResolvedSimilarityConfig {
  const name = config.name ?? "msd";
  if (!SIMILARITY_NAMES.includes(name)) {
    throw new Error(
      `${caller}: similarity name must be one of ${SIMILARITY_NAMES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  const minSupport = config.minSupport ?? 1;
  if (!Number.isInteger(minSupport) || minSupport < 1) {
    throw new Error(`${caller}: minSupport must be an integer >= 1, got ${minSupport}`);
  }
  return {
    name,
    userBased: config.userBased ?? true,
    minSupport,
    shrinkage: checkNonNegative(caller, "shrinkage", config.shrinkage ?? 100),
  };
}

/**
 * The similarity of every pair of users (or items) of `ratings`, over their common ratings only;
 * 0 where they have fewer than `minSupport` in common, 1 on the diagonal. With I_uv the items rated by
 * both u and v, and n = |I_uv| (user-based; item-based swaps users and items):
 *
 * - msd:      1 / (1 + (1/n) Σ_{i ∈ I_uv} (r_ui − r_vi)²)
 * - cosine:   Σ r_ui r_vi / (sqrt(Σ r_ui²) · sqrt(Σ r_vi²))
 * - pearson:  the correlation of (r_ui) and (r_vi) over I_uv, centred on their means over I_uv
 *             (Surprise's documentation writes μ_u, its code centres on the co-rated means, as here);
 *             0 when either side is constant on I_uv
 * - pearson_baseline: ρ_uv = Σ (r_ui − b_ui)(r_vi − b_vi) / (sqrt(Σ (r_ui − b_ui)²) · sqrt(Σ (r_vi − b_vi)²)),
 *             shrunk to (n − 1) / (n − 1 + λ) · ρ_uv (Koren 2010, §2.2; needs `baselines`)
 *
 * A zero denominator (cosine of all-zero ratings, pearson_baseline with every residual 0) gives 0.
 * Values are stored as float32; Surprise keeps float64, which only matters for exact ties.
 */
export function similarityMatrix(
  ratings: SparseRatings,
  config: SimilarityConfig = {},
  baselines?: Baselines,
): SimilarityMatrix {
  const resolved = resolveSimilarityConfig(config);
  const { name, userBased } = resolved;
  // x: the side being compared (users when userBased); y: the side they are compared over.
  const xRows = userBased ? ratings.byUser : ratings.byItem;
  const yRows = userBased ? ratings.byItem : ratings.byUser;
  const size = userBased ? ratings.numUsers : ratings.numItems;
  const values = new Float32Array(size * size);
  if (name === "msd") msdRows(xRows, yRows, size, resolved.minSupport, values);
  else if (name === "cosine") cosineRows(xRows, yRows, size, resolved.minSupport, values);
  else if (name === "pearson") pearsonRows(xRows, yRows, size, resolved.minSupport, values);
  else {
    if (baselines === undefined) {
      throw new Error("similarityMatrix: pearson_baseline needs the baselines (fitBaselines(ratings, ...))");
    }
    if (baselines.userBias.length !== ratings.numUsers || baselines.itemBias.length !== ratings.numItems) {
      throw new Error(
        `similarityMatrix: the baselines have ${baselines.userBias.length} users and ${baselines.itemBias.length} items, ` +
          `the ratings ${ratings.numUsers} and ${ratings.numItems}`,
      );
    }
    const xBias = userBased ? baselines.userBias : baselines.itemBias;
    const yBias = userBased ? baselines.itemBias : baselines.userBias;
    pearsonBaselineRows(
      xRows,
      yRows,
      size,
      Math.max(2, resolved.minSupport),
      resolved.shrinkage,
      baselines.globalMean,
      xBias,
      yBias,
      values,
    );
  }
  for (let a = 0; a < size; a++) values[a * size + a] = 1;
  return { name, userBased, size, values };
}

// Each kernel below fills the upper triangle row by row and mirrors it. For row a it walks a's
// ratings (y, r_a), and for each, the raters b > a of y: rows are sorted by index, so those are the
// tail of y's row, walked backwards until b <= a. A repeated rating counts twice, as in Surprise.

function msdRows(xRows: RatingRows, yRows: RatingRows, size: number, minSupport: number, out: Float32Array): void {
  const freq = new Int32Array(size);
  const squaredDiff = new Float64Array(size);
  for (let a = 0; a < size; a++) {
    for (let p = xRows.offsets[a]; p < xRows.offsets[a + 1]; p++) {
      const y = xRows.indices[p];
      const ra = xRows.values[p];
      for (let q = yRows.offsets[y + 1] - 1; q >= yRows.offsets[y]; q--) {
        const b = yRows.indices[q];
        if (b <= a) break;
        const d = ra - yRows.values[q];
        freq[b]++;
        squaredDiff[b] += d * d;
      }
    }
    for (let b = a + 1; b < size; b++) {
      if (freq[b] >= minSupport) mirror(out, size, a, b, 1 / (squaredDiff[b] / freq[b] + 1));
      freq[b] = 0;
      squaredDiff[b] = 0;
    }
  }
}

function cosineRows(xRows: RatingRows, yRows: RatingRows, size: number, minSupport: number, out: Float32Array): void {
  const freq = new Int32Array(size);
  const prods = new Float64Array(size);
  const squaresA = new Float64Array(size);
  const squaresB = new Float64Array(size);
  for (let a = 0; a < size; a++) {
    for (let p = xRows.offsets[a]; p < xRows.offsets[a + 1]; p++) {
      const y = xRows.indices[p];
      const ra = xRows.values[p];
      for (let q = yRows.offsets[y + 1] - 1; q >= yRows.offsets[y]; q--) {
        const b = yRows.indices[q];
        if (b <= a) break;
        const rb = yRows.values[q];
        freq[b]++;
        prods[b] += ra * rb;
        squaresA[b] += ra * ra;
        squaresB[b] += rb * rb;
      }
    }
    for (let b = a + 1; b < size; b++) {
      if (freq[b] >= minSupport) {
        const denominator = Math.sqrt(squaresA[b] * squaresB[b]);
        if (denominator > 0) mirror(out, size, a, b, prods[b] / denominator);
      }
      freq[b] = 0;
      prods[b] = squaresA[b] = squaresB[b] = 0;
    }
  }
}

function pearsonRows(xRows: RatingRows, yRows: RatingRows, size: number, minSupport: number, out: Float32Array): void {
  const freq = new Int32Array(size);
  const prods = new Float64Array(size);
  const squaresA = new Float64Array(size);
  const squaresB = new Float64Array(size);
  const sumsA = new Float64Array(size);
  const sumsB = new Float64Array(size);
  for (let a = 0; a < size; a++) {
    for (let p = xRows.offsets[a]; p < xRows.offsets[a + 1]; p++) {
      const y = xRows.indices[p];
      const ra = xRows.values[p];
      for (let q = yRows.offsets[y + 1] - 1; q >= yRows.offsets[y]; q--) {
        const b = yRows.indices[q];
        if (b <= a) break;
        const rb = yRows.values[q];
        freq[b]++;
        prods[b] += ra * rb;
        squaresA[b] += ra * ra;
        squaresB[b] += rb * rb;
        sumsA[b] += ra;
        sumsB[b] += rb;
      }
    }
    for (let b = a + 1; b < size; b++) {
      const n = freq[b];
      if (n >= minSupport) {
        // n²·cov and n²·var from the raw sums, as Surprise computes them.
        const numerator = n * prods[b] - sumsA[b] * sumsB[b];
        const varianceA = n * squaresA[b] - sumsA[b] * sumsA[b];
        const varianceB = n * squaresB[b] - sumsB[b] * sumsB[b];
        const denominator = Math.sqrt(varianceA * varianceB);
        // Rounding can leave a tiny nonzero variance for a constant side; treat it as zero.
        if (denominator > 1e-12 * (n * squaresA[b] + n * squaresB[b])) mirror(out, size, a, b, numerator / denominator);
      }
      freq[b] = 0;
      prods[b] = squaresA[b] = squaresB[b] = sumsA[b] = sumsB[b] = 0;
    }
  }
}

function pearsonBaselineRows(
  xRows: RatingRows,
  yRows: RatingRows,
  size: number,
  minSupport: number,
  shrinkage: number,
  globalMean: number,
  xBias: Float64Array,
  yBias: Float64Array,
  out: Float32Array,
): void {
  const freq = new Int32Array(size);
  const prods = new Float64Array(size);
  const squaresA = new Float64Array(size);
  const squaresB = new Float64Array(size);
  for (let a = 0; a < size; a++) {
    for (let p = xRows.offsets[a]; p < xRows.offsets[a + 1]; p++) {
      const y = xRows.indices[p];
      const partialBaseline = globalMean + yBias[y];
      const da = xRows.values[p] - (partialBaseline + xBias[a]);
      for (let q = yRows.offsets[y + 1] - 1; q >= yRows.offsets[y]; q--) {
        const b = yRows.indices[q];
        if (b <= a) break;
        const db = yRows.values[q] - (partialBaseline + xBias[b]);
        freq[b]++;
        prods[b] += da * db;
        squaresA[b] += da * da;
        squaresB[b] += db * db;
      }
    }
    for (let b = a + 1; b < size; b++) {
      const n = freq[b];
      if (n >= minSupport) {
        const denominator = Math.sqrt(squaresA[b] * squaresB[b]);
        if (denominator > 0) mirror(out, size, a, b, ((n - 1) / (n - 1 + shrinkage)) * (prods[b] / denominator));
      }
      freq[b] = 0;
      prods[b] = squaresA[b] = squaresB[b] = 0;
    }
  }
}

function mirror(out: Float32Array, size: number, a: number, b: number, value: number): void {
  out[a * size + b] = value;
  out[b * size + a] = value;
}
