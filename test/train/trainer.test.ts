import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { rowBatches } from "../../src/train/batches";
import { AdamW } from "../../src/train/optimizers";
import { earlyStopping, evaluateEachEpoch, fit, LossModel, StepLogs } from "../../src/train/trainer";
import { withFakeKernelAsync } from "../support/fakeKernel";

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
    optimizer,
    epochs,
    progress: "silent",
    callbacks,
    batches: () => rowBatches(256, { batchSize: 32, rng }),
  });
  const result = { history, w: model.w.dataSync()[0], b: model.b.dataSync()[0] };
  model.dispose();
  optimizer.dispose();
  return result;
}

describe("train/trainer", () => {
  before(async () => {
    await initBackend();
  });

  it("fits a known line and logs one mean loss per epoch", async () => {
    const { history, w, b } = await train(1, 10);
    assert.equal(history.length, 10);
    assert.ok(Math.abs(w - 3) < 0.01 && Math.abs(b + 1) < 0.01, `w=${w}, b=${b}`);
    assert.ok(history[9].loss < history[0].loss / 100);
    assert.deepEqual(
      history.map((h) => h.epoch),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it("gives the same history for the same seed", async () => {
    const a = await train(5, 3);
    const b = await train(5, 3);
    assert.deepEqual(
      a.history.map((h) => h.loss),
      b.history.map((h) => h.loss),
    );
    const c = await train(6, 3);
    assert.notDeepEqual(
      a.history.map((h) => h.loss),
      c.history.map((h) => h.loss),
    );
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
    assert.deepEqual(
      history.map((h) => h.fake),
      [0.1, 0.3, 0.2, 0.25],
    );
    assert.equal(stopper.bestEpoch, 2);
  });

  it("refuses an epoch without batches instead of logging loss NaN", async () => {
    const model = new LineModel(lineData(8, 1));
    const optimizer = tf.train.sgd(0.1);
    await assert.rejects(
      fit(model, { optimizer, epochs: 2, progress: "silent", batches: () => [] }),
      /fit: epoch 1 had no batches \(is the training data empty/,
    );
    model.dispose();
    optimizer.dispose();
  });

  it("refuses a learning rate that is NaN, infinite, zero or negative before any step", async () => {
    const model = new LineModel(lineData(8, 1));
    for (const [optimizer, rate] of [
      [tf.train.adam(NaN), NaN],
      [tf.train.sgd(-0.1), -0.1],
      [tf.train.adam(0), 0],
      [tf.train.sgd(Infinity), Infinity],
    ] as const) {
      await assert.rejects(
        fit(model, { optimizer, epochs: 1, progress: "silent", batches: () => rowBatches(8, { batchSize: 4 }) }),
        new RegExp(`fit: the optimizer's learning rate is ${rate} \\(\\w+\\); it must be a finite number > 0`),
      );
      optimizer.dispose();
    }
    assert.deepEqual([model.w.dataSync()[0], model.b.dataSync()[0]], [0, 0], "no step was taken");
    model.dispose();
  });

  it("fails clearly when the loss diverges or a monitored metric is missing", async () => {
    const model = new LineModel(lineData(8, 1));
    await assert.rejects(
      fit(model, {
        optimizer: tf.train.sgd(1e30),
        epochs: 3,
        progress: "silent",
        batches: () => rowBatches(8, { batchSize: 8 }),
      }),
      /the loss became (NaN|Infinity) at epoch \d, step 1; lower the learning rate/,
    );
    model.dispose();
    const fresh = new LineModel(lineData(8, 1));
    await assert.rejects(
      fit(fresh, {
        optimizer: tf.train.sgd(0.1),
        epochs: 1,
        progress: "silent",
        batches: () => rowBatches(8, { batchSize: 8 }),
        callbacks: [earlyStopping({ monitor: "val", mode: "min" })],
      }),
      /no 'val' in the epoch logs \(epoch, loss, seconds\)/,
    );
    fresh.dispose();
  });
});

describe("train/trainer: clipping, throughput, step callbacks, resuming", () => {
  before(async () => {
    await initBackend();
  });

  /** Runs fit on the line with `config`, returns the history, the step logs and the final weights. */
  async function run(config: Partial<Parameters<typeof fit<Int32Array>>[1]> & { optimizer: tf.Optimizer }, rows = 256) {
    const model = new LineModel(lineData(rows, 1));
    const steps: StepLogs[] = [];
    const history = await fit(model, {
      epochs: 3,
      progress: "silent",
      batches: (epoch) => rowBatches(rows, { batchSize: 32, rng: new Rng(10 + epoch) }),
      ...config,
      callbacks: [...(config.callbacks ?? []), { onStepEnd: (logs) => void steps.push(logs) }],
    });
    const result = { history, steps, w: model.w.dataSync()[0], b: model.b.dataSync()[0] };
    model.dispose();
    config.optimizer.dispose();
    return result;
  }

  it("clips the gradients to a global norm and logs the norm before clipping", async () => {
    // The first step's gradient, computed independently: its norm is well above 1.
    const data = lineData(32, 1);
    const probe = new LineModel(data);
    const all = Int32Array.from({ length: 32 }, (_, i) => i);
    const { value, grads } = tf.variableGrads(() => probe.loss(all), [probe.w, probe.b]);
    const gw = grads[probe.w.name].dataSync()[0];
    const gb = grads[probe.b.name].dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    probe.dispose();
    const norm = Math.hypot(gw, gb);
    assert.ok(norm > 2, `norm ${norm}`);

    // One SGD step with lr 0.1 and clipping at 1 moves the parameters by exactly 0.1, along −g.
    const one = await run({ optimizer: tf.train.sgd(0.1), epochs: 1, clipGradientNorm: 1 }, 32);
    assert.equal(one.steps.length, 1);
    assert.ok(Math.abs(one.steps[0].gradientNorm! - norm) < 1e-5 * norm, `${one.steps[0].gradientNorm} vs ${norm}`);
    assert.ok(
      Math.abs(one.w - (-0.1 * gw) / norm) < 1e-6 && Math.abs(one.b - (-0.1 * gb) / norm) < 1e-6,
      `w=${one.w}, b=${one.b}`,
    );

    // Training still converges with clipping, and memory stays flat.
    await run({ optimizer: tf.train.adam(0.05), epochs: 1, clipGradientNorm: 1 }); // warm-up of lazily created state
    const before = tf.memory().numTensors;
    const many = await run({ optimizer: tf.train.adam(0.05), epochs: 10, clipGradientNorm: 1 });
    assert.equal(tf.memory().numTensors, before);
    assert.ok(many.history[9].loss < many.history[0].loss / 10, `${many.history[0].loss} → ${many.history[9].loss}`);
    assert.ok(many.steps.every((s) => s.gradientNorm! > 0 && Number.isFinite(s.gradientNorm!)));
    await assert.rejects(
      run({ optimizer: tf.train.sgd(0.1), clipGradientNorm: 0 }),
      /fit: clipGradientNorm must be a finite number > 0, got 0/,
    );
  });

  it("calls onStepEnd after every step with the global step, the loss and AdamW's learning rate", async () => {
    const schedule = (step: number) => 0.01 * (step + 1);
    const { history, steps } = await run({ optimizer: new AdamW({ learningRate: schedule }) });
    assert.deepEqual(
      steps.map((s) => s.step),
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      steps.map((s) => s.epoch),
      [...Array(8).fill(1), ...Array(8).fill(2), ...Array(8).fill(3)],
    );
    assert.deepEqual(
      steps.map((s) => s.learningRate),
      steps.map((s) => schedule(s.step - 1)),
    );
    assert.ok(steps.every((s) => s.gradientNorm === undefined));
    const mean = steps.slice(8, 16).reduce((sum, s) => sum + s.loss, 0) / 8;
    assert.ok(Math.abs(history[1].loss - mean) < 1e-6 * mean, "the epoch's loss is the mean of its steps'");
    // With tfjs's optimizers there is no learning rate to report.
    const plain = await run({ optimizer: tf.train.sgd(0.1), epochs: 1 });
    assert.ok(plain.steps.every((s) => !("learningRate" in s)));
  });

  it("runs epochs initialEpoch .. epochs − 1, asking for each epoch's batches by its number", async () => {
    const asked: number[] = [];
    const model = new LineModel(lineData(64, 1));
    const optimizer = tf.train.sgd(0.1);
    const history = await fit(model, {
      optimizer,
      epochs: 5,
      initialEpoch: 3,
      progress: "silent",
      batches: (epoch) => (asked.push(epoch), rowBatches(64, { batchSize: 32 })),
    });
    assert.deepEqual(asked, [3, 4]);
    assert.deepEqual(
      history.map((h) => h.epoch),
      [4, 5],
    );
    assert.deepEqual(
      await fit(model, { optimizer, epochs: 5, initialEpoch: 5, progress: "silent", batches: () => [] }),
      [],
    );
    await assert.rejects(
      fit(model, { optimizer, epochs: 5, initialEpoch: 6, progress: "silent", batches: () => [] }),
      /fit: initialEpoch must be an integer in \[0, epochs = 5\], got 6/,
    );
    model.dispose();
    optimizer.dispose();
  });

  it("reports tokens per second in the epoch logs and on the progress line", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    let result;
    try {
      result = await run({
        optimizer: tf.train.sgd(0.1),
        epochs: 2,
        progress: "log",
        tokensPerBatch: (rows) => rows.length * 7,
      });
    } finally {
      console.log = log;
    }
    for (const h of result.history)
      assert.ok(h.tokensPerSecond > 0 && Number.isFinite(h.tokensPerSecond), `${h.tokensPerSecond}`);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^epoch 1\/2: 8\/8 in \d+\.\ds loss=\S+ tokensPerSecond=\d+$/);
    const silent = await run({ optimizer: tf.train.sgd(0.1), epochs: 1 });
    assert.ok(!("tokensPerSecond" in silent.history[0]), "no tokensPerBatch, no tokensPerSecond");
    await assert.rejects(
      run({ optimizer: tf.train.sgd(0.1), tokensPerBatch: () => NaN }),
      /fit: tokensPerBatch gave NaN at epoch 1, step 1/,
    );
  });

  it("shows one live line for a whole fit in a notebook, however many epochs", async () => {
    let history: Awaited<ReturnType<typeof run>>["history"] = [];
    const messages = await withFakeKernelAsync(async () => {
      history = (await run({ optimizer: tf.train.sgd(0.01), epochs: 40, progress: "notebook" })).history;
    });
    assert.equal(history.length, 40);
    assert.equal(new Set(messages.map((m) => m.content.transient.display_id)).size, 1, "one display for 40 epochs");
    assert.equal(messages.filter((m) => !m.update).length, 1, "created once, then only updated");
    const last = String(messages[messages.length - 1].content.data["text/plain"]);
    assert.match(last, /^epoch 40\/40 100% 320\/320 .* loss=\S+$/);
  });
});
