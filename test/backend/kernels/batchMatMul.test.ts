import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  describeMatrixProducts,
  registerFastBatchMatMul,
  wrappedBatchMatMul,
} from "../../../src/backend/kernels/batchMatMul";
import { kernelThreads, setKernelThreads } from "../../../src/backend/kernels/kernelPool";
import { setSimdVariant, simdVariant } from "../../../src/backend/kernels/simd";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { Rng } from "../../../src/backend/random";
import { resultOn, useWasmTrainingKernels } from "./support";
import { assertClose } from "../../support/assertions";

describe("BatchMatMul on the wasm backend (a fast path for every product)", () => {
  useWasmTrainingKernels();

  it("is installed once, however often the kernels are registered", () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const kernel = tf.getKernel(tf.BatchMatMul, "wasm")!.kernelFunc;
    const original = wrappedBatchMatMul(kernel);
    assert.ok(original !== undefined, "the wasm BatchMatMul is the wrapper");
    assert.equal(wrappedBatchMatMul(original), undefined, "the wrapper wraps tfjs's kernel, not itself");
  });

  it("says in one line which gemm runs the products, and on how many threads", () => {
    const [threads, variant] = [kernelThreads(), simdVariant()];
    try {
      setKernelThreads(3);
      setSimdVariant("fma");
      assert.equal(
        describeMatrixProducts(),
        "matrix products: recsys-ts's WebAssembly SIMD gemm with fused multiply-add, on 3 threads",
      );
      setKernelThreads(1);
      setSimdVariant("plain");
      assert.match(
        describeMatrixProducts(),
        /\(plain multiply and add\) on 1 thread for transposed and short operands, XNNPACK/,
      );
    } finally {
      setKernelThreads(threads);
      setSimdVariant(variant);
    }
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
      // Tall plain products (XNNPack's with the plain gemm or none), and single products where the
      // swapped orientation (Bᵀ·Aᵀ)ᵀ moves less memory.
      [[300, 8], [8, 5], false, false],
      [[300, 8], [5, 8], false, true],
      [[2, 150, 8], [8, 5], false, false],
      [[40, 3], [40, 70], true, false],
      [[3, 40], [70, 40], false, true],
      [[2, 1, 40, 3], [40, 70], true, false],
    ];
    try {
      // Every product takes the SIMD gemm by default (FMA); without it, the XNNPack paths.
      for (const options of [{}, { simdGemm: false }]) {
        registerFastBatchMatMul(options);
        for (const [aShape, bShape, transposeA, transposeB] of cases) {
          const a = Float32Array.from({ length: aShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
          const b = Float32Array.from({ length: bShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
          const f = () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB);
          const wasm = await resultOn("wasm", f);
          const cpu = await resultOn("cpu", f);
          assert.deepEqual(wasm.shape, cpu.shape);
          for (let i = 0; i < cpu.values.length; i++) {
            assert.ok(
              Math.abs(wasm.values[i] - cpu.values[i]) < 1e-4,
              `${JSON.stringify(options)} ${aShape}×${bShape} (${transposeA},${transposeB}) element ${i}`,
            );
          }
        }
      }
    } finally {
      registerFastBatchMatMul();
    }
  });

  it("gives the same products with each rewrite switched off", async () => {
    const rng = new Rng(5);
    const a = Float32Array.from({ length: 2 * 3 * 4 }, () => rng.normal());
    const b = Float32Array.from({ length: 2 * 5 * 4 }, () => rng.normal());
    const f = () => tf.matMul(tf.tensor(a, [2, 3, 4]), tf.tensor(b, [2, 5, 4]), false, true);
    const cpu = await resultOn("cpu", f);
    try {
      for (const options of [
        { splitBatches: false },
        { chooseOrientation: false },
        { transposeExplicitly: false },
        { simdGemm: false },
      ]) {
        registerFastBatchMatMul(options);
        const wasm = await resultOn("wasm", f);
        for (let i = 0; i < cpu.values.length; i++)
          assert.ok(Math.abs(wasm.values[i] - cpu.values[i]) < 1e-4, `${JSON.stringify(options)} element ${i}`);
      }
    } finally {
      registerFastBatchMatMul();
    }
  });

  it("runs the SIMD gemm's edge tiles and contraction blocks like the cpu backend", async () => {
    const rng = new Rng(23);
    // Rows around the 6-row tiles and the 96-row blocks, columns around the 8-, 4- and 1-wide tiles,
    // contractions around the 256-step blocks; each with a, b or both transposed.
    const cases: Array<[number, number, number]> = [
      [1, 1, 1],
      [5, 3, 2],
      [6, 8, 4],
      [7, 9, 3],
      [13, 12, 17],
      [97, 5, 30],
      [101, 17, 257],
      [12, 4, 600],
      [2, 21, 513],
    ];
    for (const [m, n, k] of cases) {
      for (const [transposeA, transposeB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = Float32Array.from({ length: m * k }, () => rng.normal());
        const b = Float32Array.from({ length: k * n }, () => rng.normal());
        const f = () =>
          tf.matMul(
            tf.tensor(a, transposeA ? [k, m] : [m, k]),
            tf.tensor(b, transposeB ? [n, k] : [k, n]),
            transposeA,
            transposeB,
          );
        const wasm = await resultOn("wasm", f);
        const cpu = await resultOn("cpu", f);
        assert.deepEqual(wasm.shape, [m, n]);
        // float32 sums in another order: the rounding differences grow with k
        assertClose(
          wasm.values,
          cpu.values,
          { atol: 1e-6 * Math.max(10, k), rtol: 1e-6 * Math.max(10, k) },
          `m=${m} n=${n} k=${k} (${transposeA},${transposeB})`,
        );
      }
    }
  });

  it("gives the gradient of a product with a long contraction, without leaking tensors or wasm memory", async () => {
    await tf.setBackend("wasm");
    const x = tf.randomNormal([600, 3], 0, 1, "float32", 3);
    const w = tf.randomNormal([3, 5], 0, 1, "float32", 4);
    // d/dW sum(X·W) = Xᵀ·1 (transposeA, K = 600 rows): every column is X's column sums.
    const dw = tf.grad((v: tf.Tensor) => tf.matMul(x, v).sum())(w);
    const columnSums = tf.sum(x, 0).arraySync() as number[];
    const got = dw.arraySync() as number[][];
    got.forEach((row, i) =>
      row.forEach((value) =>
        assert.ok(Math.abs(value - columnSums[i]) < 1e-4, `row ${i}: ${value} vs ${columnSums[i]}`),
      ),
    );
    dw.dispose();
    const before = tf.memory();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
    const probe = wasm._malloc(4);
    wasm._free(probe);
    for (let i = 0; i < 20; i++) tf.matMul(x, x, true, false).dispose();
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
    assert.equal(backend.numDataIds(), ids, "views are forgotten after use");
    // Scratch memory is freed: the allocator hands back the same block as before the products.
    const again = wasm._malloc(4);
    wasm._free(again);
    assert.equal(again, probe, "the products' scratch memory was freed");
    tf.dispose([x, w]);
  });

  it("multiplies a batch by one shared right operand as one product, and by repeated broadcast operands", async () => {
    const rng = new Rng(31);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[2, 3, 5, 4], [4, 6], false, false],
      [[2, 3, 4, 5], [6, 4], true, true],
      [[2, 3, 5, 4], [1, 1, 4, 6], false, false],
      [[2, 3, 5, 4], [2, 1, 4, 6], false, false],
      [[1, 3, 5, 4], [2, 3, 4, 6], false, false],
    ];
    for (const [[aShape, bShape, transposeA, transposeB], options] of cases.flatMap(
      (c) =>
        [
          [c, {}],
          [c, { simdGemm: false }],
        ] as const,
    )) {
      registerFastBatchMatMul(options);
      const a = Float32Array.from({ length: aShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
      const b = Float32Array.from({ length: bShape.reduce((p, d) => p * d, 1) }, () => rng.normal());
      const f = () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB);
      // The expected product broadcasts both operands explicitly first: the cpu kernel indexes a
      // broadcast batch modulo its flattened size, which is wrong for [2, 1] against [2, 3].
      const lead = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
      const expanded = (values: Float32Array, shape: number[]) =>
        tf.broadcastTo(tf.tensor(values, shape), [...lead, ...shape.slice(-2)]);
      const g = () => tf.matMul(expanded(a, aShape), expanded(b, bShape), transposeA, transposeB);
      const wasm = await resultOn("wasm", f);
      const cpu = await resultOn("cpu", g);
      assert.deepEqual(wasm.shape, cpu.shape);
      assertClose(
        wasm.values,
        cpu.values,
        { atol: 1e-5, rtol: 1e-5 },
        `${JSON.stringify(options)} ${aShape}×${bShape}`,
      );
    }
    registerFastBatchMatMul();
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
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const b = tf.tensor2d([
      [1, -1, 2],
      [0, 3, 1],
    ]);
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
