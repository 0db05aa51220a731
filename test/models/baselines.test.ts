import * as assert from "node:assert/strict";
import { evaluateRanking, recommendTopK } from "../../src/eval/protocols";
import { PopularityRecommender, RandomRecommender } from "../../src/models/baselines";
import { makeInteractions } from "../eval/fixtures";

// 4 users × 5 items. Train counts per item: item 0: 1, item 1: 3, item 2: 0, item 3: 2, item 4: 2.
const train = makeInteractions(
  [
    [0, 1],
    [1, 1],
    [2, 1],
    [0, 3],
    [1, 3],
    [2, 4],
    [3, 4],
    [3, 0],
  ],
  4,
  5,
  "train",
);

describe("PopularityRecommender", () => {
  const model = new PopularityRecommender().fit(train);

  it("scores each item by its training interactions, the same for every user", () => {
    assert.deepEqual(Array.from(model.popularity), [1, 3, 0, 2, 2]);
    assert.equal(model.numItems, 5);
    const scores = model.scoreItems(Int32Array.from([0, 3]));
    assert.deepEqual(Array.from(scores), [1, 3, 0, 2, 2, 1, 3, 0, 2, 2]);
    assert.deepEqual(Array.from(model.scorePairs(Int32Array.from([2, 0]), Int32Array.from([4, 2]))), [2, 0]);
  });

  it("ranks by train counts, ties by lower index, without the user's seen items", () => {
    const top = recommendTopK(model, [0, 1, 2, 3], { k: 3, excludeSeen: train });
    assert.deepEqual(Array.from(top.itemsOf(0)), [4, 0, 2]); // seen 1, 3
    assert.deepEqual(Array.from(top.itemsOf(2)), [3, 0, 2]); // seen 1, 4
    assert.deepEqual(Array.from(top.itemsOf(3)), [1, 3, 2]); // seen 4, 0
    assert.deepEqual(Array.from(recommendTopK(model, [0], { k: 5 }).itemsOf(0)), [1, 3, 4, 0, 2]);
  });

  it("refuses to score before fit", () => {
    assert.throws(() => new PopularityRecommender().scoreItems(Int32Array.from([0])), /call fit\(train\) first/);
  });
});

describe("RandomRecommender", () => {
  it("is reproducible by seed and independent of how users are batched", () => {
    const a = new RandomRecommender({ seed: 7 }).fit(train);
    const b = new RandomRecommender({ seed: 7 }).fit(train);
    const together = a.scoreItems(Int32Array.from([0, 1, 2, 3]));
    assert.deepEqual(Array.from(b.scoreItems(Int32Array.from([0, 1, 2, 3]))), Array.from(together));
    // User 2 alone, and after user 3, gets the same scores as in the batch of four.
    assert.deepEqual(Array.from(a.scoreItems(Int32Array.from([2]))), Array.from(together.subarray(10, 15)));
    assert.deepEqual(
      Array.from(a.scoreItems(Int32Array.from([3, 2])).subarray(5)),
      Array.from(together.subarray(10, 15)),
    );
  });

  it("draws different scores for other seeds and other users, all in [0, 1)", () => {
    const a = new RandomRecommender({ seed: 7 }).fit(train).scoreItems(Int32Array.from([0, 1]));
    const c = new RandomRecommender({ seed: 8 }).fit(train).scoreItems(Int32Array.from([0, 1]));
    assert.notDeepEqual(Array.from(a), Array.from(c));
    assert.notDeepEqual(Array.from(a.subarray(0, 5)), Array.from(a.subarray(5, 10)));
    assert.ok(a.every((s) => s >= 0 && s < 1));
  });

  it("orders items uniformly at random over many users", () => {
    // 2,000 users × 5 items: each item should be a user's top item about 400 times (binomial sd ≈ 18).
    const users = 2000;
    const big = makeInteractions([[users - 1, 0]], users, 5, "big");
    const top = recommendTopK(
      new RandomRecommender({ seed: 3 }).fit(big),
      Array.from({ length: users }, (_, u) => u),
      { k: 1 },
    );
    const firsts = new Array(5).fill(0);
    for (let u = 0; u < users; u++) firsts[top.itemsOf(u)[0]]++;
    for (const count of firsts) assert.ok(Math.abs(count - 400) < 80, `top-item counts ${firsts}`);
  });

  it("works with evaluateRanking and rejects a bad seed", () => {
    const test = makeInteractions(
      [
        [0, 2],
        [1, 0],
      ],
      4,
      5,
      "test",
    );
    const report = evaluateRanking(new RandomRecommender({ seed: 1 }).fit(train), {
      train,
      test,
      k: 3,
      metrics: ["hr"],
    });
    assert.equal(report.numUsers, 2);
    assert.throws(() => new RandomRecommender({ seed: 0.5 }), /'seed' must be an integer/);
    assert.throws(() => new RandomRecommender({ seed: 1 }).numItems, /call fit\(train\) first/);
  });
});
