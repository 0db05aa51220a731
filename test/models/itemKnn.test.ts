import * as assert from "node:assert/strict";
import { ItemKnnRecommender } from "../../src/models/itemKnn";
import { encodeArrays } from "../../src/train/checkpointFormat";
import { pairs, plantedTastes } from "./implicitFixtures";

describe("models/itemKnn", () => {
  // Items 0 and 1 share users 0 and 1; item 2 has user 1 only; item 3 has user 2 only.
  const train = pairs(
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 3],
      [2, 3],
    ],
    4,
    4,
  );

  it("keeps the cosine of binary item columns, most similar first", () => {
    const graph = new ItemKnnRecommender().fit(train).similarityGraph;
    const neighboursOf = (j: number) => Array.from(graph.items.subarray(graph.offsets[j], graph.offsets[j + 1]));
    const similaritiesOf = (j: number) =>
      Array.from(graph.similarities.subarray(graph.offsets[j], graph.offsets[j + 1]));
    // |U_0 ∩ U_1| = 2, |U_0| = |U_1| = 2: cos = 1; |U_0 ∩ U_2| = 1: cos = 1/√2. The repeated row counts once.
    assert.deepEqual(neighboursOf(0), [1, 2]);
    assert.deepEqual(similaritiesOf(0), [1, Math.fround(1 / Math.SQRT2)]);
    assert.deepEqual(neighboursOf(3), []);
    const pruned = new ItemKnnRecommender({ neighbours: 1, shrinkage: 2 }).fit(train).similarityGraph;
    assert.deepEqual(Array.from(pruned.items.subarray(pruned.offsets[0], pruned.offsets[1])), [1]);
    assert.equal(pruned.similarities[pruned.offsets[0]], Math.fround(2 / (2 + 2)));
  });

  it("scores the sum of similarities to the user's items", () => {
    const model = new ItemKnnRecommender().fit(train);
    const scores = model.scoreItems(Int32Array.of(0, 3));
    // User 0 has items 0 and 1: s(2) = sim(2, 0) + sim(2, 1) = 2/√2; s(0) = sim(0, 1) = 1.
    assert.ok(Math.abs(scores[2] - 2 / Math.SQRT2) < 1e-6);
    assert.ok(Math.abs(scores[0] - 1) < 1e-6);
    assert.equal(scores[3], 0);
    assert.deepEqual(Array.from(scores.subarray(4, 8)), [0, 0, 0, 0]); // user 3 has no items
  });

  it("finds planted tastes", () => {
    const { train: planted, test } = plantedTastes();
    const model = new ItemKnnRecommender({ neighbours: 20 }).fit(planted);
    const users = Int32Array.from({ length: 60 }, (_, u) => u);
    const scores = model.scoreItems(users);
    for (let r = 0; r < test.length; r++) {
      const u = test.users[r];
      const row = scores.subarray(u * 40, (u + 1) * 40);
      const taste = Math.floor(test.items[r] / 10);
      // A held-out item of the user's taste outscores every item of another taste.
      for (let i = 0; i < 40; i++) if (Math.floor(i / 10) !== taste) assert.ok(row[test.items[r]] > row[i]);
    }
  });

  it("rejects bad settings and use before fit", () => {
    assert.throws(() => new ItemKnnRecommender({ neighbours: 0 }), /neighbours must be a positive integer, got 0/);
    assert.throws(() => new ItemKnnRecommender({ shrinkage: -1 }), /shrinkage must be a finite number >= 0, got -1/);
    assert.throws(
      () => new ItemKnnRecommender().scoreItems(Int32Array.of(0)),
      /call fit\(train\) before using the model/,
    );
    assert.throws(() => new ItemKnnRecommender().fit(train).scoreItems(Int32Array.of(9)), /user 9 is outside \[0, 4\)/);
  });

  it("refuses a saved graph it could not score from, naming the weight", async () => {
    // One user with item 0, three items; the graph's rows are checked since scoring indexes by them.
    const saved = (offsets: number[], items: number[]) =>
      encodeArrays(
        "test",
        [
          { name: "userItems/offsets", values: Int32Array.of(0, 1), shape: [2] },
          { name: "userItems/indices", values: Int32Array.of(0), shape: [1] },
          { name: "graph/offsets", values: Int32Array.from(offsets), shape: [4] },
          { name: "graph/items", values: Int32Array.from(items), shape: [items.length] },
          { name: "graph/similarities", values: new Float32Array(items.length).fill(0.5), shape: [items.length] },
        ],
        { model: "ItemKnnRecommender", config: {}, fitted: { numUsers: 1, numItems: 3 } },
      );
    const load = async (offsets: number[], items: number[]) => {
      const { json, data } = await saved(offsets, items);
      return ItemKnnRecommender.fromArtifacts(json, data);
    };
    assert.deepEqual(Array.from((await load([0, 1, 1, 2], [1, 0])).scoreItems(Int32Array.of(0))), [0, 0.5, 0]);
    await assert.rejects(
      load([0, 2, 1, 2], [1, 2]),
      /ItemKnnRecommender.fromArtifacts: the model JSON: weight 'graph\/offsets' is not a list of row starts from 0 \(entry 2\)/,
    );
    await assert.rejects(
      load([0, 1, 1, 2], [1, 3]),
      /the model JSON: weight 'graph\/items' holds 3 at index 1, outside \[0, 3\)/,
    );
  });
});
