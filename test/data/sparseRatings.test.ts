// SparseRatings, the train ratings by user and by item that the rating baselines, kNN and Slope One read:
// rows sorted by index, μ and the scale, rebuilt from a saved model's parts, and the pair checks.

import * as assert from "node:assert/strict";
import { CsrMatrix, rowMeans } from "../../src/data/csr";
import {
  SparseRatings,
  checkRatingPairs,
  checkRatingUsers,
  clipToScale,
  restoreSparseRatings,
  sparseRatingsSaved,
} from "../../src/data/sparseRatings";
import { CheckpointArrays, encodeArrays, verifyCheckpoint } from "../../src/train/checkpointFormat";
import { makeInteractions } from "../eval/fixtures";
import { SMALL_MEAN, smallRatings, tinyRatings as tiny } from "../models/ratingFixtures";
import { assertClose } from "../support/assertions";

describe("data/sparseRatings", () => {
  it("groups the ratings by user and by item, each row sorted by index", () => {
    // Log order is shuffled; rows must come out sorted whatever the order.
    const ratings = new SparseRatings(smallRatings([10, 3, 7, 0, 5, 9, 1, 8, 4, 2, 6]));
    assert.deepEqual(Array.from(ratings.byUser.offsets), [0, 3, 5, 8, 11, 11]);
    assert.deepEqual(Array.from(ratings.byUser.indices), [0, 1, 3, 0, 3, 0, 1, 2, 1, 2, 3]);
    assert.deepEqual(Array.from(ratings.byUser.values), [5, 3, 1, 4, 1, 1, 1, 5, 1, 5, 4]);
    assert.deepEqual(Array.from(ratings.byItem.offsets), [0, 3, 6, 8, 11, 11]);
    assert.deepEqual(Array.from(ratings.byItem.indices), [0, 1, 2, 0, 2, 3, 2, 3, 0, 1, 3]);
    assert.deepEqual(Array.from(ratings.byItem.values), [5, 4, 1, 3, 1, 1, 5, 5, 1, 1, 4]);
    assertClose(ratings.globalMean, SMALL_MEAN, { atol: 1e-9, rtol: 0 });
    assert.deepEqual(ratings.ratingScale, [1, 5]);
    assert.equal(ratings.knowsUser(3), true);
    assert.equal(ratings.knowsUser(4), false);
    assert.equal(ratings.knowsItem(4), false);
  });

  it("row means are μ_u (0 for a user without ratings)", () => {
    const means = rowMeans(new SparseRatings(smallRatings()).byUser);
    [3, 2.5, 7 / 3, 10 / 3, 0].forEach((m, u) => assertClose(means[u], m, { atol: 1e-9, rtol: 0 }));
  });

  it("clips to the rating scale, the given one or the train ratings' range", () => {
    const observed = new SparseRatings(tiny());
    assert.deepEqual(observed.ratingScale, [2, 5]);
    assert.equal(observed.clip(1.5), 2);
    assert.equal(observed.clip(5.5), 5);
    assert.equal(observed.clip(3.25), 3.25);
    assert.deepEqual(new SparseRatings(tiny(), { ratingScale: [1, 5] }).ratingScale, [1, 5]);
  });

  it("rejects empty logs, non-finite ratings and a reversed scale", () => {
    assert.throws(() => new SparseRatings(makeInteractions([], 2, 2, "empty")), /'empty' has no ratings/);
    assert.throws(
      () =>
        new SparseRatings(
          makeInteractions(
            [
              [0, 0, 3],
              [1, 1, NaN],
            ],
            2,
            2,
            "bad",
          ),
        ),
      /'bad' row 1 has rating NaN/,
    );
    assert.throws(() => new SparseRatings(tiny(), { ratingScale: [5, 1] }), /ratingScale/);
  });

  it("rebuilds from saved parts: the rows by item are the transpose, μ is kept as given", () => {
    const fitted = new SparseRatings(smallRatings([10, 3, 7, 0, 5, 9, 1, 8, 4, 2, 6]));
    // A μ off by one ulp from what summing would give: the parts are taken as they are, not recomputed.
    const mean = fitted.globalMean + Number.EPSILON * 2;
    const rebuilt = new SparseRatings({ byUser: fitted.byUser, globalMean: mean, ratingScale: [1, 5] });
    assert.equal(rebuilt.globalMean, mean);
    assert.deepEqual(rebuilt.byItem, fitted.byItem);
    assert.deepEqual(
      [rebuilt.numUsers, rebuilt.numItems, rebuilt.length, rebuilt.ratingScale],
      [fitted.numUsers, fitted.numItems, fitted.length, fitted.ratingScale],
    );
    const empty = CsrMatrix.fromDense([[0, 0]]);
    assert.throws(
      () => new SparseRatings({ byUser: empty, globalMean: 1, ratingScale: [1, 5] }),
      /the saved rows hold no ratings/,
    );
    assert.throws(
      () => new SparseRatings({ byUser: fitted.byUser, globalMean: NaN, ratingScale: [1, 5] }),
      /SparseRatings: globalMean must be a finite number, got NaN/,
    );
  });

  it("saves as arrays and restores exactly, naming the weight it cannot read", async () => {
    const ratings = new SparseRatings(tiny(), { ratingScale: [1, 5] });
    const saved = sparseRatingsSaved(ratings);
    assert.deepEqual(saved.fitted, { numUsers: 2, numItems: 2, globalMean: 11 / 3, ratingScale: [1, 5] });
    assert.deepEqual(
      saved.arrays.map((a) => [a.name, Array.from(a.values)]),
      [
        ["ratings/offsets", [0, 2, 3]],
        ["ratings/indices", [0, 1, 0]],
        ["ratings/values", [4, 2, 5]],
      ],
    );
    const encoded = await encodeArrays("test", saved.arrays, {});
    const source = { json: "ratings.json", weights: "ratings.bin" };
    const reader = async () =>
      new CheckpointArrays("test", await verifyCheckpoint("test", encoded.json, encoded.data, source));
    const restored = restoreSparseRatings(await reader(), saved.fitted);
    assert.deepEqual(restored, ratings);
    await assert.rejects(
      async () => restoreSparseRatings(await reader(), { ...saved.fitted, numUsers: 3 }),
      /test: ratings.json: weight 'ratings\/offsets' has shape \[3\], the model expects \[4\]/,
    );
  });

  it("clipToScale and the pair checks work on any rating space", () => {
    assert.deepEqual(
      [0, 1, 3.5, 5, 9].map((v) => clipToScale(v, [1, 5])),
      [1, 1, 3.5, 5, 5],
    );
    const space = { numUsers: 2, numItems: 3, ratingScale: [1, 5] as const };
    checkRatingPairs("test", space, Int32Array.of(0, 1), Int32Array.of(2, 0));
    assert.throws(
      () => checkRatingPairs("test", space, Int32Array.of(0, 1), Int32Array.of(2)),
      /test: users has 2 entries but items has 1/,
    );
    assert.throws(
      () => checkRatingPairs("test", space, Int32Array.of(0, 1), Int32Array.of(2, 3)),
      /test: items\[1\] = 3 is outside the id space \[0, 3\)/,
    );
    assert.throws(
      () => checkRatingUsers("test", space, Int32Array.of(2)),
      /test: users\[0\] = 2 is outside the id space \[0, 2\)/,
    );
  });
});
