// The train ratings grouped by user and by item (Surprise's `Trainset`), with their mean and the
// rating scale, shared by the rating baselines, the neighbourhood models and Slope One; the checks
// those models make of the (user, item) pairs they are asked about; and how those models save them.

import { checkFinite, checkInteger } from "../checks";
import type { CheckpointArrays, NamedArray } from "../train/checkpointFormat";
import { csrArrays, readCsr } from "../train/savedModel";
import { CsrMatrix } from "./csr";
import { Interactions } from "./interactions";

/**
 * Ratings in compressed sparse row form: row `x` holds the pairs (indices[p], values[p]) for
 * offsets[x] <= p < offsets[x + 1], sorted by index (ties, i.e. repeated ratings, in log order).
 * The name is kept for notebooks; it is the library's one sparse type.
 */
export type RatingRows = CsrMatrix;

export interface SparseRatingsConfig {
  /**
   * The [lowest, highest] rating that predictions are clipped to. Default: the lowest and highest
   * train rating (Surprise takes it from its `Reader`; both are [1, 5] on MovieLens).
   */
  ratingScale?: readonly [number, number];
}

/** The id space a rating model answers for and the scale its predictions are clipped to. */
export interface RatingSpace {
  readonly numUsers: number;
  readonly numItems: number;
  readonly ratingScale: readonly [number, number];
}

/** `value` clipped to [lowest, highest]. */
export function clipToScale(value: number, [lowest, highest]: readonly [number, number]): number {
  return value < lowest ? lowest : value > highest ? highest : value;
}

/** The parts a SparseRatings is rebuilt from (a saved model's): the rest is derived from them. */
export interface SparseRatingsParts {
  byUser: RatingRows;
  globalMean: number;
  ratingScale: readonly [number, number];
}

/**
 * The train ratings grouped by user (Surprise's `ur`) and by item (`ir`), with their mean μ and the
 * rating scale. Indices span the whole id space of the `Interactions` they came from, so the test
 * part of a split indexes them directly.
 */
export class SparseRatings implements RatingSpace {
  readonly numUsers: number;
  readonly numItems: number;
  /** Number of ratings. */
  readonly length: number;
  /** Row u: the items user u rated and the ratings, by item index. */
  readonly byUser: RatingRows;
  /** Row i: the users who rated item i and the ratings, by user index. */
  readonly byItem: RatingRows;
  /** μ, the mean of all train ratings. */
  readonly globalMean: number;
  readonly ratingScale: readonly [number, number];

  /** From the train ratings, or from the parts a saved model kept (then `config` is not read). */
  constructor(train: Interactions | SparseRatingsParts, config: SparseRatingsConfig = {}) {
    if (!(train instanceof Interactions)) {
      const { byUser, globalMean, ratingScale } = train;
      if (byUser.nnz === 0) throw new Error("SparseRatings: the saved rows hold no ratings");
      this.numUsers = byUser.numRows;
      this.numItems = byUser.numCols;
      this.length = byUser.nnz;
      this.globalMean = checkFinite("SparseRatings", "globalMean", globalMean);
      this.ratingScale = checkRatingScale("SparseRatings", ratingScale);
      this.byUser = byUser;
      this.byItem = byUser.transpose();
      return;
    }
    const n = train.length;
    if (n === 0) throw new Error(`SparseRatings: the train data '${train.name}' has no ratings`);
    const { users, items, ratings, numUsers, numItems } = train;
    let sum = 0;
    let lowest = Infinity;
    let highest = -Infinity;
    for (let r = 0; r < n; r++) {
      const value = ratings[r];
      if (!Number.isFinite(value)) {
        throw new Error(
          `SparseRatings: '${train.name}' row ${r} has rating ${value}; every rating must be a finite number`,
        );
      }
      sum += value;
      if (value < lowest) lowest = value;
      if (value > highest) highest = value;
    }
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.length = n;
    this.globalMean = sum / n;
    this.ratingScale = checkRatingScale("SparseRatings", config.ratingScale ?? [lowest, highest]);
    this.byUser = CsrMatrix.fromTriples(numUsers, numItems, users, items, ratings);
    this.byItem = this.byUser.transpose();
  }

  /** Whether user u has a train rating (Surprise's `knows_user`). */
  knowsUser(u: number): boolean {
    return this.byUser.offsets[u + 1] > this.byUser.offsets[u];
  }

  /** Whether item i has a train rating (Surprise's `knows_item`). */
  knowsItem(i: number): boolean {
    return this.byItem.offsets[i + 1] > this.byItem.offsets[i];
  }

