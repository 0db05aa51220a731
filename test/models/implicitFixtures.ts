// Fixtures for the implicit-feedback models (NCF, two-tower): tiny logs built by hand, and a planted
// data set whose held-out items a model that learns the tastes must rank first.

import { IdIndex, Interactions, ItemInfo } from "../../src/data/interactions";

/** Interactions from (user, item) pairs over id spaces u0.., i0.., with optional item side information. */
export function pairs(
  list: Array<[number, number]>,
  numUsers: number,
  numItems: number,
  itemInfo?: ItemInfo,
): Interactions {
  return new Interactions({
    users: Int32Array.from(list, (p) => p[0]),
    items: Int32Array.from(list, (p) => p[1]),
    ratings: new Float32Array(list.length).fill(1),
    timestamps: new Float64Array(list.length).fill(NaN),
    userIndex: IdIndex.from(Array.from({ length: numUsers }, (_, u) => `u${u}`)),
    itemIndex: IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`)),
    itemInfo,
    name: "tiny",
  });
}

/**
 * A planted data set: 4 tastes × 10 items; 15 users per taste, each with 8 of the 10 items of their
 * taste in train and the other 2 (a different pair for each user) in test. A model that learns the
 * tastes puts both test items first among the user's 32 unseen items.
 */
export function plantedTastes(): { train: Interactions; test: Interactions } {
  const train: Array<[number, number]> = [];
  const test: Array<[number, number]> = [];
  for (let u = 0; u < 60; u++) {
    const taste = u % 4;
    const held = [(u >> 2) % 10, ((u >> 2) + 5) % 10];
    for (let k = 0; k < 10; k++) (held.includes(k) ? test : train).push([u, taste * 10 + k]);
  }
  return { train: pairs(train, 60, 40), test: pairs(test, 60, 40) };
}

/** Chance of hitting at least one of 2 relevant items in the top k of 32 shuffled candidates. */
export function randomHitRate(k: number): number {
  let miss = 1;
  for (let j = 0; j < k; j++) miss *= (30 - j) / (32 - j);
  return 1 - miss;
}
