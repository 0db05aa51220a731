// Rényi differential privacy (RDP) accounting for the sampled Gaussian mechanism: how much privacy DP-SGD spends,
// as TensorFlow Privacy's `rdp_accountant.py` (now Google's dp_accounting) and Opacus's `analysis/rdp.py` compute it.
//
// A randomised mechanism M is (α, ρ)-RDP (Mironov, "Rényi Differential Privacy", CSF 2017) if for any two
// neighbouring data sets D, D' (here: one rating added or removed) the Rényi divergence of order α > 1 is bounded:
//   D_α(M(D) ‖ M(D')) = 1/(α − 1) · log E_{x∼M(D')}[(M(D)(x) / M(D')(x))^α] ≤ ρ.
// One step of DP-SGD is the sampled Gaussian mechanism (SGM): each record joins the lot with probability q (Poisson
// sampling), and the sum of the lot's gradients, each clipped to norm C, gets N(0, σ²C²) noise (σ: the noise
// multiplier). Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism"
// (arXiv:1908.10530, §3.3) give its RDP at order α as ρ(α) = log(A_α) / (α − 1) with
//   A_α = E_{z∼μ0}[(1 − q + q·μ1(z)/μ0(z))^α],   μ0 = N(0, σ²), μ1 = N(1, σ²).
// For integer α, the binomial theorem turns A_α into a finite sum (eq. 1 below), summed in log space:
//   A_α = Σ_{k=0..α} C(α, k) (1 − q)^(α−k) q^k exp((k² − k) / (2σ²)).                                            (1)
// For fractional α, the integral is split at z0 = σ² log(1/q − 1) + ½ (where μ1/μ0 crosses (1 − q)/q) and each
// half expanded in a binomial series, summed until both terms fall below e^−30 (eq. 2; the same loop as the
// libraries'):
//   A_α = Σ_{k≥0} C(α, k) [ (1 − q)^(α−k) q^k e^((k²−k)/(2σ²)) ½erfc((k − z0)/(√2σ))
//                         + q^(α−k) (1 − q)^k e^(((α−k)²−(α−k))/(2σ²)) ½erfc((z0 − (α−k))/(√2σ)) ].           (2)
// With q = 1 (no sampling) it is the Gaussian mechanism, ρ(α) = α / (2σ²) exactly.
// Composition: RDP adds up, so T steps are (α, T·ρ(α))-RDP (Mironov 2017, Proposition 1), and steps with different
// (q, σ) compose by summing their curves.
// Conversion to (ε, δ)-DP, at every order of a list, keeping the best:
//   classic  (Mironov 2017, Proposition 3):  ε = ρ − log δ / (α − 1)
//   improved (Canonne, Kamath and Steinke 2020, Proposition 12; Balle et al. 2020, Theorem 21):
//            ε = ρ + log(1 − 1/α) − (log δ + log α) / (α − 1)
// "improved" is the default: it is what dp_accounting (since December 2020) and Opacus (since April 2021) report,
// and it is smaller than the classic ε at every order. The published numbers of older tutorials (TF Privacy's MNIST
// tutorial: ε = 3.01) used the classic one; `conversion: "classic"` reproduces them.
// The inverse, `noiseMultiplierForEpsilon`, is Opacus's `get_noise_multiplier` bisection.

import { checkChoice, checkFinite, checkInteger, checkPositive } from "../checks";

// ---------------------------------------------------------------------------------------------
// Order lists
// ---------------------------------------------------------------------------------------------

/** Opacus's `RDPAccountant.DEFAULT_ALPHAS`: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const OPACUS_RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
];

/**
 * dp_accounting's `RdpAccountant` default orders, which TF Privacy's `compute_dp_sgd_privacy_statement` uses:
 * 1.1, 1.2, …, 10.9, then 11, 12, …, 63, then 128, 256, 512, 1024.
 */
export const DP_ACCOUNTING_RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 53 }, (_, x) => 11 + x),
  128,
  256,
  512,
  1024,
];

/** The orders of TF Privacy's `compute_dp_sgd_privacy` (its MNIST tutorial and its tests). */
export const TF_PRIVACY_DP_SGD_ORDERS: readonly number[] = [
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 59 }, (_, x) => 5 + x),
  128,
  256,
  512,
];

