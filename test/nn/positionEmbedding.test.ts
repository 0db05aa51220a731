import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { LearnedPositionEmbedding, SinusoidalPositionEncoding, sinusoidalTable } from "../../src/nn/positionEmbedding";
import { checkGradients, checkReloaded, disposeOutput, normalTensor, randomizeWeights, take } from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

describe("nn/positionEmbedding", () => {
  before(async () => {
    await initBackend();
  });

  it("fills the sinusoid table of Vaswani et al. §3.5", () => {
    const table = sinusoidalTable(4, 4); // frequencies 1 and 10000^(−2/4) = 1/100
    assertClose(table.subarray(0, 4), [0, 1, 0, 1], { atol: 0, rtol: 1e-4 });
    assertClose(table.subarray(12, 16), [Math.sin(3), Math.cos(3), Math.sin(0.03), Math.cos(0.03)], {
      atol: 1e-7,
      rtol: 1e-4,
    });
    const odd = sinusoidalTable(2, 3, 100); // the third column is a sine of frequency 100^(−2/3)
    assertClose(odd.subarray(3, 6), [Math.sin(1), Math.cos(1), Math.sin(Math.pow(100, -2 / 3))], {
      atol: 1e-7,
      rtol: 1e-4,
    });
  });

  it("encodes position p + k as a fixed rotation of position p, in every sine/cosine pair", () => {
    const width = 8;
    const table = sinusoidalTable(40, width);
    for (const [p, k] of [
      [3, 5],
      [10, 17],
      [0, 30],
    ]) {
      for (let i = 0; i < width; i += 2) {
        const angle = k * Math.pow(10000, -i / width);
        const [s, c] = [table[p * width + i], table[p * width + i + 1]];
        const rotated = [s * Math.cos(angle) + c * Math.sin(angle), c * Math.cos(angle) - s * Math.sin(angle)];
        assertClose(table.subarray((p + k) * width + i, (p + k) * width + i + 2), rotated, { atol: 1e-5, rtol: 1e-4 });
      }
    }
  });

  it("SinusoidalPositionEncoding adds the table to any length of sequence and has no weights", () => {
    const rng = new Rng(1);
    const layer = new SinusoidalPositionEncoding();
    for (const length of [3, 7]) {
      const x = normalTensor(rng, [2, length, 6]);
      const added = take(tf.sub(layer.apply(x) as tf.Tensor, x));
      const table = sinusoidalTable(length, 6);
      assertClose(added, [...table, ...table], { atol: 1e-6, rtol: 1e-4 });
      x.dispose();
    }
    assert.equal(layer.weights.length, 0);
    const config = new SinusoidalPositionEncoding({ maxWavelength: 500, name: "pe" }).getConfig();
    assert.deepEqual(
      (SinusoidalPositionEncoding.fromConfig(SinusoidalPositionEncoding, config) as tf.layers.Layer).getConfig(),
      config,
    );
  });

  it("LearnedPositionEmbedding adds the first T rows of its table, and refuses T > maxLength", () => {
    const rng = new Rng(2);
    const layer = new LearnedPositionEmbedding({ maxLength: 5, seed: 1 });
    const x = normalTensor(rng, [2, 3, 4]);
    const added = take(tf.sub(layer.apply(x) as tf.Tensor, x));
    const table = layer.getWeights()[0];
    assert.deepEqual(table.shape, [5, 4]);
    const firstRows = Array.from(table.dataSync().subarray(0, 12));
    assertClose(added, [...firstRows, ...firstRows], { atol: 1e-6, rtol: 1e-4 });
    const long = tf.zeros([1, 6, 4]);
    assert.throws(() => layer.apply(long), /sequence length 6 exceeds maxLength 5/);
    tf.dispose([x, long]);
  });

  it("initialises the table like BERT, N(0, 0.02²) truncated at 2σ, reproducibly from the seed", () => {
    const values = (seed: number) => {
      const layer = new LearnedPositionEmbedding({ maxLength: 200, seed });
      const x = tf.zeros([1, 1, 16]);
      tf.dispose([x, layer.apply(x) as tf.Tensor]);
      return Array.from(layer.getWeights()[0].dataSync());
    };
    const a = values(3);
    assert.deepEqual(values(3), a);
    assert.notDeepEqual(values(4), a);
    assert.ok(a.every((v) => Math.abs(v) <= 0.04));
    const std = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    assert.ok(std > 0.015 && std < 0.02, `std ${std}`); // a 2σ-truncated N(0, σ²) has std 0.88σ
  });

  it("has gradients that match central differences, and none for rows beyond T", () => {
    const rng = new Rng(3);
    const layer = new LearnedPositionEmbedding({ maxLength: 4, seed: 5 });
    const x = tf.variable(normalTensor(rng, [2, 2, 3]), true, "pos_grad_x");
    disposeOutput(layer.apply(x));
    randomizeWeights(layer, rng);
    const projection = normalTensor(rng, [2, 2, 3]);
    const loss = () => tf.sum(tf.mul(tf.square(layer.apply(x) as tf.Tensor), projection)) as tf.Scalar;
    const table = layer.trainableWeights[0].read() as tf.Variable;
    checkGradients(loss, [x, table], { perVariable: 12 });
    const { value, grads } = tf.variableGrads(loss, [table]);
    assert.deepEqual(Array.from(grads[table.name].dataSync().subarray(6)), [0, 0, 0, 0, 0, 0]);
    tf.dispose([value, grads[table.name], x, projection]);
  });

  it("saves and loads both layers in a model through fileSystemIO", async () => {
    const rng = new Rng(4);
    const input = tf.input({ shape: [3, 4] });
    const learned = new LearnedPositionEmbedding({ maxLength: 8, seed: 6, name: "positions" });
    const output = learned.apply(new SinusoidalPositionEncoding().apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    randomizeWeights(learned, rng);
    const x = normalTensor(rng, [2, 3, 4]);
    await checkReloaded(model, (loaded) => {
      assert.deepEqual(loaded.getLayer("positions").getConfig(), learned.getConfig());
      assert.deepEqual(take(loaded.predict(x) as tf.Tensor), take(model.predict(x) as tf.Tensor));
    });
    model.dispose();
    x.dispose();
  });

  it("leaks no tensors", async () => {
    const x = tf.ones([2, 3, 4]);
    const learned = new LearnedPositionEmbedding({ maxLength: 3, seed: 7 });
    const fixed = new SinusoidalPositionEncoding();
    disposeOutput(learned.apply(x));
    await assertNoLeak(() => {
      disposeOutput([learned.apply(x) as tf.Tensor, fixed.apply(x) as tf.Tensor]);
    });
    x.dispose();
  });
});
