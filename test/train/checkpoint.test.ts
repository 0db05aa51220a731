import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { rowBatches } from "../../src/train/batches";
import {
  CheckpointWeight,
  checkpointEvery,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../src/train/checkpoint";
import { AdamW } from "../../src/train/optimizers";
import { linearWarmupDecay } from "../../src/train/schedules";
import { EpochLogs, fit, LossModel, StepLogs } from "../../src/train/trainer";

// A deterministic two-layer regression model (no dropout): tanh(x·W₁ + b₁)·W₂ + b₂ against
// y = sin(x₀) + x₁·x₂. Its matrices decay under AdamW's default rule, its biases do not.
interface Data {
  x: Float32Array;
  y: Float32Array;
}

function makeData(n: number, seed: number): Data {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: 3 * n }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => Math.sin(x[3 * i]) + x[3 * i + 1] * x[3 * i + 2]);
  return { x, y };
}

class TinyMlp implements LossModel<Int32Array> {
  readonly w1: tf.Variable;
  readonly b1: tf.Variable;
  readonly w2: tf.Variable;
  readonly b2: tf.Variable;
  constructor(
    private readonly data: Data,
    seed: number,
    hidden = 8,
  ) {
    const rng = new Rng(seed);
    const init = (shape: number[], std: number) =>
      tf.tidy(() =>
        tf.variable(
          tf.tensor(
            Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, std)),
            shape,
          ),
        ),
      );
    this.w1 = init([3, hidden], 0.5);
    this.b1 = init([hidden], 0.1);
    this.w2 = init([hidden, 1], 0.5);
    this.b2 = init([1], 0.1);
  }
  loss(rows: Int32Array): tf.Scalar {
    const x = tf.tensor2d(
      Float32Array.from({ length: 3 * rows.length }, (_, k) => this.data.x[3 * rows[Math.floor(k / 3)] + (k % 3)]),
      [rows.length, 3],
    );
    const y = tf.tensor2d(
      Float32Array.from(rows, (r) => this.data.y[r]),
      [rows.length, 1],
    );
    const prediction = tf.tanh(x.matMul(this.w1).add(this.b1)).matMul(this.w2).add(this.b2);
    return tf.losses.meanSquaredError(y, prediction) as tf.Scalar;
  }
  trainableVariables(): tf.Variable[] {
    return [this.w1, this.b1, this.w2, this.b2];
  }
  /** Names chosen by the model: the same in every model built, unlike tf.Variable names. */
  namedWeights(): CheckpointWeight[] {
    return [
      { name: "hidden/kernel", variable: this.w1 },
      { name: "hidden/bias", variable: this.b1 },
      { name: "output/kernel", variable: this.w2 },
      { name: "output/bias", variable: this.b2 },
    ];
  }
  values(): number[][] {
    return this.trainableVariables().map((v) => Array.from(v.dataSync()));
  }
  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

const ROWS = 64;
const data = makeData(ROWS, 3);
// Each epoch's order comes from its own seeded Rng, so that a resumed run sees the same batches.
const batches = (epoch: number) => rowBatches(ROWS, { batchSize: 16, rng: new Rng(100 + epoch) });
const makeOptimizer = () =>
  new AdamW({
    learningRate: linearWarmupDecay({ peakLearningRate: 0.02, warmupSteps: 4, totalSteps: 16 }),
    weightDecay: 0.1,
  });

function temporaryDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "recsys-checkpoint-"));
}

/** A model trained one step with AdamW (so the optimizer has moments) and saved to `dir`. */
async function savedModel(dir: string): Promise<{ model: TinyMlp; optimizer: AdamW }> {
  const model = new TinyMlp(data, 1);
  const optimizer = makeOptimizer();
  await fit(model, { optimizer, epochs: 1, progress: "silent", batches: () => batches(0).slice(0, 1) });
  await saveCheckpoint(dir, { weights: model.namedWeights(), optimizer, state: { epoch: 1, note: "one step" } });
  return { model, optimizer };
}

