import * as assert from "node:assert/strict";
import type { SimilarityMatrix } from "../../src/data/similarities";
import {
  itemKnnExplainer,
  itemKnnHistoryScorer,
  itemKnnSimilarity,
  neighbourExplanation,
  similarityMatrixLookup,
} from "../../src/explain/neighbours";
import { ItemKnnRecommender } from "../../src/models/itemKnn";
import { pairs } from "../models/implicitFixtures";
import { assertClose } from "../support/assertions";

describe("explain/neighbours", () => {
  // Four items; item 3 is close to item 1 (0.8), less to 2 (0.3) and barely to 0 (0.1).
  const matrix: SimilarityMatrix = {
    name: "cosine",
    userBased: false,
    size: 4,
    values: Float32Array.from(
      [
        [1, 0.2, 0.4, 0.1],
        [0.2, 1, 0.5, 0.8],
        [0.4, 0.5, 1, 0.3],
        [0.1, 0.8, 0.3, 1],
      ].flat(),
    ),
  };

  it("ranks the history by similarity to the target", () => {
    const ranked = neighbourExplanation(similarityMatrixLookup(matrix), [0, 1, 2], 3);
    assert.deepEqual(
      ranked.map((a) => [a.position, a.item]),
      [
        [1, 1],
        [2, 2],
        [0, 0],
      ],
    );
    assertClose(
      ranked.map((a) => a.importance),
      [0.8, 0.3, 0.1],
    );
  });

  it("weighs each position (similarity × rating) and can count a repeat once", () => {
    // c = 5·0.1, 1·0.8, 2·0.3: the well-rated film 0 now beats film 2.
    const ranked = neighbourExplanation(similarityMatrixLookup(matrix), [0, 1, 2], 3, { weights: [5, 1, 2] });
    assert.deepEqual(
      ranked.map((a) => a.position),
      [1, 2, 0],
    );
    assertClose(
      ranked.map((a) => a.importance),
      [0.8, 0.6, 0.5],
    );
    const repeated = neighbourExplanation(similarityMatrixLookup(matrix), [1, 0, 1], 3, { distinct: true });
    assert.deepEqual(
      repeated.map((a) => [a.position, a.importance]),
      [
        [0, Math.fround(0.8)],
        [1, Math.fround(0.1)],
        [2, 0],
      ],
    );
  });

  it("decomposes item-kNN's score exactly, and rescores any history as the model does", () => {
    // Item 0 has users 0 and 1; item 1 users 0, 1 and 2; item 2 users 1 and 2; item 3 user 2 only.
    const train = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
        [1, 2],
        [2, 1],
        [2, 2],
        [2, 3],
      ],
      3,
      4,
    );
    const model = new ItemKnnRecommender().fit(train);
    const scores = model.scoreItems(Int32Array.of(0, 1, 2));
    const score = itemKnnHistoryScorer(model);
    const explain = itemKnnExplainer(model);
    const histories = [
      [0, 1],
      [0, 1, 2],
      [1, 2, 3],
    ];
    histories.forEach((history, u) => {
      assertClose(score(history, u), scores.subarray(u * 4, (u + 1) * 4), {}, `user ${u}`);
      for (let target = 0; target < 4; target++) {
        const ranked = explain(history, target, u);
        assertClose(
          ranked.reduce((s, a) => s + a.importance, 0),
          scores[u * 4 + target],
          {},
          `user ${u}, item ${target}`,
        );
      }
    });
    // Item 2 for user 0: sim(2, 1) = 2/(√2·√3) beats sim(2, 0) = 1/(√2·√2).
    assert.deepEqual(
      explain([0, 1], 2, 0).map((a) => a.item),
      [1, 0],
    );
    assertClose(itemKnnSimilarity(model)(1, 2), 2 / Math.sqrt(6));
    // A repeated item counts once, in the explanation as in the score.
    assertClose(score([0, 0, 1], 0), score([0, 1], 0));
    assert.equal(explain([0, 0, 1], 2, 0)[2].importance, 0);
  });

  it("rejects a user-based matrix and bad input", () => {
    assert.throws(
      () => similarityMatrixLookup({ ...matrix, userBased: true }),
      /similarityMatrixLookup: the matrix is user-based/,
    );
    const lookup = similarityMatrixLookup(matrix);
    assert.throws(
      () => neighbourExplanation(lookup, [0, 1], 3, { weights: [1] }),
      /1 weights for a history of 2 items/,
    );
    assert.throws(
      () => neighbourExplanation(lookup, [0, 1], 3, { weights: [1, NaN] }),
      /weights\[1\] must be a finite/,
    );
    const model = new ItemKnnRecommender().fit(pairs([[0, 0]], 1, 2));
    assert.throws(() => itemKnnExplainer(model)([0], 2, 0), /itemKnnExplainer: target 2 is outside the items \[0, 2\)/);
    assert.throws(() => itemKnnHistoryScorer(model)([5], 0), /itemKnnHistoryScorer: history\[0\] = 5/);
  });
});
