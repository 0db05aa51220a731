// Non-negative matrix factorisation for rating prediction, as Surprise's `NMF` implements it (its
// matrix_factorization.pyx), after Luo, Zhou, Xia and Zhu, "An Efficient Non-Negative
// Matrix-Factorization-Based Approach to Collaborative Filtering for Recommender Systems", IEEE TII
// 2014: the multiplicative updates of Lee and Seung restricted to the observed ratings, with an L2
// penalty.
//
//   r̂_ui = q_iᵀ p_u                          (biased: r̂_ui = μ + b_u + b_i + q_iᵀ p_u)
//
// One epoch is one pass over the ratings that sums, with the factors as they are at its start,
//
//   p_uf ← p_uf · Σ_{i∈I_u} q_if r_ui / (Σ_{i∈I_u} q_if r̂_ui + λ_u |I_u| p_uf)
//   q_if ← q_if · Σ_{u∈U_i} p_uf r_ui / (Σ_{u∈U_i} p_uf r̂_ui + λ_i |U_i| q_if)
//
// then updates every p_u, then every q_i, from those sums: the item update does not see the new p.
// A factor that starts ≥ 0 stays ≥ 0 (a ratio of non-negative sums), which is the point: the factors
// read as amounts of each latent taste. Initialisation is uniform in [initLow, initHigh), and NMF
// depends on it heavily (Surprise's documentation says so too).
//
// The biased variant also runs SGD on b_u and b_i during the pass, one rating at a time
// (b_u += γ_u (e − λ_bu b_u), the same for b_i, with e = r − r̂ before the step), as Surprise does.
// Its order of ratings then matters: users by index, each user's ratings by item here; users in
// order of first appearance and ratings in log order in Surprise. The unbiased default is
// order-free.
//
// Prediction follows Surprise: unbiased, an unknown user or item (no training rating) gets the global
// mean μ (Surprise's `PredictionImpossible` default); biased, μ + b_u + b_i with the unknown side's
// bias left out and no factor term. Predictions are clipped to the rating scale. Defaults are
// Surprise's: 15 factors, 50 epochs, unbiased, λ_u = λ_i = 0.06, initialisation in [0, 1).

import { Rng } from "../backend/random";
import { checkFinite, checkInteger, checkNonNegative, checkPositiveInteger, checkSeed, requireFitted } from "../checks";
import { Interactions } from "../data/interactions";
import {
  RatingSpace,
  SparseRatings,
  SparseRatingsConfig,
  checkRatingPairs,
  checkRatingUsers,
  clipToScale,
  ratingSpaceOf,
  ratingSpaceSaved,
  restoreRatingSpace,
} from "../data/sparseRatings";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import type { NamedArray } from "../train/checkpointFormat";
import { arrayModelFormat, TrainingData } from "../train/savedModel";

export interface NmfConfig extends SparseRatingsConfig {
  /** The number of factors (Surprise's n_factors). Default 15. */
  factors?: number;
  /** Passes over the ratings (n_epochs). Default 50. */
  epochs?: number;
  /** Add μ + b_u + b_i (biased). Default false. */
  biased?: boolean;
  /** λ_u, the penalty on user factors (reg_pu). Default 0.06. */
  regUserFactors?: number;
  /** λ_i, the penalty on item factors (reg_qi). Default 0.06. */
  regItemFactors?: number;
  /** Penalty on b_u (reg_bu), biased only. Default 0.02. */
  regUserBias?: number;
  /** Penalty on b_i (reg_bi), biased only. Default 0.02. */
  regItemBias?: number;
  /** SGD rate of b_u (lr_bu), biased only. Default 0.005. */
  lrUserBias?: number;
  /** SGD rate of b_i (lr_bi), biased only. Default 0.005. */
  lrItemBias?: number;
  /** Lower end of the uniform initialisation of the factors (init_low); must be >= 0. Default 0. */
  initLow?: number;
  /** Upper end (init_high). Default 1. */
  initHigh?: number;
  /** Seeds the initialisation (Surprise's random_state). */
  seed: number;
}

/** The settings with defaults filled in, as `NMF` keeps and saves them. */
type NmfSettings = Required<Omit<NmfConfig, "ratingScale">> & Pick<NmfConfig, "ratingScale">;

/** What `fitNmf` learns: factors row-major, biases zero when unbiased. */
export interface NmfParams {
  userFactors: Float32Array; // [U, F]
  itemFactors: Float32Array; // [I, F]
  userBias: Float32Array; // [U]
  itemBias: Float32Array; // [I]
}

// ---------------------------------------------------------------------------------------------
// Training: the multiplicative updates of the header
// ---------------------------------------------------------------------------------------------

/**
 * Runs the epochs of the header on `ratings` and returns the factors (and biases). Computes in
 * float64 and rounds to float32 at the end, what the model keeps and saves.
 */
