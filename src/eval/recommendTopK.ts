// Top-K recommendation for any `ItemScorer`: the K best-scoring items of each user, best first,
// optionally without the items the user has already interacted with.

import { checkPositiveInteger } from "../checks";
import { TopKSelector } from "../data/topK";
import { Interactions } from "../data/interactions";
import {
  ItemScorer,
  checkSameItems,
  checkUsersInRange,
  forEachScoredBatch,
  groupByUser,
  setMask,
  toUserArray,
} from "./scorers";

/** The top-K lists of a batch of users, best first; row `r` belongs to `users[r]`. */
export class TopKRecommendations {
  constructor(
    readonly users: Int32Array,
    readonly k: number,
    /** [users.length × k], row-major; a row with fewer than k candidates is padded with -1. */
    readonly items: Int32Array,
    /** Scores aligned with `items`, NaN in the padding. */
    readonly scores: Float32Array,
    /** How many real entries each row has (k unless the user had fewer unseen items). */
    readonly counts: Int32Array,
  ) {}

  get length(): number {
    return this.users.length;
  }

  /** Row `row`'s recommended items, best first, without padding (a view, not a copy). */
  itemsOf(row: number): Int32Array {
    return this.items.subarray(row * this.k, row * this.k + this.counts[row]);
  }

  /** Row `row`'s scores, aligned with `itemsOf(row)`. */
  scoresOf(row: number): Float32Array {
    return this.scores.subarray(row * this.k, row * this.k + this.counts[row]);
  }

  /** Every row's list, as views. */
  lists(): Int32Array[] {
    const out: Int32Array[] = [];
    for (let r = 0; r < this.users.length; r++) out.push(this.itemsOf(r));
    return out;
  }
}

export interface RecommendTopKOptions {
  k: number;
  /** Items each user interacted with here are never recommended to them (usually the training data). */
  excludeSeen?: Interactions;
  /** Users scored per model call; default 256. */
  batchSize?: number;
}

/**
 * The K best-scoring items for each user, best first, ties broken by the lower item index. Selection
 * keeps a size-K heap per user, O(numItems · log K), instead of sorting the catalogue.
 */
export function recommendTopK(
  model: ItemScorer,
  users: ArrayLike<number>,
  options: RecommendTopKOptions,
): TopKRecommendations {
  const k = checkPositiveInteger("recommendTopK", "k", options.k);
  const batchSize = checkPositiveInteger("recommendTopK", "batchSize", options.batchSize ?? 256);
  const numItems = model.numItems;
  const userList = toUserArray("recommendTopK", users);
  const seen = options.excludeSeen === undefined ? null : groupByUser(options.excludeSeen);
  if (options.excludeSeen !== undefined) {
    checkSameItems("recommendTopK", "excludeSeen", options.excludeSeen.numItems, numItems);
    checkUsersInRange("recommendTopK", userList, options.excludeSeen.numUsers);
  }
  if (model.numUsers !== undefined) checkUsersInRange("recommendTopK", userList, model.numUsers);
  const items = new Int32Array(userList.length * k).fill(-1);
  const scores = new Float32Array(userList.length * k).fill(NaN);
  const counts = new Int32Array(userList.length);
  const selector = new TopKSelector(k);
  const mask = new Uint8Array(numItems);
  forEachScoredBatch("recommendTopK", model, userList, batchSize, (start, batch, batchScores) => {
    for (let b = 0; b < batch.length; b++) {
      const row = start + b;
      if (seen !== null) setMask(mask, seen, batch[b], 1);
      counts[row] = selector.select(
        batchScores,
        b * numItems,
        numItems,
        seen === null ? null : mask,
        items,
        scores,
        row * k,
        batch[b],
      );
      if (seen !== null) setMask(mask, seen, batch[b], 0);
    }
  });
  return new TopKRecommendations(userList, k, items, scores, counts);
}
