import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { NegativeSampler } from "../../src/data/samplers";
import {
  inferenceInputs,
  PAD_TOKEN,
  SASREC_ITEM_OFFSET,
  SasRecBatch,
  sasrecBatches,
  UserSequences,
} from "../../src/data/sequences";
import { Bert4Rec } from "../../src/models/bert4rec";
import { resolveSasRecConfig, SasRec } from "../../src/models/sasrec";
import {
  checkAttentionWeights,
  checkCheckpointRoundTrip,
  checkNoLeaks,
  checkScoresMatchForward,
  crossEntropy,
  hiddenStates,
  nextItemAccuracy,
  perturbPadRow,
  runSequences,
  train,
} from "./sequentialFixtures";

const N = 12; // items
const T = 6;

function tinyModel(
  histories: UserSequences,
  seed = 1,
  extra: Partial<ConstructorParameters<typeof SasRec>[0]> = {},
): SasRec {
  return new SasRec(
    { numItems: N, maxLength: T, hiddenSize: 16, numLayers: 2, numHeads: 2, dropout: 0, seed, ...extra },
    histories,
  );
}

/** Two left-padded sequences, every real position predicted, one negative per position. */
function tinyBatch(): SasRecBatch {
  // tokens: item i is i + 1; [PAD] = 0. Sequence 0 is items 4, 6, 8 (then 10); sequence 1 is 0, 1, 2, 3, 4, 11 (then 5).
  return {
    batchSize: 2,
    length: T,
    users: Int32Array.from([0, 1]),
    tokenIds: Int32Array.from([0, 0, 0, 5, 7, 9, 1, 2, 3, 4, 5, 12]),
    positions: Int32Array.from([3, 4, 5, 6, 7, 8, 9, 10, 11]),
    labels: Int32Array.from([6, 8, 10, 1, 2, 3, 4, 11, 5]),
    negatives: Int32Array.from([0, 1, 2, 7, 8, 9, 10, 6, 7]),
  };
}

