import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { randomSplit } from "../../src/data/splitters";
import { evaluateRatings } from "../../src/eval/protocols";
import {
  MatrixFactorization,
  MatrixFactorizationTables,
  matrixFactorizationLoss,
  svdSgdEpoch,
} from "../../src/models/matrixFactorization";
import { rowsByUser } from "../../src/data/userIndex";
import { checkGradients, plantedRatings, randomTensor } from "./gradientCheck";
import { SMALL_MEAN, SMALL_ROWS, smallRatings } from "./ratingFixtures";
import { fitRatingSgd, ratingBatch } from "../../src/train/ratingSgd";

/** The model's tables as plain arrays. */
function weights(model: MatrixFactorization): { p: Float32Array; q: Float32Array; bu: Float32Array; bi: Float32Array } {
  const { userFactors, itemFactors, userBias, itemBias } = model.params;
  return {
    p: userFactors.dataSync() as Float32Array,
    q: itemFactors.dataSync() as Float32Array,
    bu: userBias ? (userBias.dataSync() as Float32Array) : new Float32Array(0),
    bi: itemBias ? (itemBias.dataSync() as Float32Array) : new Float32Array(0),
  };
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) s += a[i * d + f] * b[j * d + f];
  return s;
}

/**
 * Surprise's SVD.sgd (matrix_factorization.pyx), one epoch transcribed loop for loop on nested arrays:
 * the reference the fused epoch must equal.
 */
function surpriseSvdEpoch(
  t: { p: number[][]; q: number[][]; bu: number[]; bi: number[] },
  ratings: ReadonlyArray<readonly [number, number, number]>,
  s: { globalMean: number; learningRate: number; regularization: number; biased: boolean },
): void {
  const lr = s.learningRate;
  const reg = s.regularization;
  for (const [u, i, r] of ratings) {
    let dot = 0;
    for (let f = 0; f < t.p[u].length; f++) dot += t.q[i][f] * t.p[u][f];
    const err = r - (s.globalMean + t.bu[u] + t.bi[i] + dot);
    if (s.biased) {
      t.bu[u] += lr * (err - reg * t.bu[u]);
      t.bi[i] += lr * (err - reg * t.bi[i]);
    }
    for (let f = 0; f < t.p[u].length; f++) {
      const puf = t.p[u][f];
      const qif = t.q[i][f];
      t.p[u][f] += lr * (err * qif - reg * puf);
      t.q[i][f] += lr * (err * puf - reg * qif);
    }
  }
}

/** Rows of a [n × d] table. */
function nested(values: Float64Array, d: number): number[][] {
  return Array.from({ length: values.length / d }, (_, r) => Array.from(values.subarray(r * d, (r + 1) * d)));
}

