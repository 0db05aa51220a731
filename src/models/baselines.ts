// The two non-personalised baselines every ranking notebook reports beside its model: the most
// popular items first, and a random order. Popularity is the one to beat (on MovieLens it beats
// many personalised models); random shows what a metric's value is when nothing is learned.
// Neither is trained by gradients: `fit(train)` reads what they need from the training log. Both save
// what they keep (the counts; the seed and the catalogue size) and score no user differently from
// another, so neither has a `numUsers`: any user index can be scored.

import { Rng } from "../backend/random";
import { checkInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { ItemScorer } from "../eval/scorers";
import { arrayModelFormat, TrainingData } from "../train/savedModel";

/**
 * Scores every item by its number of training interactions, s(u, i) = |{(v, i) ∈ train}|, the same
 * for every user (Microsoft Recommenders' and RecBole's "Pop" baseline). Ties between equally popular
 * items fall to the lower item index in `recommendTopK`.
 */
export class PopularityRecommender implements ItemScorer {
  private counts: Float64Array | null = null;
  private trainedOn: TrainingData | null = null;

  /** Counts each item's interactions in `train`. */
  fit(train: Interactions): this {
    const counts = new Float64Array(train.numItems);
    for (let r = 0; r < train.length; r++) counts[train.items[r]]++;
    this.counts = counts;
    this.trainedOn = train;
    return this;
  }

  /** Saves the counts to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const counts = this.fitted("save");
    return PopularityRecommender.format.save(path, {
      config: {},
      fitted: { numItems: counts.length },
      arrays: [{ name: "popularity", values: counts, shape: [counts.length] }],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<PopularityRecommender> {
    return PopularityRecommender.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<PopularityRecommender> {
    return PopularityRecommender.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "PopularityRecommender",
    ({ fitted, arrays, data }) => {
      const model = new PopularityRecommender();
      const numItems = checkInteger("PopularityRecommender", "numItems", fitted.numItems, 0);
      model.counts = arrays.float64("popularity", [numItems]);
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  get numItems(): number {
    return this.fitted("numItems").length;
  }

  /** Training interactions per item (the scores). */
  get popularity(): Float64Array {
    return this.fitted("popularity");
  }

  scoreItems(users: Int32Array): Float32Array {
    const counts = this.fitted("scoreItems");
    const out = new Float32Array(users.length * counts.length);
    for (let b = 0; b < users.length; b++) out.set(counts, b * counts.length);
    return out;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    const counts = this.fitted("scorePairs");
    if (users.length !== items.length)
      throw new Error(`PopularityRecommender.scorePairs: ${users.length} users but ${items.length} items`);
    return Float32Array.from(items, (i) => counts[i]);
  }

  private fitted(what: string): Float64Array {
    if (this.counts === null) throw new Error(`PopularityRecommender.${what}: call fit(train) first`);
    return this.counts;
  }
}

export interface RandomRecommenderConfig {
  /** An integer seed, |seed| < 2^31. */
  seed: number;
}

const MAX_USERS = 2 ** 21;

/**
 * Scores every item with a uniform draw in [0, 1). User u's scores come from their own stream,
 * `new Rng(seed + u · 2^32)`, so they depend only on (seed, u): the same in every call, whatever
 * the batch, and two models with one seed agree. (The seed and the user index fill the low and the
 * high word of the Rng's seed, which stays an exact integer for up to 2^21 users.)
 */
export class RandomRecommender implements ItemScorer {
  readonly seed: number;
  private size: number | null = null;
  private trainedOn: TrainingData | null = null;

  constructor(config: RandomRecommenderConfig) {
    if (!(Number.isInteger(config.seed) && Math.abs(config.seed) < 2 ** 31)) {
      throw new Error(`RandomRecommender: 'seed' must be an integer with |seed| < 2^31, got ${config.seed}`);
    }
    this.seed = config.seed;
  }

  /** Takes the number of items from `train`; nothing else is learned. */
  fit(train: Interactions): this {
    this.size = train.numItems;
    this.trainedOn = train;
    return this;
  }

  /** Saves the seed and the number of items to the folder `path` (no arrays: that is all it is). */
  save(path: string): Promise<void> {
    return RandomRecommender.format.save(path, {
      config: { seed: this.seed },
      fitted: { numItems: this.numItems },
      arrays: [],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<RandomRecommender> {
    return RandomRecommender.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<RandomRecommender> {
    return RandomRecommender.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "RandomRecommender",
    ({ config, fitted, data }) => {
      const model = new RandomRecommender(config as unknown as RandomRecommenderConfig);
      model.size = checkInteger("RandomRecommender", "numItems", fitted.numItems, 0);
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  get numItems(): number {
    if (this.size === null) throw new Error("RandomRecommender.numItems: call fit(train) first");
    return this.size;
  }

  scoreItems(users: Int32Array): Float32Array {
    const n = this.numItems;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const u = users[b];
      if (!(Number.isInteger(u) && u >= 0 && u < MAX_USERS)) {
        throw new RangeError(`RandomRecommender.scoreItems: user ${u} is not a user index below 2^21`);
      }
      const rng = new Rng(this.seed + u * 2 ** 32);
      for (let i = 0; i < n; i++) out[b * n + i] = rng.next();
    }
    return out;
  }
}
