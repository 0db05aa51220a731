import * as assert from "node:assert/strict";
import { loadMovieLens100K } from "../../src/data/movielens";
import { randomSplit } from "../../src/data/splitters";
import { evaluateRatings } from "../../src/eval/protocols";
import { rowMeans } from "../../src/data/csr";
import { BaselineOnly, NormalPredictor } from "../../src/models/ratingBaselines";
import { sharedDataset } from "../data/fixtures";
import { makeInteractions } from "../eval/fixtures";
import { SMALL_MEAN, randomRatings, smallRatings } from "./ratingFixtures";
import { assertClose } from "../support/assertions";
import { SparseRatings } from "../../src/data/sparseRatings";
import { fitBaselines } from "../../src/train/baselineEstimates";

/**
 * The 2 × 2 log worked by hand below:  u0: i0 = 4, i1 = 2;  u1: i0 = 5.  μ = 11/3.
 */
const tiny = () =>
  makeInteractions(
    [
      [0, 0, 4],
      [0, 1, 2],
      [1, 0, 5],
    ],
    2,
    2,
    "tiny",
  );

describe("SparseRatings", () => {
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
});

describe("fitBaselines", () => {
  it("ALS: one epoch, items first then users, worked by hand", () => {
    // λ_i = λ_u = 1, b_u = 0 at first:
    //   b_i0 = ((4 − μ) + (5 − μ)) / (1 + 2) = (5/3) / 3 = 5/9
    //   b_i1 = (2 − μ) / (1 + 1) = −5/6
    //   b_u0 = ((4 − μ − 5/9) + (2 − μ + 5/6)) / (1 + 2) = (−2/9 − 5/6) / 3 = −19/54
    //   b_u1 = (5 − μ − 5/9) / (1 + 1) = 7/18
    const b = fitBaselines(new SparseRatings(tiny()), { epochs: 1, regUser: 1, regItem: 1 });
    assertClose(b.globalMean, 11 / 3, { atol: 1e-9, rtol: 0 });
    assertClose(b.itemBias[0], 5 / 9, { atol: 1e-9, rtol: 0 });
    assertClose(b.itemBias[1], -5 / 6, { atol: 1e-9, rtol: 0 });
    assertClose(b.userBias[0], -19 / 54, { atol: 1e-9, rtol: 0 });
    assertClose(b.userBias[1], 7 / 18, { atol: 1e-9, rtol: 0 });
  });

  it("SGD: one epoch user by user, both biases updated with the same error, worked by hand", () => {
    // γ = 0.1, λ = 0: (u0, i0): e = 4 − 11/3 = 1/3 → b_u0 = b_i0 = 1/30
    //   (u0, i1): e = 2 − (11/3 + 1/30) = −1.7 → b_u0 = 1/30 − 0.17, b_i1 = −0.17
    //   (u1, i0): e = 5 − (11/3 + 1/30) = 1.3 → b_u1 = 0.13, b_i0 = 1/30 + 0.13
    const b = fitBaselines(new SparseRatings(tiny()), { method: "sgd", epochs: 1, reg: 0, learningRate: 0.1 });
    assertClose(b.userBias[0], 1 / 30 - 0.17, { atol: 1e-9, rtol: 0 });
    assertClose(b.userBias[1], 0.13, { atol: 1e-9, rtol: 0 });
    assertClose(b.itemBias[0], 1 / 30 + 0.13, { atol: 1e-9, rtol: 0 });
    assertClose(b.itemBias[1], -0.17, { atol: 1e-9, rtol: 0 });
    // With λ = 1 the first step is unchanged (the biases are still 0); the second one also subtracts
    // γλ b_u0: b_u0 = 1/30 + 0.1 · (e − 1 · 1/30) with e = 2 − (11/3 + 1/30).
    const shrunk = fitBaselines(new SparseRatings(tiny()), { method: "sgd", epochs: 1, reg: 1, learningRate: 0.1 });
    assertClose(shrunk.userBias[0], 1 / 30 + 0.1 * (2 - 11 / 3 - 1 / 30 - 1 / 30), { atol: 1e-9, rtol: 0 });
  });

  it("defaults are Surprise's: ALS 10 epochs, reg_u 15, reg_i 10; SGD 20 epochs, reg 0.02, lr 0.005", () => {
    const ratings = new SparseRatings(randomRatings(3, 20, 15, 0.4));
    assert.deepEqual(
      fitBaselines(ratings),
      fitBaselines(ratings, { method: "als", epochs: 10, regUser: 15, regItem: 10 }),
    );
    assert.notDeepEqual(fitBaselines(ratings), fitBaselines(ratings, { epochs: 9 }));
    assert.deepEqual(
      fitBaselines(ratings, { method: "sgd" }),
      fitBaselines(ratings, { method: "sgd", epochs: 20, reg: 0.02, learningRate: 0.005 }),
    );
  });

  it("ALS fits the train ratings better than the global mean, and more with less regularisation", () => {
    const train = randomRatings(5, 30, 20, 0.5);
    const ratings = new SparseRatings(train);
    const trainRmse = (config: Parameters<typeof fitBaselines>[1]) => {
      const { globalMean, userBias, itemBias } = fitBaselines(ratings, config);
      let squares = 0;
      for (let r = 0; r < train.length; r++)
        squares += (train.ratings[r] - globalMean - userBias[train.users[r]] - itemBias[train.items[r]]) ** 2;
      return Math.sqrt(squares / train.length);
    };
    const meanOnly = trainRmse({ epochs: 0 });
    const als = trainRmse({});
    assert.ok(als < meanOnly, `ALS ${als} vs mean ${meanOnly}`);
    assert.ok(trainRmse({ regUser: 1, regItem: 1 }) < als);
    assert.ok(trainRmse({ method: "sgd", epochs: 50, learningRate: 0.02 }) < meanOnly);
  });

  it("leaves users and items without ratings at bias 0", () => {
    const b = fitBaselines(new SparseRatings(smallRatings()), { regUser: 0, regItem: 0 });
    assert.equal(b.userBias[4], 0);
    assert.equal(b.itemBias[4], 0);
    assert.ok(b.userBias.every(Number.isFinite) && b.itemBias.every(Number.isFinite));
  });

  it("rejects an unknown method and bad numbers", () => {
    const ratings = new SparseRatings(tiny());
    assert.throws(() => fitBaselines(ratings, { method: "newton" } as never), /method must be "als" or "sgd"/);
    assert.throws(() => fitBaselines(ratings, { regUser: -1 }), /regUser must be a finite number >= 0/);
    assert.throws(() => fitBaselines(ratings, { method: "sgd", epochs: 1.5 }), /epochs must be an integer/);
  });
});

