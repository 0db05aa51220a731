import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { adjacentSwap, registerFastTranspose } from "../../../src/backend/kernels/transpose";
import { Rng } from "../../../src/backend/random";
import { resultsOn, useWasmTrainingKernels } from "./support";

describe("Transpose on the wasm backend (adjacent axes)", () => {
  useWasmTrainingKernels();

  it("recognises a swap of two adjacent axes, with the sizes around it", () => {
    assert.deepEqual(adjacentSwap([2, 3, 4, 5], [0, 2, 1, 3]), { outer: 2, a: 3, b: 4, inner: 5 });
    assert.deepEqual(adjacentSwap([3, 4], [1, 0]), { outer: 1, a: 3, b: 4, inner: 1 });
    assert.deepEqual(adjacentSwap([2, 3, 4], [0, 2, 1]), { outer: 2, a: 3, b: 4, inner: 1 });
    assert.deepEqual(adjacentSwap([3, 4, 5], [1, 0, 2]), { outer: 1, a: 3, b: 4, inner: 5 });
    assert.deepEqual(adjacentSwap([2, 3, 4, 5, 6], [0, 1, 3, 2, 4]), { outer: 6, a: 4, b: 5, inner: 6 });
    assert.equal(adjacentSwap([3, 4, 5], [2, 1, 0]), null, "not adjacent");
    assert.equal(adjacentSwap([3, 4, 5], [1, 2, 0]), null, "a rotation");
    assert.equal(adjacentSwap([3, 4, 5], [0, 1, 2]), null, "the identity");
  });

  it("gives the cpu backend's transposes bit for bit: heads split and merged, matrices, other permutations", async () => {
    const rng = new Rng(3);
    const cases: Array<{ shape: number[]; perm: number[]; dtype?: "int32" }> = [
      { shape: [2, 5, 3, 8], perm: [0, 2, 1, 3] }, // [B, T, H, d] -> [B, H, T, d], d a multiple of 4
      { shape: [2, 3, 5, 7], perm: [0, 2, 1, 3] }, // a ragged run
      { shape: [3, 1, 4, 2], perm: [0, 2, 1, 3] },
      { shape: [7, 9], perm: [1, 0] },
      { shape: [3, 5, 6], perm: [0, 2, 1] },
      { shape: [4, 6, 5], perm: [1, 0, 2] },
      { shape: [4, 6, 5], perm: [2, 0, 1] }, // not a swap: tfjs's kernel
      { shape: [4, 6], perm: [1, 0], dtype: "int32" }, // not float32: tfjs's kernel
    ];
    for (const c of cases) {
      const size = c.shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: size }, () => (c.dtype === "int32" ? rng.int(100) : rng.normal()));
      const f = () => tf.transpose(tf.tensor(values, c.shape, c.dtype ?? "float32"), c.perm);
      assert.deepEqual(await resultsOn("wasm", f), await resultsOn("cpu", f), JSON.stringify(c));
    }
  });

  it("runs as the gradient of a transpose, and leaks no tensors", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor4d(
      Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => i),
      [2, 3, 4, 4],
    );
    const weights = tf.tensor4d(
      Array.from({ length: 2 * 4 * 3 * 4 }, (_, i) => i % 7),
      [2, 4, 3, 4],
    );
    const before = tf.memory().numTensors;
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [0, 2, 1, 3]), weights)))(x);
    // d/dx Σ transpose(x)·w = transpose(w) back.
    const expected = tf.transpose(weights, [0, 2, 1, 3]);
    assert.deepEqual(Array.from(dx.dataSync()), Array.from(expected.dataSync()));
    tf.dispose([dx, expected]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, weights]);
  });

  it("shares the input's memory where the layout does not change (a single head)", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor4d(
      Array.from({ length: 2 * 5 * 3 }, (_, i) => i),
      [2, 5, 1, 3],
    );
    const heads = tf.transpose(x, [0, 2, 1, 3]); // [2, 1, 5, 3]
    assert.deepEqual(heads.shape, [2, 1, 5, 3]);
    assert.equal(heads.dataId, x.dataId, "no copy");
    assert.deepEqual(Array.from(heads.dataSync()), Array.from(x.dataSync()));
    x.dispose(); // the data stays while the transpose holds it
    assert.deepEqual(Array.from(heads.dataSync()).slice(0, 4), [0, 1, 2, 3]);
    heads.dispose();
  });

  it("is installed once, however often it is registered", () => {
    const before = tf.getKernel(tf.Transpose, "wasm")!.kernelFunc;
    registerFastTranspose();
    assert.equal(tf.getKernel(tf.Transpose, "wasm")!.kernelFunc, before);
  });
});