/**
 * The default: dp_accounting's list. It contains Opacus's, so ε is never larger than Opacus's default gives, and its
 * large orders matter for small ε at large σ, where the best order passes 63.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = DP_ACCOUNTING_RDP_ORDERS;

/** How RDP becomes (ε, δ)-DP: see the header. */
export type EpsilonConversion = "improved" | "classic";
const CONVERSIONS: readonly EpsilonConversion[] = ["improved", "classic"];

// ---------------------------------------------------------------------------------------------
// Log-space arithmetic
// ---------------------------------------------------------------------------------------------

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

/** log(e^a − e^b), a ≥ b: the series of eq. 2 subtracts its negative-coefficient terms. */
function logSub(a: number, b: number): number {
  if (a < b) throw new Error(`rdpAccountant: log-space subtraction went negative (${a} < ${b})`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = a - b;
  // expm1 overflows past ~709, where log(e^d − 1) = d to double precision anyway.
  return d > 700 ? a : Math.log(Math.expm1(d)) + b;
}

// W. J. Cody's rational approximations of erfc ("Rational Chebyshev approximations for the error function", Math.
// Comp. 1969; the SPECFUN routine CALERF), to about 1e-16 relative. log erfc(x) is taken as −x² + log(R(x)) for
// x > 0.5, so it stays accurate far into the tail, where erfc itself underflows (x > 27).
const ERF_A = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const ERF_B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const ERF_C = [
  0.5641884969886701, 8.883149794388375, 66.11919063714163, 298.6351381974001, 881.9522212417691, 1712.0476126340707,
  2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const ERF_D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247,
  3439.3676741437216, 1230.3393548037495,
];
const ERF_P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298367,
  0.016315387137302097,
];
const ERF_Q = [2.5685201922898684, 1.8729528499234604, 0.5279051029514283, 0.06051834131244132, 0.0023352049762686918];
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/** erf(x) for |x| ≤ 0.46875. */
function erfSmall(x: number): number {
  const z = x * x;
  let num = ERF_A[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + ERF_A[i]) * z;
    den = (den + ERF_B[i]) * z;
  }
  return (x * (num + ERF_A[3])) / (den + ERF_B[3]);
}

/** log(erfc(y) · e^{y²}) for y > 0.46875 (Cody's scaled rational part). */
function logScaledErfc(y: number): number {
  if (y <= 4) {
    let num = ERF_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERF_C[i]) * y;
      den = (den + ERF_D[i]) * y;
    }
    return Math.log((num + ERF_C[7]) / (den + ERF_D[7]));
  }
  const z = 1 / (y * y);
  let num = ERF_P[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + ERF_P[i]) * z;
    den = (den + ERF_Q[i]) * z;
  }
  const r = (z * (num + ERF_P[4])) / (den + ERF_Q[4]);
  return Math.log((ONE_OVER_SQRT_PI - r) / y);
}

