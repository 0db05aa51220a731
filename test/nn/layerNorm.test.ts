import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { LayerNormalization } from "../../src/nn/layerNorm";
import {
  checkGradients,
  checkReloaded,
  disposeOutput,
  normalTensor,
  randomizeWeights,
  take,
  variablesOf,
} from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

function referenceLayerNorm(rows: number[][], gamma: number[], beta: number[], epsilon: number): number[] {
  return rows.flatMap((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length; // biased, as LN uses
    return row.map((v, i) => (gamma[i] * (v - mean)) / Math.sqrt(variance + epsilon) + beta[i]);
  });
}

describe("nn/layerNorm", () => {
  before(async () => {
    await initBackend();
  });

  it("normalises each position over the last axis, then scales by γ and shifts by β", () => {
    const rng = new Rng(1);
    const x = normalTensor(rng, [2, 3, 5], 3);
    const layer = new LayerNormalization({ epsilon: 1e-5 });
    const plain = take(layer.apply(x) as tf.Tensor);
    const rows = (x.arraySync() as number[][][]).flat();
    assertClose(plain, referenceLayerNorm(rows, [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], 1e-5), { atol: 1e-5, rtol: 1e-4 });
    randomizeWeights(layer, rng);
    const [gamma, beta] = layer.getWeights().map((w) => Array.from(w.dataSync()));
    assertClose(take(layer.apply(x) as tf.Tensor), referenceLayerNorm(rows, gamma, beta, 1e-5), {
      atol: 1e-5,
      rtol: 1e-4,
    });
    x.dispose();
  });

  it("agrees with tfjs's own tf.layers.layerNormalization given the same γ, β and ε", () => {
    const rng = new Rng(4);
    const x = normalTensor(rng, [3, 4, 6], 2);
    const ours = new LayerNormalization({ epsilon: 1e-3 });
    const theirs = tf.layers.layerNormalization({ epsilon: 1e-3 });
    disposeOutput(ours.apply(x));
    disposeOutput(theirs.apply(x));
    randomizeWeights(ours, rng);
    theirs.setWeights(ours.getWeights());
    assertClose(take(ours.apply(x) as tf.Tensor), take(theirs.apply(x) as tf.Tensor), { atol: 1e-5, rtol: 1e-4 });
    x.dispose();
  });

  it("has gradients that match central differences w.r.t. its input, γ and β on this backend", () => {
    const rng = new Rng(2);
    const layer = new LayerNormalization();
    const x = tf.variable(normalTensor(rng, [2, 2, 4]), true, "ln_grad_x");
    disposeOutput(layer.apply(x));
    randomizeWeights(layer, rng);
    const projection = normalTensor(rng, [2, 2, 4]);
    checkGradients(
      () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, projection)) as tf.Scalar,
      [x, ...variablesOf(layer)],
      { perVariable: 8 },
    );
    tf.dispose([x, projection]);
  });

  it("rejects a bad epsilon", () => {
    assert.throws(() => new LayerNormalization({ epsilon: 0 }), /epsilon must be a finite number > 0/);
  });

  it("round-trips its config and its weights through fileSystemIO", async () => {
    const rng = new Rng(3);
    const input = tf.input({ shape: [3, 4] });
    const layer = new LayerNormalization({ epsilon: 1e-12, name: "norm" });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    randomizeWeights(layer, rng);
    const config = layer.getConfig();
    assert.equal(config.epsilon, 1e-12);
    const x = normalTensor(rng, [2, 3, 4]);
    await checkReloaded(model, (loaded) => {
      assert.ok(loaded.getLayer("norm") instanceof LayerNormalization);
      assert.deepEqual(loaded.getLayer("norm").getConfig(), config);
      assert.deepEqual(take(loaded.predict(x) as tf.Tensor), take(model.predict(x) as tf.Tensor));
    });
    model.dispose();
    x.dispose();
  });

  it("leaks no tensors", async () => {
    const layer = new LayerNormalization();
    const x = tf.ones([2, 3]);
    disposeOutput(layer.apply(x));
    await assertNoLeak(() => {
      disposeOutput(layer.apply(x));
    });
    x.dispose();
  });
});
