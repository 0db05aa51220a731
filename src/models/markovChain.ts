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

import { checkPositive, requireFitted } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { UserSequences } from "../data/sequences";
import { RowOrder } from "../data/userIndex";
import { ItemScorer } from "../eval/scorers";

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
  /** `successors` holds c(i, j): row i, column j. */
  private state: { histories: UserSequences; successors: CsrMatrix; prior: Float64Array } | null = null;

  constructor(config: MarkovChainConfig = {}) {
    this.smoothing = checkPositive("MarkovChainRecommender", "smoothing", config.smoothing ?? 1);
    this.order = config.order ?? "time";
  }

  /** Counts the transitions of every user's training sequence. */
  fit(train: Interactions): this {
    const histories = UserSequences.from(train, this.order);
    const prior = new Float64Array(train.numItems);
    const from: number[] = [];
    const to: number[] = [];
    for (let u = 0; u < histories.numUsers; u++) {
      const items = histories.itemsOf(u);
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
    return requireFitted(`MarkovChainRecommender.${what}`, this.state);
  }
}
