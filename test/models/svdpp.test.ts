import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { randomSplit } from "../../src/data/splitters";
import { UserItems } from "../../src/data/userIndex";
import { evaluateRatings } from "../../src/eval/protocols";
import { matrixFactorizationEstimate } from "../../src/models/matrixFactorization";
import { Svdpp, SvdppTables, implicitBatch, svdppEstimate, svdppLoss, svdppSgdEpoch } from "../../src/models/svdpp";
import { rowsByUser } from "../../src/data/userIndex";
import { checkGradients, plantedRatings, randomTensor } from "./gradientCheck";
import { SMALL_MEAN, SMALL_ROWS, smallRatings } from "./ratingFixtures";
import { fitRatingSgd, ratingBatch } from "../../src/train/ratingSgd";

const D = 3;

function table(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** r̂ of SVD++ computed by hand from the model's tables, with N(u) read off SMALL_ROWS. */
function handEstimate(model: Svdpp, u: number, i: number): number {
  const p = table(model.params.userFactors);
  const q = table(model.params.itemFactors);
  const y = table(model.params.implicitFactors);
  const bu = table(model.params.userBias);
  const bi = table(model.params.itemBias);
  const rated = SMALL_ROWS.filter((r) => r[0] === u).map((r) => r[1]);
  let dot = 0;
  for (let f = 0; f < D; f++) {
    let z = 0;
    for (const j of rated) z += y[j * D + f];
    if (rated.length > 0) z /= Math.sqrt(rated.length);
    dot += q[i * D + f] * (p[u * D + f] + z);
  }
  return SMALL_MEAN + bu[u] + bi[i] + dot;
}

/**
 * Surprise's SVDpp.sgd (matrix_factorization.pyx), one epoch transcribed loop for loop on nested
 * arrays, I_u the items of u's ratings: the reference the fused epoch must equal.
 */
function surpriseSvdppEpoch(
  t: { p: number[][]; q: number[][]; y: number[][]; bu: number[]; bi: number[] },
  ratings: ReadonlyArray<readonly [number, number, number]>,
  s: { globalMean: number; learningRate: number; regularization: number },
): void {
  const lr = s.learningRate;
  const reg = s.regularization;
  const d = t.p[0].length;
  for (const [u, i, r] of ratings) {
    const iu = SMALL_ROWS.filter((row) => row[0] === u).map((row) => row[1]);
    const sqrtIu = Math.sqrt(iu.length);
    const implicit = new Array<number>(d).fill(0);
    for (const j of iu) for (let f = 0; f < d; f++) implicit[f] += t.y[j][f] / sqrtIu;
    let dot = 0;
    for (let f = 0; f < d; f++) dot += t.q[i][f] * (t.p[u][f] + implicit[f]);
    const err = r - (s.globalMean + t.bu[u] + t.bi[i] + dot);
    t.bu[u] += lr * (err - reg * t.bu[u]);
    t.bi[i] += lr * (err - reg * t.bi[i]);
    for (let f = 0; f < d; f++) {
      const puf = t.p[u][f];
      const qif = t.q[i][f];
      t.p[u][f] += lr * (err * qif - reg * puf);
      t.q[i][f] += lr * (err * (puf + implicit[f]) - reg * qif);
      const errQifSqrt = (err * qif) / sqrtIu;
      for (const j of iu) t.y[j][f] += lr * (errQifSqrt - reg * t.y[j][f]);
    }
  }
}

describe("models/svdpp", () => {
  before(async () => {
    await initBackend();
  });

  it("has Surprise's SVDpp defaults", () => {
    const model = new Svdpp(smallRatings(), { seed: 0 });
    assert.equal(model.factors, 20);
    assert.equal(model.regularization, 0.02);
    assert.deepEqual(model.sgdDefaults, { epochs: 20, learningRate: 0.007, batchSize: 4096 });
    assert.equal(model.trainableVariables().length, 5);
    model.dispose();
  });

  it("lays out a batch's neighbourhoods as (slot, item, weight, count) pairs", () => {
    const neighbourhoods = UserItems.from(smallRatings());
    const batch = implicitBatch(neighbourhoods, Int32Array.from([2, 0, 2, 4]));
    assert.equal(batch.numSlots, 3);
    assert.deepEqual(Array.from(batch.rowSlot.dataSync()), [0, 1, 0, 2]);
    // N(u2) = {0, 1, 2}, N(u0) = {0, 1, 3}, N(u4) = {}.
    assert.deepEqual(Array.from(batch.pairSlot.dataSync()), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(batch.pairItem.dataSync()), [0, 1, 2, 0, 1, 3]);
    Array.from(batch.pairWeight.dataSync()).forEach((w) => assert.ok(Math.abs(w - 1 / Math.sqrt(3)) < 1e-7));
    assert.deepEqual(Array.from(batch.pairCount.dataSync()), [2, 2, 2, 1, 1, 1]);
    tf.dispose([batch.rowSlot, batch.pairSlot, batch.pairItem, batch.pairWeight, batch.pairCount]);
  });

  it("estimates μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^-½ Σ y_j) and its mean per-rating loss", () => {
    const model = new Svdpp(smallRatings(), { factors: D, regularization: 0.2, initStd: 0.4, seed: 3 });
    tf.tidy(() => {
      model.params.userBias.assign(tf.tensor1d([0.1, -0.2, 0.3, 0.05, 0]));
      model.params.itemBias.assign(tf.tensor1d([-0.3, 0.2, 0.4, -0.1, 0]));
    });
    const users = Int32Array.from([0, 2, 3, 4, 0]);
    const items = Int32Array.from([2, 3, 0, 1, 4]);
    const predicted = model.scorePairs(users, items);
    users.forEach((u, k) => assert.ok(Math.abs(predicted[k] - handEstimate(model, u, items[k])) < 1e-5, `pair ${k}`));

    const y = table(model.params.implicitFactors);
    const p = table(model.params.userFactors);
    const q = table(model.params.itemFactors);
    const bu = table(model.params.userBias);
    const bi = table(model.params.itemBias);
    const rows = Int32Array.from([0, 1, 5, 7, 10]);
    let expected = 0;
    for (const row of rows) {
      const [u, i, r] = SMALL_ROWS[row];
      const e = r - handEstimate(model, u, i);
      let penalty = bu[u] ** 2 + bi[i] ** 2;
      for (let f = 0; f < D; f++) penalty += p[u * D + f] ** 2 + q[i * D + f] ** 2;
      for (const [v, j] of SMALL_ROWS) if (v === u) for (let f = 0; f < D; f++) penalty += y[j * D + f] ** 2;
      expected += e * e + 0.2 * penalty;
    }
    expected /= rows.length;
    const loss = model.loss(rows);
    assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5 * Math.max(1, expected));
    loss.dispose();
    model.dispose();
  });

  it("reduces to biased MF when every y_j is zero", () => {
    const rng = new Rng(8);
    const data = smallRatings();
    const [pu, qi, bu, bi] = [
      randomTensor(rng, [5, D], 0.5),
      randomTensor(rng, [5, D], 0.5),
      randomTensor(rng, [5], 0.5),
      randomTensor(rng, [5], 0.5),
    ];
    const params = {
      userFactors: pu as tf.Tensor2D,
      itemFactors: qi as tf.Tensor2D,
      userBias: bu as tf.Tensor1D,
      itemBias: bi as tf.Tensor1D,
    };
    const users = Int32Array.from([0, 1, 2, 3]);
    const [withZeroY, mf] = tf.tidy(() => {
      const u = tf.tensor1d(users, "int32");
      const i = tf.tensor1d([3, 0, 2, 1], "int32");
      const implicit = implicitBatch(UserItems.from(data), users);
      return [
        svdppEstimate({ ...params, implicitFactors: tf.zeros([5, D]) }, 3, u, i, implicit).dataSync(),
        matrixFactorizationEstimate(params, 3, u, i).dataSync(),
      ].map((values) => Array.from(values));
    });
    withZeroY.forEach((v, k) => assert.ok(Math.abs(v - mf[k]) < 1e-6));
    tf.dispose([pu, qi, bu, bi]);
  });

  it("has the gradient central differences give, y included", () => {
    const data = smallRatings();
    const rng = new Rng(12);
    const rows = Int32Array.from([0, 1, 3, 5, 7, 9, 10]); // u0 twice, u2 twice, u3 twice
    const batch = ratingBatch(data, rows);
    const implicit = implicitBatch(
      UserItems.from(data),
      Int32Array.from(rows, (r) => SMALL_ROWS[r][0]),
    );
    const inputs = [
      randomTensor(rng, [5], 0.5),
      randomTensor(rng, [5], 0.5),
      randomTensor(rng, [5, D], 0.5),
      randomTensor(rng, [5, D], 0.5),
      randomTensor(rng, [5, D], 0.5),
    ];
    checkGradients(
      (bu, bi, pu, qi, yj) =>
        svdppLoss(
          {
            userBias: bu as tf.Tensor1D,
            itemBias: bi as tf.Tensor1D,
            userFactors: pu as tf.Tensor2D,
            itemFactors: qi as tf.Tensor2D,
            implicitFactors: yj as tf.Tensor2D,
          },
          3.2,
          0.15,
          batch,
          implicit,
        ),
      inputs,
    );
    tf.dispose([
      ...inputs,
      batch.users,
      batch.items,
      batch.ratings,
      implicit.rowSlot,
      implicit.pairSlot,
      implicit.pairItem,
      implicit.pairWeight,
      implicit.pairCount,
    ]);
  });

  it("learns a planted rank-2 matrix well beyond the global mean", async () => {
    const { train, test } = randomSplit(plantedRatings(4, 60, 40, 2, 0.5), { ratio: 0.8, seed: 1 });
    const model = new Svdpp(train, { factors: 4, seed: 0 });
    const history = await fitRatingSgd(model, {
      epochs: 25,
      learningRate: 0.05,
      batchSize: 32,
      seed: 0,
      progress: "silent",
    });
    assert.ok(history[24].loss < history[0].loss / 3, `loss ${history[0].loss} → ${history[24].loss}`);
    const meanOnly = evaluateRatings(
      { predict: (users) => new Float32Array(users.length).fill(model.globalMean) },
      test,
    );
    const learned = evaluateRatings(model, test);
    assert.ok(learned.rmse < 0.5 * meanOnly.rmse, `RMSE ${learned.rmse} vs global mean ${meanOnly.rmse}`);
    model.dispose();
  });

  it("clips predictions, and predicts μ + b_i for a user without training ratings", () => {
    const model = new Svdpp(smallRatings(), { factors: D, seed: 1 });
    tf.tidy(() => model.params.itemBias.assign(tf.tensor1d([4, -6, 0.25, 0, 0])));
    const raw = model.scorePairs(Int32Array.from([0, 1]), Int32Array.from([0, 1]));
    assert.ok(raw[0] > 5 && raw[1] < 1);
    assert.deepEqual(Array.from(model.predict(Int32Array.from([0, 1]), Int32Array.from([0, 1]))), [5, 1]);
    const unknown = model.predict(Int32Array.from([4]), Int32Array.from([2]));
    assert.ok(Math.abs(unknown[0] - (SMALL_MEAN + 0.25)) < 1e-5);
    model.dispose();
  });

  it("scores every item consistently with scorePairs", () => {
    const model = new Svdpp(smallRatings(), { factors: D, seed: 2 });
    const users = Int32Array.from([3, 0, 3]);
    const all = model.scoreItems(users);
    users.forEach((u, b) => {
      const pairs = model.scorePairs(new Int32Array(5).fill(u), Int32Array.from([0, 1, 2, 3, 4]));
      pairs.forEach((v, i) => assert.ok(Math.abs(v - all[b * 5 + i]) < 1e-5));
    });
    model.dispose();
  });

  it("leaks no tensors in predict, scoring or a training epoch", async () => {
    const model = new Svdpp(smallRatings(), { factors: D, seed: 0 });
    const start = tf.memory().numTensors;
    model.predict(Int32Array.from([0, 1]), Int32Array.from([2, 3]));
    model.scorePairs(Int32Array.from([0, 4]), Int32Array.from([2, 3]));
    model.scoreItems(Int32Array.from([0, 1, 2]));
    model.loss(Int32Array.from([0, 1, 2])).dispose();
    assert.equal(tf.memory().numTensors, start);
    await fitRatingSgd(model, { epochs: 1, batchSize: 4, seed: 0, progress: "silent" });
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
    assert.equal(tf.memory().numTensors, start - 5);
  });

  it("gives the same weights for the same seeds", async () => {
    const trained = async (seed: number): Promise<Float32Array> => {
      const model = new Svdpp(smallRatings(), { factors: D, seed });
      await fitRatingSgd(model, { epochs: 2, batchSize: 3, learningRate: 0.05, seed, progress: "silent" });
      const y = table(model.params.implicitFactors);
      model.dispose();
      return y;
    };
    const a = await trained(1);
    assert.deepEqual(a, await trained(1));
    assert.notDeepEqual(a, await trained(2));
  });
  it("svdppSgdEpoch is Surprise's SVDpp.sgd loop, rating after rating in its order, and returns the mean ℓ", () => {
    const data = smallRatings();
    const rng = new Rng(5);
    const table64 = (rows: number) => Float64Array.from({ length: rows * D }, () => rng.normal(0, 0.3));
    const tables: SvdppTables = {
      userBias: new Float64Array(5),
      itemBias: new Float64Array(5),
      userFactors: table64(5),
      itemFactors: table64(5),
      implicitFactors: table64(5),
    };
    const nested = (values: Float64Array) =>
      Array.from({ length: 5 }, (_, r) => Array.from(values.subarray(r * D, (r + 1) * D)));
    const reference = {
      p: nested(tables.userFactors),
      q: nested(tables.itemFactors),
      y: nested(tables.implicitFactors),
      bu: new Array<number>(5).fill(0),
      bi: new Array<number>(5).fill(0),
    };
    // A large γλ so that the deferred y_j maps (a = 1 − γλ = 0.7) are exercised well away from 1.
    const settings = { factors: D, globalMean: SMALL_MEAN, regularization: 3, learningRate: 0.1 };
    const byUser = rowsByUser(data);
    const inOrder = Array.from(byUser.rows, (row) => SMALL_ROWS[row]);
    const neighbourhoods = UserItems.from(data);
    for (let epoch = 0; epoch < 3; epoch++) {
      // ℓ of each rating before its update, from the reference's parameters at that point.
      let expectedLoss = 0;
      for (const rating of inOrder) {
        const [u, i, r] = rating;
        const iu = SMALL_ROWS.filter((row) => row[0] === u).map((row) => row[1]);
        let dot = 0;
        let penalty = reference.bu[u] ** 2 + reference.bi[i] ** 2;
        for (let f = 0; f < D; f++) {
          const z = iu.reduce((sum, j) => sum + reference.y[j][f], 0) / Math.sqrt(iu.length);
          dot += reference.q[i][f] * (reference.p[u][f] + z);
          penalty += reference.p[u][f] ** 2 + reference.q[i][f] ** 2;
          for (const j of iu) penalty += reference.y[j][f] ** 2;
        }
        const err = r - (SMALL_MEAN + reference.bu[u] + reference.bi[i] + dot);
        expectedLoss += err * err + settings.regularization * penalty;
        surpriseSvdppEpoch(reference, [rating], settings);
      }
      const loss = svdppSgdEpoch(tables, data, byUser, neighbourhoods, settings);
      assert.ok(Math.abs(loss - expectedLoss / inOrder.length) < 1e-10, `epoch ${epoch + 1}: ${loss}`);
    }
    const close = (actual: Float64Array, expected: number[]) =>
      expected.forEach((v, k) => assert.ok(Math.abs(actual[k] - v) < 1e-12, `${actual[k]} vs ${v}`));
    close(tables.userBias, reference.bu);
    close(tables.itemBias, reference.bi);
    close(tables.userFactors, reference.p.flat());
    close(tables.itemFactors, reference.q.flat());
    close(tables.implicitFactors, reference.y.flat());
  });

  it("trains with batch size 1 by the fused epoch, as one tfjs step per rating in the same order does", async () => {
    const trained = async (generic: boolean) => {
      const model = new Svdpp(smallRatings(), { factors: D, seed: 3 });
      // A step callback needs a step per rating: fitRatingSgd then runs the generic loop.
      const callbacks = generic ? [{ onStepEnd: () => undefined }] : [];
      const logs = await fitRatingSgd(model, {
        epochs: 3,
        batchSize: 1,
        learningRate: 0.05,
        seed: 0,
        progress: "silent",
        callbacks,
      });
      const tables = model.trainableVariables().map((v) => table(v));
      model.dispose();
      return { tables, losses: logs.map((l) => l.loss) };
    };
    const fused = await trained(false);
    const generic = await trained(true);
    // float64 against float32 over 33 updates of values of size ~1: 1e-5.
    fused.tables.forEach((t, n) =>
      t.forEach((v, k) => assert.ok(Math.abs(v - generic.tables[n][k]) < 1e-5, `${n}[${k}]`)),
    );
    fused.losses.forEach((l, e) => assert.ok(Math.abs(l - generic.losses[e]) < 1e-5, `epoch ${e + 1} loss`));
  });
});
