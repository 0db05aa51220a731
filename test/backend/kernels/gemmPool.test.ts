// The gemm's worker pool: its thread setting, and products that are bitwise the same for 1 and 2
// threads (each element of C is computed by one thread, with the same instructions in the same order,
// whatever the split), in both builds of the gemm.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  GemmPool,
  gemmPool,
  gemmThreads,
  setGemmThreads,
  THREADS_ENV_VAR,
} from "../../../src/backend/kernels/gemmPool";
import { fmaSupported, setSimdVariant, simdVariant, type SimdVariant } from "../../../src/backend/kernels/simd";
import { POOLED_GEMM_MIN_FLOPS } from "../../../src/backend/kernels/batchMatMul";
import { Rng } from "../../../src/backend/random";
import { useWasmTrainingKernels } from "./support";

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
    assert.equal(gemmPool(), undefined, "one thread: products run inline");
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
        assert.ok(gemmPool() !== undefined, "2 threads: a pool");
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
    it(`runs a [${m}, ${k}]·[${k}, ${n}] product split among 3 threads as the inline gemm does, into C's region only`, () => {
      const pool = new GemmPool(3, "plain");
      try {
        // A [m, k] row-major at byte 64, B [k, n] at 512, C [m, n] at 1024 of a heap with room to spare.
        const heap = new Uint8Array(2048 + m * n * 4);
        const view = new Float32Array(heap.buffer);
        const rng = new Rng(9);
        for (let i = 0; i < m * k; i++) view[16 + i] = rng.normal();
        for (let i = 0; i < k * n; i++) view[128 + i] = rng.normal();
        view[500] = 42; // outside every region: untouched
        pool.gemm({
          heap,
          aRegion: { offset: 64, bytes: 4 * m * k },
          bRegion: { offset: 512, bytes: 4 * k * n },
          cRegion: { offset: 1024, bytes: 4 * m * n },
          products: [{ a: 0, b: 0, c: 0 }],
          rowStride: k,
          colStride: 1,
          m,
          n,
          k,
        });
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
});