  /** `value` clipped to the rating scale. */
  clip(value: number): number {
    return clipToScale(value, this.ratingScale);
  }
}

// ---------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------

/**
 * What a saved model keeps of its ratings: the rows by user as arrays (`ratings/offsets`, `…/indices`,
 * `…/values`) and, under "fitted", their sizes, μ and the scale. The rows by item are the transpose,
 * rebuilt in O(nnz); μ is kept as it was summed, since summing again in another order can move its
 * last bit.
 */
export function sparseRatingsSaved(ratings: SparseRatings): { arrays: NamedArray[]; fitted: Record<string, unknown> } {
  return {
    arrays: csrArrays("ratings", ratings.byUser),
    fitted: {
      numUsers: ratings.numUsers,
      numItems: ratings.numItems,
      globalMean: ratings.globalMean,
      ratingScale: [...ratings.ratingScale],
    },
  };
}

/** The SparseRatings that `sparseRatingsSaved` saved. */
export function restoreSparseRatings(arrays: CheckpointArrays, fitted: Record<string, unknown>): SparseRatings {
  const numUsers = checkInteger("fitted", "numUsers", fitted.numUsers, 0);
  const numItems = checkInteger("fitted", "numItems", fitted.numItems, 0);
  const scale = fitted.ratingScale;
  if (!Array.isArray(scale) || scale.length !== 2)
    throw new Error(`SparseRatings: ratingScale must be [lowest, highest], got ${JSON.stringify(scale)}`);
  return new SparseRatings({
    byUser: readCsr(arrays, "ratings", numUsers, numItems),
    globalMean: fitted.globalMean as number,
    ratingScale: [scale[0], scale[1]],
  });
}

/** The id space and scale of `ratings`, without the ratings: all that some models keep of them. */
export function ratingSpaceOf(ratings: RatingSpace): RatingSpace {
  return { numUsers: ratings.numUsers, numItems: ratings.numItems, ratingScale: ratings.ratingScale };
}

/** What a saved model keeps of its id space and scale, under "fitted": numUsers, numItems and ratingScale. */
export function ratingSpaceSaved(space: RatingSpace): Record<string, unknown> {
  return { numUsers: space.numUsers, numItems: space.numItems, ratingScale: [...space.ratingScale] };
}

/** The RatingSpace that `ratingSpaceSaved` saved, checked. */
export function restoreRatingSpace(fitted: Record<string, unknown>): RatingSpace {
  const scale = fitted.ratingScale;
  if (!Array.isArray(scale) || scale.length !== 2 || !scale.every(Number.isFinite) || !(scale[0] <= scale[1]))
    throw new Error(
      `ratingScale must be [lowest, highest] with finite lowest <= highest, got ${JSON.stringify(scale)}`,
    );
  return {
    numUsers: checkInteger("fitted", "numUsers", fitted.numUsers, 0),
    numItems: checkInteger("fitted", "numItems", fitted.numItems, 0),
    ratingScale: [scale[0], scale[1]],
  };
}

/** Throws unless users and items have equal lengths and lie in the id space of `ratings`. */
export function checkRatingPairs(caller: string, ratings: RatingSpace, users: Int32Array, items: Int32Array): void {
  if (users.length !== items.length) {
    throw new Error(`${caller}: users has ${users.length} entries but items has ${items.length}`);
  }
  checkRatingUsers(caller, ratings, users);
  for (let j = 0; j < items.length; j++) {
    if (!(items[j] >= 0 && items[j] < ratings.numItems)) {
      throw new Error(`${caller}: items[${j}] = ${items[j]} is outside the id space [0, ${ratings.numItems})`);
    }
  }
}

/** Throws unless every user lies in the id space of `ratings`. */
export function checkRatingUsers(caller: string, ratings: RatingSpace, users: Int32Array): void {
  for (let j = 0; j < users.length; j++) {
    if (!(users[j] >= 0 && users[j] < ratings.numUsers)) {
      throw new Error(`${caller}: users[${j}] = ${users[j]} is outside the id space [0, ${ratings.numUsers})`);
    }
  }
}

function checkRatingScale(caller: string, scale: readonly [number, number]): readonly [number, number] {
  const [lowest, highest] = scale;
  if (!(Number.isFinite(lowest) && Number.isFinite(highest) && lowest <= highest)) {
    throw new Error(
      `${caller}: ratingScale must be [lowest, highest] with finite lowest <= highest, got [${lowest}, ${highest}]`,
    );
  }
  return [lowest, highest];
}