/** The largest absolute change of each position's hidden state between two [T][D] arrays. */
function changes(a: number[][], b: number[][]): number[] {
  return a.map((row, t) => Math.max(...row.map((v, d) => Math.abs(v - b[t][d]))));
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

describe("models/sasrec", () => {
  const histories = UserSequences.fromArrays(N, [[1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11], [0]]);

  before(async () => {
    await initBackend();
  });

  it("fills SASRec's defaults and rejects bad configurations", () => {
    const c = resolveSasRecConfig({ numItems: 100, seed: 1 });
    assert.deepEqual(
      [
        c.maxLength,
        c.hiddenSize,
        c.numLayers,
        c.numHeads,
        c.intermediateSize,
        c.dropout,
        c.attentionDropout,
        c.initializerRange,
        c.layerNormEpsilon,
        c.scoreBatchSize,
        c.loss,
      ],
      [50, 64, 2, 1, 256, 0.2, 0.2, 0.02, 1e-8, 256, "softmax"],
    );
    assert.equal(
      resolveSasRecConfig({ numItems: 10, hiddenSize: 8, dropout: 0.5, loss: "bce", seed: 1 }).intermediateSize,
      32,
    );
    assert.equal(resolveSasRecConfig({ numItems: 10, dropout: 0.5, seed: 1 }).attentionDropout, 0.5);
    assert.throws(() => resolveSasRecConfig({ numItems: 0, seed: 1 }), /SasRec: numItems must be an integer >= 1/);
    assert.throws(
      () => resolveSasRecConfig({ numItems: 10, hiddenSize: 10, numHeads: 3, seed: 1 }),
      /SasRec: hiddenSize 10 must be divisible by numHeads 3/,
    );
    assert.throws(
      () => resolveSasRecConfig({ numItems: 10, loss: "sampledSoftmax" as never, seed: 1 }),
      /SasRec: loss must be one of "softmax", "bce"/,
    );
    assert.throws(
      () => resolveSasRecConfig({ numItems: 10, dropout: 1, seed: 1 }),
      /SasRec: dropout must be a number in \[0, 1\)/,
    );
    assert.throws(
      () => resolveSasRecConfig({ numItems: 10, maxLength: 0, seed: 1 }),
      /SasRec: maxLength must be an integer >= 1/,
    );
    assert.throws(() => resolveSasRecConfig({ numItems: 10 } as never), /SasRec: seed/);
    assert.throws(() => resolveSasRecConfig(null as never), /SasRec: config must be an object/);
    assert.throws(
      () => tinyModel(UserSequences.fromArrays(N + 1, [[0]])),
      /SasRec: histories have 13 items, the model numItems = 12/,
    );
  });

  it("gives [P, numItems] logits, and its softmax loss equals the by-hand cross-entropy", () => {
    const model = tinyModel(histories);
    const batch = tinyBatch();
    const logits = tf.tidy(() => model.logits(batch, false).dataSync() as Float32Array);
    assert.equal(logits.length, batch.positions.length * N);
    const hidden = tf.tidy(() => model.forward(tf.tensor2d(batch.tokenIds, [2, T], "int32"), false).shape);
    assert.deepEqual(hidden, [2, T, 16]);
    const loss = tf.tidy(() => model.loss(batch, false).dataSync()[0]);
    assert.ok(Math.abs(loss - crossEntropy(logits, N, batch.labels)) < 1e-5, `loss ${loss}`);
    assert.throws(
      () => model.loss({ ...batch, tokenIds: Int32Array.from(batch.tokenIds).fill(13, 0, 1) }, false),
      /SasRec: token id 13 at 0 is outside \[0, 13\)/,
    );
    assert.throws(
      () => model.loss({ ...batch, positions: new Int32Array(0), labels: new Int32Array(0) }, false),
      /no positions/,
    );
    assert.throws(() => model.loss({ ...batch, labels: batch.labels.subarray(1) }, false), /8 labels for 9 positions/);
    assert.throws(() => model.forward(tf.zeros([1, T + 1], "int32") as tf.Tensor2D, false), /exceed maxLength 6/);
    model.dispose();
  });

  it("its BCE loss equals softplus(−r⁺) + softplus(r⁻) from its own logits, with sampled negatives too", () => {
    const model = tinyModel(histories, 2, { loss: "bce" });
    const check = (batch: SasRecBatch) => {
      const logits = tf.tidy(() => model.logits(batch, false).dataSync() as Float32Array);
      let expected = 0;
      batch.positions.forEach((_, p) => {
        expected += softplus(-logits[p * N + batch.labels[p]]) + softplus(logits[p * N + batch.negatives![p]]);
      });
      expected /= batch.positions.length;
      const loss = tf.tidy(() => model.loss(batch, false).dataSync()[0]);
      assert.ok(Math.abs(loss - expected) < 1e-5, `bce ${loss} vs by hand ${expected}`);
    };
    check(tinyBatch());

    // Negatives from a NegativeSampler through sasrecBatches.
    const users = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
    const items = [1, 2, 3, 4, 5, 7, 8, 9, 10, 0, 11, 6];
    const data = new Interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      ratings: new Float32Array(users.length).fill(1),
      timestamps: Float64Array.from(users.map((_, k) => k)),
      name: "tiny",
      userIndex: IdIndex.from(["u0", "u1", "u2"]),
      itemIndex: IdIndex.from(Array.from({ length: N }, (_, i) => `i${i}`)),
    });
    const sequences = UserSequences.from(data);
    const batches = sasrecBatches(
      sequences,
      {
        maxLength: T,
        itemOffset: SASREC_ITEM_OFFSET,
        batchSize: 3,
        seed: 3,
        negativeSampler: new NegativeSampler(data),
      },
      0,
    );
    assert.equal(batches.length, 1);
    assert.equal(batches[0].negatives!.length, batches[0].positions.length);
    check(batches[0]);
    model.dispose();
  });

  it('"bce" without negatives is an error that names the fix', () => {
    const model = tinyModel(histories, 2, { loss: "bce" });
    const batch = tinyBatch();
    assert.throws(
      () => model.loss({ ...batch, negatives: null }, false),
      /SasRec\.loss: the "bce" loss needs one negative per position \(build the batches with a negativeSampler\)/,
    );
    assert.throws(
      () => model.loss({ ...batch, negatives: batch.negatives!.subarray(1) }, false),
      /needs one negative per position/,
    );
    assert.throws(
      () => model.loss({ ...batch, negatives: Int32Array.from(batch.negatives!).fill(N, 2, 3) }, false),
      /SasRec\.loss: negatives\[2\] = 12 is outside \[0, 12\)/,
    );
    // softmax ignores the negatives
    const softmax = tinyModel(histories, 2);
    assert.doesNotThrow(() => tf.tidy(() => softmax.loss({ ...batch, negatives: null }, false)));
    model.dispose();
    softmax.dispose();
  });

  it("is causal: a later item never changes an earlier real position (BERT4Rec's does)", () => {
    // Padded positions (0, 1 here) are excluded: their query rows have every key blocked, so the
    // attention (src/nn/attention.ts) spreads them uniformly over all keys, later ones included. No
    // loss or score reads them, and real queries never attend to them, so they cannot leak further.
    const model = tinyModel(histories, 3);
    const a = [[0, 0, 5, 6, 7, 8]];
    const first = 2;
    const last = changes(hiddenStates(model, a)[0], hiddenStates(model, [[0, 0, 5, 6, 7, 9]])[0]);
    for (let t = first; t < T - 1; t++) assert.equal(last[t], 0, `position ${t} moved with the item at ${T - 1}`);
    assert.ok(last[T - 1] > 1e-4, "the changed position itself moves");
    const middle = changes(hiddenStates(model, a)[0], hiddenStates(model, [[0, 0, 5, 11, 7, 8]])[0]);
    assert.equal(middle[first], 0, `position ${first} moved with the item at 3`);
    for (let t = 3; t < T; t++) assert.ok(middle[t] > 1e-4, `position ${t} should see the item at 3`);
    for (const row of hiddenStates(model, a)[0])
      assert.ok(row.every(Number.isFinite), "hidden states are finite, padded ones too");
    // The logits the loss reads at the earlier positions do not move either.
    const batchOf = (tokens: number[]): SasRecBatch => ({
      batchSize: 1,
      length: T,
      users: Int32Array.from([0]),
      tokenIds: Int32Array.from(tokens),
      positions: Int32Array.from([2, 3, 4]),
      labels: Int32Array.from([5, 6, 7]),
      negatives: null,
    });
    const logitsOf = (tokens: number[]) =>
      tf.tidy(() => model.logits(batchOf(tokens), false).dataSync() as Float32Array);
    assert.deepEqual(logitsOf([0, 0, 5, 6, 7, 8]), logitsOf([0, 0, 5, 6, 7, 3]));

    // The same size of bidirectional model: the later item reaches earlier positions.
    const bert = new Bert4Rec(
      { numItems: N, maxLength: T, hiddenSize: 16, numLayers: 2, numHeads: 2, dropout: 0, seed: 3 },
      histories,
    );
    const bertChange = changes(
      hiddenStates(bert, [[0, 0, 5, 6, 7, 8]])[0],
      hiddenStates(bert, [[0, 0, 5, 6, 7, 9]])[0],
    );
    for (let t = 2; t < T - 1; t++) assert.ok(bertChange[t] > 1e-4, `BERT4Rec position ${t} should see the later item`);
    model.dispose();
    bert.dispose();
  });

  it("ignores padding: the [PAD] row leaves every real position alone", () => {
    const model = tinyModel(histories, 4);
    const a = [
      [0, 0, 5, 6, 7, 8],
      [0, 0, 0, 0, 0, 3],
    ];
    const before = hiddenStates(model, a);
    const restore = perturbPadRow(model);
    const perturbed = hiddenStates(model, a);
    restore();
    assert.deepEqual(hiddenStates(model, a), before, "restored");
    for (const [b, first] of [
      [0, 2],
      [1, 5],
    ]) {
      const moved = changes(before[b], perturbed[b]);
      for (let t = first; t < T; t++)
        assert.ok(moved[t] < 1e-5, `sequence ${b}: real position ${t} moved with [PAD] (${moved[t]})`);
    }
    // A sequence scored alone equals the same sequence batched beside a mostly padded one.
    const alone = hiddenStates(model, [[PAD_TOKEN, PAD_TOKEN, 5, 6, 7, 8]])[0];
    for (let t = 2; t < T; t++)
      alone[t].forEach((v, d) => assert.ok(Math.abs(v - before[0][t][d]) < 1e-5, `position ${t} depends on the batch`));
    model.dispose();
  });

  it("scoreItems reads the last position of the stored histories and agrees with a direct forward pass", () => {
    const model = tinyModel(histories, 5, { scoreBatchSize: 2 });
    const users = Int32Array.from([1, 0, 2]);
    const tokens = inferenceInputs(histories, users, {
      maxLength: T,
      itemOffset: SASREC_ITEM_OFFSET,
      appendMask: false,
    });
    assert.deepEqual([...tokens.subarray(0, T)], [7, 8, 9, 10, 11, 12]); // user 1's last 6 items, 6..11
    assert.deepEqual([...tokens.subarray(T, 2 * T)], [0, 0, 2, 3, 4, 5]);
    checkScoresMatchForward(
      model,
      [0, 1, 2].map((b) => Array.from(tokens.subarray(b * T, (b + 1) * T))),
      users,
    );
    model.dispose();
  });

  it("learns a predictable next item (runs 0, 1, 2, …) to high accuracy", async function () {
    this.timeout(60000);
    const sequences = runSequences(N, 48, 8);
    const model = tinyModel(sequences, 6);
    const batches = (epoch: number) =>
      sasrecBatches(sequences, { maxLength: T, itemOffset: SASREC_ITEM_OFFSET, batchSize: 16, seed: 4 }, epoch);
    const started = performance.now();
    const { first, last } = await train(model, batches, 40, 0.01);
    const accuracy = nextItemAccuracy(model, sequences);
    assert.ok(last < first / 4, `loss ${first} → ${last}`);
    assert.ok(accuracy >= 0.9, `next-item accuracy ${accuracy} (${Math.round(performance.now() - started)} ms)`);
    model.dispose();
  });

  it("the BCE loss with sampled negatives trains too", async function () {
    this.timeout(60000);
    const sequences = runSequences(N, 24, 8);
    const users: number[] = [];
    const items: number[] = [];
    for (let u = 0; u < sequences.numUsers; u++)
      for (const i of sequences.itemsOf(u)) {
        users.push(u);
        items.push(i);
      }
    const data = new Interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      ratings: new Float32Array(users.length).fill(1),
      timestamps: Float64Array.from(users.map((_, k) => k)),
      name: "runs",
      userIndex: IdIndex.from(Array.from({ length: sequences.numUsers }, (_, u) => `u${u}`)),
      itemIndex: IdIndex.from(Array.from({ length: N }, (_, i) => `i${i}`)),
    });
    const sampler = new NegativeSampler(data);
    const model = tinyModel(sequences, 7, { loss: "bce" });
    const batches = (e: number) =>
      sasrecBatches(
        sequences,
        { maxLength: T, itemOffset: SASREC_ITEM_OFFSET, batchSize: 12, seed: 4, negativeSampler: sampler },
        e,
      );
    const { first, last } = await train(model, batches, 30, 0.01);
    assert.ok(Number.isFinite(first) && last < first / 2, `bce loss ${first} → ${last}`);
    model.dispose();
  });

  it("reports attention weights: distributions over the keys each position may read", () => {
    const model = tinyModel(histories);
    checkAttentionWeights(model, [0, 0, 5, 6, 7, 8], true);
    model.dispose();
  });

  it("saves and loads through a checkpoint with identical scores", async () => {
    const model = tinyModel(histories, 8);
    const fresh = tinyModel(histories, 9);
    await checkCheckpointRoundTrip(model, fresh, Int32Array.from([0, 1, 2]));
    assert.ok(!model.namedWeights().some((w) => w.name.startsWith("output_bias")), "SASRec has no output bias");
    model.dispose();
    fresh.dispose();
  });

  it("leaks no tensors in a training step or in scoreItems", async () => {
    const model = tinyModel(histories, 10, { dropout: 0.1 });
    await checkNoLeaks(model, tinyBatch(), Int32Array.from([0, 1, 2]));
    const bce = tinyModel(histories, 11, { dropout: 0.1, loss: "bce" });
    await checkNoLeaks(bce, tinyBatch(), Int32Array.from([0, 1, 2]));
    model.dispose();
    bce.dispose();
  });
});
