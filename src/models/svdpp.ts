// SVD++: biased matrix factorisation plus implicit feedback, from Koren, "Factorization Meets the
// Neighborhood: a Multifaceted Collaborative Filtering Model", KDD 2008 (section 4, eq. 15), as
// Surprise's `SVDpp` implements it.
//
//   r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^-½ Σ_{j ∈ N(u)} y_j)
//   L     = Σ_{(u,i) ∈ R_train} (r_ui − r̂_ui)² + λ (b_u² + b_i² + ‖p_u‖² + ‖q_i‖² + Σ_{j ∈ N(u)} ‖y_j‖²)
//
// N(u) is the set of items u rated in training: WHICH items a user chose to rate says something about
// them whatever the ratings were, and each such item j adds its own factor y_j ∈ ℝ^D to the user's
// representation. The penalty follows Surprise's per-rating updates, which shrink every y_j of N(u)
// at each rating of u.
//
// The implicit term as tensors. A batch of B ratings has S distinct users; their neighbourhoods
// flatten into P (slot, item) pairs, one per user s and item j ∈ N(u_s), with weight |N(u_s)|^-½:
//
//   z = unsortedSegmentSum(gather(Y, pairItem) ⊙ pairWeight, pairSlot, S)   // [S, D]
//
// (a sparse [S × I] normaliser times Y, written as gather + segment sum), then gather(z, rowSlot)
// gives each rating its user's term, [B, D]. The gradient of the gather is a segment sum back into
// Y, so every y_j of every user in the batch is updated in one step.
//
// Training maps to Surprise's per-rating SGD as for SVD (see matrixFactorization.ts): plain SGD at
// γ·|B|/2 on the mean per-rating loss via `fitRatingSgd`, penalties counted per occurrence in the
// batch (Σ_{j∈N(u)} ‖y_j‖² once for every rating of u in the batch). Measured RMSE and MAE against
// Surprise's published ones: README.md ("Measured results"; `npm run reproduce -- surprise-ml100k`).
//
// With a batch size of 1, training is Surprise's SGD exactly, in its order, in float64 (`svdppSgdEpoch`).
// Surprise's own loop costs |N(u)|·D per rating twice over (z_u from every y_j, then every y_j
// updated). Here that work is done once per user: each rating of u moves every y_j of N(u) by the
// same affine map y ← a·y + b (a = 1 − γλ, b = γ·e·q_i/√|N(u)|), and Surprise visits a user's ratings
// one after another, so the maps compose into one (A, B) applied when the user's ratings are done,
// while z_u and Σ‖y_j‖² follow the map in O(D). Same arithmetic up to float64 rounding, |N(u)| times
// less work: the five ML-100K folds train in seconds instead of minutes.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkFinite, checkNonNegative, checkPairs, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { meanRating, ratingRange, ratedMasks } from "../data/stats";
import { UserItems } from "../data/userIndex";
import { ItemScorer, RatingPredictor } from "../eval/scorers";
import { LossModel } from "../train/trainer";
import {
  FusedRatingSgd,
  RatingBatch,
  RatingColumns,
  SgdDefaults,
  SgdEpochSettings,
  assignFloat64,
  float64Copy,
  ratingBatch,
} from "../train/ratingSgd";
import { GroupedRows } from "../data/csr";
import { normalTable } from "../nn/initializers";
import { readAndDispose } from "../nn/tensors";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Configuration (defaults are Surprise's SVDpp)
// ---------------------------------------------------------------------------------------------

export interface SvdppConfig {
  /** D (Surprise's n_factors). Default 20. */
  factors?: number;
  /** λ for every parameter (Surprise's reg_all). Default 0.02. */
  regularization?: number;
  /** Mean of the normal initialisation of p_u, q_i and y_j. Default 0. */
  initMean?: number;
  /** Its standard deviation (Surprise's init_std_dev). Default 0.1. */
  initStd?: number;
  /** `predict` clips to [min, max]. Default: the lowest and highest training rating. */
  ratingScale?: readonly [number, number];
  seed: number;
}

/** Surprise's SVDpp: 20 epochs at γ = 0.007 per rating, in batches of 4096 ratings. */
export const SVDPP_SGD_DEFAULTS: Readonly<SgdDefaults> = { epochs: 20, learningRate: 0.007, batchSize: 4096 };

// ---------------------------------------------------------------------------------------------
// The implicit feedback of a batch: N(u) of its distinct users as (slot, item, weight) pairs
// ---------------------------------------------------------------------------------------------

export interface ImplicitBatch {
  numSlots: number; // S, distinct users in the batch
  rowSlot: tf.Tensor1D; // [B] int32: the slot of each rating's user
  pairSlot: tf.Tensor1D; // [P] int32
  pairItem: tf.Tensor1D; // [P] int32: j ∈ N(u_slot)
  pairWeight: tf.Tensor1D; // [P] float32: |N(u_slot)|^-½
  /** [P] float32: how many of the batch's ratings belong to the pair's user (the penalty's multiplicity). */
  pairCount: tf.Tensor1D;
}

/** The `ImplicitBatch` of the ratings by `users` (one entry per rating), over the neighbourhoods N(u). */
export function implicitBatch(neighbourhoods: UserItems, users: Int32Array): ImplicitBatch {
  const slotOf = new Map<number, number>();
  const rowSlot = new Int32Array(users.length);
  const slotUsers: number[] = [];
  const slotRatings: number[] = [];
  for (let k = 0; k < users.length; k++) {
    let slot = slotOf.get(users[k]);
    if (slot === undefined) {
      slot = slotUsers.length;
      slotOf.set(users[k], slot);
      slotUsers.push(users[k]);
      slotRatings.push(0);
    }
    slotRatings[slot]++;
    rowSlot[k] = slot;
  }
  let numPairs = 0;
  for (const u of slotUsers) numPairs += neighbourhoods.count(u);
  const pairSlot = new Int32Array(numPairs);
  const pairItem = new Int32Array(numPairs);
  const pairWeight = new Float32Array(numPairs);
  const pairCount = new Float32Array(numPairs);
  let at = 0;
  for (let slot = 0; slot < slotUsers.length; slot++) {
    const items = neighbourhoods.itemsOf(slotUsers[slot]);
    const weight = 1 / Math.sqrt(items.length);
    pairSlot.fill(slot, at, at + items.length);
    pairItem.set(items, at);
    pairWeight.fill(weight, at, at + items.length);
    pairCount.fill(slotRatings[slot], at, at + items.length);
    at += items.length;
  }
  return {
    numSlots: slotUsers.length,
    rowSlot: tf.tensor1d(rowSlot, "int32"),
    pairSlot: tf.tensor1d(pairSlot, "int32"),
    pairItem: tf.tensor1d(pairItem, "int32"),
    pairWeight: tf.tensor1d(pairWeight, "float32"),
    pairCount: tf.tensor1d(pairCount, "float32"),
  };
}

// ---------------------------------------------------------------------------------------------
// The model, piece by piece: parameters, look-ups, estimate, loss
// ---------------------------------------------------------------------------------------------

export interface SvdppParams {
  userBias: tf.Tensor1D; // [U]
  itemBias: tf.Tensor1D; // [I]
  userFactors: tf.Tensor2D; // [U, D]   p
  itemFactors: tf.Tensor2D; // [I, D]   q
  implicitFactors: tf.Tensor2D; // [I, D]   y
}

interface BatchLookUp {
  bu: tf.Tensor1D; // [B]
  bi: tf.Tensor1D; // [B]
  p: tf.Tensor2D; // [B, D]
  q: tf.Tensor2D; // [B, D]
  y: tf.Tensor2D; // [P, D]  y_j of every (slot, j) pair
  z: tf.Tensor2D; // [B, D]  |N(u)|^-½ Σ_j y_j of each rating's user
}

/**
 * out[s] = Σ x[k] over the k with ids[k] = s: [numSegments, D]. `tf.unsortedSegmentSum` with the plain
 * gather as its gradient: tfjs's own gradient also masks out negative ids with a broadcast
 * logicalAnd, which on wasm took four times as long as the whole rest of an SVD++ step, and these
 * ids are never negative.
 */
function segmentSum(x: tf.Tensor2D, ids: tf.Tensor1D, numSegments: number): tf.Tensor2D {
  // `ids` goes through `save` so that tfjs keeps it alive until the backward pass.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    save([ids]);
    return {
      value: tf.unsortedSegmentSum(input, ids, numSegments) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.gather(dy, saved[0]),
    };
  });
  return op(x);
}

