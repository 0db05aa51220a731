import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { fitWals, implicitMatrix, solveSide, walsLoss } from "../../src/models/wals";
import { makeInteractions } from "../eval/fixtures";

/** L of the header summed over every (u, i) pair, the slow way. */
function bruteForceLoss(
  r: number[][],
  x: Float64Array,
  y: Float64Array,
  d: number,
  alpha: number,
  lambda: number,
): number {
  let loss = 0;
  r.forEach((row, u) =>
    row.forEach((rui, i) => {
      let s = 0;
      for (let f = 0; f < d; f++) s += x[u * d + f] * y[i * d + f];
      const p = rui > 0 ? 1 : 0;
      loss += (1 + alpha * rui) * (p - s) ** 2;
    }),
  );
  for (const v of x) loss += lambda * v * v;
  for (const v of y) loss += lambda * v * v;
  return loss;
}

/**
 * A planted rank-2 pattern: users 0..9 like items 0..7, users 10..19 like items 8..15; each user has
 * seen all of their group's items but two (held out).
 */
function plantedGroups(): { data: ReturnType<typeof makeInteractions>; heldOut: number[][] } {
  const rows: [number, number][] = [];
  const heldOut: number[][] = [];
  for (let u = 0; u < 20; u++) {
    const offset = u < 10 ? 0 : 8;
    const left = [offset + (u % 8), offset + ((u + 3) % 8)];
    heldOut.push(left);
    for (let i = offset; i < offset + 8; i++) if (!left.includes(i)) rows.push([u, i]);
  }
  return { data: makeInteractions(rows, 20, 16, "planted-groups"), heldOut };
}

