import * as assert from "node:assert/strict";
import { loadMovieLens100K } from "../../src/data/movielens";
import { randomSplit } from "../../src/data/splitters";
import { evaluateRatings } from "../../src/eval/protocols";
import { BaselineOnly, NormalPredictor } from "../../src/models/ratingBaselines";
import { sharedDataset } from "../data/fixtures";
import { makeInteractions } from "../eval/fixtures";
import { SMALL_MEAN, smallRatings, tinyRatings as tiny } from "./ratingFixtures";
import { assertClose } from "../support/assertions";

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