/**
 * The implicit term of each rating's user, z_u = |N(u)|^-½ Σ_{j∈N(u)} y_j ([B, D]), and the y_j of
 * every (slot, j) pair it summed ([P, D], which the penalty reads).
 */
export function implicitFeedback(
  implicitFactors: tf.Tensor2D,
  implicit: ImplicitBatch,
): { y: tf.Tensor2D; z: tf.Tensor2D } {
  const y = tf.gather(implicitFactors, implicit.pairItem); // [P, D]
  const weighted: tf.Tensor2D = tf.mul(y, tf.expandDims(implicit.pairWeight, 1)); // [P, D]
  const bySlot = segmentSum(weighted, implicit.pairSlot, implicit.numSlots); // [S, D]
  return { y, z: tf.gather(bySlot, implicit.rowSlot) }; // z: [B, D]
}

function lookUp(params: SvdppParams, users: tf.Tensor1D, items: tf.Tensor1D, implicit: ImplicitBatch): BatchLookUp {
  return {
    bu: tf.gather(params.userBias, users),
    bi: tf.gather(params.itemBias, items),
    p: tf.gather(params.userFactors, users),
    q: tf.gather(params.itemFactors, items),
    ...implicitFeedback(params.implicitFactors, implicit),
  };
}

/** r̂ = μ + b_u + b_i + q_iᵀ(p_u + z_u). */
function estimate(rows: BatchLookUp, globalMean: number): tf.Tensor1D {
  const dot: tf.Tensor1D = tf.sum(tf.mul(rows.q, tf.add(rows.p, rows.z)), 1); // [B]
  return tf.add<tf.Tensor1D>(tf.add(dot, rows.bu), tf.add(rows.bi, globalMean));
}

