import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { PretrainingBatch } from "../../src/data/bertPretraining";
import {
  Bert,
  BertEmbeddings,
  BertForPretraining,
  BertForSequenceClassification,
  MaskedLanguageModelHead,
  pretrainingInputs,
  resolveBertConfig,
  textEmbeddings,
} from "../../src/models/bert";
import { TextClassificationBatch } from "../../src/data/textClassification";
import { WordPieceTokenizer } from "../../src/text/wordpiece";
import {
  checkGradients,
  checkReloaded,
  disposeOutput,
  normalTensor,
  randomizeWeights,
  take,
  variablesOf,
} from "../nn/support";
import { assertClose, assertNoLeak } from "../support/assertions";

const V = 30;
const T = 8;

/** Two pairs of length 8 with padding, two masked positions each (hand-made, as the data pipeline lays them out). */
function tinyBatch(): PretrainingBatch {
  // [CLS]=2 a a [SEP]=3 b [SEP] [PAD] [PAD] ; [CLS] a a a [SEP] b b [SEP]
  const tokenIds = Int32Array.from([2, 10, 4, 3, 12, 3, 0, 0, 2, 11, 13, 4, 3, 20, 21, 3]); // 4 = [MASK]
  return {
    batchSize: 2,
    length: T,
    tokenIds,
    tokenTypeIds: Int32Array.from([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
    attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]),
    maskedPositions: Int32Array.from([2, 4, 8 + 3, 8 + 5]),
    maskedLabels: Int32Array.from([15, 12, 17, 20]),
    isNext: Int32Array.from([1, 0]),
  };
}

function tinyModel(seed = 1, dropout = 0): BertForPretraining {
  return new BertForPretraining({
    vocabSize: V,
    hiddenSize: 8,
    numLayers: 2,
    numHeads: 2,
    maxPositions: T,
    dropout,
    seed,
  });
}

/** −mean log softmax(row)[label], in float64. */
function crossEntropy(logits: Float32Array, width: number, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * width, (i + 1) * width));
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((s, z) => s + Math.exp(z - top), 0));
    total += logSum - row[labels[i]];
  }
  return total / labels.length;
}

