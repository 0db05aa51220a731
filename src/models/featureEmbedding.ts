// Feature embeddings for cold start: LightFM (Kula, "Metadata Embeddings for User and Item Cold-start
// Recommendations", CBRecSys 2015). The seed's hybrid stage — 为了解决协同过滤的冷启动问题，混合推荐系统将
// 内容信息和用户行为数据相结合 — in one model: matrix factorisation in which an item is
// not one vector but the sum of the vectors of its features — its own identity plus its genres, tags
// and authors — so that an item no one has rated still has a representation, built from the content
// features it shares with items people did rate.
//
//   q_i = Σ_{f ∈ F_i} w_if · e_f        item representation   (F_i: item i's features, e_f ∈ ℝ^D)
//   b_i = Σ_{f ∈ F_i} w_if · β_f        item bias
//   p_u = Σ_{g ∈ G_u} w_ug · e'_g       user representation   (G_u: user u's features)
//   s(u, i) = p_u · q_i + b_i           score
//
// A warm item's features are its identity feature and its content features; a cold item (no training
// interactions) has only its content features, so it lands where items of its genres and tags live.
// Users have their identity feature only, by default; demographic features (gender, occupation, age)
// can be added the same way. The paper's user bias b_u is left out: it adds the same amount to every
// item of a user, so it changes neither the user's ranking nor the pairwise loss below.
//
// Training is the BPR criterion (Rendle et al., UAI 2009), one of LightFM's losses: for a training pair
// (u, i) and an item j the user has not interacted with, drawn uniformly from the items that have
// training interactions (`warmItemSampler`),
//
//   L = mean over (u, i, j) of  −ln σ(s(u, i) − s(u, j)) + λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²).
//
// The sums over features are one `tf.gather` of each row's feature vectors and a weighted sum; the
// gradient of the gather is a segment sum, the wasm kernel that `initBackend` registers.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositiveInteger } from "../checks";
import { CsrMatrix } from "../data/csr";
import {
  FeatureMatrix,
  SavedFeatures,
  checkSavedFeatures,
  featureMatrixRecord,
  itemFeatureMatrix,
  userFeatureMatrix,
} from "../data/featureMatrix";
import { Interactions } from "../data/interactions";
import { NegativeSampler } from "../data/samplers";
import { ItemScorer } from "../eval/scorers";
import { rowBatches } from "../train/batches";
import { EpochLogs, fit, FitReporting, LossModel } from "../train/trainer";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// 1. Sums of feature embeddings (the feature matrices: data/featureMatrix.ts)
// ---------------------------------------------------------------------------------------------

/**
 * Σ_f w_rf · table[f] for each r in `rows`: [rows.length, D] for a [F, D] table, [rows.length] for a
 * [F] table of biases. A row without features sums to zeros.
 *
 * The rows' features are padded to the widest row (padding has weight 0), gathered as one
 * [rows, W, D] block and summed over W. A `tf.unsortedSegmentSum` over the unpadded entries computes
 * the same sum, but tfjs differentiates it with a broadcast `logicalAnd` that takes most of a
 * training step on the wasm backend; gather's own gradient is the fast segment-sum kernel.
 */
export function sumFeatureEmbeddings<R extends tf.Rank.R1 | tf.Rank.R2>(
  table: tf.Tensor<R>,
  features: CsrMatrix,
  rows: Int32Array,
): tf.Tensor<R> {
  const { ids, weights, width } = paddedFeatures(features, rows);
  return tf.tidy(() => {
    const gathered = tf.gather(table, tf.tensor2d(ids, [rows.length, width], "int32")); // [n, W, D] or [n, W]
    const w = tf.tensor2d(weights, [rows.length, width], "float32"); // [n, W]
    const weighted = gathered.rank === 3 ? tf.mul(gathered, tf.expandDims(w, 2)) : tf.mul(gathered, w);
    return tf.sum(weighted, 1) as tf.Tensor<R>; // [n, D] or [n]
  });
}

/** The feature ids and weights of `rows`, [rows.length × width] row-major, padded with (0, weight 0). */
function paddedFeatures(
  features: CsrMatrix,
  rows: Int32Array,
): { ids: Int32Array; weights: Float32Array; width: number } {
  const { offsets, indices, values, numRows } = features;
  let width = 1; // at least one column, so that featureless rows still give a [n, 1] block of zeros
  for (let s = 0; s < rows.length; s++) {
    const r = rows[s];
    if (!(r >= 0 && r < numRows))
      throw new RangeError(`sumFeatureEmbeddings: row ${r} is out of range [0, ${numRows})`);
    width = Math.max(width, offsets[r + 1] - offsets[r]);
  }
  const ids = new Int32Array(rows.length * width);
  const weights = new Float32Array(rows.length * width);
  for (let s = 0; s < rows.length; s++) {
    const r = rows[s];
    for (let k = offsets[r], p = s * width; k < offsets[r + 1]; k++, p++) {
      ids[p] = indices[k];
      weights[p] = values[k];
    }
  }
  return { ids, weights, width };
}

