// Small hand-made interaction logs and models shared by the eval tests.

import { IdIndex, Interactions } from "../../src/data/interactions";
import { ItemScorer } from "../../src/eval/protocols";

// Logs of the same size share one pair of id indices, as the parts of one split do (the library's
// samplers check that train and test come from one log).
const sharedIndices = new Map<string, { userIndex: IdIndex; itemIndex: IdIndex }>();

function indicesFor(numUsers: number, numItems: number): { userIndex: IdIndex; itemIndex: IdIndex } {
  const key = `${numUsers}x${numItems}`;
  let indices = sharedIndices.get(key);
  if (!indices) {
    indices = {
      userIndex: IdIndex.from(Array.from({ length: numUsers }, (_, u) => `u${u}`)),
      itemIndex: IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`)),
    };
    sharedIndices.set(key, indices);
  }
  return indices;
}

/** An interaction log over users 0..numUsers-1 and items 0..numItems-1 from (user, item[, rating]) rows. */
export function makeInteractions(
  rows: ReadonlyArray<readonly [number, number] | readonly [number, number, number]>,
  numUsers: number,
  numItems: number,
  name = "fixture",
): Interactions {
  return new Interactions({
    users: Int32Array.from(rows.map((r) => r[0])),
    items: Int32Array.from(rows.map((r) => r[1])),
    ratings: Float32Array.from(rows.map((r) => (r.length === 3 ? r[2] : 1))),
    timestamps: new Float64Array(rows.length).fill(NaN),
    ...indicesFor(numUsers, numItems),
    name,
  });
}

/** A plain JS model whose scores come from a function of (user, item). */
export function functionScorer(numItems: number, score: (user: number, item: number) => number): ItemScorer {
  return {
    numItems,
    scoreItems(users: Int32Array): Float32Array {
      const out = new Float32Array(users.length * numItems);
      for (let b = 0; b < users.length; b++) {
        for (let i = 0; i < numItems; i++) out[b * numItems + i] = score(users[b], i);
      }
      return out;
    },
  };
}
