import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { linear } from "../../src/nn/linear";
import { checkGradients, normalTensor, take } from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

describe("nn/linear", () => {
  before(async () => {
    await initBackend();
  });

  it("maps the last axis of a rank-3 tensor: y[b][t][j] = Σ_i x[b][t][i]·W[i][j] + b[j]", () => {
    const rng = new Rng(1);
    const x = normalTensor(rng, [2, 3, 4]);
    const w = normalTensor(rng, [4, 5]);
    const b = normalTensor(rng, [5]);
    const [xs, ws, bs] = [x.arraySync() as number[][][], w.arraySync() as number[][], b.arraySync() as number[]];
    const expected = xs
      .flat()
      .flatMap((row) => bs.map((bias, j) => bias + row.reduce((s, v, i) => s + v * ws[i][j], 0)));
    assertClose(take(linear(x, w, b)), expected, { atol: 1e-5, rtol: 1e-5 });
    const noBias = xs.flat().flatMap((row) => bs.map((_, j) => row.reduce((s, v, i) => s + v * ws[i][j], 0)));
    assertClose(take(linear(x, w)), noBias, { atol: 1e-5, rtol: 1e-5 });
    tf.dispose([x, w, b]);
  });

  it("has gradients that match central differences, and leaks no tensors", async () => {
    const rng = new Rng(2);
    const x = tf.variable(normalTensor(rng, [2, 2, 3]), true, "linear_x");
    const w = tf.variable(normalTensor(rng, [3, 2]), true, "linear_w");
    const b = tf.variable(normalTensor(rng, [2]), true, "linear_b");
    const projection = normalTensor(rng, [2, 2, 2]);
    checkGradients(() => tf.sum(tf.mul(linear(x, w, b), projection)) as tf.Scalar, [x, w, b]);
    await assertNoLeak(() => {
      tf.dispose(linear(x, w, b));
    });
    tf.dispose([x, w, b, projection]);
  });
});
