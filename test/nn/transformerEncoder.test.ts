import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { SinusoidalPositionEncoding } from "../../src/nn/positionEmbedding";
import {
  TransformerEncoder,
  TransformerEncoderBlock,
  TransformerEncoderBlockArgs,
} from "../../src/nn/transformerEncoder";
import {
  checkGradients,
  checkReloaded,
  disposeOutput,
  normalTensor,
  permuteRows,
  randomizeWeights,
  take,
  variablesOf,
} from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

const SMALL: TransformerEncoderBlockArgs = { numHeads: 2, hiddenDim: 8, dropout: 0, seed: 1 };

// LN over the last axis in float64, with the layer's own γ, β and ε.
function layerNorm(x: tf.Tensor, norm: tf.layers.Layer): tf.Tensor {
  const [gamma, beta] = norm.getWeights().map((w) => Array.from(w.dataSync()));
  const epsilon = norm.getConfig().epsilon as number;
  const width = x.shape[x.rank - 1];
  const values = x.dataSync();
  const out = new Float32Array(values.length);
  for (let start = 0; start < values.length; start += width) {
    const row = Array.from(values.subarray(start, start + width));
    const mean = row.reduce((a, b) => a + b, 0) / width;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / width;
    row.forEach((v, i) => (out[start + i] = (gamma[i] * (v - mean)) / Math.sqrt(variance + epsilon) + beta[i]));
  }
  return tf.tensor(out, x.shape);
}

function built<L extends tf.layers.Layer>(layer: L, x: tf.Tensor, rng?: Rng): L {
  disposeOutput(layer.apply(x));
  if (rng) randomizeWeights(layer, rng);
  return layer;
}