/** Unclipped r̂ of the pairs (users[k], items[k]); `implicit` is `implicitBatch(N, users)`. */
export function svdppEstimate(
  params: SvdppParams,
  globalMean: number,
  users: tf.Tensor1D,
  items: tf.Tensor1D,
  implicit: ImplicitBatch,
): tf.Tensor1D {
  return tf.tidy(() => estimate(lookUp(params, users, items, implicit), globalMean));
}

/**
 * The mean over the batch of ℓ_ui = (r_ui − r̂_ui)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖² + Σ_{j∈N(u)} ‖y_j‖²).
 * `implicit` must be `implicitBatch(N, users of batch)`.
 */
export function svdppLoss(
  params: SvdppParams,
  globalMean: number,
  regularization: number,
  batch: RatingBatch,
  implicit: ImplicitBatch,
): tf.Scalar {
  return tf.tidy(() => {
    const rows = lookUp(params, batch.users, batch.items, implicit);
    const error = tf.sub(batch.ratings, estimate(rows, globalMean)); // [B]
    const perRating = tf.addN([
      tf.square(rows.bu),
      tf.square(rows.bi),
      tf.sum(tf.square(rows.p), 1),
      tf.sum(tf.square(rows.q), 1),
    ]); // [B]
    const implicitPenalty = tf.sum(tf.mul(implicit.pairCount, tf.sum(tf.square(rows.y), 1))); // Σ over ratings and N(u)
    const batchSize = batch.ratings.shape[0];
    const squaredError = tf.sum(tf.square(error));
    const penalty = tf.add(tf.sum(perRating), implicitPenalty);
    return tf.div(tf.add(squaredError, tf.mul(penalty, regularization)), batchSize);
  });
}

