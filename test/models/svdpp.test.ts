import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { randomSplit } from "../../src/data/splitters";
import { UserItems } from "../../src/data/userIndex";
import { evaluateRatings } from "../../src/eval/protocols";
import { matrixFactorizationEstimate } from "../../src/models/matrixFactorization";
import { Svdpp, implicitBatch, svdppEstimate, svdppLoss } from "../../src/models/svdpp";
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
});
