import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { identityWasm } from "../../../src/backend/kernels/identity";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { Rng } from "../../../src/backend/random";
import { resultsOn, useWasmTrainingKernels } from "./support";

describe("Identity on the wasm backend (shared memory)", () => {
  useWasmTrainingKernels();

  it("is the registered kernel, installed once", () => {
    registerWasmTrainingKernels();
    assert.equal(tf.getKernel(tf.Identity, "wasm")!.kernelFunc, identityWasm);
  });

  it("clones float32, int32 and bool tensors with the cpu backend's values", async () => {
    const rng = new Rng(3);
    const floats = Array.from({ length: 24 }, () => rng.normal());
    const ints = Array.from({ length: 6 }, () => rng.int(100) - 50);
    const f = () => [
      tf.clone(tf.tensor3d(floats, [2, 3, 4])),
      tf.clone(tf.tensor1d(ints, "int32")),
      tf.clone(tf.tensor1d([1, 0, 1], "bool")),
    ];
    assert.deepEqual(await resultsOn("wasm", f), await resultsOn("cpu", f));
  });

  it("keeps a clone's values after the original is disposed, and frees the memory once both are", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory();
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const copy = tf.clone(x);
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers + 1, "the clone shares x's buffer");
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3, 4]);
    copy.dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
    assert.equal(tf.memory().numBytes, before.numBytes);
  });

  it("gives the cpu backend's gradients where the tape saves inputs (a small two-layer network)", async () => {
    const rng = new Rng(11);
    const xs = Array.from({ length: 4 * 5 }, () => rng.normal());
    const w1 = Array.from({ length: 5 * 3 }, () => rng.normal());
    const w2 = Array.from({ length: 3 }, () => rng.normal());
    const f = () => {
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.matMul(tf.tanh(tf.matMul(tf.tensor2d(xs, [4, 5]), a)), b)));
      return tf.grads(loss)([tf.tensor2d(w1, [5, 3]), tf.tensor2d(w2, [3, 1])]);
    };
    const [wasm, cpu] = [await resultsOn("wasm", f), await resultsOn("cpu", f)];
    for (let g = 0; g < 2; g++) {
      assert.deepEqual(wasm[g].shape, cpu[g].shape);
      wasm[g].values.forEach((v, i) =>
        assert.ok(Math.abs(v - cpu[g].values[i]) <= 1e-4 * (1 + Math.abs(cpu[g].values[i])), `grad ${g}[${i}]`),
      );
    }
  });

  it("leaks no tensor or buffer over a training step", async () => {
    await tf.setBackend("wasm");
    const w = tf.variable(
      tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
      ]),
    );
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const optimizer = tf.train.adam(0.1);
    const step = () => optimizer.minimize(() => tf.sum(tf.square(tf.matMul(x, w))), false, [w]);
    step();
    const before = tf.memory();
    step();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
    optimizer.dispose();
    tf.dispose([w, x]);
  });
});
