// Mult-VAE: a variational autoencoder of each user's whole item history, from Liang, Krishnan, Hoffman
// and Jebara, "Variational Autoencoders for Collaborative Filtering", WWW 2018.
//
//   x_u ∈ {0,1}^I                                     the user's training items, one row
//   h = dropout(x_u / ‖x_u‖₂, 0.5)                      the input, normalised, with units dropped
//   [μ, log σ²] = W₂ tanh(W₁ h + b₁) + b₂              the encoder q(z | x): I → 600 → 2·200
//   z = μ + σ ⊙ ε,   ε ~ N(0, I)                        the reparameterisation (training only)
//   π = softmax(W₄ tanh(W₃ z + b₃) + b₄)                the decoder: 200 → 600 → I, a multinomial
//   log p(x_u | z) = Σ_i x_ui log π_i                   the multinomial log-likelihood
//   KL(q ‖ N(0, I)) = −½ Σ_d (1 + log σ²_d − μ²_d − σ²_d)
//   L_β(u) = −log p(x_u | z) + β · KL                  the negative ELBO, its KL weighted by β
//
// The multinomial makes the items compete for a fixed probability mass, which suits ranking: the
// likelihood rises only by putting mass on the items the user has, at the expense of the rest. β < 1 (a
// partial regularisation of the posterior) is the paper's main change to a plain VAE: β is annealed from 0
// with slope 1/total_anneal_steps and capped at β_max = 0.2 (train/schedules.ts: klAnnealing). At inference
// z = μ (no sampling) and no dropout; the scores are the decoder's logits, which rank as π does.
//
// As in the authors' code: Glorot-uniform weights; the losses averaged over the batch's users; no weight
// decay (their Mult-VAE runs with lam = 0). Unlike the paper, which holds out whole users (strong
// generalisation), the library evaluates on held-out items of training users: the user's training row is
// the input that the held-out items are scored from.
//
// A `LossModel` over `MultVaeBatch`es (users, and the β of that step): train it with `fit`, batches from
// `multVaeBatches`, and Adam at 0.001 (the paper's), batches of 500 users.

import * as tf from "@tensorflow/tfjs";
import type { DropoutMaskSpec } from "../backend/kernels/index";
import { Rng } from "../backend/random";
import { checkPairs, checkPositiveInteger, checkRate } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { checkUsersInRange, ItemScorer } from "../eval/scorers";
import { dropUnits } from "../nn/dropout";
import type { NamedWeight } from "../nn/layeredModel";
import { DenseTower, denseTowerWeights } from "../nn/mlp";
import { readAndDispose } from "../nn/tensors";
import { rowBatches } from "../train/batches";
import { LossModel } from "../train/trainer";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface MultVaeConfig {
  /** Widths of the encoder's hidden layers (the decoder mirrors them). Default [600], the paper's. */
  hiddenUnits?: readonly number[];
  /** The width of z. Default 200, the paper's. */
  latentDim?: number;
  /** Dropout rate on the normalised input. Default 0.5, the paper's. */
  dropout?: number;
  /** Seeds the initialisation, the dropout masks and ε. */
  seed: number;
}

// ---------------------------------------------------------------------------------------------
// Training batches: users, and the β of the step
// ---------------------------------------------------------------------------------------------

export interface MultVaeBatch {
  users: Int32Array; // [B]
  /** β, the weight of the KL term at this step. */
  beta: number;
}

export interface MultVaeBatchesConfig {
  /** Users per step. The paper's: 500. */
  batchSize: number;
  /** Shuffles the users; pass the same Rng every epoch. */
  rng: Rng;
  /** β at each global step (0-based), e.g. `klAnnealing({ cap: 0.2, totalSteps })`. */
  beta: (step: number) => number;
}

/**
 * One epoch of batches: `users` (those with training items: `MultVae.trainingUsers`) in random order, each
 * batch with β of its global step, epoch·⌈|users| / batchSize⌉ + k for the epoch's k-th batch, so that a
 * resumed run anneals as an uninterrupted one would.
 */
export function multVaeBatches(users: Int32Array, epoch: number, config: MultVaeBatchesConfig): MultVaeBatch[] {
  const batches = rowBatches(users.length, { batchSize: config.batchSize, rng: config.rng });
  const first = epoch * batches.length;
  return batches.map((rows, k) => ({ users: Int32Array.from(rows, (r) => users[r]), beta: config.beta(first + k) }));
}

// ---------------------------------------------------------------------------------------------
// The ELBO, piece by piece
// ---------------------------------------------------------------------------------------------

