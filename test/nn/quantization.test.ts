import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { BprMf } from "../../src/models/bpr";
import { MatrixFactorization } from "../../src/models/matrixFactorization";
import { TwoTower } from "../../src/models/twoTower";
import { WalsModel } from "../../src/models/wals";
import { NeuralCF } from "../../src/models/ncf";
import {
  Int8FactorScorer,
  dequantizeInt8,
  factorTablesOf,
  float32TableBytes,
  int8TableBytes,
  quantizeFactorModel,
  quantizeInt8,
  withInt8Weights,
} from "../../src/nn/quantization";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";

/** A small rating log: 6 users, 5 items, ratings 1..5. */
function ratings() {
  const rows: [number, number, number][] = [];
  for (let u = 0; u < 6; u++) for (let i = 0; i < 5; i++) if ((u + i) % 3 !== 0) rows.push([u, i, 1 + ((u * i) % 5)]);
  return makeInteractions(rows, 6, 5, "quantization-ratings");
}

describe("nn/quantization", () => {
  before(async () => {
    await initBackend();
  });

  describe("int8 tables", () => {
    it("quantises a 3 × 3 table by hand", () => {
      // Row 0: max 1.27, s = 0.01: 1.27 → 127, −0.634 → −63.4 → −63, 0.1 → 10.
      // Row 1: all zero, s = 0.  Row 2: max 2.54, s = 0.02: −2.54 → −127, 0.02 → 1, 1 → 50.
      const table = quantizeInt8([1.27, -0.634, 0.1, 0, 0, 0, -2.54, 0.02, 1], 3);
      assert.equal(table.rows, 3);
      assert.equal(table.cols, 3);
      assert.deepEqual([...table.values], [127, -63, 10, 0, 0, 0, -127, 1, 50]);
      assertClose(table.scales, [0.01, 0, 0.02]);
      assertClose(dequantizeInt8(table), [1.27, -0.63, 0.1, 0, 0, 0, -2.54, 0.02, 1], { atol: 1e-6 });
    });

    it("is symmetric: q(−x) = −q(x), and the largest entry of a row maps to ±127", () => {
      const table = quantizeInt8([0.5, -0.25, 0.125, -0.5, 0.25, -0.125], 3);
      assert.deepEqual(
        [...table.values.subarray(3)],
        [...table.values.subarray(0, 3)].map((q) => -q),
      );
      assert.equal(table.values[0], 127);
      assert.equal(table.values[3], -127);
    });

    it("round-trips every entry within half a step of its row's scale", () => {
      const rng = new Rng(1);
      const cols = 16;
      // Rows of very different ranges: per-row scales keep each row's error relative to its own range.
      const values = Float32Array.from({ length: 50 * cols }, (_, k) => rng.normal() * 10 ** ((k / cols) % 5) - 2);
      const table = quantizeInt8(values, cols);
      const back = dequantizeInt8(table);
      for (let k = 0; k < values.length; k++) {
        const s = table.scales[Math.floor(k / cols)];
        assert.ok(Math.abs(values[k] - back[k]) <= s / 2 + 1e-6 * Math.abs(values[k]), `entry ${k}`);
      }
    });

    it("stores about 4× fewer bytes: one per entry and a float32 scale per row", () => {
      const table = quantizeInt8(new Float32Array(1000 * 64).fill(0.5), 64);
      assert.equal(int8TableBytes(table), 1000 * 64 + 4 * 1000);
      assert.equal(float32TableBytes(table), 4 * 1000 * 64);
      assertClose(float32TableBytes(table) / int8TableBytes(table), (4 * 64) / 68); // 3.76
    });

    it("rejects ragged tables and non-finite entries", () => {
      assert.throws(() => quantizeInt8([1, 2, 3], 2), /not a whole number of rows of 2/);
      assert.throws(() => quantizeInt8([1, NaN], 2), /entry \(0, 1\) is NaN/);
    });
  });

  describe("Int8FactorScorer", () => {
    it("scores exactly when the tables are representable, with biases, offset and scale", () => {
      // Every row's largest |entry| is 127/64, so its scale is 1/64 and entries that are multiples of 1/64
      // are stored exactly: users (127, 32)/64 and (−127, 64)/64, items (32, −127)/64 and (127, 16)/64.
      const m = 127 / 64;
      const scorer = new Int8FactorScorer({
        numUsers: 2,
        numItems: 2,
        dim: 2,
        userVectors: Float32Array.from([m, 0.5, -m, 1]),
        itemVectors: Float32Array.from([0.5, -m, m, 0.25]),
        userBias: Float32Array.from([0.25, -0.5]),
        itemBias: Float32Array.from([1, 0]),
        offset: 3,
        scale: 2,
      });
      assert.deepEqual([...scorer.users.values], [127, 32, -127, 64]);
      assert.deepEqual([...scorer.items.values], [32, -127, 127, 16]);
      // u0·i0 = m/2 − m/2 = 0; u0·i1 = m² + 1/8; u1·i0 = −m/2 − m; u1·i1 = −m² + 1/4.
      const dots = [0, m * m + 0.125, -m / 2 - m, -m * m + 0.25];
      const expected = [
        2 * (dots[0] + 0.25 + 1 + 3),
        2 * (dots[1] + 0.25 + 0 + 3),
        2 * (dots[2] - 0.5 + 1 + 3),
        2 * (dots[3] - 0.5 + 0 + 3),
      ];
      assertClose(scorer.scoreItems(Int32Array.from([0, 1])), expected, { atol: 1e-5 });
      assertClose(scorer.scorePairs(Int32Array.from([1, 0]), Int32Array.from([0, 1])), [expected[2], expected[1]], {
        atol: 1e-5,
      });
      assert.equal(scorer.weightBytes(), 2 * (2 + 4) * 2 + 4 * 4);
      assert.equal(scorer.float32Bytes(), 4 * 4 * 2 + 4 * 4);
      assert.throws(() => scorer.scoreItems(Int32Array.from([2])), /user 2 is outside \[0, 2\)/);
      assert.throws(() => scorer.scorePairs(Int32Array.from([0]), Int32Array.from([5])), /item 5 is outside/);
    });

    it("quantises BprMf, MatrixFactorization and WALS close to their own scores", () => {
      const data = ratings();
      const users = Int32Array.from([0, 1, 2, 3, 4, 5]);
      const bpr = new BprMf(6, 5, { factors: 8, initStd: 0.5, seed: 1 });
      tf.tidy(() => bpr.params.itemBias!.assign(tf.tensor1d([0.1, -0.2, 0.3, 0, 0.5])));
      const mf = new MatrixFactorization(data, { factors: 8, initStd: 0.5, seed: 2 });
      tf.tidy(() => mf.params.userBias!.assign(tf.tensor1d([1, 0, -1, 0.5, 0, 0.2])));
      const rng = new Rng(3);
      const wals = new WalsModel(
        6,
        5,
        8,
        Float32Array.from({ length: 48 }, () => rng.normal()),
        Float32Array.from({ length: 40 }, () => rng.normal()),
      );
      for (const [name, model] of [
        ["BPR-MF", bpr],
        ["MF", mf],
        ["WALS", wals],
      ] as const) {
        const quantized = quantizeFactorModel(model);
        // Each product x_c y_c is off by at most (|x_c| s_y + |y_c| s_x)/2 + s_x s_y/4: a few thousandths here.
        assertClose(quantized.scoreItems(users), model.scoreItems(users), { atol: 0.05 }, name);
        assert.ok(quantized.weightBytes() < quantized.float32Bytes() / 2, name); // 8 factors: (8 + 4) vs 32 bytes a row
      }
      assert.equal(factorTablesOf(mf).offset, mf.globalMean);
      assert.equal(factorTablesOf(bpr).userBias, undefined, "BPR-MF has an item bias only");
      bpr.dispose();
      mf.dispose();
    });

    it("quantises a two-tower model's output vectors, scaled by 1/τ", async () => {
      const data = ratings();
      const model = new TwoTower(data, { embeddingDim: 4, hiddenUnits: [8], outputDim: 6, temperature: 0.5, seed: 4 });
      const tables = await assertNoLeak(() => factorTablesOf(model));
      assert.equal(tables.scale, 2);
      assert.equal(tables.dim, 6);
      const users = Int32Array.from([0, 3, 5]);
      assertClose(quantizeFactorModel(model).scoreItems(users), model.scoreItems(users), { atol: 0.03 });
      model.dispose();
    });

    it("names the models it accepts", () => {
      const data = ratings();
      const ncf = new NeuralCF(data, { variant: "mlp", mlpLayers: [4, 2], seed: 5 });
      assert.throws(
        () => quantizeFactorModel(ncf as never),
        /expected MatrixFactorization, BprMf, WalsModel, TwoTower/,
      );
      ncf.dispose();
    });
  });

  describe("withInt8Weights", () => {
    it("runs on int8 round trips of the matrices, counts bytes, and restores the weights", async () => {
      const data = ratings();
      const model = new NeuralCF(data, { variant: "neumf", factors: 4, mlpLayers: [8, 4], initStd: 0.3, seed: 6 });
      const users = Int32Array.from([0, 1, 2, 3, 4, 5]);
      const before = model.scoreItems(users);
      const kernel = model.params.gmfUsers!;
      const original = kernel.dataSync().slice();
      const report = await assertNoLeak(() =>
        withInt8Weights(model, () => ({ scores: model.scoreItems(users), row: kernel.dataSync().slice(0, 4) })),
      );
      // Inside: the GMF user table is its own int8 round trip.
      const table = quantizeInt8(original, 4);
      assertClose(report.result.row, dequantizeInt8(table).subarray(0, 4));
      assertClose(report.result.scores, before, { atol: 0.05 });
      // After: the original weights, bit for bit.
      assert.deepEqual([...kernel.dataSync()], [...original]);
      assert.deepEqual([...model.scoreItems(users)], [...before]);
      // Matrices: the GMF and MLP tables (6 and 5 rows × 4 each), the tower's kernel [8 × 4] and the
      // output [8 × 1] (GMF's 4 + the tower's 4); vectors: the tower's bias (4) and the output bias (1).
      const matrices: [number, number][] = [
        [6, 4],
        [5, 4],
        [6, 4],
        [5, 4],
        [8, 4],
        [8, 1],
      ];
      const vectors = 4 + 1;
      assert.equal(report.float32Bytes, 4 * (matrices.reduce((s, [r, c]) => s + r * c, 0) + vectors));
      assert.equal(report.int8Bytes, matrices.reduce((s, [r, c]) => s + r * c + 4 * r, 0) + 4 * vectors);
      model.dispose();
    });

    it("restores the weights when the function throws", async () => {
      const data = ratings();
      const model = new NeuralCF(data, { variant: "gmf", factors: 4, initStd: 0.3, seed: 7 });
      const original = model.params.gmfItems!.dataSync().slice();
      await assert.rejects(
        withInt8Weights(model, () => {
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.deepEqual([...model.params.gmfItems!.dataSync()], [...original]);
      model.dispose();
    });
  });
});
