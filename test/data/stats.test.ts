import * as assert from "node:assert/strict";
import { IdIndex, Interactions } from "../../src/data/interactions";
import {
  countOccurrences,
  density,
  giniCoefficient,
  headShare,
  itemPopularity,
  popularityRanks,
  summarize,
  userActivity,
} from "../../src/data/stats";

// 3 users, 4 items; item "d" is in the catalogue but never rated.
function tiny(): Interactions {
  return new Interactions({
    users: Int32Array.from([0, 0, 0, 1, 1, 2]),
    items: Int32Array.from([0, 1, 2, 0, 1, 0]),
    ratings: Float32Array.from([5, 3, 4, 4, 2, 1]),
    timestamps: Float64Array.from([0, 86400, 172800, 10, 20, 30]),
    userIndex: IdIndex.from(["u1", "u2", "u3"]),
    itemIndex: IdIndex.from(["a", "b", "c", "d"]),
    name: "tiny",
  });
}

describe("data/stats", () => {
  it("counts popularity and activity over the whole id space", () => {
    const data = tiny();
    assert.deepEqual(Array.from(itemPopularity(data)), [3, 2, 1, 0]);
    assert.deepEqual(Array.from(userActivity(data)), [3, 2, 1]);
    assert.deepEqual(Array.from(countOccurrences(Int32Array.from([1, 1]), 3)), [0, 2, 0]);
  });

  it("ranks items by popularity, 1 for the most counted, ties by the lower index", () => {
    assert.deepEqual(Array.from(popularityRanks([3, 10, 0, 3, 7])), [3, 1, 5, 4, 2]);
    assert.deepEqual(Array.from(popularityRanks([])), []);
  });

  it("computes density as |R| / (|U|·|I|)", () => {
    assert.equal(density(tiny()), 6 / 12);
  });

  it("measures the head of a long tail", () => {
    // Top 25% of 4 items is 1 item with 3 of 6 interactions.
    assert.equal(headShare([3, 2, 1, 0], 0.25), 0.5);
    assert.equal(headShare([1, 1, 1, 1], 0.5), 0.5);
    assert.throws(() => headShare([1], 0), /topFraction/);
  });

  it("computes the Gini coefficient: 0 for equal counts, (n-1)/n for one item taking all", () => {
    assert.equal(giniCoefficient([4, 4, 4, 4]), 0);
    assert.equal(giniCoefficient([0, 0, 0, 8]), 3 / 4);
    // Sorted [0,1,2,3]: Σ(2i−n−1)c = (−3·0)+(−1·1)+(1·2)+(3·3) = 10; n·Σc = 4·6 → 10/24.
    assert.ok(Math.abs(giniCoefficient([3, 0, 2, 1]) - 10 / 24) < 1e-12);
  });

  it("summarises size, scale and time span", () => {
    const s = summarize(tiny());
    assert.deepEqual(s, {
      name: "tiny",
      interactions: 6,
      users: 3,
      items: 4,
      ratedItems: 3,
      density: 0.5,
      rating: { min: 1, max: 5, mean: 19 / 6 },
      timeSpan: { first: "1970-01-01", last: "1970-01-03" },
    });
  });
});
