import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { pca2d } from "../../src/viz/projection";

describe("viz/projection", () => {
  it("finds the axes of a stretched cloud and the variance they explain", () => {
    // Points spread 10× more along (1,1,0)/√2 than along (1,−1,0)/√2, nothing along z.
    const rng = new Rng(1);
    const rows = 2000;
    const m = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) {
      const a = 10 * rng.normal();
      const b = rng.normal();
      m[r * 3] = (a + b) / Math.SQRT2;
      m[r * 3 + 1] = (a - b) / Math.SQRT2;
      m[r * 3 + 2] = 0;
    }
    const { points, explainedVariance } = pca2d(m, rows, 3);
    // Variances 100 and 1 of 101 in total.
    assert.ok(Math.abs(explainedVariance[0] - 100 / 101) < 0.01, String(explainedVariance));
    assert.ok(Math.abs(explainedVariance[1] - 1 / 101) < 0.005, String(explainedVariance));
    // The first coordinate of a point is its projection on (1,1,0)/√2 (up to centring).
    let meanX = 0,
      meanY = 0;
    for (let r = 0; r < rows; r++) {
      meanX += m[r * 3];
      meanY += m[r * 3 + 1];
    }
    meanX /= rows;
    meanY /= rows;
    const expected = (m[0] - meanX + (m[1] - meanY)) / Math.SQRT2;
    assert.ok(Math.abs(points[0] - expected) < 1e-3 * Math.max(1, Math.abs(expected)), `${points[0]} vs ${expected}`);
  });

  it("is deterministic and rejects bad shapes", () => {
    const m = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i));
    assert.deepEqual(pca2d(m, 10, 2).points, pca2d(m, 10, 2).points);
    assert.throws(() => pca2d(m, 3, 3), /expected 3×3/);
  });
});
