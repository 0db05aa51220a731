import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { registerFastBatchMatMul, wrappedBatchMatMul } from "../../../src/backend/kernels/batchMatMul";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { Rng } from "../../../src/backend/random";
import { resultOn, useWasmTrainingKernels } from "./support";

describe("BatchMatMul on the wasm backend (XNNPack for every product)", () => {
  useWasmTrainingKernels();

  it("is installed once, however often the kernels are registered", () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const kernel = tf.getKernel(tf.BatchMatMul, "wasm")!.kernelFunc;
    const original = wrappedBatchMatMul(kernel);
    assert.ok(original !== undefined, "the wasm BatchMatMul is the wrapper");
    assert.equal(wrappedBatchMatMul(original), undefined, "the wrapper wraps tfjs's kernel, not itself");
  });

  it("matches the cpu backend for every combination of flags, batched and broadcast", async () => {
    const rng = new Rng(11);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[3, 4], [4, 5], false, false],
      [[4, 3], [4, 5], true, false],
      [[3, 4], [5, 4], false, true],
      [[4, 3], [5, 4], true, true],
      [[2, 3, 7, 4], [2, 3, 5, 4], false, true],
      [[2, 6, 3], [1, 6, 5], true, false],
      // Batched products split per matrix, with broadcasting over the leading axes.
      [[4, 3, 5, 2], [4, 3, 2, 6], false, false],
      [[4, 3, 5, 2], [4, 3, 6, 2], false, true],
      [[4, 3, 2, 5], [4, 3, 2, 6], true, false],
      [[4, 3, 2, 5], [4, 3, 6, 2], true, true],
      [[1, 4, 5, 3], [2, 4, 3, 2], false, false],
      [[3, 5, 4], [4, 2], false, false],
      [[5, 4], [3, 4, 2], false, false],
      // Single products where the swapped orientation (Bᵀ·Aᵀ)ᵀ moves less memory.
      [[40, 3], [40, 70], true, false],
      [[3, 40], [70, 40], false, true],
      [[2, 1, 40, 3], [40, 70], true, false],
    ];
    for (const [aShape, bShape, transposeA, transposeB] of cases) {
      const a = Float32Array.from({ length: aShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
      const b = Float32Array.from({ length: bShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
      const f = () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB);
      const wasm = await resultOn("wasm", f);
      const cpu = await resultOn("cpu", f);
      assert.deepEqual(wasm.shape, cpu.shape);
      for (let i = 0; i < cpu.values.length; i++) {
        assert.ok(Math.abs(wasm.values[i] - cpu.values[i]) < 1e-4, `${aShape}×${bShape} (${transposeA},${transposeB}) element ${i}`);
      }
    }
  });

  it("gives the same products with each rewrite switched off", async () => {
    const rng = new Rng(5);
    const a = Float32Array.from({ length: 2 * 3 * 4 }, () => rng.normal());
    const b = Float32Array.from({ length: 2 * 5 * 4 }, () => rng.normal());
    const f = () => tf.matMul(tf.tensor(a, [2, 3, 4]), tf.tensor(b, [2, 5, 4]), false, true);
    const cpu = await resultOn("cpu", f);
    try {
      for (const options of [{ splitBatches: false }, { chooseOrientation: false }, { transposeExplicitly: false }]) {
        registerFastBatchMatMul(options);
        const wasm = await resultOn("wasm", f);
        for (let i = 0; i < cpu.values.length; i++) assert.ok(Math.abs(wasm.values[i] - cpu.values[i]) < 1e-4, `${JSON.stringify(options)} element ${i}`);
      }
    } finally {
      registerFastBatchMatMul();
    }
  });

  it("leaks neither tensors nor wasm memory over repeated batched products", async () => {
    await tf.setBackend("wasm");
    const a = tf.randomNormal([8, 6, 5], 0, 1, "float32", 1);
    const b = tf.randomNormal([8, 7, 5], 0, 1, "float32", 2);
    tf.matMul(a, b, false, true).dispose();
    const before = tf.memory();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    for (let i = 0; i < 20; i++) tf.matMul(a, b, false, true).dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
    assert.equal(backend.numDataIds(), ids, "views are forgotten after use");
    tf.dispose([a, b]);
  });

  it("gives matMul's gradients and leaks no tensors", async () => {
    await tf.setBackend("wasm");
    const a = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const b = tf.tensor2d([[1, -1, 2], [0, 3, 1]]);
    const before = tf.memory().numTensors;
    // d/dA sum(A·B) = 1·Bᵀ: each row of the gradient is the row sums of B.
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).sum())([a, b]);
    assert.deepEqual(Array.from(da.dataSync()), [2, 4, 2, 4, 2, 4]);
    // d/dB = Aᵀ·1: each column of the gradient is the column sums of A.
    assert.deepEqual(Array.from(db.dataSync()), [9, 9, 9, 12, 12, 12]);
    tf.dispose([da, db]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([a, b]);
  });
});
