// A two-tower retrieval model (the "dual encoder" of YouTube's candidate generation, Covington, Adams and
// Sargin, RecSys 2016; Yi et al., "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
// Recommendations", RecSys 2019): a user tower and an item tower map each side, separately, to a unit
// vector, and the score is their scaled inner product.
//
//   x_u = [e_u ; Σ_g w_ug·a_g]      user id embedding, plus the mean embedding of the user's features
//   x_i = [e_i ; Σ_f w_if·c_f]      item id embedding, plus the mean embedding of its genres (features)
//   u = f_U(x_u) / ‖f_U(x_u)‖,   v_i = f_I(x_i) / ‖f_I(x_i)‖      f: small MLPs (ReLU, then linear)
//   s(u, i) = uᵀv_i / τ                                           τ: the temperature
//
// Because the two sides meet only in the final dot product, every item vector can be computed once and
// indexed, and retrieval for a user is a nearest-neighbour search — unlike NCF, whose MLP must run on
// every (user, item) pair. Normalising both sides bounds the score to [−1/τ, 1/τ]; a small τ sharpens the
// softmax below.
//
// Training, by default, is the in-batch sampled softmax: a batch holds B training pairs (u_b, i_b), and
// each user's positive competes with the other B − 1 positives of the batch as negatives,
//
//   L = −(1/B) Σ_b ln [ exp(s^c_bb) / Σ_j exp(s^c_bj) ],    s^c_bj = s(u_b, i_j) − ln Q_j,
//
// with the log-Q correction of Yi et al.: Q_j is the probability that a row of a batch holds item i_j,
// its share of the training interactions. In-batch negatives are drawn in proportion to popularity,
// not uniformly, so without the correction a popular item is a negative far more often than in the
// full softmax over the catalogue that the batch stands in for: the model learns to push popular items
// down, by about ln Q (it estimates s − ln Q instead of s). Subtracting ln Q_j is the importance weight
// that makes the sampled softmax estimate the full one. (Yi et al. estimate Q with a streaming
// frequency estimator, their corpus being a stream; a fixed training log gives it exactly.) An item
// twice in a batch is not its own negative: such "accidental hits" are masked out of the other rows'
// softmax.
// As an option the model trains with BPR on sampled negatives instead: −ln σ(s(u, i) − s(u, j)).

import * as tf from "@tensorflow/tfjs";
import { checkPositiveInteger } from "../checks";
import { Rng } from "../backend/random";
import { Interactions } from "../data/interactions";
import { itemPopularity } from "../data/stats";
import { ItemScorer } from "../eval/scorers";
import { DenseTower, denseTowerWeights, gatherRows } from "../nn/mlp";
import { softmaxCrossEntropyFromLabels, bprLoss } from "../train/losses";
import { readAndDispose } from "../nn/tensors";
import { ImplicitFeedbackBatch, ImplicitFeedbackModel, negativeCount } from "../train/implicitFeedback";
import {
  FeatureMatrix,
  SavedFeatures,
  checkSavedFeatures,
  featureMatrixRecord,
  itemFeatureMatrix,
} from "../data/featureMatrix";
import type { NamedWeight } from "../nn/layeredModel";
import { tfModelFormat } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// 1. Configuration
// ---------------------------------------------------------------------------------------------

export type TwoTowerLoss = "sampledSoftmax" | "bpr";

export interface TwoTowerConfig {
  /** E, the width of the id embeddings e_u, e_i (and of the feature embeddings). Default 32. */
  embeddingDim?: number;
  /** Hidden ReLU layers of each tower. Default [64]. */
  hiddenUnits?: readonly number[];
  /** d, the width of the output vectors u and v. Default 32. */
  outputDim?: number;
  /**
   * Item features; null for none. Default: the genres of `train` (`itemFeatureMatrix` with fields
   * ["genres"] and no identity feature), if it has genres. Rows are mixed densely: meant for a few
   * dozen features, not thousands of tags.
   */
  itemFeatures?: FeatureMatrix | null;
  /** User features (e.g. `userFeatureMatrix(train, { fields: ["ageGroups"], identity: false })`). Default null. */
  userFeatures?: FeatureMatrix | null;
  /** τ. Default 0.1. */
  temperature?: number;
  /** Default "sampledSoftmax" (in-batch negatives); "bpr" uses sampled negatives. */
  loss?: TwoTowerLoss;
  /** Subtract ln Q from the in-batch logits (see the file header). Default true. */
  logQCorrection?: boolean;
  /** Standard deviation of the normal initialisation of the embeddings. Default 0.1. */
  initStd?: number;
  /** Seeds the initialisation. */
  seed: number;
}

// ---------------------------------------------------------------------------------------------
// 2. One tower: embeddings → MLP → unit vector
// ---------------------------------------------------------------------------------------------

