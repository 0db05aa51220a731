// Biased matrix factorisation in plain typed arrays, for the training loops of this folder: DP-SGD needs each
// rating's own gradient (to clip it) and FedAvg each client's own item update, both of which a batched tfjs loss
// hides, and both touch only a few rows per rating, which plain loops do cheaply.
//
//   r̂_ui = μ + b_u + b_i + q_iᵀ p_u                         (Koren, Bell and Volinsky 2009, eq. 5)
//   ℓ_ui = (r_ui − r̂_ui)² + λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)
//
// the model and per-rating loss of models/matrixFactorization.ts (Surprise's SVD). `ratingGradient` is the gradient
// of ½ℓ_ui, so that a step of γ along it is Surprise's per-rating update (b_u += γ(e − λb_u), p_u += γ(e·q_i − λp_u),
// …). Parameters are Float64Array, so that tests can compare steps to 1e-12.

import { Rng } from "../backend/random";
import { checkPairs } from "../checks";
import { ItemScorer, RatingPredictor } from "../eval/scorers";

/** The parameters of biased MF: factor tables row-major, [rows × factors]. μ is a fixed offset, not trained. */
export interface BiasedMfTables {
  readonly numUsers: number;
  readonly numItems: number;
  readonly factors: number;
  /** μ, added to every estimate. */
  readonly globalMean: number;
  readonly userFactors: Float64Array; // [U × D]
  readonly itemFactors: Float64Array; // [I × D]
  readonly userBias: Float64Array; // [U]
  readonly itemBias: Float64Array; // [I]
}

export interface BiasedMfTablesInit {
  factors: number;
  globalMean: number;
  /** Standard deviation of the normal initialisation of every factor (biases start at 0). */
  initStd: number;
  rng: Rng;
}

/**
 * Tables for `numUsers` × `numItems`, every factor drawn from N(0, initStd²): all rows alike, whether or not the row
 * has ratings, since which users and items have ratings is itself private (models/matrixFactorization.ts leaves
 * unrated rows at 0).
 */
export function createFactorTables(numUsers: number, numItems: number, init: BiasedMfTablesInit): BiasedMfTables {
  const { factors, initStd, rng } = init;
  const userFactors = new Float64Array(numUsers * factors);
  const itemFactors = new Float64Array(numItems * factors);
  for (let j = 0; j < userFactors.length; j++) userFactors[j] = rng.normal(0, initStd);
  for (let j = 0; j < itemFactors.length; j++) itemFactors[j] = rng.normal(0, initStd);
  return {
    numUsers,
    numItems,
    factors,
    globalMean: init.globalMean,
    userFactors,
    itemFactors,
    userBias: new Float64Array(numUsers),
    itemBias: new Float64Array(numItems),
  };
}

/** A deep copy. */
export function copyFactorTables(tables: BiasedMfTables): BiasedMfTables {
  return {
    ...tables,
    userFactors: tables.userFactors.slice(),
    itemFactors: tables.itemFactors.slice(),
    userBias: tables.userBias.slice(),
    itemBias: tables.itemBias.slice(),
  };
}

/** r̂_ui, unclipped. */
export function estimateRating(tables: BiasedMfTables, user: number, item: number): number {
  const { factors: d, userFactors, itemFactors } = tables;
  let dot = 0;
  for (let f = 0, pu = user * d, qi = item * d; f < d; f++) dot += userFactors[pu + f] * itemFactors[qi + f];
  return tables.globalMean + tables.userBias[user] + tables.itemBias[item] + dot;
}

/**
 * The gradient of ½ℓ_ui with respect to the parameters rating (u, i, r) touches, written into `out` (length 2D + 2)
 * as [∂p_u (D values), ∂q_i (D values), ∂b_u, ∂b_i]:
 *   ∂p_u = −(e·q_i − λp_u),  ∂q_i = −(e·p_u − λq_i),  ∂b_u = −(e − λb_u),  ∂b_i = −(e − λb_i),  e = r − r̂_ui.
 * Returns e.
 */
export function ratingGradient(
  tables: BiasedMfTables,
  user: number,
  item: number,
  rating: number,
  regularization: number,
  out: Float64Array,
): number {
  const { factors: d, userFactors, itemFactors, userBias, itemBias } = tables;
  const e = rating - estimateRating(tables, user, item);
  const pu = user * d;
  const qi = item * d;
  for (let f = 0; f < d; f++) {
    const p = userFactors[pu + f];
    const q = itemFactors[qi + f];
    out[f] = -(e * q - regularization * p);
    out[d + f] = -(e * p - regularization * q);
  }
  out[2 * d] = -(e - regularization * userBias[user]);
  out[2 * d + 1] = -(e - regularization * itemBias[item]);
  return e;
}

/**
 * Biased MF over `BiasedMfTables`, for the evaluation protocols: `predict` clips to the rating scale (as Surprise and
 * MatrixFactorization do), `scoreItems` and `scorePairs` rank by the unclipped r̂.
 */
export class BiasedMfModel implements RatingPredictor, ItemScorer {
  constructor(
    readonly tables: BiasedMfTables,
    readonly ratingScale: readonly [number, number],
  ) {}

  get numUsers(): number {
    return this.tables.numUsers;
  }

  get numItems(): number {
    return this.tables.numItems;
  }

  predict(users: Int32Array, items: Int32Array): Float64Array {
    checkPairs("BiasedMfModel.predict", users, items);
    const [low, high] = this.ratingScale;
    const out = new Float64Array(users.length);
    for (let k = 0; k < users.length; k++) {
      out[k] = Math.min(high, Math.max(low, estimateRating(this.tables, users[k], items[k])));
    }
    return out;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float64Array {
    checkPairs("BiasedMfModel.scorePairs", users, items);
    const out = new Float64Array(users.length);
    for (let k = 0; k < users.length; k++) out[k] = estimateRating(this.tables, users[k], items[k]);
    return out;
  }

  scoreItems(users: Int32Array): Float64Array {
    const { numItems, factors: d, globalMean, userFactors, itemFactors, userBias, itemBias } = this.tables;
    const out = new Float64Array(users.length * numItems);
    for (let b = 0; b < users.length; b++) {
      const u = users[b];
      const pu = u * d;
      const base = globalMean + userBias[u];
      for (let i = 0; i < numItems; i++) {
        let dot = 0;
        for (let f = 0, qi = i * d; f < d; f++) dot += userFactors[pu + f] * itemFactors[qi + f];
        out[b * numItems + i] = base + itemBias[i] + dot;
      }
    }
    return out;
  }
}