// ---------------------------------------------------------------------------------------------
// 2. The model
// ---------------------------------------------------------------------------------------------

export interface FeatureEmbeddingConfig {
  /** D, the embedding size. Default 10 (LightFM's no_components). */
  factors?: number;
  /** λ of the penalty on the batch's representations. Default 0 (LightFM's item_alpha, user_alpha). */
  regularization?: number;
  /** Item features; default `itemFeatureMatrix(train)` (identity for warm items plus all content fields). */
  itemFeatures?: FeatureMatrix;
  /** User features; default `userFeatureMatrix(train)` (identity only). */
  userFeatures?: FeatureMatrix;
  /** Embeddings start uniform in [−initScale, initScale]; biases at 0. Default 0.5 / D, as LightFM. */
  initScale?: number;
  /** Seeds the initialisation. */
  seed: number;
}

/** One step's training triplets: users[k] interacted with positives[k], not with negatives[k]. */
export interface FeatureEmbeddingBatch {
  users: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

/**
 * LightFM with the BPR loss (see the file header). A `LossModel` over batches of (user, positive,
 * negative) triplets — train it with `fitFeatureEmbedding` or with `fit` over
 * `featureEmbeddingBatches` — and an `ItemScorer` that scores every item, cold ones included. Holds
 * tfjs variables: call `dispose()` when done.
 */
export class FeatureEmbeddingModel implements LossModel<FeatureEmbeddingBatch>, ItemScorer {
  readonly factors: number;
  readonly regularization: number;
  readonly itemFeatures: FeatureMatrix;
  readonly userFeatures: FeatureMatrix;
  readonly params: {
    itemEmbeddings: tf.Variable<tf.Rank.R2>; // [F_items, D]: e_f
    itemBiases: tf.Variable<tf.Rank.R1>; // [F_items]: β_f
    userEmbeddings: tf.Variable<tf.Rank.R2>; // [F_users, D]: e'_g
  };

  constructor(
    readonly train: Interactions,
    config: FeatureEmbeddingConfig,
  ) {
    const caller = "FeatureEmbeddingModel";
    const factors = config.factors ?? 10;
    checkPositiveInteger(caller, "factors", factors);
    const regularization = config.regularization ?? 0;
    if (!(regularization >= 0 && Number.isFinite(regularization))) {
      throw new Error(`${caller}: regularization must be a finite number >= 0, got ${regularization}`);
    }
    const initScale = config.initScale ?? 0.5 / factors;
    if (!(initScale >= 0 && Number.isFinite(initScale)))
      throw new Error(`${caller}: initScale must be a finite number >= 0, got ${initScale}`);
    if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);
    this.factors = factors;
    this.regularization = regularization;
    this.itemFeatures = config.itemFeatures ?? itemFeatureMatrix(train);
    this.userFeatures = config.userFeatures ?? userFeatureMatrix(train);
    checkRows(this.itemFeatures, train.numItems, "itemFeatures", "items", train.name);
    checkRows(this.userFeatures, train.numUsers, "userFeatures", "users", train.name);

    const rng = new Rng(config.seed);
    const numItemFeatures = this.itemFeatures.names.length;
    const numUserFeatures = this.userFeatures.names.length;
    this.params = tf.tidy(() => ({
      itemEmbeddings: tf.variable(
        tf.randomUniform([numItemFeatures, factors], -initScale, initScale, "float32", rng.tfSeed()),
      ),
      itemBiases: tf.variable(tf.zeros([numItemFeatures])),
      userEmbeddings: tf.variable(
        tf.randomUniform([numUserFeatures, factors], -initScale, initScale, "float32", rng.tfSeed()),
      ),
    }));
  }

