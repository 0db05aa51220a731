import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD,
} from "../../../src/backend/kernels/sparseSoftmaxCrossEntropy";
import { Rng } from "../../../src/backend/random";
import { useWasmTrainingKernels, assertRegisteredForWasmOnly } from "./support";
import { assertClose } from "../../support/assertions";

// The cpu backend's values: tfjs's own softmax cross-entropy with one-hot labels, and its gradient.
function referenceOnCpu(
  logits: Float32Array,
  labels: Int32Array,
  dLosses: Float32Array,
  rows: number,
  classes: number,
) {
  return tf.tidy(() => {
    const z = tf.tensor2d(logits, [rows, classes]);
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), classes);
    const f = (x: tf.Tensor) =>
      tf.sum(
        tf.mul(tf.losses.softmaxCrossEntropy(oneHot, x, undefined, undefined, tf.Reduction.NONE), tf.tensor1d(dLosses)),
      );
    const losses = tf.losses.softmaxCrossEntropy(oneHot, z, undefined, undefined, tf.Reduction.NONE);
    return {
      losses: Array.from(losses.dataSync()),
      probs: Array.from(tf.softmax(z).dataSync()),
      grad: Array.from(tf.grad(f)(z).dataSync()),
    };
  });
}

describe("RecsysSparseSoftmaxCrossEntropy kernels on the wasm backend", () => {
  useWasmTrainingKernels();

  it("are registered for wasm only", () => {
    assertRegisteredForWasmOnly(SPARSE_SOFTMAX_CROSS_ENTROPY, SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD);
  });

  it("match the cpu backend's losses, probabilities and gradients on random inputs", async () => {
    const rng = new Rng(3);
    for (const [rows, classes] of [
      [1, 2],
      [4, 7],
      [9, 130],
    ]) {
      // Large logits too: the kernel must subtract the row maximum before exp.
      const logits = Float32Array.from({ length: rows * classes }, () => rng.normal(0, 30));
      const labels = Int32Array.from({ length: rows }, () => rng.int(classes));
      const dLosses = Float32Array.from({ length: rows }, () => rng.normal());
      await tf.setBackend("cpu");
      const expected = referenceOnCpu(logits, labels, dLosses, rows, classes);
      await tf.setBackend("wasm");
      const before = tf.memory().numTensors;
      const actual = tf.tidy(() => {
        const [losses, probs] = tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, {
          logits: tf.tensor2d(logits, [rows, classes]),
          labels: tf.tensor1d(labels, "int32"),
        }) as tf.Tensor[];
        const grad = tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD, {
          probs,
          labels: tf.tensor1d(labels, "int32"),
          dLosses: tf.tensor1d(dLosses),
        }) as tf.Tensor;
        return {
          losses: Array.from(losses.dataSync()),
          probs: Array.from(probs.dataSync()),
          grad: Array.from(grad.dataSync()),
        };
      });
      assert.equal(tf.memory().numTensors, before);
      assertClose(actual.losses, expected.losses, { atol: 1e-4, rtol: 1e-4 }, `losses ${rows}×${classes}`);
      assertClose(actual.probs, expected.probs, { atol: 1e-5, rtol: 1e-5 }, `probs ${rows}×${classes}`);
      assertClose(actual.grad, expected.grad, { atol: 1e-5, rtol: 1e-5 }, `gradient ${rows}×${classes}`);
    }
  });

  it("rejects labels outside [0, C) without leaving outputs behind", async () => {
    await tf.setBackend("wasm");
    const z = tf.zeros([2, 3]);
    for (const bad of [3, -1]) {
      const y = tf.tensor1d([0, bad], "int32");
      const before = tf.memory().numTensors;
      assert.throws(
        () => tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, { logits: z, labels: y }),
        /labels\[1\] = -?\d is outside \[0, 3\)/,
      );
      assert.equal(tf.memory().numTensors, before);
      y.dispose();
    }
    assert.throws(
      () => tf.engine().runKernel(SPARSE_SOFTMAX_CROSS_ENTROPY, { logits: z, labels: tf.tensor1d([0, 1, 2], "int32") }),
      /labels must be int32 \[2\]/,
    );
    z.dispose();
  });
});
