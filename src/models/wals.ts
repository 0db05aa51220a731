// Weighted alternating least squares (WALS) for implicit feedback, from Hu, Koren and Volinsky,
// "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008.
//
//   p_ui = 1 if u interacted with i, else 0            (preference)
//   c_ui = 1 + α r_ui                                   (confidence; r_ui = 0 when unobserved)
//   L    = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)
//
// The sum runs over ALL user–item pairs: an unobserved pair says "probably not interested", with
// low confidence 1. With Y fixed, L is a ridge regression per user, solved exactly (eq. 4):
//
//   x_u = (YᵀC^u Y + λI)⁻¹ YᵀC^u p(u),   YᵀC^u Y = YᵀY + Yᵀ(C^u − I)Y
//
// YᵀY is the same for every user, and C^u − I is nonzero only on the n_u items u interacted with,
// so a user costs O(D² n_u + D³) instead of O(D² I). Then the same for every y_i with X fixed, and
// repeat. Each half-step minimises L exactly over one side, so L never increases.
//
// Why this is not trained by `fit`: there is no gradient step. Every iteration replaces each factor
// vector by the exact minimiser, a D × D linear solve (Cholesky, on Float64Array here; tfjs has no
// batched solver). That is the point of the method: with all U × I pairs in the loss, gradient
// steps would have to touch every pair, while the closed form only touches the observed ones.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkInteger, checkNonNegative, checkPairs, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { CsrMatrix } from "../data/csr";
import { choleskySolve, gram } from "../data/linalg";
import { ItemScorer } from "../eval/scorers";
import { normalTable } from "../nn/initializers";
import { readAndDispose } from "../nn/tensors";
import { arrayModelFormat, TrainingData } from "../train/savedModel";

// The dense linear algebra (FᵀF, the Cholesky solve) lives in data/linalg.ts; re-exported for notebooks.

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** What r_ui is: 1 for every observed pair ("binary"), or the sum of the pair's ratings ("rating"). */
export type WalsStrength = "binary" | "rating";

export interface WalsConfig {
  /** D. Default 64. */
  factors?: number;
  /** λ. Default 100: on ml-100k (75/25 per-user split, α = 40) precision@10 is 0.38 at λ = 100 and 0.26 at λ = 0.1. */
  regularization?: number;
  /** α in c = 1 + α r. Default 40, the paper's choice. */
  alpha?: number;
  /** Alternations (one user half-step and one item half-step each). Default 10. */
  iterations?: number;
  /** Default "binary". */
  strength?: WalsStrength;
  /** Standard deviation of the N(0, σ²) initialisation of Y (X is solved first). Default 0.01. */
  initStd?: number;
  seed: number;
  /** Called after each iteration (1-based) with the objective L. */
  onIteration?: (iteration: number, loss: number) => void;
}

// ---------------------------------------------------------------------------------------------
// The observed pairs, both ways: users' items and items' users, with their strengths r
// ---------------------------------------------------------------------------------------------

/** The observed pairs as sparse rows; the name is kept for notebooks, it is the library's one sparse type. */
export type SparseRows = CsrMatrix;

/** The user × item matrix of r_ui (duplicate pairs summed, or 1 for "binary") and its transpose. */
export function implicitMatrix(data: Interactions, strength: WalsStrength): { byUser: SparseRows; byItem: SparseRows } {
  const pairs = CsrMatrix.fromTriples(
    data.numUsers,
    data.numItems,
    data.users,
    data.items,
    strength === "binary" ? undefined : data.ratings,
  );
  const byUser = pairs.dedupe(strength === "binary" ? "first" : "sum");
  return { byUser, byItem: byUser.transpose() };
}

// ---------------------------------------------------------------------------------------------
// One half-step: every row of `solved` from the fixed factors, in closed form
// ---------------------------------------------------------------------------------------------

/**
 * x_r = (FᵀF + Σ_{c ∈ row r} α r_rc f_c f_cᵀ + λI)⁻¹ Σ_{c ∈ row r} (1 + α r_rc) f_c for every row r of
 * `matrix`, written into `solved` ([numRows × d]). `fixed` holds the f_c, [numColumns × d].
 */
export function solveSide(
  matrix: SparseRows,
  fixed: Float64Array,
  solved: Float64Array,
  d: number,
  alpha: number,
  lambda: number,
): void {
  const base = gram(fixed, d);
  const a = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const numRows = matrix.numRows;
  for (let r = 0; r < numRows; r++) {
    a.set(base);
    for (let k = 0; k < d; k++) a[k * d + k] += lambda;
    rhs.fill(0);
    for (let e = matrix.offsets[r]; e < matrix.offsets[r + 1]; e++) {
      const f = matrix.indices[e] * d;
      const extra = alpha * matrix.values[e]; // c − 1
      for (let i = 0; i < d; i++) {
        const fi = fixed[f + i];
        rhs[i] += (1 + extra) * fi; // p = 1 on observed pairs
        const w = extra * fi;
        for (let j = i; j < d; j++) a[i * d + j] += w * fixed[f + j];
      }
    }
    // Only the upper triangle was updated; the Cholesky reads the lower one.
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) a[i * d + j] = a[j * d + i];
    choleskySolve(a, rhs, d);
    solved.set(rhs, r * d);
  }
}

/**
 * L of the header, in O(nnz·D + (U + I)·D²) rather than O(U·I·D): over all pairs Σ (x_uᵀy_i)² =
 * tr(XᵀX · YᵀY), and the observed pairs add c(1 − s)² − s² each, s = x_uᵀy_i.
 */
