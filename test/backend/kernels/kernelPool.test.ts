// The kernels' worker pool: its thread setting, products that are bitwise the same for 1 and 2 threads
// (each element of C is computed by one thread, with the same instructions in the same order, whatever
// the split), in both builds of the gemm, computed in place on a shared memory; likewise the row-wise
// kernels.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  KernelPool,
  kernelPool,
  kernelThreads,
  setKernelThreads,
  POOLED_ROWS_MIN_FLOATS,
  ROW_KERNELS,
  THREADS_ENV_VAR,
  type WasmMemory,
} from "../../../src/backend/kernels/kernelPool";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  fmaSupported,
  setSimdVariant,
  simdVariant,
  wasmMemoryOf,
  type SimdVariant,
} from "../../../src/backend/kernels/simd";
import { ADAMW } from "../../../src/backend/kernels/adamw";
import { ATTENTION, ATTENTION_GRAD } from "../../../src/backend/kernels/attention";
import { POOLED_GEMM_MIN_FLOPS } from "../../../src/backend/kernels/batchMatMul";
import { DROPOUT, dropoutMask, type DropoutMaskSpec } from "../../../src/backend/kernels/dropout";
import { GELU, GELU_GRAD } from "../../../src/backend/kernels/gelu";
import { SOFTMAX, SOFTMAX_GRAD } from "../../../src/backend/kernels/softmax";
import {
  SPARSE_SOFTMAX_CROSS_ENTROPY,
  SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD,
} from "../../../src/backend/kernels/sparseSoftmaxCrossEntropy";
import { LAYER_NORM, LAYER_NORM_GRAD } from "../../../src/backend/kernels/layerNorm";
import { Rng } from "../../../src/backend/random";
import { useWasmTrainingKernels } from "./support";

// The WebAssembly API (the project compiles without the DOM typings that declare it).
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory };
  }
).WebAssembly;