describe("BaselineOnly", () => {
  it("predicts μ + b_u + b_i, worked by hand", () => {
    // With the ALS biases above: r̂(u0, i0) = 11/3 − 19/54 + 5/9 = 209/54.
    const model = new BaselineOnly({ baseline: { epochs: 1, regUser: 1, regItem: 1 } }).fit(tiny());
    const predicted = model.predict(Int32Array.from([0, 1]), Int32Array.from([0, 1]));
    assertClose(predicted[0], 209 / 54, { atol: 1e-9, rtol: 0 });
    assertClose(predicted[1], 11 / 3 + 7 / 18 - 5 / 6, { atol: 1e-9, rtol: 0 });
  });

  it("clips predictions to the rating scale but not the ranking scores", () => {
    const model = new BaselineOnly({ ratingScale: [1, 3.5], baseline: { epochs: 1, regUser: 1, regItem: 1 } }).fit(
      tiny(),
    );
    assert.equal(model.predict(Int32Array.of(0), Int32Array.of(0))[0], 3.5);
    const scores = model.scoreItems(Int32Array.of(0, 1));
    assert.equal(scores.length, 4);
    assertClose(scores[0], 209 / 54, { atol: 1e-9, rtol: 0 });
    assertClose(scores[3], 11 / 3 + 7 / 18 - 5 / 6, { atol: 1e-9, rtol: 0 });
  });

  it("falls back to μ + b_i for an unknown user and μ + b_u for an unknown item", () => {
    const model = new BaselineOnly().fit(smallRatings());
    const { globalMean, userBias, itemBias } = model.baselines;
    const predicted = model.predict(Int32Array.of(4, 0, 4), Int32Array.of(1, 4, 4));
    assertClose(predicted[0], globalMean + itemBias[1], { atol: 1e-9, rtol: 0 });
    assertClose(predicted[1], globalMean + userBias[0], { atol: 1e-9, rtol: 0 });
    assertClose(predicted[2], SMALL_MEAN, { atol: 1e-9, rtol: 0 });
  });

  it("says what is wrong with its input", () => {
    assert.throws(
      () => new BaselineOnly().predict(Int32Array.of(0), Int32Array.of(0)),
      /BaselineOnly: call fit\(train\)/,
    );
    const model = new BaselineOnly().fit(tiny());
    assert.throws(() => model.predict(Int32Array.of(0, 1), Int32Array.of(0)), /users has 2 entries but items has 1/);
    assert.throws(
      () => model.predict(Int32Array.of(2), Int32Array.of(0)),
      /users\[0\] = 2 is outside the id space \[0, 2\)/,
    );
    assert.throws(() => model.predict(Int32Array.of(0), Int32Array.of(-1)), /items\[0\] = -1/);
  });
});