describe("models/matrixFactorization", () => {
  before(async () => {
    await initBackend();
  });

  it("has Surprise's SVD defaults", () => {
    const model = new MatrixFactorization(smallRatings(), { seed: 0 });
    assert.equal(model.factors, 100);
    assert.equal(model.regularization, 0.02);
    assert.equal(model.biased, true);
    assert.deepEqual(model.sgdDefaults, { epochs: 20, learningRate: 0.005, batchSize: 4096 });
    assert.ok(Math.abs(model.globalMean - SMALL_MEAN) < 1e-12);
    assert.deepEqual(model.ratingScale, [1, 5]);
    // init_std_dev 0.1: the 4 × 100 factors of the known users have a sample std close to it.
    const { p } = weights(model);
    const known = p.subarray(0, 4 * 100);
    const std = Math.sqrt(known.reduce((s, v) => s + v * v, 0) / known.length);
    assert.ok(Math.abs(std - 0.1) < 0.01, `std ${std}`);
    model.dispose();
  });

  it("computes the mean per-rating loss (r − r̂)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)", () => {
    const data = smallRatings();
    const model = new MatrixFactorization(data, { factors: 3, regularization: 0.3, seed: 4 });
    tf.tidy(() => {
      model.params.userBias!.assign(tf.tensor1d([0.1, -0.2, 0.3, 0.05, 0]));
      model.params.itemBias!.assign(tf.tensor1d([-0.3, 0.2, 0.4, -0.1, 0]));
    });
    const { p, q, bu, bi } = weights(model);
    const rows = Int32Array.from([0, 1, 2, 5, 8, 10]);
    let expected = 0;
    for (const row of rows) {
      const [u, i, r] = SMALL_ROWS[row];
      const e = r - (SMALL_MEAN + bu[u] + bi[i] + dot(p, u, q, i, 3));
      expected += e * e + 0.3 * (bu[u] ** 2 + bi[i] ** 2 + dot(p, u, p, u, 3) + dot(q, i, q, i, 3));
    }
    expected /= rows.length;
    const loss = tf.tidy(() => model.loss(rows).dataSync()[0]);
    assert.ok(Math.abs(loss - expected) < 1e-5 * Math.max(1, expected), `${loss} vs ${expected}`);
    model.dispose();
  });

  it("has the gradient central differences give, biased and unbiased", () => {
    const data = smallRatings();
    const rng = new Rng(11);
    // Rows with repeated users and items, so that gradients accumulate over occurrences.
    const batch = ratingBatch(data, Int32Array.from([0, 1, 3, 5, 6, 9, 10]));
    const userFactors = randomTensor(rng, [5, 3], 0.5);
    const itemFactors = randomTensor(rng, [5, 3], 0.5);
    const userBias = randomTensor(rng, [5], 0.5);
    const itemBias = randomTensor(rng, [5], 0.5);
    checkGradients(
      (pu, qi, bu, bi) =>
        matrixFactorizationLoss(
          {
            userFactors: pu as tf.Tensor2D,
            itemFactors: qi as tf.Tensor2D,
            userBias: bu as tf.Tensor1D,
            itemBias: bi as tf.Tensor1D,
          },
          3.5,
          0.2,
          batch,
        ),
      [userFactors, itemFactors, userBias, itemBias],
    );
    checkGradients(
      (pu, qi) =>
        matrixFactorizationLoss({ userFactors: pu as tf.Tensor2D, itemFactors: qi as tf.Tensor2D }, 0, 0.2, batch),
      [userFactors, itemFactors],
    );
    tf.dispose([userFactors, itemFactors, userBias, itemBias, batch.users, batch.items, batch.ratings]);
  });

  it("takes, in one batch step at γ·|B|/2, the sum of Surprise's per-rating updates from the same point", () => {
    const data = smallRatings();
    const gamma = 0.05;
    const lambda = 0.1;
    const model = new MatrixFactorization(data, { factors: 3, regularization: lambda, initStd: 0.5, seed: 2 });
    tf.tidy(() => model.params.userBias!.assign(tf.tensor1d([0.2, -0.1, 0.3, 0.1, 0])));
    const before = weights(model);
    const d = 3;
    const expected = {
      p: Float32Array.from(before.p),
      q: Float32Array.from(before.q),
      bu: Float32Array.from(before.bu),
      bi: Float32Array.from(before.bi),
    };
    const rows = Int32Array.from([0, 1, 2, 3, 5, 6, 8]); // u0 three times, i0 three times, i1 three times
    for (const row of rows) {
      const [u, i, r] = SMALL_ROWS[row];
      const e = r - (SMALL_MEAN + before.bu[u] + before.bi[i] + dot(before.p, u, before.q, i, d));
      expected.bu[u] += gamma * (e - lambda * before.bu[u]);
      expected.bi[i] += gamma * (e - lambda * before.bi[i]);
      for (let f = 0; f < d; f++) {
        expected.p[u * d + f] += gamma * (e * before.q[i * d + f] - lambda * before.p[u * d + f]);
        expected.q[i * d + f] += gamma * (e * before.p[u * d + f] - lambda * before.q[i * d + f]);
      }
    }
    const optimizer = tf.train.sgd((gamma * rows.length) / 2);
    optimizer.minimize(() => model.loss(rows), false, model.trainableVariables());
    optimizer.dispose();
    const after = weights(model);
    for (const key of ["p", "q", "bu", "bi"] as const) {
      after[key].forEach((v, k) =>
        assert.ok(Math.abs(v - expected[key][k]) < 1e-5, `${key}[${k}]: ${v} vs ${expected[key][k]}`),
      );
    }
    model.dispose();
  });

  it("learns a planted rank-2 matrix well beyond the global mean", async () => {
    const { train, test } = randomSplit(plantedRatings(3, 60, 40, 2, 0.5), { ratio: 0.8, seed: 1 });
    const model = new MatrixFactorization(train, { factors: 4, seed: 0 });
    const history = await fitRatingSgd(model, {
      epochs: 25,
      learningRate: 0.05,
      batchSize: 32,
      seed: 0,
      progress: "silent",
    });
    assert.equal(history.length, 25);
    assert.ok(history[24].loss < history[0].loss / 3, `loss ${history[0].loss} → ${history[24].loss}`);
    const meanOnly = evaluateRatings(
      { predict: (users) => new Float32Array(users.length).fill(model.globalMean) },
      test,
    );
    const learned = evaluateRatings(model, test);
    assert.ok(learned.rmse < 0.5 * meanOnly.rmse, `RMSE ${learned.rmse} vs global mean ${meanOnly.rmse}`);
    model.dispose();
  });

  it("clips predictions to the rating scale as Surprise does, and scores unclipped", () => {
    const model = new MatrixFactorization(smallRatings(), { factors: 2, seed: 0 });
    tf.tidy(() => model.params.itemBias!.assign(tf.tensor1d([4, -6, 0, 0, 0])));
    const users = Int32Array.from([0, 1, 2]);
    const items = Int32Array.from([0, 1, 2]);
    const raw = model.scorePairs(users, items);
    const predicted = model.predict(users, items);
    assert.ok(raw[0] > 5 && raw[1] < 1, `raw ${Array.from(raw)}`);
    assert.deepEqual(Array.from(predicted.subarray(0, 2)), [5, 1]);
    assert.ok(Math.abs(predicted[2] - raw[2]) < 1e-6);
    model.dispose();
  });

  it("treats a user or item without training ratings as Surprise does: zero bias and factors", async () => {
    const data = smallRatings(); // user 4 and item 4 have no ratings
    const model = new MatrixFactorization(data, { factors: 3, seed: 5 });
    await fitRatingSgd(model, { epochs: 3, batchSize: 4, learningRate: 0.05, seed: 1, progress: "silent" });
    const { p, q, bu, bi } = weights(model);
    assert.deepEqual(Array.from(p.subarray(12, 15)), [0, 0, 0]);
    assert.deepEqual(Array.from(q.subarray(12, 15)), [0, 0, 0]);
    assert.equal(bu[4], 0);
    assert.equal(bi[4], 0);
    const predicted = model.predict(Int32Array.from([4, 0]), Int32Array.from([0, 4]));
    assert.ok(Math.abs(predicted[0] - (SMALL_MEAN + bi[0])) < 1e-5);
    assert.ok(Math.abs(predicted[1] - (SMALL_MEAN + bu[0])) < 1e-5);
    model.dispose();
  });

  it("scores every item consistently with scorePairs", () => {
    const model = new MatrixFactorization(smallRatings(), { factors: 3, seed: 3 });
    tf.tidy(() => model.params.userBias!.assign(tf.tensor1d([0.5, -0.5, 0.1, 0, 0])));
    const users = Int32Array.from([2, 0]);
    const all = model.scoreItems(users);
    assert.equal(all.length, 2 * 5);
    for (let b = 0; b < 2; b++) {
      const pairs = model.scorePairs(new Int32Array(5).fill(users[b]), Int32Array.from([0, 1, 2, 3, 4]));
      pairs.forEach((v, i) => assert.ok(Math.abs(v - all[b * 5 + i]) < 1e-5));
    }
    model.dispose();
  });

  it("leaks no tensors in predict, scoring or a training epoch", async () => {
    const data = smallRatings();
    const model = new MatrixFactorization(data, { factors: 3, seed: 0 });
    const start = tf.memory().numTensors;
    model.predict(Int32Array.from([0, 1]), Int32Array.from([2, 3]));
    model.scorePairs(Int32Array.from([0, 1]), Int32Array.from([2, 3]));
    model.scoreItems(Int32Array.from([0, 1, 2]));
    model.loss(Int32Array.from([0, 1, 2])).dispose();
    assert.equal(tf.memory().numTensors, start);
    await fitRatingSgd(model, { epochs: 1, batchSize: 4, seed: 0, progress: "silent" });
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
    assert.equal(tf.memory().numTensors, start - 4);
  });

  it("gives the same weights for the same seeds and different ones otherwise", async () => {
    const data = smallRatings();
    const trained = async (initSeed: number, batchSeed: number): Promise<Float32Array> => {
      const model = new MatrixFactorization(data, { factors: 3, seed: initSeed });
      await fitRatingSgd(model, { epochs: 2, batchSize: 3, learningRate: 0.05, seed: batchSeed, progress: "silent" });
      const { p } = weights(model);
      model.dispose();
      return p;
    };
    const a = await trained(1, 1);
    assert.deepEqual(a, await trained(1, 1));
    assert.notDeepEqual(a, await trained(2, 1));
    assert.notDeepEqual(a, await trained(1, 2));
  });

  it("drops the biases when unbiased (PMF) and rejects a bad config", () => {
    const model = new MatrixFactorization(smallRatings(), { biased: false, factors: 2, seed: 0 });
    assert.equal(model.globalMean, 0);
    assert.equal(model.trainableVariables().length, 2);
    model.dispose();
    assert.throws(
      () => new MatrixFactorization(smallRatings(), { factors: 0, seed: 0 }),
      /factors must be a positive integer/,
    );
    assert.throws(() => new MatrixFactorization(smallRatings(), { regularization: -1, seed: 0 }), /regularization/);
    assert.throws(() => new MatrixFactorization(smallRatings([]), { seed: 0 }), /empty/);
  });
  it("svdSgdEpoch takes Surprise's per-rating step: one rating worked by hand", () => {
    // D = 2, p_u = (0.1, 0.2), q_i = (0.3, −0.1), μ = 3, b = 0, r = 4, γ = 0.1, λ = 0.5:
    // q·p = 0.01, e = 0.99; b_u = b_i = γe = 0.099; p_u = (0.1 + 0.1(0.99·0.3 − 0.05), 0.2 + 0.1(−0.099 − 0.1))
    // = (0.1247, 0.1801); q_i = (0.3 + 0.1(0.099 − 0.15), −0.1 + 0.1(0.198 + 0.05)) = (0.2949, −0.0752);
    // ℓ = 0.99² + 0.5(0.01 + 0.09 + 0.04 + 0.01) = 1.0551.
    const tables: MatrixFactorizationTables = {
      userFactors: Float64Array.of(0.1, 0.2),
      itemFactors: Float64Array.of(0.3, -0.1),
      userBias: Float64Array.of(0),
      itemBias: Float64Array.of(0),
    };
    const data = { users: Int32Array.of(0), items: Int32Array.of(0), ratings: Float32Array.of(4) };
    const loss = svdSgdEpoch(tables, data, Int32Array.of(0), {
      factors: 2,
      globalMean: 3,
      regularization: 0.5,
      learningRate: 0.1,
    });
    const close = (actual: ArrayLike<number>, expected: number[]) =>
      expected.forEach((v, k) => assert.ok(Math.abs(actual[k] - v) < 1e-12, `${actual[k]} vs ${v}`));
    close(tables.userBias!, [0.099]);
    close(tables.itemBias!, [0.099]);
    close(tables.userFactors, [0.1247, 0.1801]);
    close(tables.itemFactors, [0.2949, -0.0752]);
    close([loss], [1.0551]);
  });

  for (const biased of [true, false]) {
    it(`svdSgdEpoch is Surprise's SVD.sgd loop, rating after rating in its order (${biased ? "biased" : "PMF"})`, () => {
      const data = smallRatings();
      const d = 3;
      const rng = new Rng(3);
      const tables: MatrixFactorizationTables = {
        userFactors: Float64Array.from({ length: 5 * d }, () => rng.normal(0, 0.3)),
        itemFactors: Float64Array.from({ length: 5 * d }, () => rng.normal(0, 0.3)),
        userBias: biased ? new Float64Array(5) : null,
        itemBias: biased ? new Float64Array(5) : null,
      };
      const reference = {
        p: nested(tables.userFactors, d),
        q: nested(tables.itemFactors, d),
        bu: new Array<number>(5).fill(0),
        bi: new Array<number>(5).fill(0),
      };
      const settings = { factors: d, globalMean: biased ? SMALL_MEAN : 0, regularization: 0.1, learningRate: 0.05 };
      const rows = rowsByUser(data).rows; // Surprise's order: user by user
      const inOrder = Array.from(rows, (row) => SMALL_ROWS[row]);
      for (let epoch = 0; epoch < 3; epoch++) {
        svdSgdEpoch(tables, data, rows, settings);
        surpriseSvdEpoch(reference, inOrder, { ...settings, biased });
      }
      const close = (actual: Float64Array | null, expected: number[]) =>
        expected.forEach((v, k) => assert.ok(Math.abs(actual![k] - v) < 1e-12, `${actual![k]} vs ${v}`));
      close(tables.userFactors, reference.p.flat());
      close(tables.itemFactors, reference.q.flat());
      if (biased) {
        close(tables.userBias, reference.bu);
        close(tables.itemBias, reference.bi);
      }
    });
  }

  it("trains with batch size 1 by the fused epoch, as one tfjs step per rating in the same order does", async () => {
    const data = smallRatings();
    const trained = async (generic: boolean) => {
      const model = new MatrixFactorization(data, { factors: 3, seed: 2 });
      // A step callback needs a step per rating: fitRatingSgd then runs the generic loop.
      const callbacks = generic ? [{ onStepEnd: () => undefined }] : [];
      const logs = await fitRatingSgd(model, {
        epochs: 4,
        batchSize: 1,
        learningRate: 0.05,
        seed: 0,
        progress: "silent",
        callbacks,
      });
      const w = weights(model);
      model.dispose();
      return { w, losses: logs.map((l) => l.loss) };
    };
    const fused = await trained(false);
    const generic = await trained(true);
    // float64 against float32 over 44 updates of values of size ~1: 1e-5.
    for (const key of ["p", "q", "bu", "bi"] as const) {
      fused.w[key].forEach((v, k) => assert.ok(Math.abs(v - generic.w[key][k]) < 1e-5, `${key}[${k}]`));
    }
    fused.losses.forEach((l, e) => assert.ok(Math.abs(l - generic.losses[e]) < 1e-5, `epoch ${e + 1} loss`));
    assert.ok(fused.losses[3] < fused.losses[0]);
  });
});
