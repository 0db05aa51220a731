// The SIMD SVD epoch against the JavaScript one (models/matrixFactorization.ts, svdSgdEpoch), which the
// model tests check against Surprise's loop: the same float64 updates, up to the rounding of a dot
// product summed in two lanes.

import * as assert from "node:assert/strict";
import { SimdSvdSgd } from "../../../src/backend/kernels/factorizationSgd";
import { Rng } from "../../../src/backend/random";
import { rowsByUser } from "../../../src/data/userIndex";
import { MatrixFactorizationTables, svdSgdEpoch } from "../../../src/models/matrixFactorization";
import { randomRatings } from "../../models/ratingFixtures";

describe("backend/kernels/factorizationSgd", () => {
  for (const [factors, biased] of [
    [4, true],
    [5, true],
    [3, false],
  ] as const) {
    it(`runs Surprise's SVD epoch as svdSgdEpoch does (D = ${factors}, ${biased ? "biased" : "unbiased"})`, () => {
      const data = randomRatings(1, 12, 9, 0.5);
      const rows = rowsByUser(data).rows;
      const shape = { numUsers: data.numUsers, numItems: data.numItems, factors, biased };
      const simd = SimdSvdSgd.create(shape, { users: data.users, items: data.items, ratings: data.ratings, rows });
      assert.ok(simd, "Node runs WebAssembly SIMD");
      const rng = new Rng(2);
      const js: MatrixFactorizationTables = {
        userFactors: Float64Array.from({ length: data.numUsers * factors }, () => rng.normal(0, 0.2)),
        itemFactors: Float64Array.from({ length: data.numItems * factors }, () => rng.normal(0, 0.2)),
        userBias: biased ? Float64Array.from({ length: data.numUsers }, () => rng.normal(0, 0.2)) : null,
        itemBias: biased ? Float64Array.from({ length: data.numItems }, () => rng.normal(0, 0.2)) : null,
      };
      simd.userFactors.set(js.userFactors);
      simd.itemFactors.set(js.itemFactors);
      if (biased) {
        simd.userBias!.set(js.userBias!);
        simd.itemBias!.set(js.itemBias!);
      }
      const settings = { globalMean: biased ? 3 : 0, regularization: 0.1, learningRate: 0.03 };
      for (let epoch = 0; epoch < 3; epoch++) {
        const expected = svdSgdEpoch(js, data, rows, { ...settings, factors });
        const loss = simd.epoch(settings);
        assert.ok(Math.abs(loss - expected) < 1e-12 * expected, `epoch ${epoch + 1}: ${loss} vs ${expected}`);
      }
      const close = (actual: Float64Array | null, expected: Float64Array | null) =>
        expected?.forEach((v, k) => assert.ok(Math.abs(actual![k] - v) < 1e-13, `${actual![k]} vs ${v}`));
      close(simd.userFactors, js.userFactors);
      close(simd.itemFactors, js.itemFactors);
      close(simd.userBias, js.userBias);
      close(simd.itemBias, js.itemBias);
      if (!biased) assert.equal(simd.userBias, null);
    });
  }
});
