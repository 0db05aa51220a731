// LightGCN: collaborative filtering by propagating ID embeddings over the user–item graph, from He,
// Deng, Wang, Li, Zhang and Wang, "LightGCN: Simplifying and Powering Graph Convolution Network for
// Recommendation", SIGIR 2020.
//
//   E⁽⁰⁾ = [E_users ; E_items]                          [N, D], N = U + I: the only parameters
//   E⁽ᵏ⁺¹⁾ = D^(−1/2) A D^(−1/2) E⁽ᵏ⁾,   k = 0..K−1    A the bipartite adjacency (eq. 7)
//   e = Σ_k α_k e⁽ᵏ⁾,   α_k = 1/(K + 1)                 the mean of the layers (eq. 8)
//   ŷ_ui = e_uᵀ e_i                                      (eq. 5)
//   L = −Σ_{(u,i,j)} ln σ(ŷ_ui − ŷ_uj) + λ ‖E⁽⁰⁾_batch‖²  BPR (eq. 15)
//
// What NGCF did at each layer (a weight matrix, a nonlinearity, self-connections) is gone: the paper
// shows those hurt collaborative filtering, where the nodes have no features beyond their ID. The layer
// combination replaces the self-connection and keeps the first layers from being smoothed away.
//
// As in the authors' code, the penalty is on the layer-0 embeddings of the batch's users, positives and
// negatives, ½(‖e⁰_u‖² + ‖e⁰_i‖² + ‖e⁰_j‖²) averaged over the batch, weighted by λ = 1e-4; the BPR term is
// the mean over the batch's triples. The embeddings start N(0, 0.1²) (the authors' PyTorch code). The
// propagation is the sparse product of src/nn/graphPropagation.ts, whose backward pass is the same
// product.
//
// A `LossModel` over `ImplicitFeedbackBatch`es with one negative per positive (BPR's triples): train it
// with `fitImplicitFeedback` (Adam at 0.001, the paper's). Every step propagates the whole graph, so the
// cost of a step hardly depends on the batch size: large batches train an epoch much faster.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkInteger, checkNonNegative, checkPairs, checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { checkUsersInRange, ItemScorer } from "../eval/scorers";
import { NormalizedAdjacency, SparseProductMethod } from "../nn/graphPropagation";
import { normalTable } from "../nn/initializers";
import type { NamedWeight } from "../nn/layeredModel";
import { readAndDispose } from "../nn/tensors";
import { ImplicitFeedbackBatch, ImplicitFeedbackModel, negativeCount } from "../train/implicitFeedback";
import { bprLoss } from "../train/losses";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface LightGcnConfig {
  /** D, the width of the embeddings. Default 64, the paper's. */
  factors?: number;
  /** K, the propagation layers. Default 3 (the paper's best on its three data sets). */
  layers?: number;
  /** λ, the weight of the L2 penalty on the batch's layer-0 embeddings. Default 1e-4, the paper's. */
  regularization?: number;
  /** Standard deviation of the N(0, σ²) initialisation of E⁽⁰⁾. Default 0.1 (the authors' code). */
  initStd?: number;
  /** How the propagation multiplies by Â (src/nn/graphPropagation.ts). Default "auto"; the results agree. */
  sparseProduct?: SparseProductMethod;
  /** Seeds the initialisation. */
  seed: number;
}

// ---------------------------------------------------------------------------------------------
// The model, piece by piece
// ---------------------------------------------------------------------------------------------

export interface LightGcnParams {
  userEmbeddings: tf.Tensor2D; // [U, D]: the users' rows of E⁽⁰⁾
  itemEmbeddings: tf.Tensor2D; // [I, D]: the items'
}