describe("models/bert", () => {
  before(async () => {
    await initBackend();
  });

  it("fills BERT's defaults and rejects bad configurations", () => {
    const c = resolveBertConfig({ vocabSize: 100, seed: 1 });
    assert.equal(c.intermediateSize, 4 * c.hiddenSize);
    assert.equal(c.layerNormEpsilon, 1e-12);
    assert.equal(c.attentionDropout, c.dropout);
    assert.throws(() => resolveBertConfig({ vocabSize: 100, hiddenSize: 10, numHeads: 3, seed: 1 }), /divisible/);
    assert.throws(() => resolveBertConfig({ vocabSize: 100, dropout: 1.2, seed: 1 }), /BertConfig: dropout/);
    assert.throws(() => resolveBertConfig({ vocabSize: 100 } as never), /seed/);
  });

  it("BertEmbeddings sums token, position and segment rows before its layer norm", () => {
    const rng = new Rng(3);
    const layer = new BertEmbeddings({
      vocabSize: 6,
      hiddenSize: 4,
      maxPositions: 5,
      typeVocabSize: 2,
      dropout: 0,
      initializerRange: 0.02,
      layerNormEpsilon: 1e-12,
      seed: 2,
    });
    const ids = tf.tensor2d([[1, 5, 2]], [1, 3], "int32");
    const types = tf.tensor2d([[0, 1, 1]], [1, 3], "int32");
    disposeOutput(layer.apply([ids, types])); // builds
    randomizeWeights(layer, rng);
    const [words, segments, positions] = layer.getWeights().map((w) => w.arraySync() as number[][]);
    const output = take(layer.apply([ids, types]) as tf.Tensor);
    const expected: number[] = [];
    [1, 5, 2].forEach((id, t) => {
      const type = [0, 1, 1][t];
      const sum = words[id].map((v, d) => v + positions[t][d] + segments[type][d]);
      const mean = sum.reduce((a, b) => a + b, 0) / 4;
      const variance = sum.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      const [gamma, beta] = [layer.getWeights()[3].dataSync(), layer.getWeights()[4].dataSync()];
      sum.forEach((v, d) => expected.push(((v - mean) / Math.sqrt(variance + 1e-12)) * gamma[d] + beta[d]));
    });
    assertClose(output, expected, { atol: 1e-5, rtol: 1e-4 }, "embeddings");
    const prefix = `${layer.name}/`;
    assert.deepEqual(
      layer.weights.map((w) => w.originalName.replace(prefix, "")),
      ["word_embeddings", "token_type_embeddings", "position_embeddings/embeddings", "norm/gamma", "norm/beta"],
    );
    tf.dispose([ids, types]);
  });

  it("BertEmbeddings and MaskedLanguageModelHead pass a numerical gradient check", () => {
    const rng = new Rng(4);
    const embeddings = new BertEmbeddings({
      vocabSize: 7,
      hiddenSize: 4,
      maxPositions: 4,
      typeVocabSize: 2,
      dropout: 0,
      initializerRange: 0.5,
      layerNormEpsilon: 1e-5,
      seed: 3,
    });
    const ids = tf.tensor2d(
      [
        [1, 6, 6, 2],
        [3, 0, 5, 1],
      ],
      [2, 4],
      "int32",
    );
    const types = tf.tensor2d(
      [
        [0, 0, 1, 1],
        [0, 1, 1, 1],
      ],
      [2, 4],
      "int32",
    );
    disposeOutput(embeddings.apply([ids, types]));
    const probe = normalTensor(rng, [2, 4, 4]);
    checkGradients(
      () => tf.sum(tf.mul(embeddings.apply([ids, types]) as tf.Tensor, probe)) as tf.Scalar,
      variablesOf(embeddings),
    );

    const head = new MaskedLanguageModelHead({
      vocabSize: 7,
      hiddenSize: 4,
      initializerRange: 0.5,
      layerNormEpsilon: 1e-5,
      seed: 5,
    });
    const hidden = tf.variable(normalTensor(rng, [3, 4]));
    const table = tf.variable(normalTensor(rng, [7, 4]));
    disposeOutput(head.apply([hidden, table]));
    randomizeWeights(head, rng, 0.5);
    const labels = Int32Array.from([2, 6, 0]);
    const loss = () =>
      tf.tidy(() => {
        const logits = head.apply([hidden, table]) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, "int32"), 7), logits) as tf.Scalar;
      });
    checkGradients(loss, [...variablesOf(head), hidden, table]);
    tf.dispose([ids, types, probe, hidden, table]);
    embeddings.dispose();
    head.dispose();
  });

  it("the custom layers serialise and reload with the same outputs", async () => {
    const embeddings = new BertEmbeddings({
      name: "embeddings",
      vocabSize: 9,
      hiddenSize: 4,
      maxPositions: 6,
      typeVocabSize: 2,
      dropout: 0.1,
      initializerRange: 0.02,
      layerNormEpsilon: 1e-12,
      seed: 8,
    });
    const idsIn = tf.input({ shape: [6], dtype: "int32" });
    const typesIn = tf.input({ shape: [6], dtype: "int32" });
    const model = tf.model({
      inputs: [idsIn, typesIn],
      outputs: embeddings.apply([idsIn, typesIn]) as tf.SymbolicTensor,
    });
    randomizeWeights(embeddings, new Rng(9));
    const ids = tf.tensor2d([[1, 2, 3, 8, 0, 0]], [1, 6], "int32");
    const types = tf.tensor2d([[0, 0, 1, 1, 0, 0]], [1, 6], "int32");
    const expected = take(model.predict([ids, types]) as tf.Tensor);
    await checkReloaded(model, (loaded) =>
      assertClose(take(loaded.predict([ids, types]) as tf.Tensor), expected, { atol: 1e-6, rtol: 1e-4 }),
    );

    const head = new MaskedLanguageModelHead({
      vocabSize: 9,
      hiddenSize: 4,
      initializerRange: 0.02,
      layerNormEpsilon: 1e-12,
      seed: 1,
    });
    const config = head.getConfig();
    const copy = MaskedLanguageModelHead.fromConfig(MaskedLanguageModelHead, config) as tf.layers.Layer;
    assert.deepEqual(copy.getConfig(), config);
    tf.dispose([ids, types]);
    model.dispose();
  });

  it("scores only the masked positions, and its losses equal the by-hand cross-entropies", () => {
    const model = tinyModel();
    const batch = tinyBatch();
    const { maskedLm, nextSentence } = model.logits(batch, false);
    assert.deepEqual(maskedLm.shape, [4, V]);
    assert.deepEqual(nextSentence.shape, [2, 2]);
    const losses = model.losses(batch, false);
    const mlm = crossEntropy(maskedLm.dataSync() as Float32Array, V, batch.maskedLabels);
    const nsp = crossEntropy(nextSentence.dataSync() as Float32Array, 2, batch.isNext);
    assertClose(
      [losses.maskedLm.dataSync()[0], losses.nextSentence.dataSync()[0], losses.total.dataSync()[0]],
      [mlm, nsp, mlm + nsp],
      { atol: 1e-5, rtol: 1e-5 },
    );
    // At initialisation (weights ~ N(0, 0.02²)) the predictions are nearly uniform: MLM loss ≈ ln V.
    assert.ok(Math.abs(mlm - Math.log(V)) < 0.05, `initial MLM loss ${mlm} vs ln V = ${Math.log(V)}`);
    tf.dispose([maskedLm, nextSentence, losses.maskedLm, losses.nextSentence, losses.total]);
    model.dispose();
  });

  it("ties the MLM output to the word embeddings: its gradient reaches them through both paths", () => {
    const model = tinyModel();
    const batch = tinyBatch();
    const table = model.bert.embeddings.wordEmbeddings.read() as tf.Variable;
    const { grads, value } = tf.variableGrads(() => model.loss(batch, false), [table]);
    const gradient = grads[table.name].arraySync() as number[][];
    // Row 25 is neither an input token nor a label: it still gets a gradient, from the output softmax.
    assert.ok(gradient[25].some((g) => g !== 0));
    assert.equal(
      model.countParams(),
      model.trainableVariables().reduce((s, v) => s + v.size, 0),
      "no untied output matrix",
    );
    tf.dispose([value, grads[table.name]]);
    model.dispose();
  });

  it("ignores padding: changing a padded token changes no real position's output", () => {
    const bert = new Bert({
      vocabSize: V,
      hiddenSize: 8,
      numLayers: 1,
      numHeads: 2,
      maxPositions: T,
      dropout: 0,
      seed: 2,
    });
    const batch = tinyBatch();
    const other = { ...batch, tokenIds: Int32Array.from(batch.tokenIds) };
    other.tokenIds[6] = 29; // a padded position of pair 0
    const out = (b: PretrainingBatch) => tf.tidy(() => take(bert.forward(pretrainingInputs(b), false).sequence));
    const [a, b] = [out(batch), out(other)];
    assertClose(a.subarray(0, 6 * 8), b.subarray(0, 6 * 8), { atol: 1e-6, rtol: 1e-4 });
    assertClose(a.subarray(T * 8), b.subarray(T * 8), { atol: 1e-6, rtol: 1e-4 });
    for (const layer of bert.layers) layer.dispose();
  });

  it("is deterministic for a seed, names its weights stably, and leaks nothing in a training step", async () => {
    const [m1, m2] = [tinyModel(7, 0.1), tinyModel(7, 0.1)];
    const n1 = m1.namedWeights();
    const n2 = m2.namedWeights();
    assert.deepEqual(
      n1.map((w) => w.name),
      n2.map((w) => w.name),
      "a second model in the process gets the same names",
    );
    assert.ok(n1.some((w) => w.name === "encoder/block_1/attention/query/kernel"));
    assert.ok(n1.some((w) => w.name === "embeddings/word_embeddings"));
    n1.forEach((w, i) => assertClose(w.variable.dataSync(), n2[i].variable.dataSync(), { atol: 0, rtol: 0 }, w.name));
    const optimizer = tf.train.adam(1e-3);
    const batch = tinyBatch();
    optimizer.minimize(() => m1.loss(batch, true), true, m1.trainableVariables())?.dispose(); // creates the slots
    await assertNoLeak(() => {
      optimizer.minimize(() => m1.loss(batch, true), true, m1.trainableVariables())?.dispose();
    });
    optimizer.dispose();
    m1.dispose();
    m2.dispose();
  });

  it("learns: the loss on a fixed batch falls when trained on it", () => {
    const model = tinyModel(3);
    const batch = tinyBatch();
    const optimizer = tf.train.adam(0.01);
    const lossOf = () => tf.tidy(() => model.loss(batch, false).dataSync()[0]);
    const before = lossOf();
    for (let i = 0; i < 30; i++)
      optimizer.minimize(() => model.loss(batch, true), true, model.trainableVariables())?.dispose();
    const after = lossOf();
    assert.ok(after < 0.3 * before, `loss ${before} → ${after}`);
    optimizer.dispose();
    model.dispose();
  });

  it("rejects inputs longer than maxPositions or of the wrong dtype", () => {
    const bert = new Bert({ vocabSize: V, hiddenSize: 8, numLayers: 1, numHeads: 2, maxPositions: 4, seed: 2 });
    const long = { ...tinyBatch() }; // length 8 > 4
    assert.throws(() => tf.tidy(() => void bert.forward(pretrainingInputs(long), false)), /exceed maxPositions 4/);
    for (const layer of bert.layers) layer.dispose();
  });
});

