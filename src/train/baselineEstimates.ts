// Baseline estimates b_ui = μ + b_u + b_i (Koren, TKDD 2010, §2.1), fitted by alternating least
// squares or by SGD exactly as Surprise's `optimize_baselines.pyx` does. BaselineOnly predicts them;
// KNNBaseline and the pearson_baseline similarity build on them.

import { checkInteger, checkNonNegative } from "../checks";
import { RatingRows, SparseRatings } from "../data/sparseRatings";

/**
 * Alternating least squares for the biases (Surprise's default, `bsl_options = {'method': 'als'}`):
 * each epoch first sets every item bias, then every user bias, to its regularised least-squares value
 * given the other side,
 *   b_i = Σ_{u ∈ U_i} (r_ui − μ − b_u) / (λ_i + |U_i|),   b_u = Σ_{i ∈ I_u} (r_ui − μ − b_i) / (λ_u + |I_u|).
 */
export interface AlsBaselineConfig {
  method?: "als";
  /** Default 10 (Surprise's `n_epochs`). */
  epochs?: number;
  /** λ_u, default 15 (Surprise's `reg_u`). */
  regUser?: number;
  /** λ_i, default 10 (Surprise's `reg_i`). */
  regItem?: number;
}

/**
 * Stochastic gradient descent on Σ (r_ui − μ − b_u − b_i)² + λ (b_u² + b_i²), one pass per epoch over
 * the ratings user by user as Surprise's `all_ratings()` (users by index, each user's ratings by item
 * index; Surprise keeps its train order within a user); with e = r_ui − μ − b_u − b_i,
 *   b_u ← b_u + γ (e − λ b_u),   b_i ← b_i + γ (e − λ b_i)   (both with the same e).
 */
export interface SgdBaselineConfig {
  method: "sgd";
  /** Default 20 (Surprise's `n_epochs`). */
  epochs?: number;
  /** λ, default 0.02 (Surprise's `reg`). */
  reg?: number;
  /** γ, default 0.005 (Surprise's `learning_rate`). */
  learningRate?: number;
}

/** How the biases are fitted; the defaults are Surprise's `bsl_options` defaults. */
export type BaselineConfig = AlsBaselineConfig | SgdBaselineConfig;

/** Fitted biases: b_ui = globalMean + userBias[u] + itemBias[i]; unknown users and items have bias 0. */
export interface Baselines {
  readonly globalMean: number;
  readonly userBias: Float64Array;
  readonly itemBias: Float64Array;
}

/** The user and item biases of `ratings`, fitted as Surprise's `compute_baselines` does. */
export function fitBaselines(ratings: SparseRatings, config: BaselineConfig = {}): Baselines {
  const caller = "fitBaselines";
  const method: string | undefined = config.method;
  if (method !== undefined && method !== "als" && method !== "sgd") {
    throw new Error(`${caller}: method must be "als" or "sgd", got ${JSON.stringify(method)}`);
  }
  if (config.method === "sgd") {
    const epochs = checkInteger(caller, "epochs", config.epochs ?? 20, 0);
    const reg = checkNonNegative(caller, "reg", config.reg ?? 0.02);
    const learningRate = checkNonNegative(caller, "learningRate", config.learningRate ?? 0.005);
    return baselinesBySgd(ratings, epochs, reg, learningRate);
  }
  const epochs = checkInteger(caller, "epochs", config.epochs ?? 10, 0);
  const regUser = checkNonNegative(caller, "regUser", config.regUser ?? 15);
  const regItem = checkNonNegative(caller, "regItem", config.regItem ?? 10);
  return baselinesByAls(ratings, epochs, regUser, regItem);
}

function baselinesByAls(ratings: SparseRatings, epochs: number, regUser: number, regItem: number): Baselines {
  const { byUser, byItem, globalMean: mu } = ratings;
  const userBias = new Float64Array(ratings.numUsers);
  const itemBias = new Float64Array(ratings.numItems);
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Items first, from the previous epoch's user biases (zeros at first), then users: Surprise's order.
    solveBiases(byItem, userBias, itemBias, mu, regItem);
    solveBiases(byUser, itemBias, userBias, mu, regUser);
  }
  return { globalMean: mu, userBias, itemBias };
}

/** bias[x] = Σ_{(y, r) in row x} (r − μ − otherBias[y]) / (reg + |row x|), for every row x. */
function solveBiases(rows: RatingRows, otherBias: Float64Array, bias: Float64Array, mu: number, reg: number): void {
  const { offsets, indices, values } = rows;
  for (let x = 0; x < bias.length; x++) {
    const start = offsets[x];
    const end = offsets[x + 1];
    let deviation = 0;
    for (let p = start; p < end; p++) deviation += values[p] - mu - otherBias[indices[p]];
    // An empty row gives 0 / reg, i.e. 0 (a 0 / 0 with reg = 0 would give NaN, so guard it).
    bias[x] = end > start ? deviation / (reg + (end - start)) : 0;
  }
}

function baselinesBySgd(ratings: SparseRatings, epochs: number, reg: number, learningRate: number): Baselines {
  const { byUser, globalMean: mu } = ratings;
  const userBias = new Float64Array(ratings.numUsers);
  const itemBias = new Float64Array(ratings.numItems);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let u = 0; u < ratings.numUsers; u++) {
      for (let p = byUser.offsets[u]; p < byUser.offsets[u + 1]; p++) {
        const i = byUser.indices[p];
        const error = byUser.values[p] - (mu + userBias[u] + itemBias[i]);
        userBias[u] += learningRate * (error - reg * userBias[u]);
        itemBias[i] += learningRate * (error - reg * itemBias[i]);
      }
    }
  }
  return { globalMean: mu, userBias, itemBias };
}