// ---------------------------------------------------------------------------------------------
// Surprise's per-rating SGD, fused (see the header)
// ---------------------------------------------------------------------------------------------

/** The tables Surprise's SVD++ SGD updates, in float64 (row-major [U, D] and [I, D]). */
export interface SvdppTables {
  userBias: Float64Array;
  itemBias: Float64Array;
  userFactors: Float64Array;
  itemFactors: Float64Array;
  implicitFactors: Float64Array;
}

/**
 * One epoch of Surprise's SVD++ SGD (matrix_factorization.pyx, `SVDpp.sgd`) over the rows of
 * `byUser`, user by user, updating `tables` in place: z = |N(u)|^-½ Σ_j y_j, e = r − r̂,
 * b_u += γ(e − λb_u), b_i += γ(e − λb_i), p_u += γ(e·q_i − λp_u), q_i += γ(e·(p_u + z) − λq_i),
 * y_j += γ(e·q_i/√|N(u)| − λy_j) for j ∈ N(u), every update from the values before it (the y_j
 * updates deferred to the end of the user's ratings, as the header explains). Returns the mean
 * per-rating loss ℓ, each taken before its rating's update.
 */
export function svdppSgdEpoch(
  tables: SvdppTables,
  data: RatingColumns,
  byUser: GroupedRows,
  neighbourhoods: UserItems,
  settings: SgdEpochSettings,
): number {
  const { userBias: bu, itemBias: bi, userFactors: p, itemFactors: q, implicitFactors: y } = tables;
  const { factors: d, globalMean, regularization: reg, learningRate: lr } = settings;
  const { items, ratings } = data;
  const a = 1 - lr * reg; // the y_j map's factor per rating
  const z = new Float64Array(d); // z_u, current
  const shift = new Float64Array(d); // B of the composed map y ← A·y + B
  const nOffsets = neighbourhoods.offsets;
  const nItems = neighbourhoods.items;
  let lossSum = 0;
  let visited = 0;
  for (let u = 0; u + 1 < byUser.offsets.length; u++) {
    const first = byUser.offsets[u];
    const end = byUser.offsets[u + 1];
    if (first === end) continue;
    const jStart = nOffsets[u];
    const jEnd = nOffsets[u + 1];
    const count = jEnd - jStart;
    const root = Math.sqrt(count);
    // z_u and Σ_j ‖y_j‖² from the stored y_j, once per user.
    z.fill(0);
    let ySquares = 0;
    for (let k = jStart; k < jEnd; k++) {
      const yj = nItems[k] * d;
      for (let f = 0; f < d; f++) {
        const v = y[yj + f];
        z[f] += v;
        ySquares += v * v;
      }
    }
    for (let f = 0; f < d; f++) z[f] /= root;
    shift.fill(0);
    let scale = 1; // A
    const pu = u * d;
    for (let at = first; at < end; at++) {
      const row = byUser.rows[at];
      const i = items[row];
      const qi = i * d;
      let dot = 0;
      for (let f = 0; f < d; f++) dot += q[qi + f] * (p[pu + f] + z[f]);
      const bu0 = bu[u];
      const bi0 = bi[i];
      const err = ratings[row] - (globalMean + bu0 + bi0 + dot);
      bu[u] += lr * (err - reg * bu0);
      bi[i] += lr * (err - reg * bi0);
      let penalty = bu0 * bu0 + bi0 * bi0 + ySquares;
      // b = γ·e·q_i/√|N(u)|; Σ_j ‖a·y_j + b‖² = a²Σ‖y_j‖² + 2a·b·(√|N(u)|·z) + |N(u)|·‖b‖².
      const errOverRoot = (lr * err) / root;
      let bDotZ = 0;
      let bSquared = 0;
      for (let f = 0; f < d; f++) {
        const puf = p[pu + f];
        const qif = q[qi + f];
        const zf = z[f];
        p[pu + f] += lr * (err * qif - reg * puf);
        q[qi + f] += lr * (err * (puf + zf) - reg * qif);
        penalty += puf * puf + qif * qif;
        const b = errOverRoot * qif;
        bDotZ += b * zf;
        bSquared += b * b;
        z[f] = a * zf + root * b;
        shift[f] = a * shift[f] + b;
      }
      ySquares = a * a * ySquares + 2 * a * root * bDotZ + count * bSquared;
      scale *= a;
      lossSum += err * err + reg * penalty;
      visited++;
    }
    // The user's composed map, applied to each y_j once.
    for (let k = jStart; k < jEnd; k++) {
      const yj = nItems[k] * d;
      for (let f = 0; f < d; f++) y[yj + f] = scale * y[yj + f] + shift[f];
    }
  }
  return lossSum / visited;
}