/** One side's parameters: id embeddings, optional feature embeddings, the MLP. */
export interface Tower {
  ids: tf.Variable<tf.Rank.R2>; // [R, E]: e_r
  /** w_rf as a dense constant, with the feature embeddings, when the side has features. */
  features?: { weights: tf.Tensor2D /* [R, F] */; embeddings: tf.Variable<tf.Rank.R2> /* [F, E] */ };
  mlp: DenseTower; // [E or 2E] → hidden → [d]
}

/** Unit vectors of the rows `rows` of one side: [N, d]. */
function towerVectors(tower: Tower, rows: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    let x = gatherRows(tower.ids, rows); // e_r: [N, E]
    if (tower.features) {
      const w = gatherRows(tower.features.weights, rows); // [N, F]
      x = tf.concat([x, tf.matMul(w, tower.features.embeddings)], 1) as tf.Tensor2D; // [e_r ; Σ_f w_rf c_f]: [N, 2E]
    }
    return l2Normalize(tower.mlp.apply(x)); // [N, d]
  });
}

/** x / ‖x‖ along the last axis (a zero row stays zero). */
function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D);
}

type TowerSizes = Required<Pick<TwoTowerConfig, "embeddingDim" | "hiddenUnits" | "outputDim" | "initStd">>;

/** A tower over `rows` rows (users or items), its weights drawn from `rng`. */
function buildTower(rows: number, features: FeatureMatrix | null, config: TowerSizes, rng: Rng): Tower {
  const { embeddingDim: e, initStd } = config;
  const normal = (shape: [number, number]) =>
    tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, initStd, "float32", rng.tfSeed()) as tf.Tensor2D));
  const ids = normal([rows, e]);
  const tower: Tower = {
    ids,
    features: features
      ? {
          weights: tf.tensor2d(Float32Array.from(features.weights.toDense()), [rows, features.names.length]),
          embeddings: normal([features.names.length, e]),
        }
      : undefined,
    mlp: new DenseTower({
      inputDim: features ? 2 * e : e,
      units: [...config.hiddenUnits, config.outputDim],
      activation: "relu",
      outputActivation: "linear",
      seed: rng.tfSeed(),
    }),
  };
  return tower;
}

function towerVariables(tower: Tower): tf.Variable[] {
  return [tower.ids, ...(tower.features ? [tower.features.embeddings] : []), ...tower.mlp.variables()];
}

// ---------------------------------------------------------------------------------------------
// 3. The model
// ---------------------------------------------------------------------------------------------

/**
 * The two-tower model (see the file header). A `LossModel` over `ImplicitFeedbackBatch`es — train it
 * with `fitImplicitFeedback` (from ./ncf), batches of a thousand or so for the in-batch softmax — and an
 * `ItemScorer`. Holds tfjs variables and constants: call `dispose()` when done.
 */
export class TwoTower implements ImplicitFeedbackModel, ItemScorer {
  readonly temperature: number;
  readonly objective: TwoTowerLoss;
  readonly logQCorrection: boolean;
  /** 0 for the in-batch softmax (its negatives are the batch's other positives), 1 for BPR. */
  readonly negativesPerPositive: number;
  readonly user: Tower;
  readonly item: Tower;
  readonly itemFeatures: FeatureMatrix | null;
  readonly userFeatures: FeatureMatrix | null;
  /** ln Q_i, Q_i = item i's share of the training interactions (0 for items without any: never in a batch). */
  readonly logQ: Float32Array;

  constructor(
    readonly train: Interactions,
    config: TwoTowerConfig,
  ) {
    const caller = "TwoTower";
    const sizes = {
      embeddingDim: checkPositiveInteger(caller, "embeddingDim", config.embeddingDim ?? 32),
      hiddenUnits: (config.hiddenUnits ?? [64]).map((u, l) => checkPositiveInteger(caller, `hiddenUnits[${l}]`, u)),
      outputDim: checkPositiveInteger(caller, "outputDim", config.outputDim ?? 32),
      initStd: config.initStd ?? 0.1,
    };
    if (!(sizes.initStd >= 0 && Number.isFinite(sizes.initStd)))
      throw new Error(`${caller}: initStd must be a finite number >= 0, got ${sizes.initStd}`);
    this.temperature = config.temperature ?? 0.1;
    if (!(this.temperature > 0 && Number.isFinite(this.temperature)))
      throw new Error(`${caller}: temperature must be a positive number, got ${this.temperature}`);
    this.objective = config.loss ?? "sampledSoftmax";
    if (this.objective !== "sampledSoftmax" && this.objective !== "bpr") {
      throw new Error(`${caller}: loss must be "sampledSoftmax" or "bpr", got ${JSON.stringify(config.loss)}`);
    }
    this.logQCorrection = config.logQCorrection ?? true;
    this.negativesPerPositive = this.objective === "bpr" ? 1 : 0;
    if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);

