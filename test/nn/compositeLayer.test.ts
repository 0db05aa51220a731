import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { CompositeLayer } from "../../src/nn/compositeLayer";
import { checkReloaded, disposeOutput, normalTensor, randomizeWeights, take } from "./support";

// Two tfjs Dense layers in a row, both named "dense" inside differently named holders: the case where
// unscoped weight names would collide.
class TwoDense extends CompositeLayer {
  static className = "TestTwoDense";
  readonly first = this.addSublayer(tf.layers.dense({ units: 3, name: "first", kernelInitializer: "zeros" }));
  readonly second = this.addSublayer(tf.layers.dense({ units: 2, name: "second", kernelInitializer: "zeros" }));

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.buildSublayer(this.first, shape);
    this.buildSublayer(this.second, [...shape.slice(0, -1), 3]);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => this.second.apply(this.first.apply(inputs)) as tf.Tensor);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...(inputShape as tf.Shape).slice(0, -1), 2];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(TwoDense);

describe("nn/compositeLayer", () => {
  before(async () => {
    await initBackend();
  });

  it("builds sublayers under its own name scope and reports their weights as its own", () => {
    const input = tf.input({ shape: [4] });
    const a = new TwoDense({ name: "a" });
    const b = new TwoDense({ name: "b" });
    const model = tf.model({ inputs: input, outputs: b.apply(a.apply(input)) as tf.SymbolicTensor });
    assert.deepEqual(
      a.weights.map((w) => w.originalName),
      ["a/first/kernel", "a/first/bias", "a/second/kernel", "a/second/bias"],
    );
    assert.deepEqual(model.weights.map((w) => w.originalName).slice(4), [
      "b/first/kernel",
      "b/first/bias",
      "b/second/kernel",
      "b/second/bias",
    ]);
    assert.deepEqual(model.trainableWeights.length, 8);
    // The placeholder call that built the sublayers leaves no graph behind.
    assert.equal(a.first.inboundNodes.length, 0);
    model.dispose();
  });

  it("trains, saves and loads its sublayers' weights as part of a model", async () => {
    const rng = new Rng(1);
    const input = tf.input({ shape: [4] });
    const layer = new TwoDense({ name: "pair" });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    randomizeWeights(layer, rng);
    const x = normalTensor(rng, [5, 4]);
    const y = normalTensor(rng, [5, 2]);
    const optimizer = tf.train.sgd(0.1);
    const loss = () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const before = take(loss());
    optimizer.minimize(
      loss,
      false,
      model.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    assert.ok(take(loss())[0] < before[0]);
    await checkReloaded(model, (loaded) => {
      assert.deepEqual(take(loaded.predict(x) as tf.Tensor), take(model.predict(x) as tf.Tensor));
    });
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it("passes its trainable flag to its sublayers", () => {
    const layer = new TwoDense({ trainable: false });
    const x = tf.zeros([1, 4]);
    disposeOutput(layer.apply(x));
    assert.equal(layer.trainableWeights.length, 0);
    assert.equal(layer.nonTrainableWeights.length, 4);
    assert.equal(layer.first.trainable, false);
    layer.trainable = true;
    assert.equal(layer.trainableWeights.length, 4);
    assert.equal(layer.second.trainable, true);
    x.dispose();
  });

  it("releases its sublayers' weights when disposed", () => {
    const before = tf.memory().numTensors;
    const layer = new TwoDense();
    const x = tf.zeros([1, 4]);
    tf.dispose([x, layer.apply(x) as tf.Tensor]);
    assert.equal(tf.memory().numTensors, before + 4);
    layer.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