describe("backend/kernels/kernelPool", () => {
  useWasmTrainingKernels();
  let savedThreads: number;
  let savedVariant: SimdVariant;
  const savedEnv = process.env[THREADS_ENV_VAR];
  before(() => {
    delete process.env[THREADS_ENV_VAR];
    savedThreads = kernelThreads();
    savedVariant = simdVariant();
  });
  after(() => {
    setKernelThreads(savedThreads);
    setSimdVariant(savedVariant);
    if (savedEnv !== undefined) process.env[THREADS_ENV_VAR] = savedEnv;
  });

  const heap = () => wasmMemoryOf(tf.backend() as BackendWasm)!;

  it("runs on the cores available in a fresh process, on a shared heap", function () {
    this.timeout(60000);
    // A fresh process: this one's setting may have been changed by other tests.
    const script = [
      'const { initBackend } = require("./src/backend/backend");',
      'const { describeMatrixProducts } = require("./src/backend/kernels/batchMatMul");',
      'const { kernelThreads } = require("./src/backend/kernels/kernelPool");',
      "initBackend().then(() => console.log(JSON.stringify({ threads: kernelThreads(), line: describeMatrixProducts() })));",
    ].join("\n");
    const env: NodeJS.ProcessEnv = { ...process.env, RECSYS_BACKEND: "wasm" };
    delete env[THREADS_ENV_VAR];
    const output = execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", script], {
      encoding: "utf8",
      cwd: path.join(__dirname, "..", "..", ".."),
      env,
    });
    const { threads, line } = JSON.parse(output.trim().split("\n").pop()!) as { threads: number; line: string };
    const cores = os.availableParallelism();
    assert.equal(threads, cores);
    assert.match(line, new RegExp(`on ${cores} thread${cores === 1 ? "" : "s"}$`));
  });

  it("takes its thread count from RECSYS_THREADS, else the setting, and refuses a bad one", () => {
    setKernelThreads(3);
    assert.equal(kernelThreads(), 3);
    process.env[THREADS_ENV_VAR] = "2";
    assert.equal(kernelThreads(), 2);
    process.env[THREADS_ENV_VAR] = "two";
    assert.throws(() => kernelThreads(), /RECSYS_THREADS must be a positive integer, got 'two'/);
    delete process.env[THREADS_ENV_VAR];
    assert.throws(() => setKernelThreads(0), /setKernelThreads: threads must be a positive integer, got 0/);
    setKernelThreads(1);
    assert.equal(kernelPool(heap()), undefined, "one thread: products run inline");
    setKernelThreads(2);
    assert.ok(kernelPool(heap()) instanceof KernelPool, "tfjs's heap is shared: a pool");
    const unshared = new wasmApi.Memory({ initial: 1 });
    assert.equal(kernelPool(unshared), undefined, "a memory the workers cannot see: products run inline");
  });

  const variants: SimdVariant[] = fmaSupported() ? ["plain", "fma"] : ["plain"];
  for (const variant of variants) {
    it(`gives bitwise the same products on 1 and 2 threads (${variant} gemm)`, async () => {
      setSimdVariant(variant);
      const rng = new Rng(4);
      // Pooled (≥ POOLED_GEMM_MIN_FLOPS): a weight gradient Xᵀ·dY and a short product (split by
      // columns, n not a multiple of the 8-column tile), a batch of products (split by matrix), batches
      // of 1 split by columns and by rows (m ≥ n, with a ragged last block of rows).
      const cases: Array<[number[], number[], boolean, boolean]> = [
        [[700, 40], [700, 90], true, false],
        [[100, 64], [64, 333], false, false],
        [[6, 100, 64], [6, 64, 100], false, false],
        [[1, 97, 260], [1, 260, 101], false, false],
        [[1, 203, 120], [1, 120, 90], false, false],
        [[3, 80, 90], [90, 300], false, false],
      ];
      for (const [aShape, bShape, transposeA, transposeB] of cases) {
        const a = tf.tensor(
          Float32Array.from({ length: aShape.reduce((p, d) => p * d) }, () => rng.normal()),
          aShape,
        );
        const b = tf.tensor(
          Float32Array.from({ length: bShape.reduce((p, d) => p * d) }, () => rng.normal()),
          bShape,
        );
        const product = (threads: number) => {
          setKernelThreads(threads);
          const c = tf.matMul(a, b, transposeA, transposeB);
          const values = c.dataSync() as Float32Array;
          c.dispose();
          return values;
        };
        const one = product(1);
        const two = product(2);
        assert.ok(kernelPool(heap()) !== undefined, "2 threads: a pool");
        const k = transposeA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
        assert.ok(2 * one.length * k >= POOLED_GEMM_MIN_FLOPS, `${aShape}·${bShape} is large enough for the pool`);
        assert.ok(
          one.every((v, i) => Object.is(v, two[i])),
          `${aShape}·${bShape}: 1 and 2 threads differ`,
        );
        tf.dispose([a, b]);
      }
    });
  }

  for (const [m, n, k] of [
    [13, 7, 5], // split by rows
    [5, 21, 3], // split by columns: 8, 8 and a ragged 5
  ]) {
    it(`runs a [${m}, ${k}]·[${k}, ${n}] product split among 3 threads as the inline gemm does, writing C only`, () => {
      // A [m, k] row-major at byte 64, B [k, n] at 512, C [m, n] at 1024 of a shared memory.
      const memory = new wasmApi.Memory({ initial: 1, maximum: 4, shared: true });
      const pool = new KernelPool(memory, 3, "plain");
      try {
        const view = new Float32Array(memory.buffer);
        const rng = new Rng(9);
        for (let i = 0; i < m * k; i++) view[16 + i] = rng.normal();
        for (let i = 0; i < k * n; i++) view[128 + i] = rng.normal();
        view[500] = 42; // outside every operand: untouched
        pool.gemm({ products: [{ a: 64, b: 512, c: 1024 }], rowStride: k, colStride: 1, m, n, k });
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let expected = 0;
            for (let p = 0; p < k; p++) expected += view[16 + i * k + p] * view[128 + p * n + j];
            assert.ok(Math.abs(view[256 + i * n + j] - expected) < 1e-5, `C(${i}, ${j})`);
          }
        }
        assert.equal(view[500], 42);
      } finally {
        pool.dispose();
      }
      assert.throws(() => pool.gemm({} as never), /KernelPool.gemm: the pool is disposed/);
    });
  }

  it("runs a batch longer than one job's table of products (1,024) in several jobs", () => {
    const memory = new wasmApi.Memory({ initial: 4, maximum: 4, shared: true });
    const pool = new KernelPool(memory, 2, "plain");
    try {
      // 1,500 products of [1, 2]·[2, 1]: A_t = (t, 1) at 4·2t, B = (1, 2) shared, C_t at 40000 + 4t.
      const view = new Float32Array(memory.buffer);
      const batch = 1500;
      for (let t = 0; t < batch; t++) view.set([t, 1], 2 * t);
      view.set([1, 2], 4000);
      const products = Array.from({ length: batch }, (_, t) => ({ a: 8 * t, b: 16000, c: 40000 + 4 * t }));
      pool.gemm({ products, rowStride: 2, colStride: 1, m: 1, n: 1, k: 2 });
      assert.deepEqual(
        Array.from(view.subarray(10000, 10000 + batch)),
        Array.from({ length: batch }, (_, t) => t + 2),
      );
    } finally {
      pool.dispose();
    }
  });

  it("splits the row-wise kernels among threads with bitwise the same results, the dropout mask included", () => {
    const rng = new Rng(12);
    // Sizes past the pool's threshold and ragged: 4·n + 3 elements, 997 rows of 83 columns.
    const n = POOLED_ROWS_MIN_FLOATS + 4 * 1000 + 3;
    const [rows, cols] = [997, 83];
    assert.ok(rows * cols >= POOLED_ROWS_MIN_FLOATS);
    const x = tf.tensor1d(Float32Array.from({ length: n }, () => 3 * rng.normal()));
    const dy = tf.tensor1d(Float32Array.from({ length: n }, () => rng.normal()));
    const z = tf.tensor2d(
      Float32Array.from({ length: rows * cols }, () => 4 * rng.normal()),
      [rows, cols],
    );
    const dz = tf.tensor2d(
      Float32Array.from({ length: rows * cols }, () => rng.normal()),
      [rows, cols],
    );
    const labels = tf.tensor1d(
      Int32Array.from({ length: rows }, () => rng.int(cols)),
      "int32",
    );
    const spec: DropoutMaskSpec = { rate: 0.3, key1: 123456789, key2: -987654321 };
    const v = tf.abs(dy);
    const update = { beta1: 0.9, beta2: 0.999, epsilon: 1e-6, sqrtCorrection2: 0.03, stepSize: 0.01, decay: 0.999 };
    // Attention over 13 sequences × 2 heads of 51 ragged positions: 26 pairs of 51×51 scores, with dropout.
    const [batch, length] = [13, 51];
    const normal = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.normal()),
        shape,
      );
    const [q, k, heads, dHeads] = [
      normal([batch, length, 10]),
      normal([batch, length, 10]),
      normal([batch, length, 14]),
      normal([batch, length, 14]),
    ];
    assert.ok(2 * batch * length * length >= POOLED_ROWS_MIN_FLOATS);
    const attention = { numHeads: 2, scale: 0.4, causal: true, rate: 0.2, key1: 5, key2: 6 };
    const probs = tf.softmax(normal([batch, 2, length, length]));
    const [rowValues, columnValues] = [normal([rows]), normal([cols])];
    const run = (kernel: string, inputs: tf.NamedTensorMap, attrs = {}) => {
      const out = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor | tf.Tensor[];
      const values = (Array.isArray(out) ? out : [out]).map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      return values;
    };
    const kernels: Array<[string, () => number[][]]> = [
      ["gelu", () => run(GELU, { x })],
      ["gelu_grad", () => run(GELU_GRAD, { x, dy })],
      ["dropout", () => run(DROPOUT, { x }, spec)],
      ["softmax", () => run(SOFTMAX, { logits: z })],
      ["softmax_grad", () => run(SOFTMAX_GRAD, { y: z, dy: dz })],
      ["softmax_cross_entropy", () => run(SPARSE_SOFTMAX_CROSS_ENTROPY, { logits: z, labels })],
      [
        "softmax_cross_entropy_grad",
        () => run(SPARSE_SOFTMAX_CROSS_ENTROPY_GRAD, { probs: z, labels, dLosses: rowValues }),
      ],
      ["layer_norm", () => run(LAYER_NORM, { x: z, gamma: columnValues, beta: columnValues }, { epsilon: 1e-5 })],
      ["layer_norm_grad", () => run(LAYER_NORM_GRAD, { x: z, gamma: columnValues, dy: dz }, { epsilon: 1e-5 })],
      ["column_sum_rows", () => run(tf.Sum, { x: z }, { axis: [0], keepDims: false })],
      ["adamw", () => run(ADAMW, { theta: x, m: dy, v, g: x }, update)],
      ["attention", () => run(ATTENTION, { q, k, v: heads }, attention)],
      ["attention_grad", () => run(ATTENTION_GRAD, { q, k, v: heads, probs, dy: dHeads, dprobs: probs }, attention)],
    ];
    assert.deepEqual(kernels.map(([name]) => name).sort(), [...ROW_KERNELS].sort(), "every row kernel is checked");
    for (const [name, f] of kernels) {
      setKernelThreads(1);
      const one = f();
      setKernelThreads(2);
      const two = f();
      assert.ok(
        one.every((values, o) => values.every((v, i) => Object.is(v, two[o][i]))),
        `${name}: 1 and 2 threads differ`,
      );
    }
    // The split dropout keeps exactly the units of the mask computed in JavaScript over the whole tensor.
    const mask = dropoutMask(n, spec);
    const [dropped] = run(DROPOUT, { x }, spec);
    const xs = x.dataSync();
    assert.ok(dropped.every((v, i) => Object.is(v, Math.fround(xs[i] * mask[i]))));
    tf.dispose([x, dy, z, dz, labels, v, q, k, heads, dHeads, probs, rowValues, columnValues]);
  });

  it("refuses a rows job whose arguments and increments do not match", () => {
    const memory = new wasmApi.Memory({ initial: 1, maximum: 1, shared: true });
    const pool = new KernelPool(memory, 2, "plain");
    try {
      assert.throws(
        () => pool.rows({ kernel: "gelu", args: [0, 64, 8], perRow: [4, 4], count: 2, rows: 8, rowAlign: 4 }),
        /KernelPool.rows\(gelu\): 3 arguments, 2 increments, count 2/,
      );
    } finally {
      pool.dispose();
    }
  });

  it("refuses a memory that is not shared", () => {
    assert.throws(
      () => new KernelPool(new wasmApi.Memory({ initial: 1 }), 2, "plain"),
      /KernelPool: the memory is not shared/,
    );
  });
});