describe("NormalPredictor", () => {
  const fiveRatings = () =>
    makeInteractions(
      [
        [0, 0, 1],
        [0, 1, 2],
        [1, 0, 3],
        [1, 1, 4],
        [2, 0, 5],
      ],
      3,
      2,
      "five",
    );

  it("estimates μ and σ by maximum likelihood", () => {
    // Ratings 1..5: μ = 3, σ² = (4 + 1 + 0 + 1 + 4) / 5 = 2.
    const { mean, std } = new NormalPredictor({ seed: 1 }).fit(fiveRatings()).distribution;
    assertClose(mean, 3, { atol: 1e-9, rtol: 0 });
    assertClose(std, Math.SQRT2, { atol: 1e-9, rtol: 0 });
  });

  it("draws N(μ, σ²) clipped to the scale: mean 3, P(r̂ = 5) = P(Z > 2/√2)", () => {
    const model = new NormalPredictor({ seed: 7 }).fit(fiveRatings());
    const n = 40000;
    const predicted = model.predict(new Int32Array(n), new Int32Array(n));
    let sum = 0;
    let atTop = 0;
    for (const r of predicted) {
      assert.ok(r >= 1 && r <= 5);
      sum += r;
      if (r === 5) atTop++;
    }
    // Clipping is symmetric around μ = 3, so the mean stays 3 (sd of the mean < 0.007).
    assertClose(sum / n, 3, { atol: 0.03, rtol: 0 });
    // P(Z > √2) = 0.0786 (sd of the fraction ≈ 0.0013).
    assertClose(atTop / n, 0.0786, { atol: 0.006, rtol: 0 });
  });

  it("is reproducible: fit restarts the seeded stream", () => {
    const model = new NormalPredictor({ seed: 11 }).fit(fiveRatings());
    const users = Int32Array.of(0, 1, 2, 0);
    const items = Int32Array.of(0, 1, 0, 1);
    const first = model.predict(users, items);
    assert.notDeepEqual(model.predict(users, items), first);
    assert.deepEqual(model.fit(fiveRatings()).predict(users, items), first);
    assert.deepEqual(new NormalPredictor({ seed: 11 }).fit(fiveRatings()).predict(users, items), first);
    assert.notDeepEqual(new NormalPredictor({ seed: 12 }).fit(fiveRatings()).predict(users, items), first);
  });

  it("honours a given rating scale", () => {
    const predicted = new NormalPredictor({ seed: 2, ratingScale: [2, 4] })
      .fit(fiveRatings())
      .predict(new Int32Array(500), new Int32Array(500));
    assert.ok(predicted.every((r) => r >= 2 && r <= 4));
    assert.ok(predicted.some((r) => r === 2) && predicted.some((r) => r === 4));
  });
});

describe("rating baselines on MovieLens 100K", function () {
  const root = sharedDataset("ml-100k");
  before(function () {
    if (!root) this.skip();
  });

  it("BaselineOnly (Surprise defaults) scores RMSE ≈ 0.95 on an 80/20 random split", async () => {
    const data = await loadMovieLens100K({ dataDir: root, download: false, log: () => undefined });
    const { train, test } = randomSplit(data, { ratio: 0.8, seed: 1 });
    const als = evaluateRatings(new BaselineOnly().fit(train), test);
    // Surprise's 5-fold mean is 0.944; one 80/20 fold varies by about ±0.01.
    assert.ok(als.rmse > 0.935 && als.rmse < 0.96, `ALS RMSE ${als.rmse}`);
    assert.ok(als.mae > 0.74 && als.mae < 0.765, `ALS MAE ${als.mae}`);
    const sgd = evaluateRatings(new BaselineOnly({ baseline: { method: "sgd" } }).fit(train), test);
    assert.ok(sgd.rmse > 0.935 && sgd.rmse < 0.96, `SGD RMSE ${sgd.rmse}`);
    const random = evaluateRatings(new NormalPredictor({ seed: 1 }).fit(train), test);
    assert.ok(random.rmse > 1.48 && random.rmse < 1.56, `NormalPredictor RMSE ${random.rmse}`);
  });
});
