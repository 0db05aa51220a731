// EASE^R, from Harald Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019: an
// item × item weight matrix B, learned in closed form, that scores item j for a user as a weighted
// sum over the items the user has. X is the binary user × item matrix of the training interactions.
//
//   min_B ‖X − XB‖²_F + λ‖B‖²_F   subject to diag(B) = 0                          (eq. 1)
//
// Without the constraint the answer would be B = I: every item predicts itself. With it, the
// Lagrangian gives, for G = XᵀX + λI and P = G⁻¹,
//
//   B = I − P · diag(1 / diag(P)),   i.e. B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0   (eqs. 4–8)
//   s_u = x_u B                      the score of every item for user u
//
// One matrix inversion of size I × I, whatever the number of users: on MovieLens 100K (1,682 items)
// a couple of seconds in float64 (data/linalg.ts). λ is the only hyper-parameter; the paper uses 500
// on MovieLens 20M, 1,000 on Netflix and 200 on the Million Song Data; a small data set wants its
// own, chosen on a validation split (bench/msModels.ts). Seen items are removed by the evaluation
// protocol, not here.
//
// Dropout (EDLAE; Steck, "Autoencoders that don't overfit towards the Identity", NeurIPS 2020). Training
// the same linear model to reconstruct X from a copy with each entry dropped with probability p is, in
// expectation, ridge regression with a penalty per item that grows with the item's popularity:
//
//   Λ = λI + p/(1 − p) · diag(XᵀX),   P = (XᵀX + Λ)⁻¹,   B as above                    (EDLAE, eq. 8)
//
// Popular items, whose columns of XᵀX are largest, are shrunk more; p = 0 is EASE^R.

import { checkInteger, checkPositive, requireFitted } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { sparseGram, spdInverse } from "../data/linalg";
import { checkUsersInRange, ItemScorer } from "../eval/scorers";
import { arrayModelFormat, csrArrays, readCsr, TrainingData } from "../train/savedModel";

export interface EaseConfig {
  /** λ, the L2 penalty on B, added to the diagonal of XᵀX. Default 500 (the paper's MovieLens 20M value). */
  regularization?: number;
  /** p in [0, 1): EDLAE's dropout, adding p/(1 − p)·(XᵀX)_jj to item j's penalty. Default 0 (EASE^R). */
  dropout?: number;
}

interface Fitted {
  /** X: each user's distinct training items, values 1 ([numUsers × numItems]). */
  userItems: CsrMatrix;
  /** B, [numItems × numItems] row-major: row i holds what having item i adds to each item's score. */
  weights: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// The closed form
// ---------------------------------------------------------------------------------------------

/**
 * B of eq. 8 for the binary X: G = XᵀX + Λ, P = G⁻¹, B_ij = −P_ij / P_jj, B_jj = 0, where
 * Λ = λI + p/(1 − p)·diag(XᵀX) (p = `dropout`, 0 for EASE^R). [I × I], row-major, rounded to float32
 * once solved (it is what the model keeps and saves).
 */
export function easeWeights(userItems: CsrMatrix, regularization: number, dropout = 0): Float32Array {
  const n = userItems.numCols;
  const p = sparseGram(userItems); // XᵀX: co-occurrence counts, [I × I]
  const emphasis = dropout / (1 - dropout);
  for (let i = 0; i < n; i++) p[i * n + i] += regularization + emphasis * p[i * n + i];
  spdInverse(p, n, "Ease"); // P = G⁻¹; an item no one has keeps P_jj = 1/λ and B's column j is 0
  const weights = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) weights[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  }
  return weights;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/** EASE^R: `new Ease({ regularization }).fit(train)` solves for B; `scoreItems` gives x_u B. */
export class Ease implements ItemScorer {
  readonly regularization: number;
  readonly dropout: number;
  private state: Fitted | null = null;
  /** The data B was fitted on (or its saved record), recorded by `save`. */
  private trainedOn: TrainingData | null = null;

  constructor(config: EaseConfig = {}) {
    // λ > 0: XᵀX alone is singular as soon as an item has no user, or two items have the same users.
    this.regularization = checkPositive("Ease", "regularization", config.regularization ?? 500);
    this.dropout = config.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1))
      throw new Error(`Ease: dropout must be in [0, 1), got ${this.dropout}`);
  }

  /** Solves for B on the distinct (user, item) pairs of `train`. */
  fit(train: Interactions): this {
    if (train.length === 0) throw new Error(`Ease.fit: the train data '${train.name}' has no interactions`);
    const userItems = binaryUserItems(train);
    this.state = { userItems, weights: easeWeights(userItems, this.regularization, this.dropout) };
    this.trainedOn = train;
    return this;
  }

  get numUsers(): number {
    return this.fitted("numUsers").userItems.numRows;
  }

  get numItems(): number {
    return this.fitted("numItems").userItems.numCols;
  }

  /** B, [numItems × numItems] row-major, zero diagonal. */
  get weights(): Float32Array {
    return this.fitted("weights").weights;
  }

  /** x_u B for each user: the sum of the rows of B of the user's training items. [users.length × numItems]. */
  scoreItems(users: Int32Array): Float64Array {
    const { userItems, weights } = this.fitted("scoreItems");
    checkUsersInRange("Ease.scoreItems", users, userItems.numRows);
    const n = userItems.numCols;
    const out = new Float64Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const row = b * n;
      for (let p = userItems.offsets[users[b]]; p < userItems.offsets[users[b] + 1]; p++) {
        const from = userItems.indices[p] * n;
        for (let j = 0; j < n; j++) out[row + j] += weights[from + j];
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Saving and loading (train/savedModel.ts): X and B are saved as they are, so a loaded model
  // scores without the training data (which `load` checks against the saved record when given).
  // -------------------------------------------------------------------------------------------

  /** Saves λ, X (`userItems/…`) and B (`weights`), with a record of the training data, to the folder `path`. */
  save(path: string): Promise<void> {
    const { userItems, weights } = this.fitted("save");
    const n = userItems.numCols;
    return Ease.format.save(path, {
      config: { regularization: this.regularization, dropout: this.dropout },
      fitted: { numUsers: userItems.numRows, numItems: n },
      arrays: [...csrArrays("userItems", userItems, false), { name: "weights", values: weights, shape: [n, n] }],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, ready to score; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<Ease> {
    return Ease.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train?: Interactions): Promise<Ease> {
    return Ease.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "Ease",
    ({ config, fitted, arrays, data }) => {
      const model = new Ease(config as EaseConfig);
      const numUsers = checkInteger("Ease", "numUsers", fitted.numUsers, 0);
      const numItems = checkInteger("Ease", "numItems", fitted.numItems, 0);
      model.state = {
        userItems: readCsr(arrays, "userItems", numUsers, numItems, false),
        weights: arrays.float32("weights", [numItems, numItems]),
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  private fitted(what: string): Fitted {
    return requireFitted(`Ease.${what}`, this.state);
  }
}

/** X: each user's distinct items (repeats count once), values 1. */
function binaryUserItems(train: Interactions): CsrMatrix {
  return CsrMatrix.fromTriples(train.numUsers, train.numItems, train.users, train.items).dedupe("first");
}