export function walsLoss(
  byUser: SparseRows,
  x: Float64Array,
  y: Float64Array,
  d: number,
  alpha: number,
  lambda: number,
): number {
  const gx = gram(x, d);
  const gy = gram(y, d);
  let loss = 0;
  for (let k = 0; k < d * d; k++) loss += gx[k] * gy[k]; // tr(AB) = Σ A∘B for symmetric A, B
  const numUsers = byUser.numRows;
  for (let u = 0; u < numUsers; u++) {
    for (let e = byUser.offsets[u]; e < byUser.offsets[u + 1]; e++) {
      const i = byUser.indices[e];
      let s = 0;
      for (let f = 0; f < d; f++) s += x[u * d + f] * y[i * d + f];
      const c = 1 + alpha * byUser.values[e];
      loss += c * (1 - s) * (1 - s) - s * s;
    }
  }
  let norms = 0;
  for (let k = 0; k < x.length; k++) norms += x[k] * x[k];
  for (let k = 0; k < y.length; k++) norms += y[k] * y[k];
  return loss + lambda * norms;
}

// ---------------------------------------------------------------------------------------------
// Fitting and the fitted model
// ---------------------------------------------------------------------------------------------

/** Fits WALS to the interactions of `train` (see the header): `iterations` alternations of exact solves. */
export function fitWals(train: Interactions, config: WalsConfig): WalsModel {
  const caller = "fitWals";
  const d = checkPositiveInteger(caller, "factors", config.factors ?? 64);
  const lambda = checkNonNegative(caller, "regularization", config.regularization ?? 100);
  const alpha = checkNonNegative(caller, "alpha", config.alpha ?? 40);
  const iterations = config.iterations ?? 10;
  if (!Number.isInteger(iterations) || iterations < 0)
    throw new Error(`${caller}: iterations must be an integer >= 0, got ${iterations}`);
  const strength = config.strength ?? "binary";
  if (strength !== "binary" && strength !== "rating")
    throw new Error(`${caller}: strength must be "binary" or "rating", got ${String(strength)}`);
  const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.01);
  if (strength === "rating") {
    for (let k = 0; k < train.length; k++) {
      if (!(train.ratings[k] >= 0))
        throw new Error(
          `${caller}: strength "rating" needs ratings >= 0; '${train.name}' row ${k} has ${train.ratings[k]}`,
        );
    }
  }

  const { byUser, byItem } = implicitMatrix(train, strength);
  const x = new Float64Array(train.numUsers * d);
  const y = Float64Array.from(normalTable(new Rng(config.seed), train.numItems, d, 0, initStd));
  for (let it = 1; it <= iterations; it++) {
    solveSide(byUser, y, x, d, alpha, lambda);
    solveSide(byItem, x, y, d, alpha, lambda);
    config.onIteration?.(it, walsLoss(byUser, x, y, d, alpha, lambda));
  }
  return new WalsModel(train.numUsers, train.numItems, d, Float32Array.from(x), Float32Array.from(y), train);
}

/** Fitted WALS factors; scores are x_uᵀy_i, the predicted preference. `save` writes X and Y. */
export class WalsModel implements ItemScorer {
  constructor(
    readonly numUsers: number,
    readonly numItems: number,
    readonly factors: number,
    /** X, [numUsers × factors], row-major. */
    readonly userFactors: Float32Array,
    /** Y, [numItems × factors], row-major. */
    readonly itemFactors: Float32Array,
    /** The data the factors were fitted on (or its saved record), recorded by `save`. */
    readonly trainedOn: TrainingData | null = null,
  ) {}

  /** Saves X and Y to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { numUsers, numItems, factors } = this;
    return WalsModel.format.save(path, {
      config: { numUsers, numItems, factors },
      arrays: [
        { name: "userFactors", values: this.userFactors, shape: [numUsers, factors] },
        { name: "itemFactors", values: this.itemFactors, shape: [numItems, factors] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<WalsModel> {
    return WalsModel.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<WalsModel> {
    return WalsModel.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "WalsModel",
    ({ config, arrays, data }) => {
      const numUsers = checkInteger("WalsModel", "numUsers", config.numUsers, 0);
      const numItems = checkInteger("WalsModel", "numItems", config.numItems, 0);
      const factors = checkPositiveInteger("WalsModel", "factors", config.factors);
      return new WalsModel(
        numUsers,
        numItems,
        factors,
        arrays.float32("userFactors", [numUsers, factors]),
        arrays.float32("itemFactors", [numItems, factors]),
        data ?? null,
      );
    },
    (train?: Interactions) => train,
  );

  /** x_uᵀy_i of every item for each user: [users.length × numItems], one matrix product. */
  scoreItems(users: Int32Array): Float32Array {
    const d = this.factors;
    const rows = new Float32Array(users.length * d);
    for (let k = 0; k < users.length; k++) rows.set(this.userFactors.subarray(users[k] * d, (users[k] + 1) * d), k * d);
    return readAndDispose(
      tf.tidy(() =>
        tf.matMul(tf.tensor2d(rows, [users.length, d]), tf.tensor2d(this.itemFactors, [this.numItems, d]), false, true),
      ), // [B, I]
    );
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("WalsModel.scorePairs", users, items);
    const d = this.factors;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += this.userFactors[users[k] * d + f] * this.itemFactors[items[k] * d + f];
      out[k] = s;
    }
    return out;
  }
}