/** log(erfc(x)), accurate in the far right tail (scipy's log_ndtr route in the Python libraries). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) <= 0.46875) return Math.log1p(-erfSmall(x));
  if (x > 0) return logScaledErfc(x) - x * x;
  // erfc(x) = 2 − erfc(−x) for x < 0.
  return Math.log(2 - Math.exp(logScaledErfc(-x) - x * x));
}

// ---------------------------------------------------------------------------------------------
// RDP of the sampled Gaussian mechanism
// ---------------------------------------------------------------------------------------------

/** log A_α for integer α ≥ 1, 0 < q < 1 (eq. 1). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logA = -Infinity;
  let logBinom = 0; // log C(α, k), updated incrementally
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinom += Math.log(alpha - k + 1) - Math.log(k);
    const term = logBinom + k * logQ + (alpha - k) * log1mQ + (k * k - k) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/** log A_α for fractional α > 1, 0 < q < 1 (eq. 2). */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const twoSigma2 = 2 * sigma * sigma;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logAbsBinom = 0; // log |C(α, k)|
  let binomPositive = true;
  for (let k = 0; ; k++) {
    if (k > 0) {
      const factor = alpha - k + 1;
      logAbsBinom += Math.log(Math.abs(factor)) - Math.log(k);
      if (factor < 0) binomPositive = !binomPositive;
    }
    const j = alpha - k;
    const logT0 = logAbsBinom + k * logQ + j * log1mQ;
    const logT1 = logAbsBinom + j * logQ + k * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((k - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (k * k - k) / twoSigma2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
    if (binomPositive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

function checkOrder(caller: string, order: number): number {
  if (typeof order !== "number" || !(order > 1)) {
    throw new Error(`${caller}: RDP orders must be numbers > 1, got ${order}`);
  }
  return order;
}

function checkSamplingRate(caller: string, q: number): number {
  if (typeof q !== "number" || !(q >= 0 && q <= 1)) {
    throw new Error(`${caller}: samplingRate must be a number in [0, 1], got ${q}`);
  }
  return q;
}

/**
 * RDP ρ(α) of ONE step of the sampled Gaussian mechanism with sampling rate q and noise multiplier σ (noise std over
 * the L2 sensitivity). 0 when q = 0, α / (2σ²) when q = 1, Infinity when σ = 0 or α = Infinity.
 */
export function rdpSampledGaussian(samplingRate: number, noiseMultiplier: number, order: number): number {
  const caller = "rdpSampledGaussian";
  const q = checkSamplingRate(caller, samplingRate);
  const sigma = checkNonNegativeSigma(caller, noiseMultiplier);
  const alpha = checkOrder(caller, order);
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Infinity) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return logA / (alpha - 1);
}

function checkNonNegativeSigma(caller: string, sigma: number): number {
  if (typeof sigma !== "number" || !(sigma >= 0) || Number.isNaN(sigma)) {
    throw new Error(`${caller}: noiseMultiplier must be a number >= 0, got ${sigma}`);
  }
  return sigma;
}

/** RDP of `steps` compositions of the sampled Gaussian mechanism at each order: steps · ρ(α). */
export function computeRdp(
  samplingRate: number,
  noiseMultiplier: number,
  steps: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): Float64Array {
  checkInteger("computeRdp", "steps", steps, 0);
  return Float64Array.from(orders, (order) =>
    steps === 0 ? 0 : steps * rdpSampledGaussian(samplingRate, noiseMultiplier, order),
  );
}

// ---------------------------------------------------------------------------------------------
// Conversion to (ε, δ)
// ---------------------------------------------------------------------------------------------

/** An (ε, δ) guarantee and the RDP order that gave it. */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  /** The order α at which the conversion was tightest (NaN when every order gives ε = ∞). */
  order: number;
}

/**
 * The smallest ε over `orders` such that the RDP curve `rdp` implies (ε, δ)-DP (see the header for the two
 * conversions). Follows dp_accounting's `compute_epsilon`: ε = 0 when ρ ≤ −log(1 − δ²) (the KL bound), orders ≤ 1.01
 * are skipped by the improved conversion (numerically unstable there), and ε is at least 0.
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: ArrayLike<number>,
  delta: number,
  conversion: EpsilonConversion = "improved",
): PrivacySpent {
  const caller = "epsilonFromRdp";
  if (orders.length !== rdp.length) {
    throw new Error(`${caller}: ${orders.length} orders but ${rdp.length} RDP values`);
  }
  if (typeof delta !== "number" || !(delta > 0 && delta < 1)) {
    throw new Error(`${caller}: delta must be a number in (0, 1), got ${delta}`);
  }
  checkChoice(caller, "conversion", conversion, CONVERSIONS);
  let best = Infinity;
  let bestOrder = NaN;
  for (let j = 0; j < orders.length; j++) {
    const alpha = checkOrder(caller, orders[j]);
    const r = rdp[j];
    if (!(r >= 0)) throw new Error(`${caller}: RDP values must be >= 0, got ${r} at order ${alpha}`);
    let eps: number;
    if (conversion === "classic") {
      eps = r - Math.log(delta) / (alpha - 1);
    } else if (delta * delta + Math.expm1(-r) > 0) {
      eps = 0; // the KL divergence alone gives δ ≤ sqrt(1 − e^−ρ)
    } else if (alpha > 1.01) {
      eps = r + Math.log1p(-1 / alpha) - Math.log(delta * alpha) / (alpha - 1);
    } else {
      eps = Infinity;
    }
    if (eps < best) {
      best = eps;
      bestOrder = alpha;
    }
  }
  return { epsilon: Math.max(0, best), delta, order: bestOrder };
}

// ---------------------------------------------------------------------------------------------
// The accountant, and DP-SGD in one call
// ---------------------------------------------------------------------------------------------

/**
 * Sums the RDP curves of the mechanisms run so far (heterogeneous composition: steps with different q or σ each
 * add their own curve) and converts the total to (ε, δ) on demand.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly total: Float64Array;

  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    if (orders.length === 0) throw new Error("RdpAccountant: needs at least one order");
    for (const order of orders) checkOrder("RdpAccountant", order);
    this.orders = [...orders];
    this.total = new Float64Array(orders.length);
  }

  /** Records `steps` steps of the sampled Gaussian mechanism with sampling rate q and noise multiplier σ. */
  compose(samplingRate: number, noiseMultiplier: number, steps = 1): this {
    const rdp = computeRdp(samplingRate, noiseMultiplier, steps, this.orders);
    for (let j = 0; j < rdp.length; j++) this.total[j] += rdp[j];
    return this;
  }

  /** The total RDP at each of `orders` (a copy). */
  get rdp(): Float64Array {
    return this.total.slice();
  }

  /** The (ε, δ) guarantee of everything composed so far. */
  epsilon(delta: number, conversion: EpsilonConversion = "improved"): PrivacySpent {
    return epsilonFromRdp(this.orders, this.total, delta, conversion);
  }
}

export interface DpSgdPrivacyConfig {
  /** q, the probability that a record joins a lot (Poisson sampling): expected lot size / data size. */
  samplingRate: number;
  /** σ: the noise std over the clipping norm. */
  noiseMultiplier: number;
  /** Number of noisy steps taken. */
  steps: number;
  delta: number;
  /** Default {@link DEFAULT_RDP_ORDERS}. */
  orders?: readonly number[];
  /** Default "improved". */
  conversion?: EpsilonConversion;
}

/** ε of DP-SGD: `steps` steps of the sampled Gaussian mechanism, converted at `delta`. */
export function dpSgdEpsilon(config: DpSgdPrivacyConfig): PrivacySpent {
  return new RdpAccountant(config.orders)
    .compose(config.samplingRate, config.noiseMultiplier, config.steps)
    .epsilon(config.delta, config.conversion);
}

export interface NoiseForEpsilonConfig {
  targetEpsilon: number;
  delta: number;
  samplingRate: number;
  steps: number;
  /** Default {@link DEFAULT_RDP_ORDERS}. */
  orders?: readonly number[];
  /** Default "improved". */
  conversion?: EpsilonConversion;
  /** Stop when the ε reached is within this much below the target (Opacus's `epsilon_tolerance`). Default 0.01. */
  epsilonTolerance?: number;
}

/**
 * The noise multiplier σ at which `steps` steps at sampling rate q spend at most `targetEpsilon` (and within
 * `epsilonTolerance` of it): Opacus's `get_noise_multiplier`. ε falls as σ grows, so double σ from 20 until ε is
 * under the target, then bisect [0, σ] and return the upper end, whose ε never exceeds the target.
 */
export function noiseMultiplierForEpsilon(config: NoiseForEpsilonConfig): number {
  const caller = "noiseMultiplierForEpsilon";
  const target = checkPositive(caller, "targetEpsilon", config.targetEpsilon);
  const tolerance = checkPositive(caller, "epsilonTolerance", config.epsilonTolerance ?? 0.01);
  checkFinite(caller, "delta", config.delta);
  const epsilonAt = (sigma: number): number =>
    dpSgdEpsilon({
      samplingRate: config.samplingRate,
      noiseMultiplier: sigma,
      steps: config.steps,
      delta: config.delta,
      orders: config.orders,
      conversion: config.conversion,
    }).epsilon;
  let low = 0;
  let high = 10;
  let epsHigh = Infinity;
  while (epsHigh > target) {
    high *= 2;
    if (high > 1e6) throw new Error(`${caller}: no noise multiplier up to 1e6 reaches ε = ${target}`);
    epsHigh = epsilonAt(high);
  }
  while (target - epsHigh > tolerance) {
    const sigma = (low + high) / 2;
    const eps = epsilonAt(sigma);
    if (eps < target) {
      high = sigma;
      epsHigh = eps;
    } else {
      low = sigma;
    }
  }
  return high;
}