// ---------------------------------------------------------------------------------------------
// The model object
// ---------------------------------------------------------------------------------------------

/**
 * SVD++ over the rows of `train`, a `LossModel` over batches of row indices of `train`: train it
 * with `fitRatingSgd` (Surprise's schedule) or `fit`. Holds tfjs variables: call `dispose()`.
 */
export class Svdpp implements LossModel<Int32Array>, RatingPredictor, ItemScorer {
  readonly factors: number;
  readonly regularization: number;
  readonly globalMean: number;
  readonly ratingScale: readonly [number, number];
  /** N(u): the items each user rated in `train`. */
  readonly neighbourhoods: UserItems;
  readonly sgdDefaults: Readonly<SgdDefaults> = SVDPP_SGD_DEFAULTS;
  readonly params: {
    userBias: tf.Variable<tf.Rank.R1>;
    itemBias: tf.Variable<tf.Rank.R1>;
    userFactors: tf.Variable<tf.Rank.R2>;
    itemFactors: tf.Variable<tf.Rank.R2>;
    implicitFactors: tf.Variable<tf.Rank.R2>;
  };

  constructor(
    readonly train: Interactions,
    config: SvdppConfig,
  ) {
    const caller = "Svdpp";
    this.factors = checkPositiveInteger(caller, "factors", config.factors ?? 20);
    this.regularization = checkNonNegative(caller, "regularization", config.regularization ?? 0.02);
    const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
    const initMean = checkFinite(caller, "initMean", config.initMean ?? 0);
    if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);
    this.globalMean = meanRating(train);
    this.ratingScale = config.ratingScale ?? ratingRange(train);
    this.neighbourhoods = UserItems.from(train);

