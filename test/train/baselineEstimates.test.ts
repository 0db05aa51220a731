// Baseline estimates b_ui = μ + b_u + b_i fitted by ALS or SGD as Surprise's optimize_baselines.pyx does:
// one epoch of each worked by hand on a 2 × 2 log, Surprise's defaults, and the edge cases.

import * as assert from "node:assert/strict";
import { SparseRatings } from "../../src/data/sparseRatings";
import { fitBaselines } from "../../src/train/baselineEstimates";
import { randomRatings, smallRatings, tinyRatings as tiny } from "../models/ratingFixtures";
import { assertClose } from "../support/assertions";

describe("train/baselineEstimates: fitBaselines", () => {
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
