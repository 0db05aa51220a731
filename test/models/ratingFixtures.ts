// Rating logs shared by the tests of the classical rating models (ratingBaselines, similarities,
// knn, slopeOne, sparseRatings, baselineEstimates): tiny matrices the tests work by hand, and random
// logs for property checks.

import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { makeInteractions } from "../eval/fixtures";

/**
 * The hand-worked matrix (· = no rating); user u4 and item i4 exist in the id space but have no
 * rating, so every model treats them as unknown.
 *
 *          i0  i1  i2  i3
 *     u0:   5   3   ·   1      μ_u0 = 3
 *     u1:   4   ·   ·   1      μ_u1 = 2.5
 *     u2:   1   1   5   ·      μ_u2 = 7/3
 *     u3:   ·   1   5   4      μ_u3 = 10/3
 *
 * 11 ratings summing to 31: μ = 31/11.
 */
export const SMALL_ROWS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 5],
  [0, 1, 3],
  [0, 3, 1],
  [1, 0, 4],
  [1, 3, 1],
  [2, 0, 1],
  [2, 1, 1],
  [2, 2, 5],
  [3, 1, 1],
  [3, 2, 5],
  [3, 3, 4],
];

export const SMALL_MEAN = 31 / 11;

/** The 2 × 2 log worked by hand in several tests:  u0: i0 = 4, i1 = 2;  u1: i0 = 5.  μ = 11/3. */
export function tinyRatings(): Interactions {
  return makeInteractions(
    [
      [0, 0, 4],
      [0, 1, 2],
      [1, 0, 5],
    ],
    2,
    2,
    "tiny",
  );
}

/** SMALL_ROWS over 5 users and 5 items (u4, i4 unknown); `order` permutes the log's rows. */
export function smallRatings(order?: readonly number[]): Interactions {
  const rows = order === undefined ? SMALL_ROWS : order.map((r) => SMALL_ROWS[r]);
  return makeInteractions(rows, 5, 5, "small");
}

/** A random log: each (user, item) pair rated with probability `density`, ratings 1..5 uniform. */
export function randomRatings(seed: number, numUsers: number, numItems: number, density: number): Interactions {
  const rng = new Rng(seed);
  const rows: [number, number, number][] = [];
  for (let u = 0; u < numUsers; u++) {
    for (let i = 0; i < numItems; i++) if (rng.next() < density) rows.push([u, i, 1 + rng.int(5)]);
  }
  // Shuffle the log so that row order is not user-major.
  const order = rng.permutation(rows.length);
  return makeInteractions(
    Array.from(order, (r) => rows[r]),
    numUsers,
    numItems,
    `random-${seed}`,
  );
}
