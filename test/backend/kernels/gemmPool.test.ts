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
      // Pooled (≥ POOLED_GEMM_MIN_FLOPS): a weight gradient Xᵀ·dY, a short product, a batch of
      // products (split by matrix), a batch of 1 (split by rows, with a ragged last block).
      const cases: Array<[number[], number[], boolean, boolean]> = [
        [[700, 40], [700, 90], true, false],
        [[100, 64], [64, 333], false, false],
        [[6, 100, 64], [6, 64, 100], false, false],
        [[1, 97, 260], [1, 260, 101], false, false],
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

  it("runs a product split among 3 threads as the inline gemm does, into C's region only", () => {
    const pool = new GemmPool(3, "plain");
    try {
      // A [13, 5] row-major at byte 64, B [5, 7] at 512, C [13, 7] at 1024 of a 2 KiB heap.
      const heap = new Uint8Array(2048 + 13 * 7 * 4);
      const view = new Float32Array(heap.buffer);
      const rng = new Rng(9);
      for (let i = 0; i < 13 * 5; i++) view[16 + i] = rng.normal();
      for (let i = 0; i < 5 * 7; i++) view[128 + i] = rng.normal();
      view[500] = 42; // outside every region: untouched
      pool.gemm({
        heap,
        aRegion: { offset: 64, bytes: 4 * 13 * 5 },
        bRegion: { offset: 512, bytes: 4 * 5 * 7 },
        cRegion: { offset: 1024, bytes: 4 * 13 * 7 },
        products: [{ a: 0, b: 0, c: 0 }],
        rowStride: 5,
        colStride: 1,
        m: 13,
        n: 7,
        k: 5,
      });
      for (let i = 0; i < 13; i++) {
        for (let j = 0; j < 7; j++) {
          let expected = 0;
          for (let p = 0; p < 5; p++) expected += view[16 + i * 5 + p] * view[128 + p * 7 + j];
          assert.ok(Math.abs(view[256 + i * 7 + j] - expected) < 1e-5, `C(${i}, ${j})`);
        }
      }
      assert.equal(view[500], 42);
    } finally {
      pool.dispose();
    }
    assert.throws(() => pool.gemm({} as never), /GemmPool.gemm: the pool is disposed/);
  });
});