describe("models/wals", () => {
  before(async () => {
    await initBackend();
  });

  it("builds r_ui both ways, summing duplicates for 'rating' and 1 for 'binary'", () => {
    const data = makeInteractions(
      [
        [1, 2, 4],
        [0, 1, 3],
        [1, 2, 1],
        [1, 0, 5],
      ],
      2,
      3,
    );
    const rating = implicitMatrix(data, "rating");
    assert.deepEqual(Array.from(rating.byUser.offsets), [0, 1, 3]);
    assert.deepEqual(Array.from(rating.byUser.indices), [1, 0, 2]);
    assert.deepEqual(Array.from(rating.byUser.values), [3, 5, 5]);
    assert.deepEqual(Array.from(rating.byItem.offsets), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(rating.byItem.indices), [1, 0, 1]);
    assert.deepEqual(Array.from(rating.byItem.values), [5, 3, 5]);
    assert.deepEqual(Array.from(implicitMatrix(data, "binary").byUser.values), [1, 1, 1]);
  });

  it("solves each user exactly: the gradient of L at the new x_u is zero", () => {
    const r = [
      [2, 0, 1, 0],
      [0, 3, 0, 0],
      [0, 0, 0, 0],
    ];
    const rows: [number, number, number][] = [];
    r.forEach((row, u) => row.forEach((v, i) => v > 0 && rows.push([u, i, v])));
    const { byUser } = implicitMatrix(makeInteractions(rows, 3, 4), "rating");
    const d = 2;
    const alpha = 2;
    const lambda = 0.3;
    const y = Float64Array.from([0.5, -1, 1, 0.25, -0.5, 0.75, 0.2, 0.1]);
    const x = new Float64Array(3 * d);
    solveSide(byUser, y, x, d, alpha, lambda);
    for (let u = 0; u < 3; u++) {
      for (let f = 0; f < d; f++) {
        // ∂L/∂x_uf = 2 Σ_i c_ui (x_uᵀy_i − p_ui) y_if + 2λ x_uf
        let g = 2 * lambda * x[u * d + f];
        for (let i = 0; i < 4; i++) {
          const s = x[u * d] * y[i * d] + x[u * d + 1] * y[i * d + 1];
          g += 2 * (1 + alpha * r[u][i]) * (s - (r[u][i] > 0 ? 1 : 0)) * y[i * d + f];
        }
        assert.ok(Math.abs(g) < 1e-9, `user ${u}, factor ${f}: gradient ${g}`);
      }
    }
    assert.deepEqual(Array.from(x.subarray(4)), [0, 0]); // no interactions: x = 0
    assert.ok(Math.abs(walsLoss(byUser, x, y, d, alpha, lambda) - bruteForceLoss(r, x, y, d, alpha, lambda)) < 1e-9);
  });

  it("never increases the objective, which matches the brute-force sum over all pairs", () => {
    const { data } = plantedGroups();
    const losses: number[] = [];
    fitWals(data, {
      factors: 3,
      iterations: 6,
      regularization: 0.5,
      alpha: 10,
      seed: 1,
      onIteration: (_, loss) => losses.push(loss),
    });
    assert.equal(losses.length, 6);
    for (let t = 1; t < losses.length; t++)
      assert.ok(losses[t] <= losses[t - 1] + 1e-9, `iteration ${t + 1}: ${losses[t - 1]} → ${losses[t]}`);
    const model = fitWals(data, { factors: 3, iterations: 2, regularization: 0.5, alpha: 10, seed: 1 });
    const r = Array.from({ length: 20 }, () => new Array(16).fill(0));
    data.users.forEach((u, k) => (r[u][data.items[k]] = 1));
    const expected = bruteForceLoss(
      r,
      Float64Array.from(model.userFactors),
      Float64Array.from(model.itemFactors),
      3,
      10,
      0.5,
    );
    assert.ok(Math.abs(losses[1] - expected) < 1e-3 * expected, `${losses[1]} vs ${expected}`);
  });

  it("recovers a planted rank-2 preference pattern", () => {
    const { data, heldOut } = plantedGroups();
    const model = fitWals(data, { factors: 2, iterations: 10, regularization: 1, seed: 0 });
    const scores = model.scoreItems(Int32Array.from({ length: 20 }, (_, u) => u));
    for (let u = 0; u < 20; u++) {
      const other = u < 10 ? 8 : 0;
      const worstHeldOut = Math.min(...heldOut[u].map((i) => scores[u * 16 + i]));
      assert.ok(worstHeldOut > 0.5, `user ${u}: held-out score ${worstHeldOut}`);
      for (let i = other; i < other + 8; i++)
        assert.ok(Math.abs(scores[u * 16 + i]) < 0.1, `user ${u}, item ${i}: ${scores[u * 16 + i]}`);
    }
  });

  it("scores every item consistently with scorePairs, without leaking tensors", () => {
    const { data } = plantedGroups();
    const model = fitWals(data, { factors: 3, iterations: 2, seed: 0 });
    const start = tf.memory().numTensors;
    const all = model.scoreItems(Int32Array.from([3, 17]));
    assert.equal(tf.memory().numTensors, start);
    const pairs = model.scorePairs(Int32Array.from([3, 17]), Int32Array.from([5, 12]));
    assert.ok(Math.abs(pairs[0] - all[5]) < 1e-5 && Math.abs(pairs[1] - all[16 + 12]) < 1e-5);
  });

  it("gives the same factors for the same seed and rejects a bad config", () => {
    const { data } = plantedGroups();
    const a = fitWals(data, { factors: 3, iterations: 2, seed: 7 });
    assert.deepEqual(a.itemFactors, fitWals(data, { factors: 3, iterations: 2, seed: 7 }).itemFactors);
    assert.notDeepEqual(a.itemFactors, fitWals(data, { factors: 3, iterations: 2, seed: 8 }).itemFactors);
    assert.throws(() => fitWals(data, { iterations: 1.5, seed: 0 }), /iterations/);
    assert.throws(() => fitWals(data, { strength: "count" as "binary", seed: 0 }), /strength/);
  });
});
