import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  assembleSimdKernels,
  BINARY_FILE,
  fusedMultiplyAdds,
  fusedPolynomialSteps,
  sharedMemory,
  simdBinarySource,
} from "../../../scripts/build-simd-kernels";
import {
  fmaSupported,
  heapOffset,
  requireSimdKernels,
  SIMD_FMA_ENV_VAR,
  setSimdVariant,
  simdKernelsFor,
  simdSupported,
  simdVariant,
  type SimdVariant,
} from "../../../src/backend/kernels/simd";
import { Rng } from "../../../src/backend/random";
import { useWasmTrainingKernels } from "./support";

describe("WebAssembly SIMD kernels (simd.wat)", () => {
  useWasmTrainingKernels();

  it("ship as exactly the binary that scripts/build-simd-kernels.ts assembles from simd.wat", async function () {
    this.timeout(300_000); // binaryen's -O3 of four modules takes ~15 s of CPU, minutes on a busy machine
    const expected = simdBinarySource(await assembleSimdKernels());
    const committed = fs.readFileSync(BINARY_FILE, "utf8");
    assert.ok(
      committed === expected,
      `${BINARY_FILE} is out of date with simd.wat: run \`npx tsx scripts/build-simd-kernels.ts\``,
    );
  });

  it("run on this Node", () => {
    assert.equal(simdSupported, true);
  });

  it("are instantiated once per backend and see its tensors in place", async () => {
    await tf.setBackend("wasm");
    const backend = tf.backend() as BackendWasm;
    const kernels = simdKernelsFor(backend);
    assert.ok(kernels !== undefined);
    assert.equal(simdKernelsFor(backend), kernels);
    assert.equal(requireSimdKernels(backend, "test"), kernels);

    // A column sum written straight into a tensor's memory: heapOffset addresses the tensor's data.
    // Three rows in blocks of two: rows 0-1 into the first block's sums, row 2 into the second's.
    const src = tf.tensor2d([
      [1, 2, 3, 4, 5],
      [10, 20, 30, 40, 50],
      [100, 200, 300, 400, 500],
    ]);
    const acc = tf.fill([20], 7); // 2 blocks of 5 float64 sums, zeroed by the kernel
    const dst = tf.zeros([5]);
    const [at, sums] = [heapOffset(backend, acc), heapOffset(backend, dst)];
    kernels.column_sum_rows(heapOffset(backend, src), 1, 5, at, 0, 2); // row 0, then rows 1-2
    kernels.column_sum_rows(heapOffset(backend, src) + 4 * 5, 2, 5, at, 1, 2);
    kernels.column_sums_finish(at, 1, 5, sums);
    assert.deepEqual(Array.from(dst.dataSync()), [11, 22, 33, 44, 55], "the first block");
    kernels.column_sums_finish(at, 2, 5, sums);
    assert.deepEqual(Array.from(dst.dataSync()), [111, 222, 333, 444, 555], "both blocks");
    tf.dispose([src, acc, dst]);
  });

  it("transpose each matrix of a batch exactly, for every size mod 4 of rows and columns, tall and wide", async () => {
    await tf.setBackend("wasm");
    const backend = tf.backend() as BackendWasm;
    const kernels = requireSimdKernels(backend, "test");
    const rng = new Rng(4);
    // Every size mod 4 up to 9, and tall (several bands of eight columns, a partial one, a tail) and wide.
    const sizes: Array<[number, number]> = [];
    for (let rows = 1; rows <= 9; rows++) for (let cols = 1; cols <= 9; cols++) sizes.push([rows, cols]);
    sizes.push([17, 13], [13, 17], [33, 20], [5, 40], [40, 5]);
    for (const [rows, cols] of sizes) {
      const batch = 3;
      const values = Float32Array.from({ length: batch * rows * cols }, () => rng.normal());
      const x = tf.tensor3d(values, [batch, rows, cols]);
      const y = tf.zeros([batch + 1, cols, rows]); // one more matrix, which must stay 0
      kernels.transpose(heapOffset(backend, x), heapOffset(backend, y), batch, rows, cols);
      const expected = new Float32Array((batch + 1) * rows * cols);
      for (let t = 0; t < batch; t++)
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++)
            expected[t * rows * cols + j * rows + i] = values[t * rows * cols + i * cols + j];
      assert.deepEqual(Array.from(y.dataSync()), Array.from(expected), `[${batch}, ${rows}, ${cols}]`);
      tf.dispose([x, y]);
    }
  });

  it("are unavailable, with an error naming the caller, on a backend without wasm memory", () => {
    const notWasm = { wasm: {} } as unknown as BackendWasm;
    assert.equal(simdKernelsFor(notWasm), undefined);
    assert.throws(
      () => requireSimdKernels(notWasm, "SomeKernel"),
      /^Error: SomeKernel: WebAssembly SIMD is unavailable/,
    );
  });
  it("build an FMA module by fusing exactly the gemm's accumulations and polynomial steps, and a shared-memory one", () => {
    const text = [
      '(import "env" "memory" (memory 1))',
      "(local.set $c0_1 (f32x4.add (local.get $c0_1) (f32x4.mul (local.get $x) (i8x16.shuffle 0 1 (local.get $v) (local.get $v)))))",
      "(local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $x) (local.get $b))))",
    ].join("\n");
    assert.equal(
      fusedMultiplyAdds(text).split("\n")[1],
      "(local.set $c0_1 (f32x4.relaxed_madd (local.get $x) (i8x16.shuffle 0 1 (local.get $v) (local.get $v)) (local.get $c0_1)))",
    );
    assert.equal(fusedMultiplyAdds(text).split("\n")[2], text.split("\n")[2], "not a gemm accumulator: unchanged");
    assert.throws(() => fusedMultiplyAdds("(module)"), /no gemm accumulation/);
    const horner =
      "(local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (f32x4.splat (f32.const -1.5e-3))))";
    assert.equal(
      fusedPolynomialSteps(horner),
      "(local.set $y (f32x4.relaxed_madd (local.get $y) (local.get $r) (f32x4.splat (f32.const -1.5e-3))))",
    );
    assert.throws(() => fusedPolynomialSteps(text), /no polynomial step/, "a gemm accumulation is not a Horner step");
    assert.equal(sharedMemory(text).split("\n")[0], '(import "env" "memory" (memory 1 65536 shared))');
  });

  it("run the FMA gemm by default where the engine runs relaxed SIMD, the plain one when asked", () => {
    // Node 20 runs relaxed SIMD once the flag is set; a CPU without FMA still runs it (unfused).
    assert.equal(fmaSupported(), true);
    const saved = simdVariant();
    const forced = process.env[SIMD_FMA_ENV_VAR];
    assert.equal(
      saved,
      forced === "0" ? "plain" : "fma",
      `the default with ${SIMD_FMA_ENV_VAR}=${forced ?? "(unset)"}`,
    );
    try {
      setSimdVariant("plain");
      assert.equal(simdVariant(), "plain");
      setSimdVariant("fma");
      assert.equal(simdVariant(), "fma");
    } finally {
      setSimdVariant(saved);
    }
    assert.equal(SIMD_FMA_ENV_VAR, "RECSYS_SIMD_FMA");
  });

  for (const variant of ["plain", "fma"] as SimdVariant[]) {
    it(`run the gemm (${variant}) within float32 rounding of a float64 product, A row- and column-major`, async () => {
      await tf.setBackend("wasm");
      const backend = tf.backend() as BackendWasm;
      const kernels = simdKernelsFor(backend, variant)!;
      const rng = new Rng(3);
      // m, n, k cover the 6×8, 1×8, 6×4, 1×4 and 1×1 tiles and two 256-step blocks of the contraction.
      const [m, n, k] = [13, 21, 300];
      const a = Float32Array.from({ length: m * k }, () => rng.normal());
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      for (const columnMajor of [false, true]) {
        const stored = columnMajor
          ? Float32Array.from({ length: m * k }, (_, at) => a[(at % m) * k + Math.floor(at / m)])
          : a;
        const [ta, tb, tc] = [tf.tensor1d(stored), tf.tensor1d(b), tf.zeros([m * n])];
        const [rowStride, colStride] = columnMajor ? [1, m] : [k, 1];
        kernels.gemm(
          heapOffset(backend, ta),
          rowStride,
          colStride,
          heapOffset(backend, tb),
          n,
          heapOffset(backend, tc),
          n,
          m,
          n,
          k,
        );
        const c = tc.dataSync();
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let exact = 0;
            let magnitude = 0;
            for (let p = 0; p < k; p++) {
              exact += a[i * k + p] * b[p * n + j];
              magnitude += Math.abs(a[i * k + p] * b[p * n + j]);
            }
            // A running float32 sum of k products errs by at most ~k·ε·Σ|a·b| (ε = 2⁻²⁴) whether each
            // multiply-add rounds twice (plain) or once (FMA); the bound is loose, the typical error √k·ε·Σ.
            const bound = k * 2 ** -24 * magnitude;
            assert.ok(Math.abs(c[i * n + j] - exact) <= bound, `C(${i}, ${j}) = ${c[i * n + j]} vs ${exact}`);
          }
        }
        tf.dispose([ta, tb, tc]);
      }
    });
  }
});
