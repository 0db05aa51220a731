import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import {
  BiasedMfModel,
  BiasedMfTables,
  copyFactorTables,
  createFactorTables,
  estimateRating,
  ratingGradient,
} from "../../src/privacy/factorTables";

/** ½ℓ_ui = ½[(r − r̂)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)]. */
function halfLoss(t: BiasedMfTables, u: number, i: number, r: number, lambda: number): number {
  const d = t.factors;
  const e = r - estimateRating(t, u, i);
  let penalty = t.userBias[u] ** 2 + t.itemBias[i] ** 2;
  for (let f = 0; f < d; f++) penalty += t.userFactors[u * d + f] ** 2 + t.itemFactors[i * d + f] ** 2;
  return 0.5 * (e * e + lambda * penalty);
}

describe("privacy/factorTables", () => {
  it("estimates μ + b_u + b_i + q_iᵀp_u (a 2-factor example by hand)", () => {
    const t: BiasedMfTables = {
      numUsers: 1,
      numItems: 1,
      factors: 2,
      globalMean: 3,
      userFactors: Float64Array.from([1, 2]),
      itemFactors: Float64Array.from([0.5, -0.25]),
      userBias: Float64Array.from([0.1]),
      itemBias: Float64Array.from([-0.3]),
    };
    assert.ok(Math.abs(estimateRating(t, 0, 0) - (3 + 0.1 - 0.3 + 0.5 - 0.5)) < 1e-15);
  });

  it("has the gradient of ½ℓ that central differences give", () => {
    const t = createFactorTables(3, 4, { factors: 3, globalMean: 3.5, initStd: 0.5, rng: new Rng(2) });
    t.userBias.set([0.2, -0.1, 0.3]);
    t.itemBias.set([0.1, 0.4, -0.2, 0]);
    const [u, i, r, lambda] = [1, 2, 4, 0.3];
    const g = new Float64Array(2 * 3 + 2);
    const e = ratingGradient(t, u, i, r, lambda, g);
    assert.ok(Math.abs(e - (r - estimateRating(t, u, i))) < 1e-15);
    // The parameters in `g`'s order: p_u (3), q_i (3), b_u, b_i.
    const slots: [Float64Array, number][] = [
      ...[0, 1, 2].map((f): [Float64Array, number] => [t.userFactors, u * 3 + f]),
      ...[0, 1, 2].map((f): [Float64Array, number] => [t.itemFactors, i * 3 + f]),
      [t.userBias, u],
      [t.itemBias, i],
    ];
    const h = 1e-6;
    slots.forEach(([table, j], k) => {
      const saved = table[j];
      table[j] = saved + h;
      const up = halfLoss(t, u, i, r, lambda);
      table[j] = saved - h;
      const down = halfLoss(t, u, i, r, lambda);
      table[j] = saved;
      assert.ok(Math.abs((up - down) / (2 * h) - g[k]) < 1e-8, `slot ${k}: ${(up - down) / (2 * h)} vs ${g[k]}`);
    });
  });

  it("initialises every row from N(0, initStd²), rated or not, biases at 0; copies deeply", () => {
    const t = createFactorTables(200, 300, { factors: 10, globalMean: 3, initStd: 0.1, rng: new Rng(4) });
    const all = [...t.userFactors, ...t.itemFactors];
    const std = Math.sqrt(all.reduce((s, v) => s + v * v, 0) / all.length);
    assert.ok(Math.abs(std - 0.1) < 0.003, `std ${std}`);
    assert.ok(all.every((v) => v !== 0));
    assert.ok(t.userBias.every((v) => v === 0) && t.itemBias.every((v) => v === 0));
    const copy = copyFactorTables(t);
    copy.userFactors[0] += 1;
    assert.notEqual(copy.userFactors[0], t.userFactors[0]);
  });

  it("BiasedMfModel: predict clips to the scale, scorePairs and scoreItems agree unclipped", () => {
    const t = createFactorTables(3, 5, { factors: 2, globalMean: 3, initStd: 1, rng: new Rng(6) });
    t.itemBias[4] = 10; // far above the scale
    const model = new BiasedMfModel(t, [1, 5]);
    assert.equal(model.numUsers, 3);
    assert.equal(model.numItems, 5);
    const users = Int32Array.from([0, 1, 2, 2]);
    const items = Int32Array.from([1, 4, 0, 3]);
    const predicted = model.predict(users, items);
    const pairs = model.scorePairs(users, items);
    const all = model.scoreItems(Int32Array.from([0, 1, 2]));
    for (let k = 0; k < users.length; k++) {
      assert.ok(Math.abs(pairs[k] - estimateRating(t, users[k], items[k])) < 1e-15);
      assert.ok(Math.abs(all[users[k] * 5 + items[k]] - pairs[k]) < 1e-12);
      assert.equal(predicted[k], Math.min(5, Math.max(1, pairs[k])));
    }
    assert.equal(predicted[1], 5);
    assert.ok(pairs[1] > 5);
    assert.throws(() => model.predict(users, Int32Array.from([1])), /same length/);
  });
});