/** x / ‖x‖₂ per row (a row of zeros stays zero). [B, I] */
function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-12))));
}

/** KL(N(μ, σ²) ‖ N(0, 1)) of each row, summed over the latent units: −½ Σ_d (1 + log σ²_d − μ²_d − σ²_d). [B] */
export function gaussianKl(mu: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), 1)));
}

/**
 * log p(x | π) = Σ_i x_i log softmax(z)_i of each row, written Σ_i x_i z_i − n·logsumexp(z) with n = Σ_i x_i:
 * the log-softmax never materialised, stable for any logits z. [B]
 *
 * Its gradient is given directly, ∂/∂z = x − n·softmax(z) (times the upstream dy per row): tfjs would
 * differentiate logsumexp through its max, with an [B, I] equality mask that cost a fifth of a training step.
 */
export function multinomialLogLikelihood(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D {
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const counts = tf.sum(x, 1, true); // n, [B, 1]
    const logNormalizer = tf.logSumExp(z, 1, true); // [B, 1]
    const probs = tf.exp(tf.sub(z, logNormalizer)); // softmax(z), [B, I]
    save([x, counts, probs]); // kept for the backward pass, which runs after the caller's tidy
    const value = tf.sub(tf.sum(tf.mul(x, z), 1), tf.squeeze(tf.mul(counts, logNormalizer), [1])); // [B]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, n, p] = saved;
      return tf.mul(tf.expandDims(dy, 1), tf.sub(xs, tf.mul(n, p))); // [B, I]
    };
    return { value, gradFunc };
  });
  return run(logits) as tf.Tensor1D;
}

/** z = μ + exp(½ log σ²) ⊙ ε. [B, L] */
export function reparameterize(mu: tf.Tensor2D, logVar: tf.Tensor2D, epsilon: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), epsilon)));
}

// ---------------------------------------------------------------------------------------------
// The model object
// ---------------------------------------------------------------------------------------------

/** Mult-VAE over the users and items of `train` (see the file header). Holds tfjs variables: call `dispose()`. */
export class MultVae implements LossModel<MultVaeBatch>, ItemScorer {
  readonly hiddenUnits: readonly number[];
  readonly latentDim: number;
  readonly dropout: number;
  /** I → hidden → 2L: μ is the first L outputs, log σ² the last L. */
  readonly encoder: DenseTower;
  /** L → hidden (mirrored) → I: the logits. */
  readonly decoder: DenseTower;
  /** The users with at least one training item, ascending: the ones to train on. */
  readonly trainingUsers: Int32Array;
  private readonly rows: CsrMatrix; // x_u: each user's distinct training items
  private readonly rng: Rng; // dropout masks and ε

  constructor(
    readonly train: Interactions,
    config: MultVaeConfig,
  ) {
    const caller = "MultVae";
    const hidden = config.hiddenUnits ?? [600];
    if (!Array.isArray(hidden)) throw new Error(`${caller}: hiddenUnits must be an array of widths`);
    this.hiddenUnits = hidden.map((w, l) => checkPositiveInteger(caller, `hiddenUnits[${l}]`, w));
    this.latentDim = checkPositiveInteger(caller, "latentDim", config.latentDim ?? 200);
    this.dropout = checkRate(caller, "dropout", config.dropout ?? 0.5);
    const rng = new Rng(config.seed);
    const { numItems } = train;
    const mirrored = [...this.hiddenUnits].reverse();
    this.encoder = new DenseTower({
      inputDim: numItems,
      units: [...this.hiddenUnits, 2 * this.latentDim],
      activation: "tanh",
      outputActivation: "linear",
      seed: rng.tfSeed(),
    });
    this.decoder = new DenseTower({
      inputDim: this.latentDim,
      units: [...mirrored, numItems],
      activation: "tanh",
      outputActivation: "linear",
      seed: rng.tfSeed(),
    });
    this.rng = rng.fork();
    this.rows = CsrMatrix.fromTriples(train.numUsers, numItems, train.users, train.items).dedupe("first");
    this.trainingUsers = Int32Array.from({ length: train.numUsers }, (_, u) => u).filter(
      (u) => this.rows.rowLength(u) > 0,
    );
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  get numItems(): number {
    return this.train.numItems;
  }

  /** x of `users`: [B, I] with 1 at each user's training items. */
  inputRows(users: Int32Array): tf.Tensor2D {
    const x = new Float32Array(users.length * this.numItems);
    users.forEach((u, b) => {
      for (let p = this.rows.offsets[u]; p < this.rows.offsets[u + 1]; p++)
        x[b * this.numItems + this.rows.indices[p]] = 1;
    });
    return tf.tensor2d(x, [users.length, this.numItems]);
  }

  /** q(z | x): μ and log σ² [B, L] from the rows x [B, I] (dropout on the input in training). */
  encode(x: tf.Tensor2D, training: boolean): { mu: tf.Tensor2D; logVar: tf.Tensor2D } {
    return tf.tidy(() => {
      let h = l2NormalizeRows(x); // [B, I]
      if (training && this.dropout > 0) {
        const spec: DropoutMaskSpec = { rate: this.dropout, key1: this.rng.nextUint32(), key2: this.rng.nextUint32() };
        h = dropUnits(h, spec) as tf.Tensor2D;
      }
      const [mu, logVar] = tf.split(this.encoder.apply(h), 2, 1) as [tf.Tensor2D, tf.Tensor2D]; // [B, L] each
      return { mu, logVar };
    });
  }

  /** The logits of π [B, I] for latent codes z [B, L]. */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    return this.decoder.apply(z);
  }

