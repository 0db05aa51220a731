import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { assembleSimdKernels, BINARY_FILE, simdBinarySource } from "../../../scripts/build-simd-kernels";
import { heapOffset, requireSimdKernels, simdKernelsFor, simdSupported } from "../../../src/backend/kernels/simd";
import { useWasmTrainingKernels } from "./support";

describe("WebAssembly SIMD kernels (simd.wat)", () => {
  useWasmTrainingKernels();

  it("ship as exactly the binary that scripts/build-simd-kernels.ts assembles from simd.wat", async function () {
    this.timeout(120_000); // binaryen's -O3 takes ~15 s on two cores
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
    const src = tf.tensor2d([
      [1, 2, 3, 4, 5],
      [10, 20, 30, 40, 50],
    ]);
    const acc = tf.zeros([10]); // 5 float64 accumulators
    const dst = tf.zeros([5]);
    kernels.column_sum(heapOffset(backend, src), 2, 5, heapOffset(backend, acc), heapOffset(backend, dst));
    assert.deepEqual(Array.from(dst.dataSync()), [11, 22, 33, 44, 55]);
    tf.dispose([src, acc, dst]);
  });

  it("are unavailable, with an error naming the caller, on a backend without wasm memory", () => {
    const notWasm = { wasm: {} } as unknown as BackendWasm;
    assert.equal(simdKernelsFor(notWasm), undefined);
    assert.throws(
      () => requireSimdKernels(notWasm, "SomeKernel"),
      /^Error: SomeKernel: WebAssembly SIMD is unavailable/,
    );
  });
});
