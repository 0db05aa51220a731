// BPR-MF: matrix factorisation for implicit feedback trained to rank, from Rendle, Freudenthaler,
// Gantner and Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.
//
//   x̂_ui  = p_uᵀ q_i + b_i
//   x̂_uij = x̂_ui − x̂_uj           i: an item u interacted with, j: one u did not
//   L      = −Σ_{(u,i,j)} ln σ(x̂_uij) + λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²)
//
// Only the order of a user's items is learned: for each observed (u, i) the model is asked to score
// i above an unobserved j. The paper's LearnBPR draws triples (u, i, j) uniformly with replacement;
// here every epoch visits each training pair (u, i) once, in a seeded random order, with a fresh
// negative j per pair from the library's `NegativeSampler` (the usual epoch form of the same
// sampler). The penalty is applied per triple, as in LearnBPR's updates. The item bias b_i is not in
// the paper's BPR-MF (it is in most libraries' BPR: it learns popularity, which ranks well); set
// `itemBias: false` for the paper's model.
//
// A `LossModel` over `BprBatch`es: train it with `fit` and, e.g., `tf.train.adam(0.01)`.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkNonNegative, checkPairs, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { NegativeSampler } from "../data/samplers";
import { ItemScorer } from "../eval/scorers";
import { rowBatches } from "../train/batches";
import { LossModel } from "../train/trainer";
import { normalTable } from "../nn/initializers";
import { readAndDispose } from "../nn/tensors";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface BprMfConfig {
  /** D. Default 64. */
  factors?: number;
  /**
   * λ, per triple. Default 0.01: on ml-100k (75/25 per-user split, Adam 0.01, 20 epochs of batches of
   * 1024) precision@10 is 0.37 at λ = 0.01, 0.27 at 0.0001 and 0.32 at 0.03.
   */
  regularization?: number;
  /** Learn an item bias b_i. Default true; false is the paper's BPR-MF. */
  itemBias?: boolean;
  /** Standard deviation of the N(0, σ²) initialisation of p and q. Default 0.1. */
  initStd?: number;
  seed: number;
}

// ---------------------------------------------------------------------------------------------
// Training triples
// ---------------------------------------------------------------------------------------------

/** Training triples (users[k], positives[k], negatives[k]). */
export interface BprBatch {
  users: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

export interface BprBatchesConfig {
  batchSize: number;
  /** Shuffles the pairs and draws the negatives; pass the same Rng every epoch. */
  rng: Rng;
}

/**
 * One epoch of triples: every (u, i) of `train` once, in random order, each with a negative j that
 * `sampler` draws for u (a fresh one every epoch). Build `sampler` once on `train`.
 */
export function bprBatches(train: Interactions, sampler: NegativeSampler, config: BprBatchesConfig): BprBatch[] {
  return rowBatches(train.length, { batchSize: config.batchSize, rng: config.rng }).map((rows) => {
    const users = new Int32Array(rows.length);
    const positives = new Int32Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      users[k] = train.users[rows[k]];
      positives[k] = train.items[rows[k]];
    }
    return { users, positives, negatives: sampler.sampleForEach(users, config.rng) };
  });
}

// ---------------------------------------------------------------------------------------------
// The model, piece by piece
// ---------------------------------------------------------------------------------------------

export interface BprMfParams {
  userFactors: tf.Tensor2D; // [U, D]
  itemFactors: tf.Tensor2D; // [I, D]
  itemBias?: tf.Tensor1D; // [I]
}

/** x̂_ui of each pair and its penalty ‖q_i‖² + b_i², from the looked-up rows p = P[users]. */
function itemScores(
  params: BprMfParams,
  p: tf.Tensor2D,
  items: tf.Tensor1D,
): { score: tf.Tensor1D; penalty: tf.Tensor1D } {
  const q = tf.gather(params.itemFactors, items); // [B, D]
  let score: tf.Tensor1D = tf.sum(tf.mul(p, q), 1); // [B]
  let penalty: tf.Tensor1D = tf.sum(tf.square(q), 1); // [B]
  if (params.itemBias) {
    const b = tf.gather(params.itemBias, items); // [B]
    score = tf.add(score, b);
    penalty = tf.add(penalty, tf.square(b));
  }
  return { score, penalty };
}

/** The BPR loss of a batch of triples: mean of −ln σ(x̂_ui − x̂_uj) + λ(‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²). */
export function bprMfLoss(
  params: BprMfParams,
  regularization: number,
  users: tf.Tensor1D,
  positives: tf.Tensor1D,
  negatives: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.gather(params.userFactors, users); // [B, D]
    const positive = itemScores(params, p, positives);
    const negative = itemScores(params, p, negatives);
    const margin = tf.sub(positive.score, negative.score); // x̂_uij, [B]
    const penalty = tf.addN([tf.sum(tf.square(p), 1), positive.penalty, negative.penalty]); // [B]
    // −ln σ(m) = softplus(−m), stable for large |m|. (tf.logSigmoid's gradient reads a tensor this
    // tidy would dispose before the backward pass.)
    return tf.mean(tf.add(tf.softplus(tf.neg(margin)), tf.mul(penalty, regularization)));
  });
}

