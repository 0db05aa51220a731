import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { TextPair } from "../../src/data/bertPretraining";
import { WordPieceTokenizer } from "../../src/text/wordpiece";
import {
  BertPretrainingConfig,
  heldOutPretrainingBatches,
  pretrainBert,
  tokenizerMasking,
} from "../../src/train/bertPretraining";

// Two kinds of documents whose B follows from A: MLM and NSP both have something to learn.
function documents(count: number): TextPair[] {
  const kinds = [
    { a: "red apple pie", b: "fruit sweet dessert" },
    { a: "dark space ship", b: "science fiction stars" },
    { a: "old castle ghost", b: "horror night fear" },
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]);
}

const tokenizer = WordPieceTokenizer.train(
  documents(3).flatMap((d) => [d.a, d.b]),
  { vocabSize: 60, minFrequency: 1, scoring: "frequency" },
);

function config(overrides: Partial<BertPretrainingConfig> = {}): BertPretrainingConfig {
  return {
    model: { hiddenSize: 16, numLayers: 1, numHeads: 2, dropout: 0 },
    maxLength: 12,
    batchSize: 8,
    epochs: 2,
    peakLearningRate: 1e-2,
    seed: 3,
    progress: "silent",
    ...overrides,
  };
}

function weightsOf(result: {
  model: { namedWeights(): Array<{ name: string; variable: tf.Variable }> };
}): Map<string, Float32Array> {
  return new Map(
    result.model.namedWeights().map((w) => [w.name, Float32Array.from(w.variable.dataSync() as Float32Array)]),
  );
}

describe("train/bertPretraining", () => {
  let dir: string;
  before(async () => {
    await initBackend();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-pretrain-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("trains MLM and NSP, logging held-out metrics after every epoch, and leaks no tensor", async () => {
    const before = tf.memory().numTensors;
    const result = await pretrainBert(
      { train: documents(48), heldOut: documents(12) },
      tokenizer,
      config({ epochs: 8 }),
    );
    assert.equal(result.history.length, 8);
    for (const key of [
      "heldOut_mlmLoss",
      "heldOut_mlmAccuracy",
      "heldOut_nspAccuracy",
      "learningRate",
      "tokensPerSecond",
    ]) {
      assert.ok(Number.isFinite(result.history[7][key]), `${key} logged`);
    }
    assert.ok(
      result.history[7].loss < result.history[0].loss,
      `loss ${result.history[0].loss} → ${result.history[7].loss}`,
    );
    assert.ok(
      result.evaluation.maskedLmAccuracy > 0.3,
      `MLM accuracy ${result.evaluation.maskedLmAccuracy} on a corpus of three sentences`,
    );
    assert.equal(result.resumedEpochs, 0);
    assert.ok(result.tokensPerSecond > 0);
    result.model.dispose();
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  });

  it("resumes from its checkpoint exactly: 1 epoch, stop, resume = 2 epochs straight", async () => {
    const docs = { train: documents(48), heldOut: documents(12) };
    const straight = await pretrainBert(docs, tokenizer, config());
    const expected = weightsOf(straight);
    straight.model.dispose();

    const first = await pretrainBert(docs, tokenizer, {
      ...config(),
      checkpointDir: dir,
      callbacks: [{ onEpochEnd: () => "stop" }],
    });
    assert.equal(first.history.length, 1);
    first.model.dispose();
    const resumed = await pretrainBert(docs, tokenizer, { ...config(), checkpointDir: dir });
    assert.equal(resumed.resumedEpochs, 1);
    assert.deepEqual(
      resumed.history.map((h) => h.epoch),
      [1, 2],
      "the history holds the restored epoch too",
    );
    const actual = weightsOf(resumed);
    for (const [name, values] of expected) assert.deepEqual(actual.get(name), values, `${name} after resuming`);
    resumed.model.dispose();
  });

  it("refuses a checkpoint of another configuration instead of overwriting it", async () => {
    const docs = { train: documents(24), heldOut: documents(6) };
    (await pretrainBert(docs, tokenizer, { ...config({ epochs: 1 }), checkpointDir: dir })).model.dispose();
    const before = tf.memory().numTensors;
    await assert.rejects(
      pretrainBert(docs, tokenizer, { ...config({ epochs: 3 }), checkpointDir: dir }),
      /of another configuration/,
    );
    assert.equal(tf.memory().numTensors, before, "the refused run leaves no tensor behind");
  });

  it("draws the held-out pairs and masks once, from the seed", () => {
    const masking = tokenizerMasking(tokenizer);
    assert.equal(masking.firstRandomId, 5);
    const a = heldOutPretrainingBatches(documents(20), tokenizer, { maxLength: 12, batchSize: 8, masking }, 1);
    const b = heldOutPretrainingBatches(documents(20), tokenizer, { maxLength: 12, batchSize: 8, masking }, 1);
    assert.deepEqual(
      a.map((x) => x.batchSize),
      [8, 8, 4],
      "the last, smaller batch is kept",
    );
    assert.deepEqual(a, b);
  });

  it("rejects a corpus too small for one batch", async () => {
    await assert.rejects(
      pretrainBert({ train: documents(4), heldOut: documents(4) }, tokenizer, config()),
      /make no batch of 8/,
    );
  });
});
