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
// that never had a successor. Fitting is one pass over the log; no gradients.

import { Interactions } from "../data/interactions";
import { UserSequences } from "../data/sequences";
import { RowOrder } from "../data/userIndex";
import { ItemScorer } from "../eval/protocols";

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
  private state: { histories: UserSequences; successors: Map<number, number>[]; prior: Float64Array } | null = null;

  constructor(config: MarkovChainConfig = {}) {
    const smoothing = config.smoothing ?? 1;
    if (!(typeof smoothing === "number" && Number.isFinite(smoothing) && smoothing > 0)) {
      throw new Error(`MarkovChainRecommender: smoothing must be a finite number > 0, got ${smoothing}`);
    }
    this.smoothing = smoothing;
    this.order = config.order ?? "time";
  }

  /** Counts the transitions of every user's training sequence. */
  fit(train: Interactions): this {
    const histories = UserSequences.from(train, this.order);
    const successors: Map<number, number>[] = Array.from({ length: train.numItems }, () => new Map());
    const prior = new Float64Array(train.numItems);
    for (let u = 0; u < histories.numUsers; u++) {
      const items = histories.itemsOf(u);
      for (let t = 0; t < items.length; t++) {
        prior[items[t]]++;
        if (t > 0) {
          const row = successors[items[t - 1]];
          row.set(items[t], (row.get(items[t]) ?? 0) + 1);
        }
      }
    }
    if (train.length > 0) for (let j = 0; j < prior.length; j++) prior[j] /= train.length;
    this.state = { histories, successors, prior };
    return this;
  }

  get numItems(): number {
    return this.fitted("numItems").prior.length;
  }

  /** P(j | i) for every j: [numItems]. */
  transitionRow(item: number): Float64Array {
    const { successors, prior } = this.fitted("transitionRow");
    if (!(Number.isInteger(item) && item >= 0 && item < prior.length)) {
      throw new RangeError(`MarkovChainRecommender.transitionRow: item ${item} is outside [0, ${prior.length})`);
    }
    const row = successors[item];
    let total = 0;
    for (const count of row.values()) total += count;
    const λ = this.smoothing;
    const out = new Float64Array(prior.length);
    for (let j = 0; j < out.length; j++) out[j] = (λ * prior[j]) / (total + λ);
    for (const [j, count] of row) out[j] += count / (total + λ);
    return out;
  }

  /** Each user's row P(· | last training item); a user with no history gets the prior π. */
  scoreItems(users: Int32Array): Float32Array {
    const { histories, prior } = this.fitted("scoreItems");
    const n = prior.length;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const u = users[b];
      if (!(Number.isInteger(u) && u >= 0 && u < histories.numUsers)) {
        throw new RangeError(`MarkovChainRecommender.scoreItems: user ${u} is outside [0, ${histories.numUsers})`);
      }
      const items = histories.itemsOf(u);
      out.set(items.length === 0 ? prior : this.transitionRow(items[items.length - 1]), b * n);
    }
    return out;
  }

  private fitted(what: string) {
    if (this.state === null) throw new Error(`MarkovChainRecommender.${what}: call fit(train) first`);
    return this.state;
  }
}