export function fitNmf(ratings: SparseRatings, settings: NmfSettings): NmfParams {
  const { factors: f, biased } = settings;
  const { numUsers, numItems, byUser, byItem } = ratings;
  const rng = new Rng(settings.seed);
  const uniform = () => settings.initLow + (settings.initHigh - settings.initLow) * rng.next();
  const p = Float64Array.from({ length: numUsers * f }, uniform); // [U, F]
  const q = Float64Array.from({ length: numItems * f }, uniform); // [I, F]
  const bu = new Float64Array(numUsers);
  const bi = new Float64Array(numItems);
  const mu = biased ? ratings.globalMean : 0;
  const userNum = new Float64Array(numUsers * f);
  const userDenom = new Float64Array(numUsers * f);
  const itemNum = new Float64Array(numItems * f);
  const itemDenom = new Float64Array(numItems * f);
  const { offsets, indices, values } = byUser;

  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    userNum.fill(0);
    userDenom.fill(0);
    itemNum.fill(0);
    itemDenom.fill(0);
    // The sums, one rating at a time (and the biases' SGD steps).
    for (let u = 0; u < numUsers; u++) {
      const pu = u * f;
      for (let e = offsets[u]; e < offsets[u + 1]; e++) {
        const i = indices[e];
        const r = values[e];
        const qi = i * f;
        let dot = 0;
        for (let k = 0; k < f; k++) dot += q[qi + k] * p[pu + k];
        const est = mu + bu[u] + bi[i] + dot;
        if (biased) {
          const err = r - est;
          bu[u] += settings.lrUserBias * (err - settings.regUserBias * bu[u]);
          bi[i] += settings.lrItemBias * (err - settings.regItemBias * bi[i]);
        }
        for (let k = 0; k < f; k++) {
          userNum[pu + k] += q[qi + k] * r;
          userDenom[pu + k] += q[qi + k] * est;
          itemNum[qi + k] += p[pu + k] * r;
          itemDenom[qi + k] += p[pu + k] * est;
        }
      }
    }
    multiplicativeUpdate(p, userNum, userDenom, byUser.offsets, f, settings.regUserFactors);
    multiplicativeUpdate(q, itemNum, itemDenom, byItem.offsets, f, settings.regItemFactors);
  }
  return {
    userFactors: Float32Array.from(p),
    itemFactors: Float32Array.from(q),
    userBias: Float32Array.from(bu),
    itemBias: Float32Array.from(bi),
  };
}

/**
 * x_rf ← x_rf · num_rf / (denom_rf + λ n_r x_rf) for every row r with n_r > 0 ratings (`offsets`
 * counts them). A factor at 0 stays 0 (Surprise skips it); so does a row without ratings (an unknown
 * user or item, whose sums are 0/0).
 */
