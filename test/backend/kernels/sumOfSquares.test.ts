import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { sumOfSquares } from "../../../src/backend/kernels/sumOfSquares";
import { Rng } from "../../../src/backend/random";
import { assertClose, assertNoLeak } from "../../support/assertions";
import { useWasmTrainingKernels } from "./support";

describe("sumOfSquares (the squared global norm of gradient clipping)", () => {
  useWasmTrainingKernels();

  for (const backend of ["wasm", "cpu"] as const) {
    it(`adds up x² over tensors of every size mod 4 on ${backend}, in float64 on wasm`, async () => {
      await tf.setBackend(backend);
      assert.equal(sumOfSquares([]), 0);
      const rng = new Rng(3);
      const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 4099].map((n) =>
        Float32Array.from({ length: n }, () => rng.normal(0, 3)),
      );
      const tensors = values.map((v) => tf.tensor1d(v));
      const expected = values.reduce((sum, v) => sum + v.reduce((s, x) => s + x * x, 0), 0);
      await assertNoLeak(() =>
        assertClose(sumOfSquares(tensors), expected, { atol: 0, rtol: backend === "wasm" ? 1e-12 : 1e-5 }),
      );
      tf.tidy(() => {
        assert.equal(sumOfSquares([tf.tensor2d([[3, 4]]), tf.scalar(12)]), 169, "hand-checked: 9 + 16 + 144");
        assert.ok(Number.isNaN(sumOfSquares([tf.tensor1d([1, NaN, 2])])), "a NaN gradient makes the norm NaN");
      });
      tf.dispose(tensors);
    });
  }
});