/** e = (1/(K+1)) Σ_{k=0..K} Â^k E⁽⁰⁾: the final embeddings of every node, users first. [N, D] */
export function lightGcnPropagate(adjacency: NormalizedAdjacency, params: LightGcnParams, layers: number): tf.Tensor2D {
  return tf.tidy(() => {
    let layer: tf.Tensor2D = tf.concat([params.userEmbeddings, params.itemEmbeddings], 0); // E⁽⁰⁾, [N, D]
    const sum = [layer];
    for (let k = 0; k < layers; k++) {
      layer = adjacency.multiply(layer); // E⁽ᵏ⁺¹⁾, [N, D]
      sum.push(layer);
    }
    return tf.div(tf.addN(sum), layers + 1) as tf.Tensor2D;
  });
}

/** The final user and item embeddings: the two blocks of `lightGcnPropagate`. */
function finalEmbeddings(
  adjacency: NormalizedAdjacency,
  params: LightGcnParams,
  layers: number,
): { users: tf.Tensor2D; items: tf.Tensor2D } {
  const all = lightGcnPropagate(adjacency, params, layers);
  const [users, items] = tf.split(all, [adjacency.numUsers, adjacency.numItems], 0) as [tf.Tensor2D, tf.Tensor2D];
  all.dispose();
  return { users, items };
}

/**
 * BPR over the final embeddings plus λ·½(‖e⁰_u‖² + ‖e⁰_i‖² + mean_k ‖e⁰_jk‖²), each averaged over the B
 * triples' users; `negatives` [B, n] (n = 1 is BPR's triple, the paper's).
 */
export function lightGcnLoss(
  adjacency: NormalizedAdjacency,
  params: LightGcnParams,
  layers: number,
  regularization: number,
  users: tf.Tensor1D,
  positives: tf.Tensor1D,
  negatives: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const [b, n] = negatives.shape;
    const final = finalEmbeddings(adjacency, params, layers);
    const eu = tf.gather(final.users, users); // [B, D]
    const ei = tf.gather(final.items, positives); // [B, D]
    const ej = tf.reshape(tf.gather(final.items, tf.reshape(negatives, [-1])), [b, n, -1]); // [B, n, D]
    const positive = tf.sum(tf.mul(eu, ei), 1) as tf.Tensor1D; // ŷ_ui, [B]
    const negative = tf.sum(tf.mul(tf.expandDims(eu, 1), ej), 2) as tf.Tensor2D; // ŷ_uj, [B, n]
    const ranking = bprLoss(positive, negative); // mean of −ln σ(ŷ_ui − ŷ_uj)
    const squares = (table: tf.Tensor2D, ids: tf.Tensor) => tf.sum(tf.square(tf.gather(table, ids)));
    const penalty = tf.addN([
      squares(params.userEmbeddings, users),
      squares(params.itemEmbeddings, positives),
      tf.div(squares(params.itemEmbeddings, negatives), n),
    ]); // Σ over the batch of ‖e⁰_u‖² + ‖e⁰_i‖² + mean_k ‖e⁰_jk‖²
    return tf.add(ranking, tf.mul(penalty, regularization / (2 * b))) as tf.Scalar;
  });
}

// ---------------------------------------------------------------------------------------------
// The model object
// ---------------------------------------------------------------------------------------------

/** LightGCN on the graph of `train` (see the file header). Holds tfjs variables: call `dispose()`. */
export class LightGcn implements ImplicitFeedbackModel, ItemScorer {
  readonly factors: number;
  readonly layers: number;
  readonly regularization: number;
  /** BPR's one negative per positive, for `fitImplicitFeedback`. */
  readonly negativesPerPositive = 1;
  readonly adjacency: NormalizedAdjacency;
  readonly params: {
    userEmbeddings: tf.Variable<tf.Rank.R2>;
    itemEmbeddings: tf.Variable<tf.Rank.R2>;
  };