function multiplicativeUpdate(
  x: Float64Array,
  num: Float64Array,
  denom: Float64Array,
  offsets: Int32Array,
  f: number,
  lambda: number,
): void {
  for (let r = 0; r + 1 < offsets.length; r++) {
    const n = offsets[r + 1] - offsets[r];
    if (n === 0) continue;
    for (let k = r * f; k < (r + 1) * f; k++) {
      if (x[k] !== 0) x[k] *= num[k] / (denom[k] + n * lambda * x[k]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/** What a fitted model keeps of its ratings (the id space, the scale, μ, who is known) and the parameters. */
interface Fitted {
  space: RatingSpace;
  /** μ, the mean train rating. */
  globalMean: number;
  /** 1 for each user with a train rating (Surprise's `knows_user`), 0 for the others. */
  knownUsers: Uint8Array;
  /** 1 for each item with a train rating, 0 for the others. */
  knownItems: Uint8Array;
  params: NmfParams;
}

/** Surprise's NMF: `new NMF({ seed }).fit(train)`, then `predict` or, for ranking, `scoreItems`. */
export class NMF implements RatingPredictor, ItemScorer {
  readonly config: NmfSettings;
  private state: Fitted | null = null;
  /** The data the parameters were fitted on (or its saved record), recorded by `save`. */
  private trainedOn: TrainingData | null = null;

  constructor(config: NmfConfig) {
    const caller = "NMF";
    const settings: NmfSettings = {
      factors: checkPositiveInteger(caller, "factors", config.factors ?? 15),
      epochs: checkInteger(caller, "epochs", config.epochs ?? 50, 0),
      biased: config.biased ?? false,
      regUserFactors: checkNonNegative(caller, "regUserFactors", config.regUserFactors ?? 0.06),
      regItemFactors: checkNonNegative(caller, "regItemFactors", config.regItemFactors ?? 0.06),
      regUserBias: checkNonNegative(caller, "regUserBias", config.regUserBias ?? 0.02),
      regItemBias: checkNonNegative(caller, "regItemBias", config.regItemBias ?? 0.02),
      lrUserBias: checkNonNegative(caller, "lrUserBias", config.lrUserBias ?? 0.005),
      lrItemBias: checkNonNegative(caller, "lrItemBias", config.lrItemBias ?? 0.005),
      initLow: checkNonNegative(caller, "initLow", config.initLow ?? 0),
      initHigh: checkNonNegative(caller, "initHigh", config.initHigh ?? 1),
      seed: checkSeed(caller, config.seed),
      ratingScale: config.ratingScale,
    };
    if (settings.initHigh < settings.initLow)
      throw new Error(`${caller}: initHigh (${settings.initHigh}) must be >= initLow (${settings.initLow})`);
    this.config = settings;
  }

  /** Runs `fitNmf` on the ratings of `train`. */
  fit(train: Interactions): this {
    const ratings = new SparseRatings(train, this.config);
    this.state = {
      space: ratingSpaceOf(ratings),
      globalMean: ratings.globalMean,
      knownUsers: Uint8Array.from({ length: ratings.numUsers }, (_, u) => (ratings.knowsUser(u) ? 1 : 0)),
      knownItems: Uint8Array.from({ length: ratings.numItems }, (_, i) => (ratings.knowsItem(i) ? 1 : 0)),
      params: fitNmf(ratings, this.config),
    };
    this.trainedOn = train;
    return this;
  }

  /** p_u, q_i (and b_u, b_i) as fitted. */
  get params(): NmfParams {
    return this.fitted("params").params;
  }

  get numUsers(): number {
    return this.fitted("numUsers").space.numUsers;
  }

  get numItems(): number {
    return this.fitted("numItems").space.numItems;
  }

  /** r̂_ui of each pair (users[j], items[j]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float64Array {
    const { space } = this.fitted("predict");
    checkRatingPairs("NMF.predict", space, users, items);
    const out = new Float64Array(users.length);
    for (let j = 0; j < out.length; j++) out[j] = clipToScale(this.estimate(users[j], items[j]), space.ratingScale);
    return out;
  }

  /** The unclipped r̂_ui of every item for each user: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const { space } = this.fitted("scoreItems");
    checkRatingUsers("NMF.scoreItems", space, users);
    const n = space.numItems;
    const out = new Float64Array(users.length * n);
    for (let b = 0; b < users.length; b++) for (let i = 0; i < n; i++) out[b * n + i] = this.estimate(users[b], i);
    return out;
  }

  /** r̂_ui before clipping, with Surprise's fallbacks for unknown users and items (see the header). */
  private estimate(u: number, i: number): number {
    const { globalMean, knownUsers, knownItems, params } = this.fitted("estimate");
    const knownUser = knownUsers[u] === 1;
    const knownItem = knownItems[i] === 1;
    if (!this.config.biased && !(knownUser && knownItem)) return globalMean;
    let est = this.config.biased ? globalMean : 0;
    if (this.config.biased && knownUser) est += params.userBias[u];
    if (this.config.biased && knownItem) est += params.itemBias[i];
    if (knownUser && knownItem) {
      const f = this.config.factors;
      for (let k = 0; k < f; k++) est += params.userFactors[u * f + k] * params.itemFactors[i * f + k];
    }
    return est;
  }

  // -------------------------------------------------------------------------------------------
  // Saving and loading (train/savedModel.ts): the factors (and biases) as they are (float32), who is
  // known (bool), and under "fitted" the id space, the scale and μ, so a loaded model predicts without
  // the training data (which `load` checks against the saved record when given).
  // -------------------------------------------------------------------------------------------

  /** Saves the settings, parameters and what prediction needs of the ratings, with a record of the training data, to `path`. */
  save(path: string): Promise<void> {
    const { space, globalMean, knownUsers, knownItems, params } = this.fitted("save");
    const { ratingScale, ...rest } = this.config;
    const config = { ...rest, ...(ratingScale === undefined ? {} : { ratingScale: [...ratingScale] }) };
    const { numUsers, numItems } = space;
    const f = this.config.factors;
    const arrays: NamedArray[] = [
      { name: "knownUsers", values: knownUsers, shape: [numUsers] },
      { name: "knownItems", values: knownItems, shape: [numItems] },
      { name: "userFactors", values: params.userFactors, shape: [numUsers, f] },
      { name: "itemFactors", values: params.itemFactors, shape: [numItems, f] },
    ];
    if (this.config.biased) {
      arrays.push(
        { name: "userBias", values: params.userBias, shape: [numUsers] },
        { name: "itemBias", values: params.itemBias, shape: [numItems] },
      );
    }
    return NMF.format.save(path, {
      config,
      fitted: { ...ratingSpaceSaved(space), globalMean },
      arrays,
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, ready to predict; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<NMF> {
    return NMF.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<NMF> {
    return NMF.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "NMF",
    ({ config, fitted, arrays, data }) => {
      const model = new NMF(config as unknown as NmfConfig);
      const space = restoreRatingSpace(fitted);
      const { numUsers, numItems } = space;
      const f = model.config.factors;
      model.state = {
        space,
        globalMean: checkFinite("NMF", "globalMean", fitted.globalMean),
        knownUsers: arrays.bool("knownUsers", [numUsers]),
        knownItems: arrays.bool("knownItems", [numItems]),
        params: {
          userFactors: arrays.float32("userFactors", [numUsers, f]),
          itemFactors: arrays.float32("itemFactors", [numItems, f]),
          userBias: model.config.biased ? arrays.float32("userBias", [numUsers]) : new Float32Array(numUsers),
          itemBias: model.config.biased ? arrays.float32("itemBias", [numItems]) : new Float32Array(numItems),
        },
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  private fitted(what: string): Fitted {
    return requireFitted(`NMF.${what}`, this.state);
  }
}