function rewriteJSON(dir: string, edit: (json: Record<string, unknown>) => void): void {
  const file = path.join(dir, "checkpoint.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
}

describe("train/checkpoint", () => {
  let root: string;
  before(async () => {
    await initBackend();
    root = temporaryDir();
  });
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("resumes exactly: 4 epochs straight = 2 epochs, checkpoint, fresh model and optimizer, epochs 3..4", async () => {
    const straight = new TinyMlp(data, 1);
    const straightOptimizer = makeOptimizer();
    const full = await fit(straight, {
      optimizer: straightOptimizer,
      epochs: 4,
      progress: "silent",
      clipGradientNorm: 1,
      batches,
    });
    const expected = straight.values();
    straight.dispose();
    straightOptimizer.dispose();

    const dir = path.join(root, "resume");
    const first = new TinyMlp(data, 1);
    const firstOptimizer = makeOptimizer();
    await fit(first, {
      optimizer: firstOptimizer,
      epochs: 2,
      progress: "silent",
      clipGradientNorm: 1,
      batches,
      callbacks: [
        checkpointEvery({ dir, weights: first.namedWeights(), optimizer: firstOptimizer, state: () => ({ seed: 1 }) }),
      ],
    });
    first.dispose();
    firstOptimizer.dispose();

    // Built from another seed, in the same process (so its tf.Variable names differ): loading overwrites it all.
    const second = new TinyMlp(data, 99);
    const secondOptimizer = makeOptimizer();
    assert.notEqual(second.w1.name, straight.w1.name);
    const state = await loadCheckpoint<{ epoch: number; step: number; seed: number }>(dir, {
      weights: second.namedWeights(),
      optimizer: secondOptimizer,
    });
    assert.deepEqual(state, { seed: 1, epoch: 2, step: 8 });
    assert.equal(secondOptimizer.iterations, 8);
    const steps: StepLogs[] = [];
    const rest = await fit(second, {
      optimizer: secondOptimizer,
      epochs: 4,
      initialEpoch: state.epoch,
      progress: "silent",
      clipGradientNorm: 1,
      batches,
      callbacks: [{ onStepEnd: (logs) => void steps.push(logs) }],
    });
    assert.deepEqual(
      steps.map((s) => s.step),
      [9, 10, 11, 12, 13, 14, 15, 16],
    );
    assert.deepEqual(
      steps.map((s) => s.learningRate),
      [8, 9, 10, 11, 12, 13, 14, 15].map(linearWarmupDecay({ peakLearningRate: 0.02, warmupSteps: 4, totalSteps: 16 })),
    );
    assert.deepEqual(
      rest.map((h) => [h.epoch, h.loss]),
      full.slice(2).map((h) => [h.epoch, h.loss]),
    );
    assert.deepEqual(second.values(), expected);
    second.dispose();
    secondOptimizer.dispose();
  });

  it("restores tfjs's own Adam through the stable names too", async () => {
    const dir = path.join(root, "adam");
    const a = new TinyMlp(data, 1);
    const adamA = tf.train.adam(0.01);
    await fit(a, { optimizer: adamA, epochs: 1, progress: "silent", batches });
    await saveCheckpoint(dir, { weights: a.namedWeights(), optimizer: adamA });
    await fit(a, { optimizer: adamA, epochs: 2, initialEpoch: 1, progress: "silent", batches });
    const b = new TinyMlp(data, 2);
    const adamB = tf.train.adam(0.01);
    await loadCheckpoint(dir, { weights: b.namedWeights(), optimizer: adamB });
    await fit(b, { optimizer: adamB, epochs: 2, initialEpoch: 1, progress: "silent", batches });
    assert.deepEqual(b.values(), a.values());
    for (const x of [a, b, adamA, adamB]) x.dispose();
  });

  it("writes checkpoint.json and weights.bin in tfjs's weight-spec format, with the state", async () => {
    const dir = path.join(root, "format");
    const { model, optimizer } = await savedModel(dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["checkpoint.json", "weights.bin"]);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o755, "an ordinary folder, not mkdtemp's private one");
    const json = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8"));
    assert.equal(json.format, "recsys-ts-checkpoint");
    assert.equal(json.formatVersion, 1);
    assert.deepEqual(json.state, { epoch: 1, note: "one step" });
    assert.deepEqual(json.optimizer, { className: "AdamW" });
    assert.deepEqual(
      json.weightSpecs.map((s: { name: string; group: string }) => `${s.group}:${s.name}`),
      [
        "model:hidden/kernel",
        "model:hidden/bias",
        "model:output/kernel",
        "model:output/bias",
        "optimizer:iter",
        "optimizer:hidden/kernel/m",
        "optimizer:hidden/bias/m",
        "optimizer:output/kernel/m",
        "optimizer:output/bias/m",
        "optimizer:hidden/kernel/v",
        "optimizer:hidden/bias/v",
        "optimizer:output/kernel/v",
        "optimizer:output/bias/v",
      ],
    );
    const bytes = fs.readFileSync(path.join(dir, "weights.bin"));
    assert.equal(json.byteLength, bytes.byteLength);
    assert.equal(json.sha256, createHash("sha256").update(bytes).digest("hex"));
    // The first weight's values, little-endian float32, are the first bytes.
    assert.equal(bytes.readFloatLE(0), model.w1.dataSync()[0]);
    model.dispose();
    optimizer.dispose();
  });

  it("fails before assigning anything, naming the file and the weight, and leaks no tensor", async () => {
    const dir = path.join(root, "errors");
    const { model, optimizer } = await savedModel(dir);
    const target = new TinyMlp(data, 5);
    const targetOptimizer = makeOptimizer();
    await fit(target, {
      optimizer: targetOptimizer,
      epochs: 1,
      progress: "silent",
      batches: () => batches(0).slice(0, 1),
    });
    const original = target.values();
    const originalSteps = targetOptimizer.iterations;
    const jsonPath = path.join(dir, "checkpoint.json");
    const binPath = path.join(dir, "weights.bin");
    const goodJSON = fs.readFileSync(jsonPath);
    const goodBin = fs.readFileSync(binPath);

    const expectFailure = async (
      pattern: RegExp,
      weights = target.namedWeights(),
      opt: tf.Optimizer | undefined = targetOptimizer,
    ) => {
      const before = tf.memory().numTensors;
      await assert.rejects(loadCheckpoint(dir, { weights, optimizer: opt }), pattern);
      assert.equal(tf.memory().numTensors, before, `tensors leaked by a load failing with ${pattern}`);
      assert.deepEqual(target.values(), original, "a failed load changes nothing");
      assert.equal(targetOptimizer.iterations, originalSteps);
      fs.writeFileSync(jsonPath, goodJSON);
      fs.writeFileSync(binPath, goodBin);
    };
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

    // Corrupted weights: one flipped byte.
    const corrupt = Buffer.from(goodBin);
    corrupt[10] ^= 0xff;
    fs.writeFileSync(binPath, corrupt);
    await expectFailure(new RegExp(`loadCheckpoint: ${escape(binPath)} fails its checksum .*: the file is corrupt`));
    fs.writeFileSync(binPath, goodBin.subarray(0, 100));
    await expectFailure(new RegExp(`${escape(binPath)} holds 100 bytes`));
    fs.rmSync(binPath);
    await expectFailure(new RegExp(`loadCheckpoint: cannot read ${escape(binPath)}`));
    fs.rmSync(jsonPath);
    await expectFailure(new RegExp(`loadCheckpoint: cannot read ${escape(jsonPath)}`));
    fs.writeFileSync(jsonPath, "{ not json");
    await expectFailure(new RegExp(`loadCheckpoint: ${escape(jsonPath)} is not valid JSON`));
    rewriteJSON(dir, (json) => (json.formatVersion = 2));
    await expectFailure(/format version 2; this recsys-ts reads version 1/);

    // A NaN with a matching checksum: caught by the value check.
    const withNaN = Buffer.from(goodBin);
    withNaN.writeFloatLE(NaN, 4);
    fs.writeFileSync(binPath, withNaN);
    rewriteJSON(dir, (json) => (json.sha256 = createHash("sha256").update(withNaN).digest("hex")));
    await expectFailure(new RegExp(`${escape(binPath)}: weight 'hidden/kernel' holds NaN at index 1`));

    // Names, shapes and dtypes.
    const narrow = new TinyMlp(data, 5, 4);
    await expectFailure(
      /weight 'hidden\/kernel' has shape \[3,8\], the model's variable \[3,4\]/,
      narrow.namedWeights(),
      undefined,
    );
    narrow.dispose();
    const extra = tf.variable(tf.zeros([2]));
    await expectFailure(/has no weight 'extra\/bias'/, [
      ...target.namedWeights(),
      { name: "extra/bias", variable: extra },
    ]);
    await expectFailure(
      /has a weight 'output\/bias' that is not among the weights to load/,
      target.namedWeights().slice(0, 3),
      undefined,
    );
    const integer = tf.variable(tf.zeros([1], "int32"));
    await expectFailure(
      /weight 'output\/bias' has dtype float32, the model's variable int32/,
      [...target.namedWeights().slice(0, 3), { name: "output/bias", variable: integer }],
      undefined,
    );
    tf.dispose([extra, integer]);

    // The optimizer.
    const adam = tf.train.adam(0.1);
    await expectFailure(
      /holds the state of a AdamW optimizer; the optimizer given is a Adam/,
      target.namedWeights(),
      adam,
    );
    adam.dispose();
    const noOptimizerDir = path.join(root, "no-optimizer");
    await saveCheckpoint(noOptimizerDir, { weights: model.namedWeights() });
    await assert.rejects(
      loadCheckpoint(noOptimizerDir, { weights: target.namedWeights(), optimizer: targetOptimizer }),
      /holds no optimizer state/,
    );

    // And a good load into variables and an optimizer that already have their tensors allocates nothing.
    const before = tf.memory().numTensors;
    const state = await loadCheckpoint(dir, { weights: target.namedWeights(), optimizer: targetOptimizer });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(state, { epoch: 1, note: "one step" });
    assert.deepEqual(target.values(), model.values());
    for (const x of [model, optimizer, target, targetOptimizer]) x.dispose();
  });

  it("checks what it saves: stable names cover the optimizer's variables, values are finite, state is JSON", async () => {
    const dir = path.join(root, "save-checks");
    const { model, optimizer } = await savedModel(dir);
    const before = tf.memory().numTensors;
    await assert.rejects(
      saveCheckpoint(dir, { weights: model.namedWeights().slice(1), optimizer }),
      /saveCheckpoint: the optimizer's weight '.*\/m' belongs to no variable in weights/,
    );
    await assert.rejects(
      saveCheckpoint(dir, { weights: [...model.namedWeights(), model.namedWeights()[0]] }),
      /two weights are named 'hidden\/kernel'/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(
      saveCheckpoint(dir, { weights: model.namedWeights(), state: cyclic }),
      /saveCheckpoint: state is not JSON-able/,
    );
    const saved = model.values();
    tf.tidy(() => model.b2.assign(tf.tensor1d([Infinity])));
    await assert.rejects(
      saveCheckpoint(dir, { weights: model.namedWeights() }),
      /weight 'output\/bias' holds Infinity at index 0; not saving a diverged model/,
    );
    assert.equal(tf.memory().numTensors, before, "failed saves leak no tensor");
    // The checkpoint on disk is still the first one, and no temporary folder is left.
    assert.deepEqual(
      fs.readdirSync(root).filter((f) => f.includes("save-checks")),
      ["save-checks"],
    );
    tf.tidy(() => model.b2.assign(tf.tensor1d(saved[3])));
    const state = await loadCheckpoint(dir, { weights: model.namedWeights() });
    assert.deepEqual(state, { epoch: 1, note: "one step" });
    model.dispose();
    optimizer.dispose();
  });

  it("overwrites atomically, and an interrupted overwrite leaves the previous checkpoint loadable", async () => {
    const parent = path.join(root, "atomic");
    const dir = path.join(parent, "ckpt");
    const model = new TinyMlp(data, 1);
    assert.equal(hasCheckpoint(dir), false);
    await saveCheckpoint(dir, { weights: model.namedWeights(), state: { n: 1 } });
    tf.tidy(() => model.w1.assign(tf.zeros([3, 8])));
    await saveCheckpoint(dir, { weights: model.namedWeights(), state: { n: 2 } });
    assert.deepEqual(fs.readdirSync(parent), ["ckpt"], "no temporary or previous folder is left");
    assert.deepEqual(await loadCheckpoint(dir, { weights: model.namedWeights() }), { n: 2 });
    assert.deepEqual(Array.from(model.w1.dataSync()), new Array(24).fill(0));

    // A crash between moving the old checkpoint aside and renaming the new one into place.
    fs.renameSync(dir, `${dir}.previous`);
    assert.equal(hasCheckpoint(dir), true);
    assert.deepEqual(await loadCheckpoint(dir, { weights: model.namedWeights() }), { n: 2 });
    await saveCheckpoint(dir, { weights: model.namedWeights(), state: { n: 3 } });
    assert.deepEqual(fs.readdirSync(parent), ["ckpt"]);
    assert.deepEqual(await loadCheckpoint(dir, { weights: model.namedWeights() }), { n: 3 });
    model.dispose();
  });

  it("checkpointEvery saves every N steps and at epoch ends, counting the epochs done", async () => {
    const dir = path.join(root, "every");
    const model = new TinyMlp(data, 1);
    const optimizer = makeOptimizer();
    const seen: { step: number; saved: unknown }[] = [];
    const saver = checkpointEvery({ dir, weights: model.namedWeights(), optimizer, everySteps: 3 });
    const reader = {
      onStepEnd: (logs: StepLogs) => void seen.push({ step: logs.step, saved: readState(dir) }),
      onEpochEnd: (logs: EpochLogs) => void seen.push({ step: -logs.epoch, saved: readState(dir) }),
    };
    await fit(model, {
      optimizer,
      epochs: 2,
      progress: "silent",
      batches: (e) => batches(e).slice(0, 3),
      callbacks: [saver, reader],
    });
    // Steps 3 and 6 are saved; step 3 and 6 end epochs 1 and 2, so their ends save again with the epoch done.
    assert.deepEqual(seen, [
      { step: 1, saved: null },
      { step: 2, saved: null },
      { step: 3, saved: { epoch: 0, step: 3 } },
      { step: -1, saved: { epoch: 1, step: 3 } },
      { step: 4, saved: { epoch: 1, step: 3 } },
      { step: 5, saved: { epoch: 1, step: 3 } },
      { step: 6, saved: { epoch: 1, step: 6 } },
      { step: -2, saved: { epoch: 2, step: 6 } },
    ]);
    assert.throws(
      () => checkpointEvery({ dir, weights: model.namedWeights(), everySteps: 0 }),
      /checkpointEvery: everySteps must be an integer >= 1, got 0/,
    );
    model.dispose();
    optimizer.dispose();
  });
});

function readState(dir: string): unknown {
  const file = path.join(dir, "checkpoint.json");
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")).state : null;
}
