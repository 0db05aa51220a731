// Training on implicit feedback: each epoch's batches of (user, positive, n negatives), and the loop that
// fits a model on them with fresh negatives every epoch.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { NegativeSampler } from "../../src/data/samplers";
import {
  fitImplicitFeedback,
  ImplicitFeedbackBatch,
  implicitFeedbackBatches,
  negativeCount,
} from "../../src/train/implicitFeedback";
import { pairs, plantedTastes } from "../models/implicitFixtures";
import { assertClose } from "../support/assertions";

describe("train/implicitFeedback", () => {
  it("covers every training row once per epoch, each with n negatives its user has not seen", () => {
    const { train } = plantedTastes();
    const sampler = new NegativeSampler(train);
    const batches = implicitFeedbackBatches(train, sampler, { batchSize: 64, negatives: 3, rng: new Rng(1) });
    assert.equal(batches.length, Math.ceil(train.length / 64));
    const seen = new Set<string>();
    for (let r = 0; r < train.length; r++) seen.add(`${train.users[r]},${train.items[r]}`);
    const covered: string[] = [];
    for (const b of batches) {
      assert.equal(b.negatives.length, 3 * b.users.length);
      b.users.forEach((u, k) => {
        covered.push(`${u},${b.positives[k]}`);
        for (let j = 0; j < 3; j++)
          assert.ok(
            !seen.has(`${u},${b.negatives[3 * k + j]}`),
            `user ${u} has seen negative ${b.negatives[3 * k + j]}`,
          );
      });
    }
    assert.deepEqual(covered.sort(), Array.from(seen).sort());
    assert.throws(
      () => implicitFeedbackBatches(train, sampler, { batchSize: 8, negatives: 1.5, rng: new Rng(1) }),
      /negatives must be an integer >= 0/,
    );
  });

  it("negativeCount reads n from a batch's shape, and rejects a ragged one", () => {
    const batch = { users: Int32Array.of(0, 1), positives: Int32Array.of(3, 4), negatives: Int32Array.of(5, 6, 7, 8) };
    assert.equal(negativeCount(batch, "test"), 2);
    assert.equal(negativeCount({ ...batch, negatives: new Int32Array(0) }, "test"), 0);
    assert.throws(
      () => negativeCount({ ...batch, negatives: Int32Array.of(5, 6, 7) }, "test"),
      /test: 3 negatives is not a whole number per positive \(2 positives\)/,
    );
    assert.throws(
      () => negativeCount({ ...batch, positives: Int32Array.of(3) }, "test"),
      /test: 2 users but 1 positives/,
    );
    assert.throws(
      () =>
        negativeCount({ users: new Int32Array(0), positives: new Int32Array(0), negatives: new Int32Array(0) }, "test"),
      /test: the batch is empty/,
    );
  });

  it("fitImplicitFeedback shows the model every row once an epoch, with fresh negatives, at the rate given", async () => {
    await initBackend();
    const train = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 2],
        [2, 0],
        [2, 3],
      ],
      3,
      5,
    );
    // A model with one weight w and loss mean((w − 1)²) that records what it is shown.
    const w = tf.variable(tf.scalar(0));
    const shown: ImplicitFeedbackBatch[][] = [[], []];
    let epoch = 0;
    const model = {
      train,
      negativesPerPositive: 2,
      loss: (batch: ImplicitFeedbackBatch) => {
        shown[epoch].push(batch);
        return tf.square(tf.sub(w, 1)) as tf.Scalar;
      },
      trainableVariables: () => [w],
    };
    const logs = await fitImplicitFeedback(model, {
      epochs: 2,
      batchSize: 2,
      optimizer: "sgd",
      learningRate: 0.1,
      seed: 4,
      progress: "silent",
      callbacks: [{ onEpochEnd: () => void epoch++ }],
    });
    assert.equal(logs.length, 2);
    for (const batches of shown) {
      assert.deepEqual(
        batches.map((b) => b.users.length),
        [2, 2, 1],
      );
      const rows = batches.flatMap((b) => Array.from(b.users, (u, k) => `${u},${b.positives[k]}`)).sort();
      assert.deepEqual(rows, ["0,0", "0,1", "1,2", "2,0", "2,3"]);
      assert.ok(
        batches.every((b) => b.negatives.length === 2 * b.users.length),
        "the model's n by default",
      );
    }
    const negatives = (e: number) => shown[e].flatMap((b) => Array.from(b.negatives));
    assert.notDeepEqual(negatives(1), negatives(0), "fresh negatives each epoch");
    // Six SGD steps on (w − 1)² at rate 0.1: w = 1 − 0.8⁶.
    assertClose(w.dataSync()[0], 1 - 0.8 ** 6, { atol: 1e-6, rtol: 0 });
    await assert.rejects(
      fitImplicitFeedback(model, { seed: 1, learningRate: 0 }),
      /fitImplicitFeedback: learningRate must be a positive number, got 0/,
    );
    await assert.rejects(
      fitImplicitFeedback(model, { seed: 1, optimizer: "adagrad" as "sgd" }),
      /optimizer must be "adam" or "sgd"/,
    );
    w.dispose();
  });
});