  /** The mean over the batch's users of −log p(x_u | z) + β·KL (see the header); z = μ outside training. */
  loss(batch: MultVaeBatch, training = true): tf.Scalar {
    const where = "MultVae.loss";
    if (batch.users.length === 0) throw new Error(`${where}: the batch is empty`);
    checkUsersInRange(where, batch.users, this.numUsers);
    if (!(batch.beta >= 0 && Number.isFinite(batch.beta)))
      throw new Error(`${where}: beta must be a finite number >= 0, got ${batch.beta}`);
    return tf.tidy(() => {
      const x = this.inputRows(batch.users); // [B, I]
      const { mu, logVar } = this.encode(x, training); // [B, L] each
      const z = training
        ? reparameterize(mu, logVar, tf.randomNormal(mu.shape, 0, 1, "float32", this.rng.tfSeed()))
        : mu; // [B, L]
      const logits = this.decode(z); // [B, I]
      const reconstruction = tf.neg(tf.mean(multinomialLogLikelihood(logits, x)));
      const kl = tf.mean(gaussianKl(mu, logVar));
      return tf.add(reconstruction, tf.mul(kl, batch.beta)) as tf.Scalar;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.encoder.variables(), ...this.decoder.variables()];
  }

  /** The logits of every item for each user, from the user's training row with z = μ: [users.length × numItems]. */
  scoreItems(users: Int32Array): Float32Array {
    checkUsersInRange("MultVae.scoreItems", users, this.numUsers);
    return readAndDispose(tf.tidy(() => this.decode(this.encode(this.inputRows(users), false).mu)));
  }

  /** The logits of the pairs (users[k], items[k]) (each pair's user scored in full: the decoder's cost). */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("MultVae.scorePairs", users, items);
    const out = new Float32Array(users.length);
    const chunk = 256;
    for (let start = 0; start < users.length; start += chunk) {
      const end = Math.min(start + chunk, users.length);
      const scores = this.scoreItems(users.subarray(start, end));
      for (let k = start; k < end; k++) {
        const item = items[k];
        if (!(Number.isInteger(item) && item >= 0 && item < this.numItems))
          throw new Error(`MultVae.scorePairs: items[${k}] is ${item}, outside the ${this.numItems} items`);
        out[k] = scores[(k - start) * this.numItems + item];
      }
    }
    return out;
  }

  /** The weights under stable names ("encoder/0/kernel", ...), for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return [...denseTowerWeights("encoder", this.encoder), ...denseTowerWeights("decoder", this.decoder)];
  }

  /** Saves the model and a record of its training data (the users' input rows) to the folder `path`. */
  save(path: string): Promise<void> {
    const config = { hiddenUnits: [...this.hiddenUnits], latentDim: this.latentDim, dropout: this.dropout };
    return MULT_VAE_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /** A model saved by `save`, on the training data it was saved with (checked). */
  static load(path: string, train: Interactions): Promise<MultVae> {
    return MULT_VAE_FORMAT.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, train: Interactions): Promise<MultVae> {
    return MULT_VAE_FORMAT.fromArtifacts(json, weights, train);
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }
}

/** A MultVae of a saved config's shape on `train` (checked against the saved record); load assigns the weights. */
const MULT_VAE_FORMAT = tfModelFormat(
  "MultVae",
  (config, train: Interactions) => new MultVae(train, { ...config, seed: 0 }),
  (train) => train,
);
