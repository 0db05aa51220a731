// A first-order Markov chain over items: the classical sequential baseline (the "MC" of Rendle,
// Freudenthaler and Schmidt-Thieme, "Factorizing Personalized Markov Chains for Next-Basket
// Recommendation", WWW 2010). The next item depends only on the last one:
//
//   counts     c(i, j) = how often j directly follows i in a training sequence
//   estimate   P(j | i) = (c(i, j) + λ·π(j)) / (c(i, ·) + λ),  π(j) = item j's share of training rows
//   score      s(u, j) = P(j | last item of u's history)
//
// The λ-weighted popularity prior (additive smoothing toward π) ranks what the chain has never seen
// after i by popularity instead of leaving thousands of ties, and is the whole model for an item
// that never had a successor. Fitting is one pass over the log; no gradients. Scoring reads only each
// user's last training item, so that is all of the histories the model keeps, and `save` writes.

import { checkInteger, checkPositive, requireFitted } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { UserSequences } from "../data/sequences";
import { RowOrder } from "../data/userIndex";
import { ItemScorer } from "../eval/scorers";
import { arrayModelFormat, csrArrays, readCsr, TrainingData } from "../train/savedModel";

export interface MarkovChainConfig {
  /** λ, the pseudo-count of the popularity prior in every row. Default 1. */
  smoothing?: number;
  /** How a user's rows are ordered: by "time" (default; ties in log order) or as logged ("row"). */
  order?: RowOrder;
}

/** P(next | last) from consecutive training items; `fit(train)` reads the log in time order. */
export class MarkovChainRecommender implements ItemScorer {
  readonly smoothing: number;
  readonly order: RowOrder;
  /** Each user's last training item (−1: none); `successors` holds c(i, j): row i, column j. */
  private state: { lastItems: Int32Array; successors: CsrMatrix; prior: Float64Array } | null = null;
  private trainedOn: TrainingData | null = null;

  constructor(config: MarkovChainConfig = {}) {
    this.smoothing = checkPositive("MarkovChainRecommender", "smoothing", config.smoothing ?? 1);
    this.order = config.order ?? "time";
  }

  /** Counts the transitions of every user's training sequence. */
  fit(train: Interactions): this {
    const histories = UserSequences.from(train, this.order);
    const prior = new Float64Array(train.numItems);
    const lastItems = new Int32Array(histories.numUsers).fill(-1);
    const from: number[] = [];
    const to: number[] = [];
    for (let u = 0; u < histories.numUsers; u++) {
      const items = histories.itemsOf(u);
      if (items.length > 0) lastItems[u] = items[items.length - 1];
      for (let t = 0; t < items.length; t++) {
        prior[items[t]]++;
        if (t > 0) {
          from.push(items[t - 1]);
          to.push(items[t]);
        }
      }
    }
    // One entry per transition, then the repeats of (i, j) summed into the count c(i, j).
    const successors = CsrMatrix.fromTriples(
      train.numItems,
      train.numItems,
      Int32Array.from(from),
      Int32Array.from(to),
    ).dedupe("sum");
    if (train.length > 0) for (let j = 0; j < prior.length; j++) prior[j] /= train.length;
    this.state = { lastItems, successors, prior };
    this.trainedOn = train;
    return this;
  }

  get numItems(): number {
    return this.fitted("numItems").prior.length;
  }

  get numUsers(): number {
    return this.fitted("numUsers").lastItems.length;
  }

  /** P(j | i) for every j: [numItems]. */
  transitionRow(item: number): Float64Array {
    const { successors, prior } = this.fitted("transitionRow");
    if (!(Number.isInteger(item) && item >= 0 && item < prior.length)) {
      throw new RangeError(`MarkovChainRecommender.transitionRow: item ${item} is outside [0, ${prior.length})`);
    }
    const { offsets, indices, values } = successors;
    let total = 0;
    for (let p = offsets[item]; p < offsets[item + 1]; p++) total += values[p];
    const λ = this.smoothing;
    const out = new Float64Array(prior.length);
    for (let j = 0; j < out.length; j++) out[j] = (λ * prior[j]) / (total + λ);
    for (let p = offsets[item]; p < offsets[item + 1]; p++) out[indices[p]] += values[p] / (total + λ);
    return out;
  }

  /** Each user's row P(· | last training item); a user with no history gets the prior π. */
  scoreItems(users: Int32Array): Float32Array {
    const { lastItems, prior } = this.fitted("scoreItems");
    const n = prior.length;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const u = users[b];
      if (!(Number.isInteger(u) && u >= 0 && u < lastItems.length)) {
        throw new RangeError(`MarkovChainRecommender.scoreItems: user ${u} is outside [0, ${lastItems.length})`);
      }
      out.set(lastItems[u] < 0 ? prior : this.transitionRow(lastItems[u]), b * n);
    }
    return out;
  }

  /** Saves the counts, the prior and each user's last item to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { lastItems, successors, prior } = this.fitted("save");
    return MarkovChainRecommender.format.save(path, {
      config: { smoothing: this.smoothing, order: this.order },
      fitted: { numUsers: lastItems.length, numItems: prior.length },
      arrays: [
        ...csrArrays("successors", successors),
        { name: "prior", values: prior, shape: [prior.length] },
        { name: "lastItems", values: lastItems, shape: [lastItems.length] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, fitted; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<MarkovChainRecommender> {
    return MarkovChainRecommender.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<MarkovChainRecommender> {
    return MarkovChainRecommender.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "MarkovChainRecommender",
    ({ config, fitted, arrays, data }) => {
      const model = new MarkovChainRecommender(config as MarkovChainConfig);
      const numUsers = checkInteger("MarkovChainRecommender", "numUsers", fitted.numUsers, 0);
      const numItems = checkInteger("MarkovChainRecommender", "numItems", fitted.numItems, 0);
      const lastItems = arrays.int32("lastItems", [numUsers]);
      const bad = lastItems.findIndex((i) => !(i >= -1 && i < numItems));
      if (bad >= 0)
        throw arrays.invalid("lastItems", `holds ${lastItems[bad]} at index ${bad}, outside [−1, ${numItems})`);
      model.state = {
        lastItems,
        successors: readCsr(arrays, "successors", numItems, numItems),
        prior: arrays.float64("prior", [numItems]),
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  private fitted(what: string) {
    return requireFitted(`MarkovChainRecommender.${what}`, this.state);
  }
}
