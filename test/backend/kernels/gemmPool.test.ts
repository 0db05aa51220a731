// The gemm's worker pool: its thread setting, products that are bitwise the same for 1 and 2 threads
// (each element of C is computed by one thread, with the same instructions in the same order, whatever
// the split), in both builds of the gemm, computed in place on a shared memory.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  GemmPool,
  gemmPool,
  gemmThreads,
  setGemmThreads,
  THREADS_ENV_VAR,
  type WasmMemory,
} from "../../../src/backend/kernels/gemmPool";
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
import { POOLED_GEMM_MIN_FLOPS } from "../../../src/backend/kernels/batchMatMul";
import { Rng } from "../../../src/backend/random";
import { useWasmTrainingKernels } from "./support";

// The WebAssembly API (the project compiles without the DOM typings that declare it).
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory };
  }
).WebAssembly;

describe("backend/kernels/gemmPool", () => {
  useWasmTrainingKernels();
  let savedThreads: number;
  let savedVariant: SimdVariant;
  const savedEnv = process.env[THREADS_ENV_VAR];
  before(() => {
    delete process.env[THREADS_ENV_VAR];
    savedThreads = gemmThreads();
    savedVariant = simdVariant();
  });
  after(() => {
    setGemmThreads(savedThreads);
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
      'const { gemmThreads } = require("./src/backend/kernels/gemmPool");',
      "initBackend().then(() => console.log(JSON.stringify({ threads: gemmThreads(), line: describeMatrixProducts() })));",
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
    setGemmThreads(3);
    assert.equal(gemmThreads(), 3);
    process.env[THREADS_ENV_VAR] = "2";
    assert.equal(gemmThreads(), 2);
    process.env[THREADS_ENV_VAR] = "two";
    assert.throws(() => gemmThreads(), /RECSYS_THREADS must be a positive integer, got 'two'/);
    delete process.env[THREADS_ENV_VAR];
    assert.throws(() => setGemmThreads(0), /setGemmThreads: threads must be a positive integer, got 0/);
    setGemmThreads(1);
    assert.equal(gemmPool(heap()), undefined, "one thread: products run inline");
    setGemmThreads(2);
    assert.ok(gemmPool(heap()) instanceof GemmPool, "tfjs's heap is shared: a pool");
    const unshared = new wasmApi.Memory({ initial: 1 });
    assert.equal(gemmPool(unshared), undefined, "a memory the workers cannot see: products run inline");
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
          setGemmThreads(threads);
          const c = tf.matMul(a, b, transposeA, transposeB);
          const values = c.dataSync() as Float32Array;
          c.dispose();
          return values;
        };
        const one = product(1);
        const two = product(2);
        assert.ok(gemmPool(heap()) !== undefined, "2 threads: a pool");
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
      const pool = new GemmPool(memory, 3, "plain");
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
      assert.throws(() => pool.gemm({} as never), /GemmPool.gemm: the pool is disposed/);
    });
  }

  it("runs a batch longer than one job's table of products (1,024) in several jobs", () => {
    const memory = new wasmApi.Memory({ initial: 4, maximum: 4, shared: true });
    const pool = new GemmPool(memory, 2, "plain");
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

  it("refuses a memory that is not shared", () => {
    assert.throws(
      () => new GemmPool(new wasmApi.Memory({ initial: 1 }), 2, "plain"),
      /GemmPool: the memory is not shared/,
    );
  });
});
