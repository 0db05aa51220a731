import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { pairs } from "./implicitFixtures";
import {
  FeatureEmbeddingBatch,
  FeatureEmbeddingModel,
  featureEmbeddingBatches,
  fitFeatureEmbedding,
  sumFeatureEmbeddings,
  warmItemSampler,
} from "../../src/models/featureEmbedding";
import { featureMatrixFromLists } from "../../src/data/featureMatrix";
import { assertClose } from "../support/assertions";

/**
 * Two tastes. Items 0–4 are genre A and 5–9 genre B; items 10 (A) and 11 (B) are cold: nobody has
 * them in train. Users 0–5 like A, users 6–11 like B; each has four of the five items of their
 * genre (user u skips item u mod 5 of it).
 */
function twoTastes(): Interactions {
  const list: Array<[number, number]> = [];
  for (let u = 0; u < 12; u++) {
    const first = u < 6 ? 0 : 5;
    for (let k = 0; k < 5; k++) if (k !== u % 5) list.push([u, first + k]);
  }
  const genres = Array.from({ length: 12 }, (_, i) => [i < 5 || i === 10 ? "A" : "B"]);
  return pairs(list, 12, 12, { genres });
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function lossValue(model: FeatureEmbeddingModel, batch: FeatureEmbeddingBatch): number {
  return tf.tidy(() => model.loss(batch).dataSync()[0]);
}

describe("models/featureEmbedding", () => {
  before(async () => {
    await initBackend();
  });

  describe("sumFeatureEmbeddings", () => {
    it("sums each row's weighted feature vectors; a featureless row is zeros", () => {
      const features = featureMatrixFromLists([["a", "c"], [], ["b"]]).weights; // weights 0.5 0.5 / none / 1
      const before = tf.memory().numTensors;
      const table = tf.tensor2d([
        [1, 2],
        [10, 20],
        [100, 200],
      ]); // a, c, b (order of appearance)
      const biases = tf.tensor1d([1, 3, 5]);
      const sums = sumFeatureEmbeddings(table, features, Int32Array.of(2, 0, 1, 0));
      assert.deepEqual(values(sums), [100, 200, 5.5, 11, 0, 0, 5.5, 11]);
      const b = sumFeatureEmbeddings(biases, features, Int32Array.of(0, 2));
      assert.deepEqual(values(b), [2, 5]);
      tf.dispose([table, biases, sums, b]);
      assert.equal(tf.memory().numTensors, before);
      assert.throws(() => sumFeatureEmbeddings(biases, features, Int32Array.of(3)), /row 3 is out of range \[0, 3\)/);
    });
  });

  describe("FeatureEmbeddingModel", () => {
    it("scores s(u, i) = q_u · p_i + b_i, a cold item from its content features alone", () => {
      const data = twoTastes();
      const model = new FeatureEmbeddingModel(data, { factors: 3, initScale: 0.5, seed: 1 });
      // Give the biases values, so that they are part of what is checked.
      tf.tidy(() =>
        model.params.itemBiases.assign(tf.randomNormal([model.itemFeatures.names.length], 0, 1, "float32", 3)),
      );
      const E = model.params.itemEmbeddings.arraySync();
      const beta = model.params.itemBiases.arraySync();
      const U = model.params.userEmbeddings.arraySync();
      const f = (name: string) => model.itemFeatures.names.indexOf(name);
      const q = U[model.userFeatures.names.indexOf("user:u2")];
      const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0);
      // Warm item 3: mean of its identity and genre A. Cold item 10: genre A alone.
      const p3 = E[f("item:i3")].map((x, k) => 0.5 * x + 0.5 * E[f("genre:A")][k]);
      const s3 = dot(q, p3) + 0.5 * beta[f("item:i3")] + 0.5 * beta[f("genre:A")];
      const s10 = dot(q, E[f("genre:A")]) + beta[f("genre:A")];
      const scores = model.scoreItems(Int32Array.of(2));
      assertClose([scores[3], scores[10]], [s3, s10], { atol: 1e-5, rtol: 1e-5 });
      assert.equal(model.itemFeatures.names.includes("item:i10"), false);
      model.dispose();
    });

    it("scorePairs agrees with scoreItems", () => {
      const model = new FeatureEmbeddingModel(twoTastes(), { factors: 4, initScale: 0.3, seed: 2 });
      const users = Int32Array.of(0, 7, 7, 11);
      const items = Int32Array.of(10, 0, 11, 5);
      const all = model.scoreItems(users);
      const expected = Array.from(users, (_, k) => all[k * 12 + items[k]]);
      assertClose(model.scorePairs(users, items), expected, { atol: 1e-5, rtol: 1e-5 });
      model.dispose();
    });

    it("has the loss gradient that central differences give (BPR term and penalty)", () => {
      const data = twoTastes();
      const model = new FeatureEmbeddingModel(data, { factors: 3, initScale: 0.5, regularization: 0.1, seed: 4 });
      tf.tidy(() =>
        model.params.itemBiases.assign(tf.randomNormal([model.itemFeatures.names.length], 0, 0.5, "float32", 5)),
      );
      // Item 1 twice and a repeated user, so that gradients have to accumulate.
      const batch = {
        users: Int32Array.of(0, 0, 7, 3),
        positives: Int32Array.of(1, 2, 6, 1),
        negatives: Int32Array.of(6, 10, 11, 5),
      };
      const variables = model.trainableVariables();
      const { value, grads } = tf.variableGrads(() => model.loss(batch), variables);
      value.dispose();
      const eps = 1e-2;
      for (const v of variables) {
        const analytic = grads[v.name].dataSync();
        const base = v.dataSync().slice();
        const numeric = new Float32Array(base.length);
        for (let k = 0; k < base.length; k++) {
          const at = (delta: number): number => {
            const moved = base.slice();
            moved[k] += delta;
            tf.tidy(() => v.assign(tf.tensor(moved, v.shape)));
            return lossValue(model, batch);
          };
          numeric[k] = (at(eps) - at(-eps)) / (2 * eps);
        }
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        for (let k = 0; k < base.length; k++) {
          const limit = 1e-2 * Math.abs(numeric[k]) + 2e-4;
          assert.ok(
            Math.abs(analytic[k] - numeric[k]) <= limit,
            `${v.name}[${k}]: tf.grads ${analytic[k]}, numerical ${numeric[k]}`,
          );
        }
        // A feature no example in the batch touches gets no gradient.
        if (v === model.params.userEmbeddings) {
          const row = model.userFeatures.names.indexOf("user:u5");
          assert.deepEqual(Array.from(analytic.subarray(row * 3, row * 3 + 3)), [0, 0, 0]);
        }
      }
      tf.dispose(Object.values(grads));
      model.dispose();
    });

    it("learns: the loss falls, and a cold item ranks by the taste its features share", async () => {
      const data = twoTastes();
      const model = new FeatureEmbeddingModel(data, { factors: 8, seed: 6 });
      const history = await fitFeatureEmbedding(model, {
        epochs: 60,
        batchSize: 16,
        learningRate: 0.05,
        seed: 7,
        progress: "silent",
      });
      assert.ok(history[59].loss < 0.5 * history[0].loss, `loss ${history[0].loss} → ${history[59].loss}`);
      const scores = model.scoreItems(Int32Array.from({ length: 12 }, (_, u) => u));
      for (let u = 0; u < 12; u++) {
        const row = scores.subarray(u * 12, u * 12 + 12);
        const likesA = u < 6;
        const own = likesA ? 10 : 11; // the cold item of the user's genre
        const other = likesA ? 11 : 10;
        const unrelatedWarm = likesA ? [5, 6, 7, 8, 9] : [0, 1, 2, 3, 4];
        assert.ok(row[own] > row[other], `user ${u}: cold items ${own} ${row[own]} vs ${other} ${row[other]}`);
        for (const i of unrelatedWarm)
          assert.ok(row[own] > row[i], `user ${u}: cold item ${own} ${row[own]} vs warm item ${i} ${row[i]}`);
      }
      model.dispose();
    });

    it("trains against negatives drawn from warm items only: cold items do not exist yet", () => {
      const data = twoTastes();
      const batches = featureEmbeddingBatches(data, warmItemSampler(data), { batchSize: 7, rng: new Rng(3) });
      assert.equal(
        batches.reduce((n, b) => n + b.users.length, 0),
        data.length,
      );
      const negatives = new Set<number>();
      for (let epoch = 0; epoch < 50; epoch++) {
        for (const b of featureEmbeddingBatches(data, warmItemSampler(data), { batchSize: 16, rng: new Rng(epoch) })) {
          b.negatives.forEach((j, k) => {
            negatives.add(j);
            assert.ok(
              !data.items.some((i, r) => data.users[r] === b.users[k] && i === j),
              `user ${b.users[k]} has item ${j}`,
            );
          });
        }
      }
      assert.deepEqual(
        [...negatives].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    });

    it("leaks no tensors in loss, scoring and a whole training run", async () => {
      const data = twoTastes();
      const before = tf.memory().numTensors;
      const model = new FeatureEmbeddingModel(data, { factors: 4, regularization: 0.01, seed: 8 });
      const withVariables = tf.memory().numTensors;
      assert.equal(withVariables, before + 3);
      const batch = featureEmbeddingBatches(data, warmItemSampler(data), { batchSize: 8, rng: new Rng(1) })[0];
      model.loss(batch).dispose();
      model.scoreItems(Int32Array.of(0, 1, 2));
      model.scorePairs(Int32Array.of(0, 1), Int32Array.of(10, 11));
      model.itemVectors();
      assert.equal(tf.memory().numTensors, withVariables);
      await fitFeatureEmbedding(model, { epochs: 2, batchSize: 16, seed: 1, progress: "silent" });
      assert.equal(tf.memory().numTensors, withVariables);
      model.dispose();
      assert.equal(tf.memory().numTensors, before);
    });

    it("is reproducible: the same seed gives the same weights, before and after training", async () => {
      const data = twoTastes();
      const make = (seed: number) => new FeatureEmbeddingModel(data, { factors: 4, seed });
      const [a, b, c] = [make(9), make(9), make(10)];
      assert.deepEqual(values(a.params.itemEmbeddings), values(b.params.itemEmbeddings));
      assert.deepEqual(values(a.params.userEmbeddings), values(b.params.userEmbeddings));
      assert.notDeepEqual(values(a.params.itemEmbeddings), values(c.params.itemEmbeddings));
      for (const m of [a, b]) await fitFeatureEmbedding(m, { epochs: 3, batchSize: 8, seed: 11, progress: "silent" });
      assert.deepEqual(values(a.params.itemEmbeddings), values(b.params.itemEmbeddings));
      assert.deepEqual(values(a.params.itemBiases), values(b.params.itemBiases));
      tf.dispose([a, b, c].flatMap((m) => m.trainableVariables()));
    });

    it("starts embeddings uniform in ±0.5/D and biases at zero, as LightFM", () => {
      const model = new FeatureEmbeddingModel(twoTastes(), { factors: 5, seed: 12 });
      const e = values(model.params.itemEmbeddings);
      assert.ok(e.every((x) => Math.abs(x) <= 0.1) && e.some((x) => Math.abs(x) > 0.05));
      assert.ok(values(model.params.itemBiases).every((x) => x === 0));
      model.dispose();
    });

    it("rejects bad configurations, feature matrices of the wrong size and ragged batches", () => {
      const data = twoTastes();
      assert.throws(
        () => new FeatureEmbeddingModel(data, { factors: 0, seed: 1 }),
        /factors must be a positive integer/,
      );
      assert.throws(() => new FeatureEmbeddingModel(data, { regularization: -1, seed: 1 }), /regularization must be/);
      const wrong = featureMatrixFromLists([["a"]]);
      assert.throws(
        () => new FeatureEmbeddingModel(data, { itemFeatures: wrong, seed: 1 }),
        /itemFeatures has 1 rows but 'tiny' has 12 items/,
      );
      const model = new FeatureEmbeddingModel(data, { seed: 1 });
      assert.throws(
        () => model.loss({ users: Int32Array.of(0), positives: Int32Array.of(1, 2), negatives: Int32Array.of(3) }),
        /1 users, 2 positives/,
      );
      model.dispose();
    });
  });
});