/** x̂_ui of the pairs (users[k], items[k]). */
export function bprScorePairs(params: BprMfParams, users: tf.Tensor1D, items: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => itemScores(params, tf.gather(params.userFactors, users), items).score);
}

// ---------------------------------------------------------------------------------------------
// The model object
// ---------------------------------------------------------------------------------------------

/** BPR-MF over `numUsers` × `numItems`. Holds tfjs variables: call `dispose()`. */
export class BprMf implements LossModel<BprBatch>, ItemScorer {
  readonly factors: number;
  readonly regularization: number;
  readonly params: {
    userFactors: tf.Variable<tf.Rank.R2>;
    itemFactors: tf.Variable<tf.Rank.R2>;
    itemBias?: tf.Variable<tf.Rank.R1>;
  };

  constructor(
    readonly numUsers: number,
    readonly numItems: number,
    config: BprMfConfig,
  ) {
    const caller = "BprMf";
    checkPositiveInteger(caller, "numUsers", numUsers);
    checkPositiveInteger(caller, "numItems", numItems);
    this.factors = checkPositiveInteger(caller, "factors", config.factors ?? 64);
    this.regularization = checkNonNegative(caller, "regularization", config.regularization ?? 0.01);
    const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
    const rng = new Rng(config.seed);
    const d = this.factors;
    const withBias = config.itemBias ?? true;
    const p = normalTable(rng, numUsers, d, 0, initStd);
    const q = normalTable(rng, numItems, d, 0, initStd);
    this.params = tf.tidy(() => ({
      userFactors: tf.variable(tf.tensor2d(p, [numUsers, d])),
      itemFactors: tf.variable(tf.tensor2d(q, [numItems, d])),
      itemBias: withBias ? (tf.variable(tf.zeros([numItems])) as tf.Variable<tf.Rank.R1>) : undefined,
    }));
  }

  /** Mean BPR loss of the batch's triples (see the header). */
  loss(batch: BprBatch): tf.Scalar {
    return tf.tidy(() =>
      bprMfLoss(
        this.params,
        this.regularization,
        tf.tensor1d(batch.users, "int32"),
        tf.tensor1d(batch.positives, "int32"),
        tf.tensor1d(batch.negatives, "int32"),
      ),
    );
  }

  trainableVariables(): tf.Variable[] {
    const { userFactors, itemFactors, itemBias } = this.params;
    return itemBias ? [userFactors, itemFactors, itemBias] : [userFactors, itemFactors];
  }

  /** x̂_ui of every item for each user: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float32Array {
    return readAndDispose(
      tf.tidy(() => {
        const { userFactors, itemFactors, itemBias } = this.params;
        const scores: tf.Tensor2D = tf.matMul(
          tf.gather(userFactors, tf.tensor1d(users, "int32")),
          itemFactors,
          false,
          true,
        ); // [B, I]
        return itemBias ? tf.add(scores, tf.expandDims(itemBias, 0)) : scores;
      }),
    );
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("BprMf.scorePairs", users, items);
    return readAndDispose(
      tf.tidy(() => bprScorePairs(this.params, tf.tensor1d(users, "int32"), tf.tensor1d(items, "int32"))),
    );
  }

  /** The weights under stable names, for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    const { userFactors, itemFactors, itemBias } = this.params;
    const named = [
      { name: "userFactors", variable: userFactors },
      { name: "itemFactors", variable: itemFactors },
    ];
    return itemBias ? [...named, { name: "itemBias", variable: itemBias }] : named;
  }

  /** Saves the model to the folder `path` (checkpoint.json + weights.bin; see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const config = {
      numUsers: this.numUsers,
      numItems: this.numItems,
      factors: this.factors,
      regularization: this.regularization,
      itemBias: this.params.itemBias !== undefined,
    };
    return BPR_FORMAT.save(path, config, this.namedWeights());
  }

  /** A model saved by `save`. */
  static load(path: string): Promise<BprMf> {
    return BPR_FORMAT.load(path);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array): Promise<BprMf> {
    return BPR_FORMAT.fromArtifacts(json, weights);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

/** A BprMf with a saved config's shape; `load` then assigns the weights (the seed is irrelevant). */
const BPR_FORMAT = tfModelFormat(
  "BprMf",
  (config) =>
    new BprMf(config.numUsers as number, config.numItems as number, {
      ...(config as Omit<BprMfConfig, "seed">),
      seed: 0,
    }),
);
