// Rating models trained Surprise's way, batched: the batch of ratings a loss reads, and fitRatingSgd's
// step at rate γ·|B|/2, which makes one step on the batch's mean loss the sum of Surprise's per-rating steps.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { GroupedRows } from "../../src/data/csr";
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
function oneWeight(epochs = 1): RatingSgdModel & { w: tf.Variable; sizes: number[]; visited: number[] } {
  const train = log();
  const w = tf.variable(tf.scalar(0));
  const sizes: number[] = [];
  const visited: number[] = [];
  return {
    train,
    w,
    sizes,
    visited,
    sgdDefaults: { epochs, learningRate: 0.01, batchSize: 4 },
    loss(rows: Int32Array) {
      sizes.push(rows.length);
      visited.push(...rows);
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
  it("with batch size 1 steps rating by rating in Surprise's order, user by user, the same every epoch", async () => {
    const train = makeInteractions(
      [
        [2, 0, 1],
        [0, 1, 2],
        [1, 2, 3],
        [0, 2, 4],
      ],
      3,
      3,
      "unordered",
    );
    const model = { ...oneWeight(), train };
    await fitRatingSgd(model, { seed: 3, epochs: 2, batchSize: 1, progress: "silent" });
    // Users 0 (rows 1, 3), 1 (row 2), 2 (row 0); the seed plays no part.
    assert.deepEqual(model.visited, [1, 3, 2, 0, 1, 3, 2, 0]);
    model.w.dispose();
  });

  it("runs a model's fused epoch for batch size 1, storing the weights before each epoch's callbacks", async () => {
    const calls: string[] = [];
    const model: RatingSgdModel = {
      ...oneWeight(),
      fusedSgd: () => ({
        epoch(byUser: GroupedRows, learningRate: number) {
          calls.push(`epoch ${Array.from(byUser.rows).join(",")} at ${learningRate}`);
          return 0.5 / calls.length;
        },
        store: () => void calls.push("store"),
      }),
    };
    const logs = await fitRatingSgd(model, {
      seed: 0,
      epochs: 3,
      batchSize: 1,
      learningRate: 0.2,
      progress: "silent",
      callbacks: [
        {
          onEpochEnd: (l) => {
            calls.push(`callback ${l.epoch}`);
            return l.epoch === 2 ? "stop" : { metric: l.epoch * 10 };
          },
        },
      ],
    });
    assert.deepEqual(calls, [
      "epoch 0,1,2,3 at 0.2",
      "store",
      "callback 1",
      "epoch 0,1,2,3 at 0.2",
      "store",
      "callback 2",
    ]);
    assert.deepEqual(
      logs.map(({ epoch, loss, metric }) => ({ epoch, loss, metric })),
      [
        { epoch: 1, loss: 0.5, metric: 10 },
        { epoch: 2, loss: 0.5 / 4, metric: undefined },
      ],
    );
    const diverging: RatingSgdModel = {
      ...oneWeight(),
      fusedSgd: () => ({ epoch: () => NaN, store: () => undefined }),
    };
    await assert.rejects(
      fitRatingSgd(diverging, { seed: 0, batchSize: 1, progress: "silent" }),
      /fitRatingSgd: the loss became NaN at epoch 1; lower the learning rate/,
    );
  });
});
