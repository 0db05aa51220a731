import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { rowBatches } from "../../src/train/batches";
import { earlyStopping, evaluateEachEpoch, fit, LossModel } from "../../src/train/trainer";

// y = 3x − 1 with a little noise: a model whose answer is known.
function lineData(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n }, () => rng.normal());
  const y = x.map((v) => 3 * v - 1 + 0.01 * rng.normal());
  return { x, y };
}

class LineModel implements LossModel<Int32Array> {
  // Built in tidy, so that the initial values are not left behind (tf.variable copies them).
  readonly w = tf.tidy(() => tf.variable(tf.scalar(0)));
  readonly b = tf.tidy(() => tf.variable(tf.scalar(0)));
  constructor(private readonly data: { x: Float32Array; y: Float32Array }) {}
  loss(rows: Int32Array): tf.Scalar {
    const x = tf.tensor1d(Array.from(rows, (r) => this.data.x[r]));
    const y = tf.tensor1d(Array.from(rows, (r) => this.data.y[r]));
    return tf.losses.meanSquaredError(y, x.mul(this.w).add(this.b)) as tf.Scalar;
  }
  trainableVariables(): tf.Variable[] {
    return [this.w, this.b];
  }
  dispose(): void {
    tf.dispose([this.w, this.b]);
  }
}

async function train(seed: number, epochs: number, callbacks = [] as Parameters<typeof fit>[1]["callbacks"]) {
  const data = lineData(256, 1);
  const model = new LineModel(data);
  const rng = new Rng(seed);
  const optimizer = tf.train.sgd(0.1);
  const history = await fit(model, {
    optimizer, epochs, progress: "silent", callbacks,
    batches: () => rowBatches(256, { batchSize: 32, rng }),
  });
  const result = { history, w: model.w.dataSync()[0], b: model.b.dataSync()[0] };
  model.dispose();
  optimizer.dispose();
  return result;
}

describe("train/trainer", () => {
  it("fits a known line and logs one mean loss per epoch", async () => {
    const { history, w, b } = await train(1, 10);
    assert.equal(history.length, 10);
    assert.ok(Math.abs(w - 3) < 0.01 && Math.abs(b + 1) < 0.01, `w=${w}, b=${b}`);
    assert.ok(history[9].loss < history[0].loss / 100);
    assert.deepEqual(history.map((h) => h.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("gives the same history for the same seed", async () => {
    const a = await train(5, 3);
    const b = await train(5, 3);
    assert.deepEqual(a.history.map((h) => h.loss), b.history.map((h) => h.loss));
    const c = await train(6, 3);
    assert.notDeepEqual(a.history.map((h) => h.loss), c.history.map((h) => h.loss));
  });

  it("keeps memory flat: no tensor outlives its step", async () => {
    await train(1, 1); // warm up lazily created optimizer and backend state
    const before = tf.memory().numTensors;
    await train(1, 3);
    assert.equal(tf.memory().numTensors, before);
  });

  it("adds callback metrics to the logs and stops early", async () => {
    const stopper = earlyStopping({ monitor: "fake", mode: "max", patience: 2 });
    const scores = [0.1, 0.3, 0.2, 0.25, 0.9];
    const { history } = await train(1, 5, [evaluateEachEpoch((epoch) => ({ fake: scores[epoch - 1] })), stopper]);
    // Best at epoch 2; epochs 3 and 4 do not improve, so training stops after epoch 4.
    assert.deepEqual(history.map((h) => h.fake), [0.1, 0.3, 0.2, 0.25]);
    assert.equal(stopper.bestEpoch, 2);
  });

  it("fails clearly when the loss diverges or a monitored metric is missing", async () => {
    const model = new LineModel(lineData(8, 1));
    await assert.rejects(
      fit(model, { optimizer: tf.train.sgd(1e30), epochs: 3, progress: "silent", batches: () => rowBatches(8, { batchSize: 8 }) }),
      /the loss became (NaN|Infinity) at epoch \d, step 1; lower the learning rate/,
    );
    model.dispose();
    const fresh = new LineModel(lineData(8, 1));
    await assert.rejects(
      fit(fresh, {
        optimizer: tf.train.sgd(0.1), epochs: 1, progress: "silent", batches: () => rowBatches(8, { batchSize: 8 }),
        callbacks: [earlyStopping({ monitor: "val", mode: "min" })],
      }),
      /no 'val' in the epoch logs \(epoch, loss, seconds\)/,
    );
    fresh.dispose();
  });
});

describe("train/batches", () => {
  it("cuts rows into batches, shuffled by a seeded Rng", () => {
    assert.deepEqual(rowBatches(5, { batchSize: 2 }).map((b) => Array.from(b)), [[0, 1], [2, 3], [4]]);
    assert.equal(rowBatches(5, { batchSize: 2, dropLast: true }).length, 2);
    const shuffled = rowBatches(10, { batchSize: 4, rng: new Rng(3) }).flatMap((b) => Array.from(b));
    assert.deepEqual([...shuffled].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(shuffled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(rowBatches(10, { batchSize: 4, rng: new Rng(3) }).flatMap((b) => Array.from(b)), shuffled);
    assert.throws(() => rowBatches(3, { batchSize: 0 }), /batchSize/);
  });
});
