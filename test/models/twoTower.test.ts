import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { NegativeSampler } from "../../src/data/samplers";
import { evaluateRanking } from "../../src/eval/protocols";
import { TwoTower, accidentalHits } from "../../src/models/twoTower";
import { checkGradients, take } from "../nn/support";
import { pairs, plantedTastes, randomHitRate } from "./implicitFixtures";
import { ImplicitFeedbackBatch, fitImplicitFeedback, implicitFeedbackBatches } from "../../src/train/implicitFeedback";
import { featureMatrixFromLists } from "../../src/data/featureMatrix";
import { assertClose, assertNoLeak } from "../support/assertions";

/** The planted data with each item's taste as its genre. */
function withGenres(data: Interactions): Interactions {
  const genres = Array.from({ length: data.numItems }, (_, i) => [`taste${Math.floor(i / 10)}`]);
  return new Interactions({ ...data, itemInfo: { genres } });
}

const relu = (x: number) => Math.max(0, x);

/** One tower's unit vector for row r, computed in plain JS from its weights (the file header's equations). */
function handVector(tower: TwoTower["user"], r: number): number[] {
  let x = tower.ids.arraySync()[r];
  if (tower.features) {
    const w = tower.features.weights.arraySync()[r];
    const c = tower.features.embeddings.arraySync();
    x = x.concat(c[0].map((_, k) => w.reduce((s, wf, f) => s + wf * c[f][k], 0)));
  }
  tower.mlp.layers.forEach((layer) => {
    const W = layer.kernel.arraySync();
    const b = layer.bias!.arraySync();
    x = b
      .map((bj, j) => x.reduce((s, xk, k) => s + xk * W[k][j], bj))
      .map((v) => (layer.activation === "relu" ? relu(v) : v));
  });
  const norm = Math.sqrt(x.reduce((s, v) => s + v * v, 0));
  return x.map((v) => v / norm);
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);

function lossValue(model: TwoTower, batch: ImplicitFeedbackBatch): number {
  return tf.tidy(() => model.loss(batch).dataSync()[0]);
}

