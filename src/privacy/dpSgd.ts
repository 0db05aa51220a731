// DP-SGD for biased matrix factorisation on explicit ratings (Abadi et al., "Deep Learning with Differential
// Privacy", CCS 2016, Algorithm 1, applied to the model of factorTables.ts).
//
// Each step:
//   1. Poisson sampling: every training rating joins the lot with probability q, independently (the sampling the
//      RDP accountant assumes; a lot's size varies around L = q·n).
//   2. Per-example gradients: g_k = ∇ ½ℓ_k for each rating k in the lot, analytic for MF: only p_u, q_i, b_u and b_i
//      of that rating are non-zero (factorTables.ts, `ratingGradient`).
//   3. Clipping: ḡ_k = g_k · min(1, C / ‖g_k‖₂), so one rating moves the sum by at most C.
//   4. Noise: G = Σ_k ḡ_k + N(0, σ²C²·I), with the noise added to EVERY parameter, every user and item row
//      (including rows no rating in the lot touched: otherwise which rows moved would reveal who rated what).
//   5. Step: θ ← θ − η · G / L, dividing by the expected lot size L (Opacus's choice with Poisson sampling; the
//      actual size would itself leak).
// The model is then (ε, δ)-DP at the ε the RDP accountant (rdpAccountant.ts) gives for T = steps steps of the
// sampled Gaussian mechanism with rate q and noise multiplier σ.
//
// What is protected: this is RATING-level DP. Neighbouring data sets differ in one rating, so the guarantee says
// that the trained model reveals little about whether any single rating was in the training data. A user with k
// ratings is protected only at the group level, roughly kε (the group-privacy bound); user-level DP needs each
// user's total contribution clipped instead (DP-FedAvg, McMahan et al. 2018, on top of federated.ts).
// Treated as public, not learned from the ratings: the rating scale and μ (by default the scale's midpoint, not the
// training mean, which would be a data-dependent release outside the accountant) and the data set size n in L = qn.

import { Rng } from "../backend/random";
import { checkNonNegative, checkPositive, checkPositiveInteger, checkSeed } from "../checks";
import { Interactions } from "../data/interactions";
import { ratingRange } from "../data/stats";
import { BiasedMfModel, BiasedMfTables, createFactorTables, ratingGradient } from "./factorTables";
import { DEFAULT_RDP_ORDERS, EpsilonConversion, PrivacySpent, dpSgdEpsilon } from "./rdpAccountant";

// ---------------------------------------------------------------------------------------------
// The pieces of one step
// ---------------------------------------------------------------------------------------------

/**
 * Scales `gradient` in place to L2 norm at most `clipNorm` (min(1, C/‖g‖)) and returns its norm before clipping.
 * `clipNorm` Infinity leaves it unchanged.
 */
export function clipGradient(gradient: Float64Array, clipNorm: number): number {
  let squared = 0;
  for (let j = 0; j < gradient.length; j++) squared += gradient[j] * gradient[j];
  const norm = Math.sqrt(squared);
  if (norm > clipNorm) {
    const scale = clipNorm / norm;
    for (let j = 0; j < gradient.length; j++) gradient[j] *= scale;
  }
  return norm;
}

/**
 * The rows of one lot: each of `n` rows independently with probability q (Poisson sampling), in increasing order.
 * Jumps from one sampled row to the next by a geometric gap, so a lot costs O(qn) draws, not n.
 */
export function poissonLot(n: number, samplingRate: number, rng: Rng): Int32Array {
  if (samplingRate >= 1) return Int32Array.from({ length: n }, (_, k) => k);
  if (samplingRate <= 0) return new Int32Array(0);
  const logMiss = Math.log1p(-samplingRate);
  // The number of rows skipped before the next sampled one is geometric, P(gap = g) = (1 − q)^g · q: inverting its
  // distribution function at a uniform U ∈ (0, 1] gives floor(log U / log(1 − q)).
  const gap = () => Math.floor(Math.log(1 - rng.next()) / logMiss);
  const rows: number[] = [];
  for (let k = gap(); k < n; k += 1 + gap()) rows.push(k);
  return Int32Array.from(rows);
}

/** The settings of one DP-SGD step. */
export interface DpSgdStepOptions {
  /** η, the step on the noisy mean gradient G / L. */
  learningRate: number;
  /** C: each rating's gradient is clipped to this L2 norm (Infinity: no clipping). */
  clipNorm: number;
  /** σ: the noise on the sum has standard deviation σC per parameter (0: no noise). */
  noiseMultiplier: number;
  /** λ of the per-rating penalty. */
  regularization: number;
  /** L = q·n, what the noisy sum is divided by. */
  expectedLotSize: number;
}