    const rng = new Rng(config.seed);
    const { numUsers, numItems } = train;
    const d = this.factors;
    const known = ratedMasks(train);
    const p = normalTable(rng, numUsers, d, initMean, initStd, known.users);
    const q = normalTable(rng, numItems, d, initMean, initStd, known.items);
    const y = normalTable(rng, numItems, d, initMean, initStd, known.items);
    this.params = tf.tidy(() => ({
      userBias: tf.variable(tf.zeros([numUsers])) as tf.Variable<tf.Rank.R1>,
      itemBias: tf.variable(tf.zeros([numItems])) as tf.Variable<tf.Rank.R1>,
      userFactors: tf.variable(tf.tensor2d(p, [numUsers, d])),
      itemFactors: tf.variable(tf.tensor2d(q, [numItems, d])),
      implicitFactors: tf.variable(tf.tensor2d(y, [numItems, d])),
    }));
  }

  get numItems(): number {
    return this.train.numItems;
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  loss(rows: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const batch = ratingBatch(this.train, rows);
      const implicit = implicitBatch(this.neighbourhoods, usersOfRows(this.train, rows));
      return svdppLoss(this.params, this.globalMean, this.regularization, batch, implicit);
    });
  }

  trainableVariables(): tf.Variable[] {
    const { userBias, itemBias, userFactors, itemFactors, implicitFactors } = this.params;
    return [userBias, itemBias, userFactors, itemFactors, implicitFactors];
  }

  /** Surprise's per-rating SGD on float64 copies of the parameters (`svdppSgdEpoch`), for `fitRatingSgd`. */
  fusedSgd(): FusedRatingSgd {
    const { params } = this;
    const tables: SvdppTables = {
      userBias: float64Copy(params.userBias)!,
      itemBias: float64Copy(params.itemBias)!,
      userFactors: float64Copy(params.userFactors)!,
      itemFactors: float64Copy(params.itemFactors)!,
      implicitFactors: float64Copy(params.implicitFactors)!,
    };
    const settings = { factors: this.factors, globalMean: this.globalMean, regularization: this.regularization };
    return {
      epoch: (byUser, learningRate) =>
        svdppSgdEpoch(tables, this.train, byUser, this.neighbourhoods, { ...settings, learningRate }),
      store: () => {
        for (const [name, variable] of Object.entries(params)) {
          assignFloat64(variable as tf.Variable, tables[name as keyof SvdppTables]);
        }
      },
    };
  }

  /** Predicted ratings of the pairs (users[k], items[k]), clipped to the rating scale. */
  predict(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("Svdpp.predict", users, items);
    const [low, high] = this.ratingScale;
    return readAndDispose(tf.tidy(() => tf.clipByValue(this.estimatePairs(users, items), low, high)));
  }

  /** Unclipped r̂ of the pairs, consistent with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("Svdpp.scorePairs", users, items);
    return readAndDispose(tf.tidy(() => this.estimatePairs(users, items)));
  }

  /** r̂ of every item for each user, unclipped: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float32Array {
    return readAndDispose(
      tf.tidy(() => {
        const u = tf.tensor1d(users, "int32");
        const implicit = implicitBatch(this.neighbourhoods, users);
        const { userBias, itemBias, userFactors, itemFactors, implicitFactors } = this.params;
        const { z } = implicitFeedback(implicitFactors, implicit); // [B, D]
        const dots: tf.Tensor2D = tf.matMul(tf.add(tf.gather(userFactors, u), z), itemFactors, false, true); // [B, I]
        const bu = tf.expandDims(tf.gather(userBias, u), 1); // [B, 1]
        const bi = tf.expandDims(tf.add(itemBias, this.globalMean), 0); // [1, I]
        return tf.add(tf.add(dots, bu), bi);
      }),
    );
  }

  /** The weights under stable names, for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return Object.entries(this.params).map(([name, variable]) => ({ name, variable: variable as tf.Variable }));
  }

  /** Saves the model and a record of its training data to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = { factors: this.factors, regularization: this.regularization, ratingScale: [...this.ratingScale] };
    return SVDPP_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked): N(u) is read from it. */
  static load(path: string, train: Interactions): Promise<Svdpp> {
    return SVDPP_FORMAT.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train: Interactions): Promise<Svdpp> {
    return SVDPP_FORMAT.fromArtifacts(json, weights, train);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }

  private estimatePairs(users: Int32Array, items: Int32Array): tf.Tensor1D {
    const implicit = implicitBatch(this.neighbourhoods, users);
    return svdppEstimate(
      this.params,
      this.globalMean,
      tf.tensor1d(users, "int32"),
      tf.tensor1d(items, "int32"),
      implicit,
    );
  }
}

const SVDPP_FORMAT = tfModelFormat(
  "Svdpp",
  (config, train: Interactions) => new Svdpp(train, { ...config, seed: 0 }),
  (train) => train,
);

function usersOfRows(data: Interactions, rows: Int32Array): Int32Array {
  const users = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) users[k] = data.users[rows[k]];
  return users;
}