describe("models/twoTower", () => {
  before(async () => {
    await initBackend();
  });

  it("scores s(u, i) = uᵀv_i / τ of unit vectors from the two towers, genres included", () => {
    const train = withGenres(plantedTastes().train);
    const model = new TwoTower(train, { embeddingDim: 3, hiddenUnits: [4], outputDim: 2, temperature: 0.5, seed: 1 });
    assert.deepEqual(model.itemFeatures!.names, ["genre:taste0", "genre:taste1", "genre:taste2", "genre:taste3"]);
    assert.equal(model.userFeatures, null);
    const u = handVector(model.user, 7);
    const expected = [0, 13, 39].map((i) => dot(u, handVector(model.item, i)) / 0.5);
    const scores = model.scoreItems(Int32Array.of(7));
    assert.equal(scores.length, 40);
    assertClose([scores[0], scores[13], scores[39]], expected, { atol: 1e-5, rtol: 1e-4 });
    const norms = take(tf.tidy(() => tf.norm(model.userVectors(tf.tensor1d([0, 1, 2], "int32")), "euclidean", 1)));
    assertClose(norms, [1, 1, 1], { atol: 1e-5, rtol: 1e-4 });
    model.dispose();
  });

  it("scorePairs agrees with scoreItems", () => {
    const train = withGenres(plantedTastes().train);
    const model = new TwoTower(train, { embeddingDim: 4, outputDim: 3, seed: 2 });
    const users = Int32Array.of(0, 9, 9, 59);
    const items = Int32Array.of(39, 0, 11, 25);
    const all = model.scoreItems(users);
    assertClose(
      model.scorePairs(users, items),
      Array.from(users, (_, k) => all[k * 40 + items[k]]),
      { atol: 1e-5, rtol: 1e-4 },
    );
    model.dispose();
  });

  it("takes user features and leaves out item features when told to", () => {
    const { train } = plantedTastes();
    const userFeatures = featureMatrixFromLists(Array.from({ length: 60 }, (_, u) => [`group${u % 3}`]));
    const model = new TwoTower(train, { embeddingDim: 2, outputDim: 2, userFeatures, itemFeatures: null, seed: 3 });
    assert.equal(model.item.features, undefined);
    assert.deepEqual(model.user.features!.embeddings.shape, [3, 2]);
    const expected = dot(handVector(model.user, 4), handVector(model.item, 8)) / model.temperature;
    assertClose(model.scorePairs(Int32Array.of(4), Int32Array.of(8)), [expected], { atol: 1e-5, rtol: 1e-4 });
    model.dispose();
    assert.throws(
      () => new TwoTower(train, { userFeatures: featureMatrixFromLists([["a"]]), seed: 1 }),
      /userFeatures has 1 rows but the training data has 60 users/,
    );
  });

  describe("in-batch sampled softmax", () => {
    it("is the cross-entropy of each user's positive against the batch's items, log-Q corrected, hits masked", () => {
      const train = withGenres(plantedTastes().train);
      const model = new TwoTower(train, { embeddingDim: 3, outputDim: 2, temperature: 0.2, seed: 4 });
      // Item 3 appears twice: each copy must not be a negative for the other's row.
      const batch = {
        users: Int32Array.of(0, 4, 1, 2),
        positives: Int32Array.of(3, 3, 14, 25),
        negatives: new Int32Array(0),
      };
      const counts = new Map<number, number>();
      for (const i of train.items) counts.set(i, (counts.get(i) ?? 0) + 1);
      const lnQ = (i: number) => Math.log((counts.get(i) ?? 0) / train.length);
      assert.equal(model.logQ[14], Math.fround(lnQ(14)));
      const expected = (corrected: boolean) => {
        let total = 0;
        batch.users.forEach((u, b) => {
          const logits = Array.from(batch.positives, (i, j) => {
            if (j !== b && i === batch.positives[b]) return -Infinity;
            return dot(handVector(model.user, u), handVector(model.item, i)) / 0.2 - (corrected ? lnQ(i) : 0);
          });
          const lse = Math.log(logits.reduce((s, x) => s + Math.exp(x), 0));
          total += lse - logits[b];
        });
        return total / batch.users.length;
      };
      assertClose([lossValue(model, batch)], [expected(true)], { atol: 1e-5, rtol: 1e-4 });
      const plain = new TwoTower(train, {
        embeddingDim: 3,
        outputDim: 2,
        temperature: 0.2,
        seed: 4,
        logQCorrection: false,
      });
      assertClose([lossValue(plain, batch)], [expected(false)], { atol: 1e-5, rtol: 1e-4 });
      [model, plain].forEach((m) => m.dispose());
    });

    it("accidentalHits masks repeated items off the diagonal, and is null without repeats", () => {
      assert.equal(accidentalHits(Int32Array.of(1, 2, 3)), null);
      const mask = Array.from(accidentalHits(Int32Array.of(5, 2, 5, 5))!);
      const hit = -1e9;
      assert.deepEqual(mask, [0, 0, hit, hit, 0, 0, 0, 0, hit, 0, 0, hit, hit, 0, hit, 0].map(Math.fround));
    });
  });

  it("has the loss gradient that central differences give, for the sampled softmax and BPR", () => {
    const train = withGenres(plantedTastes().train);
    const batch = {
      users: Int32Array.of(0, 0, 5),
      positives: Int32Array.of(0, 1, 0),
      negatives: Int32Array.of(20, 31, 11),
    };
    for (const loss of ["sampledSoftmax", "bpr"] as const) {
      const model = new TwoTower(train, {
        embeddingDim: 2,
        hiddenUnits: [3],
        outputDim: 2,
        temperature: 0.5,
        initStd: 0.5,
        loss,
        seed: 5,
      });
      // A small step: a ReLU unit within 0.01 of its kink would spoil the default 0.01.
      checkGradients(() => model.loss(batch), model.trainableVariables(), { perVariable: 6, step: 1e-3, atol: 3e-3 });
      model.dispose();
    }
  });

  it("lowers the loss of a batch with one training step", () => {
    const train = withGenres(plantedTastes().train);
    for (const loss of ["sampledSoftmax", "bpr"] as const) {
      const model = new TwoTower(train, { embeddingDim: 8, outputDim: 8, loss, seed: 6 });
      const [batch] = implicitFeedbackBatches(train, new NegativeSampler(train), {
        batchSize: 64,
        negatives: model.negativesPerPositive,
        rng: new Rng(2),
      });
      const before = lossValue(model, batch);
      const optimizer = tf.train.sgd(0.1); // a plain gradient step: first order, it must go down
      optimizer.minimize(() => model.loss(batch), true, model.trainableVariables())?.dispose();
      assert.ok(lossValue(model, batch) < before, `${loss}: ${lossValue(model, batch)} >= ${before}`);
      optimizer.dispose();
      model.dispose();
    }
  });

  it("learns planted tastes: held-out items ranked first, far above chance", async () => {
    const planted = plantedTastes();
    const train = withGenres(planted.train);
    const test = new Interactions({ ...planted.test, itemInfo: train.itemInfo });
    for (const loss of ["sampledSoftmax", "bpr"] as const) {
      const model = new TwoTower(train, { embeddingDim: 8, hiddenUnits: [16], outputDim: 8, loss, seed: 7 });
      await fitImplicitFeedback(model, { epochs: 20, batchSize: 32, learningRate: 0.01, seed: 3, progress: "silent" });
      const report = evaluateRanking(model, { train, test, k: 2, metrics: ["hr", "ndcg"] });
      assert.ok(
        report.metrics["hr@2"] > 0.85,
        `${loss}: hr@2 = ${report.metrics["hr@2"]}, chance ${randomHitRate(2).toFixed(3)}`,
      );
      assert.ok(report.metrics["ndcg@2"] > 0.7, `${loss}: ndcg@2 = ${report.metrics["ndcg@2"]}`);
      model.dispose();
    }
  });

  it("starts from the same weights with the same seed", () => {
    const train = withGenres(plantedTastes().train);
    const weights = (seed: number) => {
      const model = new TwoTower(train, { seed });
      const out = model.trainableVariables().map((v) => Array.from(v.dataSync()));
      model.dispose();
      return out;
    };
    assert.deepEqual(weights(8), weights(8));
    assert.notDeepEqual(weights(8)[0], weights(9)[0]);
  });

  it("leaks no tensors in loss, scoring and training, and dispose frees its constants", async () => {
    const train = withGenres(plantedTastes().train);
    const before = tf.memory().numTensors;
    const model = new TwoTower(train, { embeddingDim: 4, outputDim: 4, seed: 10 });
    const [batch] = implicitFeedbackBatches(train, new NegativeSampler(train), {
      batchSize: 16,
      negatives: 0,
      rng: new Rng(4),
    });
    await assertNoLeak(async () => {
      lossValue(model, batch);
      model.scoreItems(Int32Array.of(0, 1, 2));
      model.scorePairs(Int32Array.of(0, 1), Int32Array.of(2, 3));
      await fitImplicitFeedback(model, { epochs: 1, batchSize: 64, seed: 1, progress: "silent" });
    });
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("rejects bad configurations and batches with clear errors", () => {
    const { train } = plantedTastes();
    assert.throws(() => new TwoTower(train, { temperature: 0, seed: 1 }), /temperature must be a positive number/);
    assert.throws(
      () => new TwoTower(train, { loss: "hinge" as "bpr", seed: 1 }),
      /loss must be "sampledSoftmax" or "bpr"/,
    );
    assert.throws(
      () => new TwoTower(train, { hiddenUnits: [0], seed: 1 }),
      /hiddenUnits\[0\] must be a positive integer/,
    );
    assert.throws(() => new TwoTower(pairs([], 2, 2), { seed: 1 }), /the training data 'tiny' is empty/);
    const bpr = new TwoTower(train, { loss: "bpr", seed: 1 });
    assert.throws(
      () => bpr.loss({ users: Int32Array.of(0), positives: Int32Array.of(0), negatives: new Int32Array(0) }),
      /BPR needs at least one negative/,
    );
    assert.throws(() => bpr.scorePairs(Int32Array.of(0, 1), Int32Array.of(0)), /2 users but 1 items/);
    bpr.dispose();
  });
});