/** Gradient sums with the shape of the tables, reused from step to step. */
export interface DpSgdWorkspace {
  userFactors: Float64Array;
  itemFactors: Float64Array;
  userBias: Float64Array;
  itemBias: Float64Array;
  example: Float64Array;
}

export function createDpSgdWorkspace(tables: BiasedMfTables): DpSgdWorkspace {
  return {
    userFactors: new Float64Array(tables.userFactors.length),
    itemFactors: new Float64Array(tables.itemFactors.length),
    userBias: new Float64Array(tables.numUsers),
    itemBias: new Float64Array(tables.numItems),
    example: new Float64Array(2 * tables.factors + 2),
  };
}

/**
 * One DP-SGD step (steps 2–5 of the header) on the ratings at rows `lot` of `data`, updating `tables` in place.
 * Every per-rating gradient is taken at the same point (the tables before the step). Noise is drawn from `rng`.
 */
export function dpSgdStep(
  tables: BiasedMfTables,
  data: Interactions,
  lot: ArrayLike<number>,
  options: DpSgdStepOptions,
  rng: Rng,
  workspace: DpSgdWorkspace = createDpSgdWorkspace(tables),
): void {
  const { factors: d } = tables;
  const { learningRate, clipNorm, noiseMultiplier, regularization, expectedLotSize } = options;
  const sums = workspace;
  const g = sums.example;
  sums.userFactors.fill(0);
  sums.itemFactors.fill(0);
  sums.userBias.fill(0);
  sums.itemBias.fill(0);
  for (let k = 0; k < lot.length; k++) {
    const row = lot[k];
    const u = data.users[row];
    const i = data.items[row];
    ratingGradient(tables, u, i, data.ratings[row], regularization, g);
    clipGradient(g, clipNorm);
    for (let f = 0; f < d; f++) {
      sums.userFactors[u * d + f] += g[f];
      sums.itemFactors[i * d + f] += g[d + f];
    }
    sums.userBias[u] += g[2 * d];
    sums.itemBias[i] += g[2 * d + 1];
  }
  const noiseStd = noiseMultiplier * clipNorm;
  const rate = learningRate / expectedLotSize;
  const pairs: [Float64Array, Float64Array][] = [
    [tables.userFactors, sums.userFactors],
    [tables.itemFactors, sums.itemFactors],
    [tables.userBias, sums.userBias],
    [tables.itemBias, sums.itemBias],
  ];
  for (const [param, sum] of pairs) {
    if (noiseStd > 0) {
      for (let j = 0; j < param.length; j++) param[j] -= rate * (sum[j] + noiseStd * rng.normal());
    } else {
      for (let j = 0; j < param.length; j++) param[j] -= rate * sum[j];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

export interface DpSgdConfig {
  // The defaults are the schedule bench/privacy.ts measures on ML-100k (90,000 training ratings): with σ = 2.5 they
  // spend ε ≈ 2.9 at δ = 1e-5. DP-SGD prefers few large lots: the noise on the mean gradient is σC/L.
  /** D. Default 8: every parameter gets noise, so fewer factors keep more signal per parameter. */
  factors?: number;
  /** Passes over the data in expectation: steps = epochs · ceil(1/q). Default 20. */
  epochs?: number;
  /**
   * η, the step on the noisy mean gradient G / L (Abadi et al.'s learning rate). Default 50, which at L = 10,000 is
   * 0.005 per rating, Surprise's rate: scale it with `lotSize`.
   */
  learningRate?: number;
  /** q. Give this or `lotSize`. */
  samplingRate?: number;
  /** Expected lot size L; q = min(1, L / n). Default 10,000 (when `samplingRate` is not given). */
  lotSize?: number;
  /** C. Default 0.5. Infinity turns clipping off (and the guarantee with it). */
  clipNorm?: number;
  /** σ. Default 2.5. 0 turns the noise off (ε = ∞). */
  noiseMultiplier?: number;
  /** λ of the per-rating penalty. Default 0.02 (Surprise's). */
  regularization?: number;
  /** Default 0.1 (Surprise's init_std_dev). */
  initStd?: number;
  /** Public; default the lowest and highest training rating (a star scale is announced, not learned). */
  ratingScale?: readonly [number, number];
  /** μ, public; default the midpoint of the rating scale. */
  globalMean?: number;
  seed: number;
  /** Called after each epoch (progress, live curves). */
  onEpoch?: (progress: DpSgdProgress) => void;
}

export interface DpSgdProgress {
  epoch: number;
  /** Steps taken so far. */
  steps: number;
  /** The model as trained so far (its tables are updated in place by later epochs). */
  model: BiasedMfModel;
}

/** The DP-SGD model: biased MF plus what its privacy accounting needs. */
export class DpSgdModel extends BiasedMfModel {
  constructor(
    tables: BiasedMfTables,
    ratingScale: readonly [number, number],
    /** q. */
    readonly samplingRate: number,
    /** σ. */
    readonly noiseMultiplier: number,
    /** C. */
    readonly clipNorm: number,
    /** T, the number of noisy steps taken. */
    readonly steps: number,
  ) {
    super(tables, ratingScale);
  }

  /**
   * The (ε, δ) rating-level guarantee of the training run: T steps of the sampled Gaussian mechanism at rate q and
   * noise multiplier σ. ε is Infinity without noise or without clipping.
   */
  privacySpent(
    delta: number,
    orders: readonly number[] = DEFAULT_RDP_ORDERS,
    conversion?: EpsilonConversion,
  ): PrivacySpent {
    if (this.noiseMultiplier === 0 || this.clipNorm === Infinity) return { epsilon: Infinity, delta, order: NaN };
    return dpSgdEpsilon({
      samplingRate: this.samplingRate,
      noiseMultiplier: this.noiseMultiplier,
      steps: this.steps,
      delta,
      orders,
      conversion,
    });
  }
}

/** q and the number of steps a config gives on `n` training ratings. */
export function dpSgdSchedule(
  n: number,
  config: Pick<DpSgdConfig, "samplingRate" | "lotSize" | "epochs">,
): {
  samplingRate: number;
  steps: number;
  stepsPerEpoch: number;
} {
  const caller = "trainDpSgd";
  const epochs = checkPositiveInteger(caller, "epochs", config.epochs ?? 20);
  let samplingRate: number;
  if (config.samplingRate !== undefined) {
    if (config.lotSize !== undefined) throw new Error(`${caller}: give samplingRate or lotSize, not both`);
    samplingRate = config.samplingRate;
    if (!(samplingRate > 0 && samplingRate <= 1)) {
      throw new Error(`${caller}: samplingRate must be a number in (0, 1], got ${samplingRate}`);
    }
  } else {
    samplingRate = Math.min(1, checkPositive(caller, "lotSize", config.lotSize ?? 10000) / n);
  }
  const stepsPerEpoch = Math.ceil(1 / samplingRate);
  return { samplingRate, steps: epochs * stepsPerEpoch, stepsPerEpoch };
}

/** Trains biased MF on `train` with DP-SGD (see the header). */
export function trainDpSgd(train: Interactions, config: DpSgdConfig): DpSgdModel {
  const caller = "trainDpSgd";
  const n = train.length;
  if (n === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);
  const seed = checkSeed(caller, config.seed);
  const factors = checkPositiveInteger(caller, "factors", config.factors ?? 8);
  const learningRate = checkPositive(caller, "learningRate", config.learningRate ?? 50);
  const clipNorm = config.clipNorm ?? 0.5;
  if (!(clipNorm > 0)) throw new Error(`${caller}: clipNorm must be a number > 0 (or Infinity), got ${clipNorm}`);
  const noiseMultiplier = checkNonNegative(caller, "noiseMultiplier", config.noiseMultiplier ?? 2.5);
  const regularization = checkNonNegative(caller, "regularization", config.regularization ?? 0.02);
  const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
  const ratingScale = config.ratingScale ?? ratingRange(train);
  const globalMean = config.globalMean ?? (ratingScale[0] + ratingScale[1]) / 2;
  const { samplingRate, steps, stepsPerEpoch } = dpSgdSchedule(n, config);

  const rng = new Rng(seed);
  const tables = createFactorTables(train.numUsers, train.numItems, {
    factors,
    globalMean,
    initStd,
    rng: rng.fork(),
  });
  const sampler = rng.fork();
  const noise = rng.fork();
  const workspace = createDpSgdWorkspace(tables);
  const options: DpSgdStepOptions = {
    learningRate,
    clipNorm,
    noiseMultiplier,
    regularization,
    expectedLotSize: samplingRate * n,
  };
  const model = new DpSgdModel(tables, ratingScale, samplingRate, noiseMultiplier, clipNorm, steps);
  for (let step = 1; step <= steps; step++) {
    dpSgdStep(tables, train, poissonLot(n, samplingRate, sampler), options, noise, workspace);
    if (step % stepsPerEpoch === 0) config.onEpoch?.({ epoch: step / stepsPerEpoch, steps: step, model });
  }
  return model;
}
