import * as assert from "node:assert/strict";
import { Interactions } from "../../src/data/interactions";
import { MarkovChainRecommender } from "../../src/models/markovChain";
import { encodeArrays } from "../../src/train/checkpointFormat";
import { pairs } from "./implicitFixtures";

describe("models/markovChain", () => {
  // Logged in order: user 0 watches 0 → 1 → 2, user 1 watches 0 → 1 → 3, user 2 watches 2 → 0.
  const train = pairs(
    [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 3],
      [2, 2],
      [2, 0],
    ],
    4,
    5,
  );
  const model = new MarkovChainRecommender({ smoothing: 1, order: "row" }).fit(train);

  it("estimates P(j | i) from consecutive items, smoothed toward popularity", () => {
    // π = (3, 2, 2, 1, 0) / 8; after item 1 came 2 once and 3 once: c(1, ·) = 2.
    const row = model.transitionRow(1);
    const prior = [3 / 8, 2 / 8, 2 / 8, 1 / 8, 0];
    const expected = prior.map((p, j) => (p + (j === 2 || j === 3 ? 1 : 0)) / 3);
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(row[j] - expected[j]) < 1e-12, `P(${j} | 1)`);
    assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    // Item 3 never had a successor: its row is the prior.
    assert.deepEqual(Array.from(model.transitionRow(3)), prior);
  });

  it("scores each user from their last item, and users without history from the prior", () => {
    const scores = model.scoreItems(Int32Array.of(2, 0, 3));
    // User 2's last item is 0, followed by 1 twice: item 1 ranks first.
    const user2 = Array.from(scores.subarray(0, 5));
    assert.equal(user2.indexOf(Math.max(...user2)), 1);
    assert.deepEqual(Array.from(scores.subarray(5, 10)), Array.from(Float32Array.from(model.transitionRow(2))));
    assert.deepEqual(
      Array.from(scores.subarray(10, 15)),
      Array.from(Float32Array.from([3 / 8, 2 / 8, 2 / 8, 1 / 8, 0])),
    );
  });

  it('follows time order by default, and asks for timestamps or order: "row"', () => {
    // Logged 1 then 0, but 0 happened first: by time, 1 follows 0.
    const base = pairs(
      [
        [0, 1],
        [0, 0],
      ],
      1,
      2,
    );
    const timed = new Interactions({
      ...base,
      timestamps: Float64Array.of(20, 10),
      userIndex: base.userIndex,
      itemIndex: base.itemIndex,
    });
    assert.equal(new MarkovChainRecommender().fit(timed).transitionRow(0)[1], (0.5 + 1) / 2);
    assert.equal(new MarkovChainRecommender({ order: "row" }).fit(timed).transitionRow(1)[0], (0.5 + 1) / 2);
    assert.throws(() => new MarkovChainRecommender().fit(base), /has no timestamp at row 0/);
  });

  it("rejects bad settings and use before fit", () => {
    assert.throws(() => new MarkovChainRecommender({ smoothing: 0 }), /smoothing must be a finite number > 0, got 0/);
    assert.throws(
      () => new MarkovChainRecommender().scoreItems(Int32Array.of(0)),
      /call fit\(train\) before using the model/,
    );
    assert.throws(() => model.scoreItems(Int32Array.of(4)), /user 4 is outside \[0, 4\)/);
    assert.throws(() => model.transitionRow(5), /item 5 is outside \[0, 5\)/);
  });

  it("keeps each user's last item only, and refuses a saved one outside the catalogue", async () => {
    // Two items, no transition; user 0 last saw item 1, user 1 nothing (−1).
    const saved = (lastItems: number[]) =>
      encodeArrays(
        "test",
        [
          { name: "successors/offsets", values: Int32Array.of(0, 0, 0), shape: [3] },
          { name: "successors/indices", values: new Int32Array(0), shape: [0] },
          { name: "successors/values", values: new Float64Array(0), shape: [0] },
          { name: "prior", values: Float64Array.of(0.25, 0.75), shape: [2] },
          { name: "lastItems", values: Int32Array.from(lastItems), shape: [2] },
        ],
        { model: "MarkovChainRecommender", config: { smoothing: 1 }, fitted: { numUsers: 2, numItems: 2 } },
      );
    const { json, data } = await saved([1, -1]);
    const model = await MarkovChainRecommender.fromArtifacts(json, data);
    // No successor of item 1: P(j | 1) = λπ(j) / (0 + λ) = π(j), the prior, as for user 1 with no history.
    assert.deepEqual(Array.from(model.scoreItems(Int32Array.of(0, 1))), [0.25, 0.75, 0.25, 0.75]);
    const bad = await saved([2, -1]);
    await assert.rejects(
      MarkovChainRecommender.fromArtifacts(bad.json, bad.data),
      /MarkovChainRecommender.fromArtifacts: the model JSON: weight 'lastItems' holds 2 at index 0, outside \[−1, 2\)/,
    );
  });
});
