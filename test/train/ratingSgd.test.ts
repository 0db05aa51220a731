// Rating models trained Surprise's way, batched: the batch of ratings a loss reads, and fitRatingSgd's
// step at rate γ·|B|/2, which makes one step on the batch's mean loss the sum of Surprise's per-rating steps.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { fitRatingSgd, ratingBatch, RatingSgdModel } from "../../src/train/ratingSgd";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";

/** Four ratings 1, 2, 3, 4 by users 0, 0, 1, 2 of items 2, 0, 1, 2. */
const log = () =>
  makeInteractions(
    [
      [0, 2, 1],
      [0, 0, 2],
      [1, 1, 3],
      [2, 2, 4],
    ],
    3,
    3,
    "four",
  );

/**
 * A model with one weight w and loss mean over the batch of (w − r)², recording each batch's size. From
 * w = 0 a step at rate η moves w by η · 2 · mean(r); at η = γ|B|/2 that is γ · Σ r, Surprise's |B| steps.
 */
function oneWeight(epochs = 1): RatingSgdModel & { w: tf.Variable; sizes: number[] } {
  const train = log();
  const w = tf.variable(tf.scalar(0));
  const sizes: number[] = [];
  return {
    train,
    w,
    sizes,
    sgdDefaults: { epochs, learningRate: 0.01, batchSize: 4 },
    loss(rows: Int32Array) {
      sizes.push(rows.length);
      const { ratings, users, items } = ratingBatch(train, rows);
      tf.dispose([users, items]);
      return tf.mean(tf.square(tf.sub(w, ratings))) as tf.Scalar;
    },
    trainableVariables: () => [w],
  };
}

describe("train/ratingSgd", () => {
  before(async () => {
    await initBackend();
  });

  it("ratingBatch gathers the rows asked for, in that order", async () => {
    await assertNoLeak(async () => {
      const batch = ratingBatch(log(), Int32Array.of(3, 0, 3));
      assert.deepEqual(Array.from(batch.users.dataSync()), [2, 0, 2]);
      assert.deepEqual(Array.from(batch.items.dataSync()), [2, 2, 2]);
      assert.deepEqual(Array.from(batch.ratings.dataSync()), [4, 1, 4]);
      assert.deepEqual([batch.users.dtype, batch.ratings.dtype], ["int32", "float32"]);
      tf.dispose([batch.users, batch.items, batch.ratings]);
    });
  });

  it("takes one step of γ · Σ r per batch from w = 0: Surprise's per-rating steps summed", async () => {
    const model = oneWeight();
    await fitRatingSgd(model, { seed: 1, progress: "silent" });
    // One batch of all four ratings at γ = 0.01 (the model's defaults): w = 0.01 · (1 + 2 + 3 + 4).
    assertClose(model.w.dataSync()[0], 0.1, { atol: 1e-7, rtol: 0 });
    assert.deepEqual(model.sizes, [4]);
    model.w.dispose();
  });

  it("drops the last short batch, so that every step has |B| ratings; the config overrides the defaults", async () => {
    const model = oneWeight();
    await fitRatingSgd(model, { seed: 2, epochs: 3, batchSize: 3, learningRate: 0.001, progress: "silent" });
    assert.deepEqual(model.sizes, [3, 3, 3], "one batch of 3 per epoch, the 4th rating sits out");
    // A batch larger than the data is the whole data.
    const whole = oneWeight();
    await fitRatingSgd(whole, { seed: 2, batchSize: 100, progress: "silent" });
    assert.deepEqual(whole.sizes, [4]);
    await assert.rejects(
      fitRatingSgd(whole, { seed: 2, learningRate: -1 }),
      /fitRatingSgd: learningRate must be a finite number > 0/,
    );
    await assert.rejects(
      fitRatingSgd(whole, { seed: 2, batchSize: 0 }),
      /fitRatingSgd: batchSize must be a positive integer/,
    );
    tf.dispose([model.w, whole.w]);
  });
});
