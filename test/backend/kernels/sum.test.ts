import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { leadingReduction } from "../../../src/backend/kernels/sum";
import { Rng } from "../../../src/backend/random";
import { assertClose } from "../../support/assertions";
import { resultsOn, useWasmTrainingKernels, TensorResult } from "./support";

function assertResultsClose(actual: TensorResult[], expected: TensorResult[], label: string): void {
  assert.equal(actual.length, expected.length, label);
  actual.forEach((a, k) => {
    assert.deepEqual([a.shape, a.dtype], [expected[k].shape, expected[k].dtype], label);
    assertClose(a.values, expected[k].values, { atol: 1e-5, rtol: 1e-5 }, `${label}: result ${k}`);
  });
}

describe("Sum on the wasm backend (leading axes)", () => {
  useWasmTrainingKernels();

  it("recognises leading reductions, ignoring size-1 axes", () => {
    assert.deepEqual(leadingReduction([4, 3], [0]), [4, 3]);
    assert.deepEqual(leadingReduction([2, 5, 3], [0, 1]), [10, 3]);
    assert.deepEqual(leadingReduction([1, 5, 3], [1]), [5, 3]);
    assert.deepEqual(leadingReduction([5, 1, 3], [0, 1]), [5, 3]);
    assert.equal(leadingReduction([4, 3], [1]), null, "trailing");
    assert.equal(leadingReduction([2, 5, 3], [1]), null, "middle");
    assert.equal(leadingReduction([2, 5, 3], [0, 1, 2]), null, "everything");
    assert.equal(leadingReduction([1, 3], [0]), null, "only a size-1 axis");
  });

  it("sums a hand-checked matrix over its rows", async () => {
    const [result] = await resultsOn("wasm", () =>
      tf.sum(
        tf.tensor2d([
          [1, 2, 3],
          [10, 20, 30],
        ]),
        0,
      ),
    );
    assert.deepEqual(result, { shape: [3], dtype: "float32", values: [11, 22, 33] });
  });

  it("matches the cpu backend on seeded inputs over axes, keepDims and dtypes", async () => {
    const rng = new Rng(9);
    const cases: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean; dtype: "float32" | "int32" }> = [
      { shape: [300, 17], axis: 0, keepDims: false, dtype: "float32" },
      { shape: [4, 6, 5], axis: [0, 1], keepDims: false, dtype: "float32" },
      { shape: [4, 6, 5], axis: [1, 0], keepDims: true, dtype: "float32" },
      { shape: [1, 6, 5], axis: [0, 1], keepDims: true, dtype: "float32" },
      { shape: [4, 6, 5], axis: 2, keepDims: false, dtype: "float32" },
      { shape: [4, 6, 5], axis: 1, keepDims: false, dtype: "float32" },
      { shape: [4, 6, 5], axis: [0, 1, 2], keepDims: false, dtype: "float32" },
      { shape: [7, 3], axis: 0, keepDims: false, dtype: "int32" },
    ];
    for (const c of cases) {
      const size = c.shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: size }, () => (c.dtype === "int32" ? rng.int(100) - 50 : rng.normal()));
      const f = () => tf.sum(tf.tensor(values, c.shape, c.dtype), c.axis, c.keepDims);
      assertResultsClose(await resultsOn("wasm", f), await resultsOn("cpu", f), JSON.stringify(c));
    }
  });

  it("gives the cpu backend's gradients for a broadcast bias", async () => {
    const rng = new Rng(21);
    const xs = Array.from({ length: 5 * 4 * 3 }, () => rng.normal());
    const bias = Array.from({ length: 3 }, () => rng.normal());
    const f = () =>
      tf.grads((x: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.add(x, b))))([
        tf.tensor3d(xs, [5, 4, 3]),
        tf.tensor1d(bias),
      ]);
    assertResultsClose(await resultsOn("wasm", f), await resultsOn("cpu", f), "gradients");
  });

  it("leaves no tensor behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([8, 3]);
    const before = tf.memory();
    tf.sum(x, 0).dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
