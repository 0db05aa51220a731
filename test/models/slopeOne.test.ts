import * as assert from "node:assert/strict";
import { loadMovieLens100K } from "../../src/data/movielens";
import { randomSplit } from "../../src/data/splitters";
import { evaluateRatings } from "../../src/eval/protocols";
import { SlopeOne } from "../../src/models/slopeOne";
import { sharedDataset } from "../data/fixtures";
import { makeInteractions } from "../eval/fixtures";
import { SMALL_MEAN, SMALL_ROWS, randomRatings, smallRatings } from "./ratingFixtures";
import { assertClose } from "../support/assertions";

const one = (model: SlopeOne, u: number, i: number) => model.predict(Int32Array.of(u), Int32Array.of(i))[0];

// Deviations of the hand-worked matrix, dev(i, j) = mean over common raters of r_ui − r_uj:
//   dev(i0, i1): u0 (5 − 3), u2 (1 − 1) → 1        dev(i0, i2): u2 (1 − 5) → −4
//   dev(i0, i3): u0 (5 − 1), u1 (4 − 1) → 3.5      dev(i1, i2): u2 (1 − 5), u3 (1 − 5) → −4
//   dev(i1, i3): u0 (3 − 1), u3 (1 − 4) → −0.5     dev(i2, i3): u3 (5 − 4) → 1

describe("SlopeOne", () => {
  it("computes the deviations and supports by hand", () => {
    const model = new SlopeOne().fit(smallRatings());
    const dev = (i: number, j: number) => model.deviations[i * 5 + j];
    const support = (i: number, j: number) => model.support[i * 5 + j];
    assertClose(dev(0, 1), 1, { atol: 1e-9, rtol: 0 });
    assertClose(dev(0, 2), -4, { atol: 1e-9, rtol: 0 });
    assertClose(dev(0, 3), 3.5, { atol: 1e-9, rtol: 0 });
    assertClose(dev(1, 2), -4, { atol: 1e-9, rtol: 0 });
    assertClose(dev(1, 3), -0.5, { atol: 1e-9, rtol: 0 });
    assertClose(dev(2, 3), 1, { atol: 1e-9, rtol: 0 });
    assertClose(dev(3, 0), -3.5, { atol: 1e-9, rtol: 0 });
    assert.equal(dev(2, 2), 0);
    assert.equal(support(1, 2), 2);
    assert.equal(support(2, 0), 1);
    assert.equal(support(0, 0), 3);
    assert.equal(support(0, 4), 0);
  });

  it("predicts μ_u plus the mean deviation over the relevant items, worked by hand", () => {
    const model = new SlopeOne().fit(smallRatings());
    // u1 rated i0, i3 (μ_u1 = 2.5): r̂(u1, i1) = 2.5 + (dev(i1, i0) + dev(i1, i3)) / 2 = 2.5 + (−1 − 0.5) / 2.
    assertClose(one(model, 1, 1), 1.75, { atol: 1e-9, rtol: 0 });
    // r̂(u1, i2) = 2.5 + (dev(i2, i0) + dev(i2, i3)) / 2 = 2.5 + (4 + 1) / 2 = 5.
    assertClose(one(model, 1, 2), 5, { atol: 1e-9, rtol: 0 });
    // u0 rated i0, i1, i3 (μ_u0 = 3): r̂(u0, i2) = 3 + (4 + 4 + 1) / 3 = 6, clipped to 5 by predict.
    assert.equal(one(model, 0, 2), 5);
    assertClose(model.scoreItems(Int32Array.of(0))[2], 6, { atol: 1e-9, rtol: 0 });
  });

  it("leaves out items with no common rater, down to μ_u when none is relevant; μ when unknown", () => {
    // Add u4, who rated only i4 (= 2): i4 shares no rater with any other item.
    const model = new SlopeOne().fit(makeInteractions([...SMALL_ROWS, [4, 4, 2]], 5, 5, "small+"));
    assertClose(one(model, 1, 4), 2.5, { atol: 1e-9, rtol: 0 }); // R_i4(u1) is empty → μ_u1
    assertClose(one(model, 4, 0), 2, { atol: 1e-9, rtol: 0 }); // R_i0(u4) is empty → μ_u4
    const small = new SlopeOne().fit(smallRatings());
    assertClose(one(small, 4, 0), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
    assertClose(one(small, 0, 4), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
  });

  it("has antisymmetric deviations and symmetric supports, matching the definition on a random log", () => {
    const data = randomRatings(8, 30, 12, 0.3);
    const model = new SlopeOne().fit(data);
    const n = 12;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let count = 0;
        let sum = 0;
        for (let u = 0; u < 30; u++) {
          let ri = NaN;
          let rj = NaN;
          for (let r = 0; r < data.length; r++) {
            if (data.users[r] !== u) continue;
            if (data.items[r] === i) ri = data.ratings[r];
            if (data.items[r] === j) rj = data.ratings[r];
          }
          if (!Number.isNaN(ri) && !Number.isNaN(rj)) {
            count++;
            sum += ri - rj;
          }
        }
        assert.equal(model.support[i * n + j], count);
        assertClose(model.deviations[i * n + j], count > 0 ? sum / count : 0, { atol: 1e-12, rtol: 0 });
        assert.ok(model.deviations[i * n + j] === -model.deviations[j * n + i]);
      }
    }
  });

  it("says what is wrong with its input", () => {
    assert.throws(() => new SlopeOne().scoreItems(Int32Array.of(0)), /SlopeOne: call fit\(train\)/);
    const model = new SlopeOne().fit(smallRatings());
    assert.equal(model.numItems, 5);
    assert.throws(() => model.scoreItems(Int32Array.of(5)), /users\[0\] = 5 is outside/);
  });

  describe("on MovieLens 100K", function () {
    const root = sharedDataset("ml-100k");
    before(function () {
      if (!root) this.skip();
    });

    it("scores RMSE ≈ 0.95 on an 80/20 random split", async () => {
      const data = await loadMovieLens100K({ dataDir: root, download: false, log: () => undefined });
      const { train, test } = randomSplit(data, { ratio: 0.8, seed: 1 });
      const { rmse, mae } = evaluateRatings(new SlopeOne().fit(train), test);
      // Surprise's 5-fold mean is 0.946 / 0.743; one 80/20 fold varies by about ±0.01.
      assert.ok(rmse > 0.935 && rmse < 0.96, `RMSE ${rmse}`);
      assert.ok(mae > 0.735 && mae < 0.76, `MAE ${mae}`);
    });
  });
});
