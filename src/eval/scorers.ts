// The interfaces a model implements to be evaluated: `ItemScorer` for ranking (top-K, full or
// sampled protocol) and `RatingPredictor` for rating prediction. Also what the top-K and ranking
// code share: the batch loop that calls `scoreItems`, and checks of the users and items handed in.

import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";

/**
 * A model that scores items for users, higher meaning more relevant. One call scores a whole batch of
 * users, so a tfjs model can run one `predict` per batch (`scores.dataSync()` gives the row-major
 * buffer) and a plain JS model can fill the buffer in a loop.
 */
export interface ItemScorer {
  readonly numItems: number;
  /** Users 0..numUsers−1 can be scored; when given, `recommendTopK` rejects any other user. */
  readonly numUsers?: number;
  /** Scores of every item for each user: [users.length × numItems], row-major. */
  scoreItems(users: Int32Array): Float32Array | Float64Array;
  /**
   * Optional: the scores of the pairs (users[j], items[j]). The sampled protocol uses it when present,
   * for models that score a few candidates much more cheaply than the whole catalogue; it must agree
   * with `scoreItems`.
   */
  scorePairs?(users: Int32Array, items: Int32Array): Float32Array | Float64Array;
}

/** A model that predicts the rating of each pair (users[j], items[j]). */
export interface RatingPredictor {
  predict(users: Int32Array, items: Int32Array): Float32Array | Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Shared by top-K recommendation and ranking evaluation
// ---------------------------------------------------------------------------------------------

/** Scores `users` in batches and hands each batch's row-major scores to `visit`. */
export function forEachScoredBatch(
  fn: string,
  model: ItemScorer,
  users: Int32Array,
  batchSize: number,
  visit: (start: number, batch: Int32Array, scores: Float32Array | Float64Array) => void,
): void {
  for (let start = 0; start < users.length; start += batchSize) {
    const batch = users.subarray(start, Math.min(start + batchSize, users.length));
    const scores = model.scoreItems(batch);
    if (scores.length !== batch.length * model.numItems) {
      throw new Error(
        `${fn}: scoreItems returned ${scores.length} scores for ${batch.length} users × ${model.numItems} items`,
      );
    }
    visit(start, batch, scores);
  }
}

/** Each user's items (ascending) and ratings as sparse rows; repeated (user, item) rows are kept. */
export function groupByUser(data: Interactions): CsrMatrix {
  return CsrMatrix.fromTriples(data.numUsers, data.numItems, data.users, data.items, data.ratings);
}

export function setMask(mask: Uint8Array, groups: CsrMatrix, user: number, value: number): void {
  for (let g = groups.offsets[user]; g < groups.offsets[user + 1]; g++) mask[groups.indices[g]] = value;
}

export function checkSameItems(fn: string, field: string, dataItems: number, modelItems: number): void {
  if (dataItems !== modelItems) {
    throw new Error(`${fn}: '${field}' has ${dataItems} items but the model scores ${modelItems}`);
  }
}

export function toUserArray(fn: string, users: ArrayLike<number>): Int32Array {
  const out = new Int32Array(users.length);
  for (let i = 0; i < users.length; i++) {
    // Above 2^31 − 1 an Int32Array would wrap the id around (2^32 becomes user 0).
    if (!Number.isInteger(users[i]) || users[i] < 0 || users[i] > 0x7fffffff)
      throw new Error(`${fn}: users[${i}] is ${users[i]}, not a user index`);
    out[i] = users[i];
  }
  return out;
}

export function checkUsersInRange(fn: string, users: Int32Array, numUsers: number): void {
  for (let i = 0; i < users.length; i++) {
    if (users[i] >= numUsers)
      throw new Error(`${fn}: users[${i}] is ${users[i]}, outside the ${numUsers} users of the data`);
  }
}