  get numItems(): number {
    return this.train.numItems;
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  /** p_u for each user: [users.length, D] (the caller disposes it). */
  userRepresentations(users: Int32Array): tf.Tensor2D {
    return sumFeatureEmbeddings(this.params.userEmbeddings, this.userFeatures.weights, users);
  }

  /** q_i and b_i for each item: [items.length, D] and [items.length] (the caller disposes them). */
  itemRepresentations(items: Int32Array): { vectors: tf.Tensor2D; biases: tf.Tensor1D } {
    return {
      vectors: sumFeatureEmbeddings(this.params.itemEmbeddings, this.itemFeatures.weights, items),
      biases: sumFeatureEmbeddings(this.params.itemBiases, this.itemFeatures.weights, items),
    };
  }

  /** The mean BPR loss of the batch plus the penalty (see the file header). */
  loss(batch: FeatureEmbeddingBatch): tf.Scalar {
    const { users, positives, negatives } = batch;
    const b = users.length;
    if (positives.length !== b || negatives.length !== b) {
      throw new Error(
        `FeatureEmbeddingModel.loss: ${b} users, ${positives.length} positives and ${negatives.length} negatives`,
      );
    }
    if (b === 0) throw new Error("FeatureEmbeddingModel.loss: the batch is empty");
    const items = new Int32Array(2 * b);
    items.set(positives);
    items.set(negatives, b);
    return tf.tidy(() => {
      const pu = this.userRepresentations(users); // [B, D]
      const { vectors, biases } = this.itemRepresentations(items); // [2B, D], [2B]
      const [qi, qj] = tf.split(vectors, 2); // [B, D] each
      const [bi, bj] = tf.split(biases, 2); // [B] each
      const x = tf.add(tf.sum(tf.mul(pu, tf.sub(qi, qj)), 1), tf.sub(bi, bj)); // s(u,i) − s(u,j): [B]
      const ranking = tf.mean(tf.softplus(tf.neg(x))); // −ln σ(x) = softplus(−x), stable for any x
      if (this.regularization === 0) return ranking as tf.Scalar;
      const norms = [pu, qi, qj].map((v) => tf.sum(tf.square(v), 1)); // ‖p_u‖², ‖q_i‖², ‖q_j‖²: [B] each
      const squares = tf.addN([...norms, tf.square(bi), tf.square(bj)]); // [B]
      return tf.add(ranking, tf.mul(tf.mean(squares), this.regularization)) as tf.Scalar;
    });
  }

  trainableVariables(): tf.Variable[] {
    const { itemEmbeddings, itemBiases, userEmbeddings } = this.params;
    return [itemEmbeddings, itemBiases, userEmbeddings];
  }

  /** s(u, i) = p_u · q_i + b_i for every item: [users.length × numItems], row-major. */
  scoreItems(users: Int32Array): Float32Array {
    return tf.tidy(() => {
      const q = this.userRepresentations(users); // [B, D]
      const { vectors, biases } = this.itemRepresentations(allRows(this.numItems)); // [I, D], [I]
      return tf.add(tf.matMul(q, vectors, false, true), tf.expandDims(biases, 0)).dataSync() as Float32Array;
    });
  }

  /** s(users[k], items[k]) for each pair; agrees with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length) {
      throw new Error(`FeatureEmbeddingModel.scorePairs: ${users.length} users but ${items.length} items`);
    }
    return tf.tidy(() => {
      const q = this.userRepresentations(users);
      const { vectors, biases } = this.itemRepresentations(items);
      return tf.add(tf.sum(tf.mul(q, vectors), 1), biases).dataSync() as Float32Array;
    });
  }

  /** q_i of every item, [numItems × D] row-major; a cold item's comes from its content features alone. */
  itemVectors(): Float32Array {
    return tf.tidy(() => this.itemRepresentations(allRows(this.numItems)).vectors.dataSync() as Float32Array);
  }

  /** The weights under stable names, for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return Object.entries(this.params).map(([name, variable]) => ({ name, variable: variable as tf.Variable }));
  }

  /**
   * Saves the model, a record of its training data and of its feature matrices (names and a hash,
   * checked on loading) to the folder `path` (see train/savedModel.ts).
   */
  save(path: string): Promise<void> {
    const config = {
      factors: this.factors,
      regularization: this.regularization,
      itemFeatures: featureMatrixRecord(this.itemFeatures),
      userFeatures: featureMatrixRecord(this.userFeatures),
    };
    return FEATURE_EMBEDDING_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /**
   * A model saved by `save`, on the training data it was saved with; `features` are the matrices it
   * was built with when they were not the defaults (checked against the saved record).
   */
  static load(path: string, train: Interactions, features: SavedFeatures = {}): Promise<FeatureEmbeddingModel> {
    return FEATURE_EMBEDDING_FORMAT.load(path, train, features);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train: Interactions,
    features: SavedFeatures = {},
  ): Promise<FeatureEmbeddingModel> {
    return FEATURE_EMBEDDING_FORMAT.fromArtifacts(json, weights, train, features);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Training: triplet batches and the default schedule
// ---------------------------------------------------------------------------------------------

export interface FeatureEmbeddingBatchesConfig {
  batchSize: number;
  /** Shuffles the rows and draws the negatives. */
  rng: Rng;
}

/**
 * One epoch of training triplets: the rows of `train` in a shuffled order, cut into batches, each
 * positive paired with one item its user has not interacted with, drawn by `sampler` (usually
 * `warmItemSampler(train)`).
 */
export function featureEmbeddingBatches(
  train: Interactions,
  sampler: NegativeSampler,
  config: FeatureEmbeddingBatchesConfig,
): FeatureEmbeddingBatch[] {
  return rowBatches(train.length, { batchSize: config.batchSize, rng: config.rng }).map((rows) => {
    const users = Int32Array.from(rows, (r) => train.users[r]);
    const positives = Int32Array.from(rows, (r) => train.items[r]);
    return { users, positives, negatives: sampler.sampleForEach(users, config.rng) };
  });
}

/**
 * Draws negatives uniformly from the items that have training interactions (a popularity sampler
 * with power 0 gives every such item weight 1 and the rest weight 0). Items without any are left
 * out on purpose: in a cold-start experiment they stand for items that do not exist yet when the
 * model is trained, and as negatives they would teach it that their content features are disliked
 * — by every user, since nobody has them.
 */
export function warmItemSampler(train: Interactions): NegativeSampler {
  return new NegativeSampler(train, { strategy: "popularity", power: 0 });
}

export interface FitFeatureEmbeddingConfig extends FitReporting {
  /** Default 20. */
  epochs?: number;
  /** Adam's step size. Default 0.01. */
  learningRate?: number;
  /** Triplets per step. Default 256. */
  batchSize?: number;
  /** Seeds the row order and the negatives. */
  seed: number;
}

/**
 * Trains `model` on its training data with `fit` and Adam. LightFM itself steps once per triplet
 * with Adagrad; a mean loss over a batch gives each feature row a gradient |B| times smaller, and
 * Adam's per-parameter scaling makes the step size independent of that.
 */
export async function fitFeatureEmbedding(
  model: FeatureEmbeddingModel,
  config: FitFeatureEmbeddingConfig,
): Promise<EpochLogs[]> {
  const batchSize = config.batchSize ?? 256;
  const learningRate = config.learningRate ?? 0.01;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new Error(`fitFeatureEmbedding: learningRate must be a positive number, got ${learningRate}`);
  }
  const rng = new Rng(config.seed);
  const sampler = warmItemSampler(model.train);
  const optimizer = tf.train.adam(learningRate);
  try {
    return await fit(model, {
      optimizer,
      epochs: config.epochs ?? 20,
      batches: () => featureEmbeddingBatches(model.train, sampler, { batchSize, rng }),
      callbacks: config.callbacks,
      progress: config.progress,
      label: config.label ?? "feature embeddings",
    });
  } finally {
    optimizer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let r = 0; r < n; r++) rows[r] = r;
  return rows;
}

function checkRows(features: FeatureMatrix, expected: number, field: string, what: string, name: string): void {
  if (features.weights.numRows !== expected) {
    throw new Error(
      `FeatureEmbeddingModel: ${field} has ${features.weights.numRows} rows but '${name}' has ${expected} ${what}`,
    );
  }
  if (features.names.length !== features.weights.numCols) {
    throw new Error(
      `FeatureEmbeddingModel: ${field} names ${features.names.length} features but has ${features.weights.numCols} columns`,
    );
  }
}

const FEATURE_EMBEDDING_FORMAT = tfModelFormat(
  "FeatureEmbeddingModel",
  (config, train: Interactions, features: SavedFeatures) => buildFeatureEmbedding(config, train, features),
  (train) => train,
);

/** A model with a saved config's shape and the features it records (default or given, checked). */
function buildFeatureEmbedding(
  config: Record<string, unknown>,
  train: Interactions,
  features: SavedFeatures,
): FeatureEmbeddingModel {
  const model = new FeatureEmbeddingModel(train, {
    factors: config.factors as number,
    regularization: config.regularization as number,
    itemFeatures: features.itemFeatures ?? undefined,
    userFeatures: features.userFeatures ?? undefined,
    seed: 0,
  });
  try {
    checkSavedFeatures("FeatureEmbeddingModel", "itemFeatures", config.itemFeatures, model.itemFeatures);
    checkSavedFeatures("FeatureEmbeddingModel", "userFeatures", config.userFeatures, model.userFeatures);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