describe("models/bert: BertForSequenceClassification", () => {
  before(async () => {
    await initBackend();
  });

  /** Texts "[CLS] a [SEP]" where the class is whether token a is above 15; labels optional. */
  function classBatch(withLabels = true): TextClassificationBatch {
    const words = [10, 11, 20, 21, 12, 22];
    return {
      batchSize: 6,
      length: 4,
      tokenIds: Int32Array.from(words.flatMap((w) => [2, w, 3, 0])),
      tokenTypeIds: new Int32Array(24),
      attentionMask: Int32Array.from(words.flatMap(() => [1, 1, 1, 0])),
      labels: withLabels ? Int32Array.from(words, (w) => (w > 15 ? 1 : 0)) : null,
    };
  }

  it("classifies the pooled [CLS]; its loss is the by-hand cross-entropy, and null without labels", () => {
    const model = new BertForSequenceClassification({
      bert: { vocabSize: V, hiddenSize: 8, numLayers: 1, numHeads: 2, maxPositions: T, dropout: 0, seed: 1 },
      numLabels: 2,
      seed: 2,
    });
    const batch = classBatch();
    const { logits, loss } = tf.tidy(() => {
      const out = model.forward(batch, false);
      return { logits: out.logits.dataSync() as Float32Array, loss: out.loss!.dataSync()[0] };
    });
    assert.equal(logits.length, 6 * 2);
    assertClose([loss], [crossEntropy(logits, 2, batch.labels!)], { atol: 1e-6, rtol: 1e-4 });
    assert.equal(
      tf.tidy(() => model.forward(classBatch(false), false).loss ?? "no loss"),
      "no loss",
    );
    assert.throws(
      () => model.loss(classBatch(false), true),
      /the batch has no labels, so there is no loss to minimise/,
    );
    assert.throws(
      () => tf.tidy(() => void model.forward({ ...batch, labels: Int32Array.from([0, 1, 2, 0, 0, 0]) }, false)),
      /label 2 of row 2 is outside \[0, 2\)/,
    );
    const probabilities = model.probabilities(batch);
    for (let b = 0; b < 6; b++)
      assertClose([probabilities[2 * b] + probabilities[2 * b + 1]], [1], { atol: 1e-6, rtol: 1e-4 });
    model.dispose();
  });

  it("fine-tunes a pretrained encoder: the encoder's weights move, the task is learned, nothing leaks", async () => {
    const pretrained = tinyModel(5);
    const model = new BertForSequenceClassification({ bert: pretrained.bert, numLabels: 2, dropout: 0, seed: 3 });
    assert.equal(model.bert, pretrained.bert, "the pretrained encoder is taken over, not copied");
    const query = pretrained.namedWeights().find((w) => w.name === "encoder/block_0/attention/query/kernel")!;
    const before = Float32Array.from(query.variable.dataSync() as Float32Array);
    const batch = classBatch();
    const optimizer = tf.train.adam(0.02);
    optimizer.minimize(() => model.loss(batch, true), true, model.trainableVariables())?.dispose();
    await assertNoLeak(() => {
      optimizer.minimize(() => model.loss(batch, true), true, model.trainableVariables())?.dispose();
    });
    for (let i = 0; i < 40; i++)
      optimizer.minimize(() => model.loss(batch, true), true, model.trainableVariables())?.dispose();
    assert.ok(Array.from(query.variable.dataSync()).some((x, j) => x !== before[j]));
    const probabilities = model.probabilities(batch);
    batch.labels!.forEach((label, b) => assert.ok(probabilities[2 * b + label] > 0.9, `row ${b}`));
    optimizer.dispose();
    model.dispose();
    for (const layer of pretrained.layers) if (!model.layers.includes(layer)) layer.dispose();
  });
});

