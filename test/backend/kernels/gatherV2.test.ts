import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gatherV2Wasm } from "../../../src/backend/kernels/gatherV2";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { Rng } from "../../../src/backend/random";
import { resultOn, useWasmTrainingKernels } from "./support";

describe("GatherV2 on the wasm backend", () => {
  useWasmTrainingKernels();

  it("is the registered kernel, installed once", () => {
    registerWasmTrainingKernels();
    assert.equal(tf.getKernel(tf.GatherV2, "wasm")!.kernelFunc, gatherV2Wasm);
  });

  it("gathers rows in a hand-checked example, duplicates included", async () => {
    const result = await resultOn("wasm", () =>
      tf.gather(
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        tf.tensor1d([2, 0, 2], "int32"),
      ),
    );
    assert.deepEqual(result, { shape: [3, 2], dtype: "float32", values: [5, 6, 1, 2, 5, 6] });
  });

  it("matches the cpu backend over axes, batch dimensions, dtypes and short and long rows", async () => {
    const rng = new Rng(5);
    const cases: Array<{
      shape: number[];
      idsShape: number[];
      axis: number;
      batchDims: number;
      dtype: "float32" | "int32";
    }> = [
      { shape: [50, 100], idsShape: [30], axis: 0, batchDims: 0, dtype: "float32" },
      { shape: [50, 3], idsShape: [4, 5], axis: 0, batchDims: 0, dtype: "int32" },
      { shape: [4, 7, 3], idsShape: [5], axis: 1, batchDims: 0, dtype: "float32" },
      { shape: [3, 6, 2], idsShape: [3, 4], axis: 1, batchDims: 1, dtype: "float32" },
      { shape: [8], idsShape: [10], axis: 0, batchDims: 0, dtype: "int32" },
    ];
    for (const c of cases) {
      const size = c.shape.reduce((p, d) => p * d, 1);
      const values = Array.from({ length: size }, () => (c.dtype === "int32" ? rng.int(1000) : rng.normal()));
      const dim = c.shape[c.axis];
      const ids = Array.from({ length: c.idsShape.reduce((p, d) => p * d, 1) }, () => rng.int(dim));
      const f = () =>
        tf.gather(tf.tensor(values, c.shape, c.dtype), tf.tensor(ids, c.idsShape, "int32"), c.axis, c.batchDims);
      assert.deepEqual(await resultOn("wasm", f), await resultOn("cpu", f), JSON.stringify(c));
    }
  });

  it("rejects an out-of-range index without leaving a tensor behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const ids = tf.tensor1d([0, 2], "int32");
    const before = tf.memory().numTensors;
    assert.throws(() => tf.gather(x, ids), /index value 2 is not in \[0, 1\]/);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, ids]);
  });

  it("trains an embedding: gather's gradient is unchanged", async () => {
    const f = () =>
      tf.grad((table: tf.Tensor) =>
        tf
          .gather(table, tf.tensor1d([1, 1, 3], "int32"))
          .square()
          .sum(),
      )(
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ]),
      );
    const wasm = await resultOn("wasm", f);
    assert.deepEqual(wasm.values, [0, 0, 12, 16, 0, 0, 14, 16]);
    assert.deepEqual(wasm, await resultOn("cpu", f));
  });
});