  constructor(
    readonly train: Interactions,
    config: LightGcnConfig,
  ) {
    const caller = "LightGcn";
    this.factors = checkPositiveInteger(caller, "factors", config.factors ?? 64);
    this.layers = checkInteger(caller, "layers", config.layers ?? 3, 0);
    this.regularization = checkNonNegative(caller, "regularization", config.regularization ?? 1e-4);
    const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
    const rng = new Rng(config.seed);
    const { numUsers, numItems } = train;
    const d = this.factors;
    const users = normalTable(rng, numUsers, d, 0, initStd);
    const items = normalTable(rng, numItems, d, 0, initStd);
    this.adjacency = new NormalizedAdjacency(numUsers, numItems, train.users, train.items, config.sparseProduct);
    this.params = tf.tidy(() => ({
      userEmbeddings: tf.variable(tf.tensor2d(users, [numUsers, d])),
      itemEmbeddings: tf.variable(tf.tensor2d(items, [numItems, d])),
    }));
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  get numItems(): number {
    return this.train.numItems;
  }

  /** The batch's loss (see the header): BPR over its (u, i, j) triples plus the penalty. */
  loss(batch: ImplicitFeedbackBatch): tf.Scalar {
    const n = negativeCount(batch, "LightGcn.loss");
    if (n === 0) throw new Error("LightGcn.loss: BPR needs at least one negative per positive, got 0");
    return tf.tidy(() =>
      lightGcnLoss(
        this.adjacency,
        this.params,
        this.layers,
        this.regularization,
        tf.tensor1d(batch.users, "int32"),
        tf.tensor1d(batch.positives, "int32"),
        tf.tensor2d(batch.negatives, [batch.users.length, n], "int32"),
      ),
    );
  }

  trainableVariables(): tf.Variable[] {
    return [this.params.userEmbeddings, this.params.itemEmbeddings];
  }

  /** The final embeddings e of every user [U, D] and item [I, D]; the caller disposes them. */
  embeddings(): { users: tf.Tensor2D; items: tf.Tensor2D } {
    return finalEmbeddings(this.adjacency, this.params, this.layers);
  }

  /** ŷ_ui = e_uᵀe_i of every item for each user: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float32Array {
    checkUsersInRange("LightGcn.scoreItems", users, this.numUsers);
    return readAndDispose(
      tf.tidy(() => {
        const final = this.embeddings();
        return tf.matMul(tf.gather(final.users, tf.tensor1d(users, "int32")), final.items, false, true); // [B, I]
      }),
    );
  }

  /** ŷ_ui of the pairs (users[k], items[k]). */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("LightGcn.scorePairs", users, items);
    checkUsersInRange("LightGcn.scorePairs", users, this.numUsers);
    return readAndDispose(
      tf.tidy(() => {
        const final = this.embeddings();
        const eu = tf.gather(final.users, tf.tensor1d(users, "int32")); // [P, D]
        const ei = tf.gather(final.items, tf.tensor1d(items, "int32")); // [P, D]
        return tf.sum(tf.mul(eu, ei), 1); // [P]
      }),
    );
  }

  /** The weights under stable names, for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return [
      { name: "userEmbeddings", variable: this.params.userEmbeddings },
      { name: "itemEmbeddings", variable: this.params.itemEmbeddings },
    ];
  }

  /** Saves the model and a record of its training data (its graph) to the folder `path`. */
  save(path: string): Promise<void> {
    const config = { factors: this.factors, layers: this.layers, regularization: this.regularization };
    return LIGHT_GCN_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked): the graph is rebuilt from it. */
  static load(path: string, train: Interactions): Promise<LightGcn> {
    return LIGHT_GCN_FORMAT.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train: Interactions): Promise<LightGcn> {
    return LIGHT_GCN_FORMAT.fromArtifacts(json, weights, train);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
    this.adjacency.dispose();
  }
}

/** A LightGcn of a saved config's shape on the graph of `train` (checked against the saved record). */
const LIGHT_GCN_FORMAT = tfModelFormat(
  "LightGcn",
  (config, train: Interactions) => new LightGcn(train, { ...config, seed: 0 }),
  (train) => train,
);