    this.itemFeatures = config.itemFeatures !== undefined ? config.itemFeatures : defaultItemFeatures(train);
    this.userFeatures = config.userFeatures ?? null;
    checkFeatureRows(this.itemFeatures, train.numItems, "itemFeatures", "items");
    checkFeatureRows(this.userFeatures, train.numUsers, "userFeatures", "users");

    const rng = new Rng(config.seed);
    this.user = buildTower(train.numUsers, this.userFeatures, sizes, rng);
    this.item = buildTower(train.numItems, this.itemFeatures, sizes, rng);

    const counts = itemPopularity(train);
    this.logQ = Float32Array.from(counts, (c) => (c > 0 ? Math.log(c / train.length) : 0));
  }

  get numItems(): number {
    return this.train.numItems;
  }

  get numUsers(): number {
    return this.train.numUsers;
  }

  /** u for each user: [users.length, d] (the caller disposes it). */
  userVectors(users: tf.Tensor1D): tf.Tensor2D {
    return towerVectors(this.user, users);
  }

  /** v_i for each item: [items.length, d] (the caller disposes it). */
  itemVectors(items: tf.Tensor1D): tf.Tensor2D {
    return towerVectors(this.item, items);
  }

  /** The in-batch softmax loss, or BPR on the batch's negatives (see the file header). */
  loss(batch: ImplicitFeedbackBatch): tf.Scalar {
    const n = negativeCount(batch, "TwoTower.loss");
    return this.objective === "bpr" ? this.bprLoss(batch, n) : this.inBatchSoftmaxLoss(batch);
  }

  private inBatchSoftmaxLoss(batch: ImplicitFeedbackBatch): tf.Scalar {
    const b = batch.users.length;
    const offsets = new Float32Array(b); // ln Q of each column's item
    if (this.logQCorrection) for (let j = 0; j < b; j++) offsets[j] = this.logQ[batch.positives[j]];
    const hits = accidentalHits(batch.positives);
    return tf.tidy(() => {
      const u = this.userVectors(tf.tensor1d(batch.users, "int32")); // [B, d]
      const v = this.itemVectors(tf.tensor1d(batch.positives, "int32")); // [B, d]
      let logits = tf.div(tf.matMul(u, v, false, true), this.temperature) as tf.Tensor2D; // s(u_b, i_j): [B, B]
      logits = tf.sub(logits, tf.tensor2d(offsets, [1, b])); // s^c = s − ln Q_j
      if (hits) logits = tf.add(logits, tf.tensor2d(hits, [b, b])); // masks i_j = i_b, j ≠ b
      const diagonal = tf.range(0, b, 1, "int32") as tf.Tensor1D; // row b's positive is column b
      return tf.mean(softmaxCrossEntropyFromLabels(logits, diagonal)) as tf.Scalar;
    });
  }

  private bprLoss(batch: ImplicitFeedbackBatch, n: number): tf.Scalar {
    if (n === 0) throw new Error("TwoTower.loss: BPR needs at least one negative per positive");
    const b = batch.users.length;
    return tf.tidy(() => {
      const u = this.userVectors(tf.tensor1d(batch.users, "int32")); // [B, d]
      const vPos = this.itemVectors(tf.tensor1d(batch.positives, "int32")); // [B, d]
      const vNeg = tf.reshape(this.itemVectors(tf.tensor1d(batch.negatives, "int32")), [b, n, -1]); // [B, n, d]
      const positive = tf.div(tf.sum(tf.mul(u, vPos), 1), this.temperature) as tf.Tensor1D; // [B]
      const negative = tf.div(tf.sum(tf.mul(tf.expandDims(u, 1), vNeg), 2), this.temperature) as tf.Tensor2D; // [B, n]
      return bprLoss(positive, negative);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...towerVariables(this.user), ...towerVariables(this.item)];
  }

  /** s(u, i) of every item for each user: [users.length × numItems], row-major. Item vectors are computed once per call. */
  scoreItems(users: Int32Array): Float32Array {
    return readAndDispose(
      tf.tidy(() => {
        const u = this.userVectors(tf.tensor1d(users, "int32")); // [B, d]
        const v = this.itemVectors(tf.range(0, this.numItems, 1, "int32") as tf.Tensor1D); // [I, d]
        return tf.div(tf.matMul(u, v, false, true), this.temperature); // [B, I]
      }),
    );
  }

  /** s(users[k], items[k]) for each pair; agrees with `scoreItems`. */
  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length)
      throw new Error(`TwoTower.scorePairs: ${users.length} users but ${items.length} items`);
    return readAndDispose(
      tf.tidy(() => {
        const u = this.userVectors(tf.tensor1d(users, "int32"));
        const v = this.itemVectors(tf.tensor1d(items, "int32"));
        return tf.div(tf.sum(tf.mul(u, v), 1), this.temperature);
      }),
    );
  }

  /** The weights under stable names ("user/ids", "item/mlp/0/kernel"...), for `save` and checkpoints. */
  namedWeights(): NamedWeight[] {
    return [...towerWeights("user", this.user), ...towerWeights("item", this.item)];
  }

  /**
   * Saves the model, a record of its training data and of its feature matrices (checked on loading)
   * to the folder `path` (see train/savedModel.ts).
   */
  save(path: string): Promise<void> {
    const units = this.user.mlp.layers.map((layer) => layer.kernel.shape[1]);
    const config = {
      embeddingDim: this.user.ids.shape[1],
      hiddenUnits: units.slice(0, -1),
      outputDim: units[units.length - 1],
      temperature: this.temperature,
      loss: this.objective,
      logQCorrection: this.logQCorrection,
      itemFeatures: this.itemFeatures && featureMatrixRecord(this.itemFeatures),
      userFeatures: this.userFeatures && featureMatrixRecord(this.userFeatures),
    };
    return TWO_TOWER_FORMAT.save(path, config, this.namedWeights(), this.train);
  }

  /**
   * A model saved by `save`, on the training data it was saved with; `features` are the matrices it
   * was built with when they were not the defaults (checked against the saved record).
   */
  static load(path: string, train: Interactions, features: SavedFeatures = {}): Promise<TwoTower> {
    return TWO_TOWER_FORMAT.load(path, train, features);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train: Interactions,
    features: SavedFeatures = {},
  ): Promise<TwoTower> {
    return TWO_TOWER_FORMAT.fromArtifacts(json, weights, train, features);
  }

  dispose(): void {
    tf.dispose(this.trainableVariables());
    tf.dispose(
      [this.user.features?.weights, this.item.features?.weights].filter((t): t is tf.Tensor2D => t !== undefined),
    );
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * A [B × B] additive mask that is −1e9 where column j holds the same item as row b's positive (j ≠ b),
 * 0 elsewhere; null when the batch has no repeated item.
 */
export function accidentalHits(positives: Int32Array): Float32Array | null {
  const b = positives.length;
  const first = new Map<number, number[]>();
  let repeated = false;
  for (let j = 0; j < b; j++) {
    const list = first.get(positives[j]);
    if (list) {
      list.push(j);
      repeated = true;
    } else first.set(positives[j], [j]);
  }
  if (!repeated) return null;
  const mask = new Float32Array(b * b);
  for (const list of first.values()) {
    if (list.length < 2) continue;
    for (const r of list) for (const c of list) if (r !== c) mask[r * b + c] = -1e9;
  }
  return mask;
}

/** The genres of `train` as features, or null when it has none. */
function defaultItemFeatures(train: Interactions): FeatureMatrix | null {
  if (train.itemInfo.genres === undefined) return null;
  const genres = itemFeatureMatrix(train, { fields: ["genres"], identity: false });
  return genres.names.length > 0 ? genres : null;
}

function checkFeatureRows(features: FeatureMatrix | null, expected: number, field: string, what: string): void {
  if (features === null) return;
  if (features.weights.numRows !== expected) {
    throw new Error(
      `TwoTower: ${field} has ${features.weights.numRows} rows but the training data has ${expected} ${what}`,
    );
  }
  if (features.names.length === 0) throw new Error(`TwoTower: ${field} has no features; pass null for none`);
}

function towerWeights(prefix: string, tower: Tower): NamedWeight[] {
  return [
    { name: `${prefix}/ids`, variable: tower.ids },
    ...(tower.features ? [{ name: `${prefix}/features/embeddings`, variable: tower.features.embeddings }] : []),
    ...denseTowerWeights(`${prefix}/mlp`, tower.mlp),
  ];
}

const TWO_TOWER_FORMAT = tfModelFormat(
  "TwoTower",
  (config, train: Interactions, features: SavedFeatures) => buildTwoTower(config, train, features),
  (train) => train,
);

/** A TwoTower with a saved config's shape and the features it records (default or given, checked). */
function buildTwoTower(config: Record<string, unknown>, train: Interactions, features: SavedFeatures): TwoTower {
  const { itemFeatures: savedItems, userFeatures: savedUsers, ...sizes } = config;
  const model = new TwoTower(train, {
    ...(sizes as Omit<TwoTowerConfig, "seed">),
    itemFeatures: savedItems === null ? null : features.itemFeatures,
    userFeatures: savedUsers === null ? null : features.userFeatures,
    seed: 0,
  });
  try {
    checkSavedFeatures("TwoTower", "itemFeatures", savedItems, model.itemFeatures);
    checkSavedFeatures("TwoTower", "userFeatures", savedUsers, model.userFeatures);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