describe("nn/transformerEncoder", () => {
  before(async () => {
    await initBackend();
  });

  it("keeps the input shape, with or without a mask, in both norm placements", () => {
    const rng = new Rng(1);
    const x = normalTensor(rng, [2, 5, 4]);
    const mask = tf.tensor2d([
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ]);
    for (const norm of ["post", "pre"] as const) {
      const encoder = new TransformerEncoder({ ...SMALL, numLayers: 2, norm });
      for (const inputs of [x, [x, mask]]) {
        const out = encoder.apply(inputs) as tf.Tensor;
        assert.deepEqual(out.shape, [2, 5, 4]);
        out.dispose();
      }
      assert.deepEqual(
        encoder.computeOutputShape([
          [null, 5, 4],
          [null, 5],
        ]),
        [null, 5, 4],
      );
      // 2 blocks × (8 attention + 4 feed-forward + 2 × 2 norm weights), plus the pre-norm stack's final LN.
      assert.equal(encoder.weights.length, norm === "pre" ? 34 : 32);
    }
    tf.dispose([x, mask]);
  });

  it("names every weight under its block and sublayer, uniquely", () => {
    const x = tf.zeros([1, 3, 4]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 2, norm: "pre", name: "encoder" }), x);
    const names = encoder.weights.map((w) => w.originalName);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.includes("encoder/block_0/attention/query/kernel"));
    assert.ok(names.includes("encoder/block_1/feed_forward/output/bias"));
    assert.ok(names.includes("encoder/block_1/attention_norm/gamma"));
    assert.ok(names.includes("encoder/final_norm/beta"));
    x.dispose();
  });

  it("post-norm block computes LN(x + MHA(x)), then LN(y + FFN(y))", () => {
    const rng = new Rng(2);
    const x = normalTensor(rng, [2, 3, 4]);
    const block = built(new TransformerEncoderBlock({ ...SMALL, norm: "post" }), x, rng);
    const attended = (block.attention.apply(x) as tf.Tensor[])[0];
    const y = layerNorm(tf.add(x, attended), block.attentionNorm);
    const expected = layerNorm(tf.add(y, block.feedForward.apply(y) as tf.Tensor), block.feedForwardNorm);
    assertClose(take(block.apply(x) as tf.Tensor), take(expected), { atol: 1e-4, rtol: 1e-4 });
    x.dispose();
  });

  it("pre-norm block computes x + MHA(LN(x)), then y + FFN(LN(y))", () => {
    const rng = new Rng(3);
    const x = normalTensor(rng, [2, 3, 4]);
    const block = built(new TransformerEncoderBlock({ ...SMALL, norm: "pre" }), x, rng);
    const y = tf.add(x, (block.attention.apply(layerNorm(x, block.attentionNorm)) as tf.Tensor[])[0]);
    const expected = tf.add(y, block.feedForward.apply(layerNorm(y, block.feedForwardNorm)) as tf.Tensor);
    assertClose(take(block.apply(x) as tf.Tensor), take(expected), { atol: 1e-4, rtol: 1e-4 });
    x.dispose();
  });

  it("stacks its blocks in order, ending with a final LN when pre-norm", () => {
    const rng = new Rng(4);
    const x = normalTensor(rng, [2, 3, 4]);
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    for (const norm of ["post", "pre"] as const) {
      const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 3, norm }), x, rng);
      let h = x;
      for (const block of encoder.blocks) h = block.apply([h, mask]) as tf.Tensor;
      if (encoder.finalNorm !== null) h = layerNorm(h, encoder.finalNorm);
      assertClose(take(encoder.apply([x, mask]) as tf.Tensor), take(h), { atol: 1e-4, rtol: 1e-4 }, norm);
    }
    tf.dispose([x, mask]);
  });

  it("ignores padded positions: changing them leaves every real position's output unchanged", () => {
    const rng = new Rng(5);
    const x = normalTensor(rng, [2, 4, 4]);
    const mask = tf.tensor2d([
      [1, 1, 0, 0],
      [1, 1, 1, 0],
    ]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 2 }), x, rng);
    const base = take(encoder.apply([x, mask]) as tf.Tensor);
    const padded = tf.sub(1, tf.expandDims(mask, 2));
    const changed = take(
      encoder.apply([tf.add(x, tf.mul(padded, normalTensor(rng, [2, 4, 4], 5))), mask]) as tf.Tensor,
    );
    const real = [0, 1, 4, 5, 6].flatMap((row) => [0, 1, 2, 3].map((d) => row * 4 + d)); // (sequence, position) rows
    assertClose(
      real.map((i) => changed[i]),
      real.map((i) => base[i]),
      { atol: 1e-5, rtol: 1e-4 },
    );
    assert.notDeepEqual(Array.from(changed.subarray(8, 16)), Array.from(base.subarray(8, 16)));
    tf.dispose([x, mask, padded]);
  });

  it("with causal: true, makes position t independent of positions after t", () => {
    const rng = new Rng(6);
    const x = normalTensor(rng, [1, 5, 4]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 2, causal: true, norm: "pre" }), x, rng);
    const base = take(encoder.apply(x) as tf.Tensor);
    for (const cut of [1, 3]) {
      const later = tf.concat([tf.slice(x, [0, 0, 0], [1, cut, 4]), normalTensor(rng, [1, 5 - cut, 4])], 1);
      const changed = take(encoder.apply(later) as tf.Tensor);
      assertClose(changed.subarray(0, cut * 4), base.subarray(0, cut * 4), { atol: 1e-5, rtol: 1e-4 });
      assert.notDeepEqual(Array.from(changed.subarray(cut * 4)), Array.from(base.subarray(cut * 4)));
      later.dispose();
    }
    x.dispose();
  });

  it("is permutation-equivariant without position encodings, and no longer is with them", () => {
    const rng = new Rng(7);
    const x = normalTensor(rng, [2, 6, 4]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 2 }), x);
    const order = rng.permutation(6);
    const permuted = permuteRows(x, order);
    const expected = permuteRows(encoder.apply(x) as tf.Tensor, order);
    assertClose(take(encoder.apply(permuted) as tf.Tensor), take(expected), { atol: 1e-4, rtol: 1e-4 });
    const positions = new SinusoidalPositionEncoding();
    const withPositions = permuteRows(encoder.apply(positions.apply(x)) as tf.Tensor, order);
    const permutedWithPositions = take(encoder.apply(positions.apply(permuted)) as tf.Tensor);
    const gap = take(tf.max(tf.abs(tf.sub(tf.tensor(permutedWithPositions, [2, 6, 4]), withPositions))));
    assert.ok(gap[0] > 0.1, `gap ${gap[0]}`);
    tf.dispose([x, permuted]);
  });

  for (const norm of ["post", "pre"] as const) {
    it(`${norm}-norm block has gradients that match central differences w.r.t. its input and every weight`, () => {
      const rng = new Rng(8);
      const x = tf.variable(normalTensor(rng, [1, 3, 4]), true, `block_grad_x_${norm}`);
      const mask = tf.tensor2d([[1, 1, 0]]);
      const block = built(new TransformerEncoderBlock({ ...SMALL, hiddenDim: 4, norm }), x, rng);
      const projection = normalTensor(rng, [1, 3, 4]);
      const loss = () => tf.sum(tf.mul(block.apply([x, mask]) as tf.Tensor, projection)) as tf.Scalar;
      const variables = variablesOf(block);
      assert.equal(variables.length, 16);
      checkGradients(loss, [x, ...variables], { perVariable: 4, atol: 2e-3 });
      tf.dispose([x, mask, projection]);
    });
  }

  it("applies dropout only in training, also inside a tf.LayersModel, with reproducible masks", () => {
    const rng = new Rng(9);
    const x = normalTensor(rng, [2, 4, 4]);
    const make = () => {
      const input = tf.input({ shape: [4, 4] });
      const encoder = new TransformerEncoder({ ...SMALL, numLayers: 2, dropout: 0.3, seed: 5 });
      return tf.model({ inputs: input, outputs: encoder.apply(input) as tf.SymbolicTensor });
    };
    const model = make();
    const inference = take(model.predict(x) as tf.Tensor);
    assert.deepEqual(take(model.apply(x) as tf.Tensor), inference);
    const first = take(model.apply(x, { training: true }) as tf.Tensor);
    const second = take(model.apply(x, { training: true }) as tf.Tensor);
    assert.notDeepEqual(first, inference);
    assert.notDeepEqual(second, first);
    const again = make();
    assert.deepEqual(take(again.apply(x, { training: true }) as tf.Tensor), first);
    model.dispose();
    again.dispose();
    x.dispose();
  });

  it("lowers a loss in a few Adam steps from a seeded start", () => {
    const rng = new Rng(10);
    const encoder = new TransformerEncoder({ ...SMALL, numLayers: 2, dropout: 0.1, norm: "pre" });
    const x = normalTensor(rng, [8, 5, 4]);
    const target = normalTensor(rng, [8, 5, 4]);
    const loss = (training: boolean) => () =>
      tf.losses.meanSquaredError(target, encoder.apply(x, { training }) as tf.Tensor) as tf.Scalar;
    disposeOutput(encoder.apply(x));
    const optimizer = tf.train.adam(0.01);
    const before = take(loss(false)());
    for (let step = 0; step < 5; step++) optimizer.minimize(loss(true), false, variablesOf(encoder));
    const after = take(loss(false)());
    assert.ok(after[0] < before[0], `${after[0]} >= ${before[0]}`);
    optimizer.dispose();
    tf.dispose([x, target]);
  });

  it("draws reproducible weights from its seed, different in each block", () => {
    const x = tf.zeros([1, 2, 4]);
    const kernels = (seed: number) =>
      built(new TransformerEncoder({ ...SMALL, numLayers: 2, seed }), x).blocks.map((b) =>
        Array.from(b.getWeights()[0].dataSync()),
      );
    const a = kernels(3);
    assert.deepEqual(kernels(3), a);
    assert.notDeepEqual(a[0], a[1]);
    assert.notDeepEqual(kernels(4)[0], a[0]);
    x.dispose();
  });

  it("reports its sublayers' weights as trainable or not, following its trainable flag", () => {
    const x = tf.zeros([1, 2, 4]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 1 }), x);
    assert.equal(encoder.trainableWeights.length, 16);
    encoder.trainable = false;
    assert.equal(encoder.trainableWeights.length, 0);
    assert.equal(encoder.nonTrainableWeights.length, 16);
    assert.equal(encoder.blocks[0].attention.trainable, false);
    encoder.trainable = true;
    assert.equal(encoder.trainableWeights.length, 16);
    x.dispose();
  });

  it("returns each block's attention weights, rows summing to 1 and masked keys at 0", () => {
    const rng = new Rng(11);
    const x = normalTensor(rng, [2, 3, 4]);
    const mask = tf.tensor2d([
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const encoder = new TransformerEncoder({ ...SMALL, numLayers: 2 });
    const maps = encoder.attentionWeights([x, mask]);
    assert.deepEqual(
      maps.map((m) => m.shape),
      [
        [2, 2, 3, 3],
        [2, 2, 3, 3],
      ],
    );
    for (const map of maps) {
      assertClose(take(tf.sum(map, -1)), new Array(12).fill(1), { atol: 1e-5, rtol: 1e-4 });
      const values = map.arraySync() as number[][][][];
      for (const head of values[0]) for (const row of head) assert.equal(row[2], 0);
    }
    tf.dispose([...maps, x, mask]);
  });

  it("round-trips its config, and saves and loads a model with positions and a mask through fileSystemIO", async () => {
    const config = new TransformerEncoder({
      ...SMALL,
      numLayers: 2,
      norm: "pre",
      activation: "relu",
      layerNormEpsilon: 1e-8,
      causal: true,
    }).getConfig();
    assert.deepEqual(
      (TransformerEncoder.fromConfig(TransformerEncoder, config) as TransformerEncoder).getConfig(),
      config,
    );
    const blockConfig = new TransformerEncoderBlock({ ...SMALL, attentionDropout: 0.2 }).getConfig();
    assert.deepEqual(
      (TransformerEncoderBlock.fromConfig(TransformerEncoderBlock, blockConfig) as TransformerEncoderBlock).getConfig(),
      blockConfig,
    );

    const rng = new Rng(12);
    const input = tf.input({ shape: [4, 4] });
    const mask = tf.input({ shape: [4] });
    const encoder = new TransformerEncoder({ ...SMALL, numLayers: 2, dropout: 0.1, name: "encoder" });
    const output = encoder.apply([
      new SinusoidalPositionEncoding().apply(input) as tf.SymbolicTensor,
      mask,
    ]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [input, mask], outputs: output });
    randomizeWeights(encoder, rng); // so that a fresh seeded init cannot pass for loading
    const x = normalTensor(rng, [2, 4, 4]);
    const m = tf.tensor2d([
      [1, 1, 1, 0],
      [1, 1, 1, 1],
    ]);
    await checkReloaded(model, (loaded) => {
      const loadedEncoder = loaded.getLayer("encoder");
      assert.ok(loadedEncoder instanceof TransformerEncoder);
      assert.deepEqual(
        loadedEncoder.weights.map((w) => w.originalName),
        encoder.weights.map((w) => w.originalName),
      );
      assert.deepEqual(take(loaded.predict([x, m]) as tf.Tensor), take(model.predict([x, m]) as tf.Tensor));
    });
    model.dispose();
    tf.dispose([x, m]);
  });

  it("rejects bad arguments and inputs with errors that name the field", () => {
    assert.throws(() => new TransformerEncoder({ ...SMALL, numLayers: 0 }), /numLayers must be an integer >= 1/);
    assert.throws(
      () => new TransformerEncoderBlock({ ...SMALL, norm: "middle" as never }),
      /norm must be one of "post", "pre"/,
    );
    assert.throws(
      () => new TransformerEncoderBlock({ ...SMALL, hiddenDim: undefined as never }),
      /hiddenDim must be an integer >= 1/,
    );
    const x = tf.zeros([1, 2, 5]);
    assert.throws(() => new TransformerEncoderBlock(SMALL).apply(x), /not divisible by numHeads 2/);
    const y = tf.zeros([1, 2, 4]);
    assert.throws(() => new TransformerEncoderBlock(SMALL).apply([y, y, y]), /expected x or \[x, mask\], got 3 inputs/);
    tf.dispose([x, y]);
  });

  it("leaks no tensors, and a disposed model releases every sublayer's weights", async () => {
    const rng = new Rng(13);
    const x = normalTensor(rng, [2, 3, 4]);
    const mask = tf.ones([2, 3]);
    const encoder = built(new TransformerEncoder({ ...SMALL, numLayers: 2, dropout: 0.2 }), x);
    await assertNoLeak(() => {
      disposeOutput(encoder.apply([x, mask]));
      disposeOutput(encoder.apply([x, mask], { training: true }));
      tf.dispose(encoder.attentionWeights([x, mask]));
    });
    await assertNoLeak(() => {
      const input = tf.input({ shape: [3, 4] });
      const model = tf.model({
        inputs: input,
        outputs: new TransformerEncoder({ ...SMALL, numLayers: 2 }).apply(input) as tf.SymbolicTensor,
      });
      tf.dispose(model.predict(x));
      model.dispose();
    });
    tf.dispose([x, mask]);
  });
});
