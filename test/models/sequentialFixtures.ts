// Shared checks of the sequence models (test/models/bert4rec.test.ts, test/models/sasrec.test.ts).

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { SequenceBatch, UserSequences } from "../../src/data/sequences";
import { SequentialTransformer } from "../../src/nn/sequentialTransformer";
import { loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint";
import { fit } from "../../src/train/trainer";
import { assertClose, assertNoLeak } from "../support/assertions";

/** −mean log softmax(row)[label], in float64. */
export function crossEntropy(logits: Float32Array, width: number, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * width, (i + 1) * width));
    const top = Math.max(...row);
    total += top + Math.log(row.reduce((s, z) => s + Math.exp(z - top), 0)) - row[labels[i]];
  }
  return total / labels.length;
}

/** h_L of token ids [B, T] in inference mode, as nested arrays [B][T][D]. */
export function hiddenStates(model: SequentialTransformer<SequenceBatch>, tokenIds: number[][]): number[][][] {
  return tf.tidy(() => model.forward(tf.tensor2d(tokenIds, undefined, "int32"), false).arraySync());
}

/** Consecutive runs over `numItems` items (the next item is always the last + 1, mod numItems). */
export function runSequences(numItems: number, numUsers: number, length: number): UserSequences {
  return UserSequences.fromArrays(
    numItems,
    Array.from({ length: numUsers }, (_, u) => Array.from({ length }, (_, k) => (u + k) % numItems)),
  );
}

/** The share of users whose top-scored item is the next item of their run. */
export function nextItemAccuracy(model: SequentialTransformer<SequenceBatch>, sequences: UserSequences): number {
  const users = Int32Array.from({ length: sequences.numUsers }, (_, u) => u);
  const scores = model.scoreItems(users);
  const n = model.numItems;
  let hits = 0;
  for (const u of users) {
    const history = sequences.itemsOf(u);
    const row = scores.subarray(u * n, (u + 1) * n);
    hits += row.indexOf(Math.max(...row)) === (history[history.length - 1] + 1) % n ? 1 : 0;
  }
  return hits / users.length;
}

/** Trains with Adam through `fit` and returns the first and last epoch losses. */
export async function train<B extends SequenceBatch>(
  model: SequentialTransformer<B>,
  batches: (epoch: number) => B[],
  epochs: number,
  learningRate = 0.01,
): Promise<{ first: number; last: number }> {
  const optimizer = tf.train.adam(learningRate);
  const history = await fit(model, { optimizer, epochs, batches, progress: "silent" });
  optimizer.dispose();
  return { first: history[0].loss, last: history[history.length - 1].loss };
}

/** scoreItems equals h_L at position T − 1 times the item table (plus bias), computed here directly. */
export function checkScoresMatchForward(
  model: SequentialTransformer<SequenceBatch>,
  tokenIds: number[][],
  users: Int32Array,
): void {
  const scores = model.scoreItems(users);
  const T = tokenIds[0].length;
  const expected = tf.tidy(() => {
    const h = model.forward(tf.tensor2d(tokenIds, undefined, "int32"), false); // [B, T, D]
    const last = tf.squeeze(tf.slice(h, [0, T - 1, 0], [-1, 1, -1]), [1]); // [B, D]
    const table = tf.slice(
      model.embedding.itemEmbeddings.read(),
      [model.architecture.itemOffset, 0],
      [model.numItems, -1],
    );
    let logits = tf.matMul(last, table, false, true);
    if (model.outputBias !== null) logits = tf.add(logits, model.outputBias.weights[0].read());
    return logits.dataSync() as Float32Array;
  });
  assertClose(scores, expected, { atol: 1e-5, rtol: 1e-4 }, "scoreItems");
}

/** Saves `model` with namedWeights, loads into `fresh`, and checks that both score alike. */
export async function checkCheckpointRoundTrip(
  model: SequentialTransformer<SequenceBatch>,
  fresh: SequentialTransformer<SequenceBatch>,
  users: Int32Array,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-seq-"));
  try {
    const before = model.scoreItems(users);
    assert.notDeepEqual(fresh.scoreItems(users), before, "the fresh model should differ before loading");
    await saveCheckpoint(path.join(dir, "ckpt"), { weights: model.namedWeights() });
    await loadCheckpoint(path.join(dir, "ckpt"), { weights: fresh.namedWeights() });
    assert.deepEqual(fresh.scoreItems(users), before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A training step (after a first one creates Adam's slots) and scoreItems leave no tensor behind. */
export async function checkNoLeaks<B extends SequenceBatch>(
  model: SequentialTransformer<B>,
  batch: B,
  users: Int32Array,
): Promise<void> {
  const optimizer = tf.train.adam(1e-3);
  const step = () => optimizer.minimize(() => model.loss(batch, true), true, model.trainableVariables())?.dispose();
  step();
  await assertNoLeak(step);
  await assertNoLeak(() => void model.scoreItems(users));
  optimizer.dispose();
}

/** Replaces row 0 ([PAD]) of the item table with other values; returns a function that restores it. */
export function perturbPadRow(model: SequentialTransformer<SequenceBatch>): () => void {
  const table = model.embedding.itemEmbeddings.read() as tf.Variable;
  const original = tf.clone(table);
  tf.tidy(() => {
    const row = tf.fill([1, table.shape[1]!], 3.5);
    table.assign(tf.concat([row, tf.slice(table, [1, 0], [-1, -1])], 0));
  });
  return () => {
    table.assign(original);
    original.dispose();
  };
}

/**
 * The attention weights of one sequence: [layers][heads][T][T]; each real query's row is a distribution
 * over the keys it may read (real keys, and with `causal` only those at or before it).
 */
export function checkAttentionWeights(
  model: SequentialTransformer<SequenceBatch>,
  tokenIds: number[],
  causal: boolean,
): void {
  const T = tokenIds.length;
  const layers = model.attentionWeights(Int32Array.from(tokenIds), 1);
  assert.equal(layers.length, model.config.numLayers);
  for (const weights of layers) {
    assert.deepEqual(weights.shape, [1, model.config.numHeads, T, T]);
    for (const head of (weights.arraySync() as number[][][][])[0]) {
      for (let q = 0; q < T; q++) {
        if (tokenIds[q] === 0) continue;
        const row = head[q];
        assert.ok(Math.abs(row.reduce((s, w) => s + w, 0) - 1) < 1e-5, `row ${q} sums to 1`);
        row.forEach((w, k) => {
          if (tokenIds[k] === 0 || (causal && k > q)) assert.ok(w < 1e-6, `query ${q} reads key ${k} (${w})`);
        });
      }
    }
  }
  tf.dispose(layers);
  assert.throws(() => model.attentionWeights(Int32Array.from(tokenIds), 2), /expected 2·\d+ token ids/);
}