describe("models/bert: textEmbeddings", () => {
  before(async () => {
    await initBackend();
  });

  it("mean-pools h_L over each text's real tokens, or returns the pooled [CLS]", () => {
    const tokenizer = WordPieceTokenizer.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]);
    const bert = new Bert({
      vocabSize: 8,
      hiddenSize: 8,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 6,
      dropout: 0,
      seed: 4,
    });
    const texts = ["a b c", "b", "c a"];
    const mean = textEmbeddings(bert, tokenizer, texts, { maxLength: 6, batchSize: 2 });
    const cls = textEmbeddings(bert, tokenizer, texts, { maxLength: 6, pooling: "cls" });
    assert.equal(mean.length, 3 * 8);
    texts.forEach((text, b) => {
      const encoded = tokenizer.encode(text);
      const n = encoded.ids.length; // unpadded: [CLS] … [SEP]
      const { sequence, pooled } = tf.tidy(() => {
        const out = bert.forward(
          {
            tokenIds: tf.tensor2d([Array.from(encoded.ids)], undefined, "int32"),
            tokenTypeIds: tf.zeros([1, n], "int32"),
            attentionMask: tf.ones([1, n], "int32"),
          },
          false,
        );
        return { sequence: out.sequence.arraySync()[0], pooled: out.pooled.dataSync() as Float32Array };
      });
      const expected = Array.from({ length: 8 }, (_, d) => sequence.reduce((s, h) => s + h[d], 0) / n);
      assertClose(mean.subarray(b * 8, (b + 1) * 8), expected, { atol: 1e-5, rtol: 1e-4 }, `mean of text ${b}`);
      assertClose(cls.subarray(b * 8, (b + 1) * 8), pooled, { atol: 1e-5, rtol: 1e-4 }, `cls of text ${b}`);
    });
    assert.throws(
      () => textEmbeddings(bert, tokenizer, texts, { pooling: "max" as never }),
      /pooling must be "mean" or "cls", got 'max'/,
    );
    for (const layer of bert.layers) layer.dispose();
  });
});
