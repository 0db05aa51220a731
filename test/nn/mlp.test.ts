import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { DenseTower, activate, gatherRows } from "../../src/nn/mlp";
import { checkGradients, matMulRows, normalTensor, take } from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

/** The tower's weights as plain arrays, layer by layer. */
function weightsOf(tower: DenseTower): Array<{ kernel: number[][]; bias: number[] | null }> {
  return tower.layers.map((l) => ({ kernel: l.kernel.arraySync(), bias: l.bias ? l.bias.arraySync() : null }));
}

describe("nn/mlp", () => {
  before(async () => {
    await initBackend();
  });

  describe("DenseTower", () => {
    it("computes h_l = a_l(h_{l−1}·W_l + b_l), ReLU inside and the output activation last", () => {
      const rng = new Rng(1);
      const tower = new DenseTower({ inputDim: 3, units: [4, 2], outputActivation: "tanh", seed: 7 });
      // Nonzero biases, so that they are part of what is checked.
      tower.layers.forEach((l) => tf.tidy(() => l.bias!.assign(normalTensor(rng, l.bias!.shape, 0.5) as tf.Tensor1D)));
      const x = [
        [0.5, -1, 2],
        [1, 0, -0.5],
      ];
      const [first, second] = weightsOf(tower);
      const relu = (rows: number[][]) => rows.map((r) => r.map((v) => Math.max(0, v)));
      const addBias = (rows: number[][], b: number[]) => rows.map((r) => r.map((v, j) => v + b[j]));
      const h1 = relu(addBias(matMulRows(x, first.kernel), first.bias!));
      const h2 = addBias(matMulRows(h1, second.kernel), second.bias!).map((r) => r.map(Math.tanh));
      const input = tf.tensor2d(x);
      const out = tower.apply(input);
      assert.deepEqual(out.shape, [2, 2]);
      assertClose(take(out), h2.flat(), { atol: 1e-6, rtol: 1e-4 });
      // Starting above the first layer runs only the layers after it.
      const fromOne = tower.apply(tf.tensor2d(h1), 1);
      assertClose(take(fromOne), h2.flat(), { atol: 1e-6, rtol: 1e-4 });
      input.dispose();
      tower.dispose();
    });

    it("has the widths, variables and activations it was asked for", () => {
      const tower = new DenseTower({ inputDim: 6, units: [5, 4, 3], seed: 1, useBias: false });
      assert.equal(tower.inputDim, 6);
      assert.equal(tower.outputDim, 3);
      assert.deepEqual(
        tower.variables().map((v) => v.shape),
        [
          [6, 5],
          [5, 4],
          [4, 3],
        ],
      );
      assert.deepEqual(
        tower.layers.map((l) => l.activation),
        ["relu", "relu", "relu"],
      );
      const projection = new DenseTower({ inputDim: 2, units: [3, 1], outputActivation: "linear", seed: 1 });
      assert.deepEqual(
        projection.layers.map((l) => l.activation),
        ["relu", "linear"],
      );
      assert.deepEqual(
        projection.variables().map((v) => v.shape),
        [[2, 3], [3], [3, 1], [1]],
      );
      tower.dispose();
      projection.dispose();
    });

    it("draws the same weights from the same seed and different ones from another, each layer its own", () => {
      const a = new DenseTower({ inputDim: 4, units: [4, 4], seed: 3 });
      const b = new DenseTower({ inputDim: 4, units: [4, 4], seed: 3 });
      const c = new DenseTower({ inputDim: 4, units: [4, 4], seed: 4 });
      const [wa, wb, wc] = [a, b, c].map((t) => t.layers.map((l) => Array.from(l.kernel.dataSync())));
      assert.deepEqual(wa, wb);
      assert.notDeepEqual(wa[0], wc[0]);
      assert.notDeepEqual(wa[0], wa[1]); // two layers of one shape do not start equal
      // Glorot-uniform bound √(6 / (fan_in + fan_out)) = √(6/8).
      const bound = Math.sqrt(6 / 8);
      assert.ok(wa.flat().every((v) => Math.abs(v) <= bound));
      [a, b, c].forEach((t) => t.dispose());
    });

    it("copyFrom hands every weight over, and refuses a tower of another shape", () => {
      const a = new DenseTower({ inputDim: 3, units: [2, 1], seed: 1 });
      const b = new DenseTower({ inputDim: 3, units: [2, 1], seed: 2 });
      b.copyFrom(a);
      assert.deepEqual(
        b.variables().map((v) => Array.from(v.dataSync())),
        a.variables().map((v) => Array.from(v.dataSync())),
      );
      const other = new DenseTower({ inputDim: 3, units: [2, 2], seed: 1 });
      assert.throws(() => other.copyFrom(a), /weight shapes differ/);
      [a, b, other].forEach((t) => t.dispose());
    });

    it("has the gradient that central differences give", () => {
      const rng = new Rng(5);
      const tower = new DenseTower({ inputDim: 3, units: [4, 2], outputActivation: "sigmoid", seed: 9 });
      const x = tf.variable(normalTensor(rng, [5, 3]) as tf.Tensor2D);
      const loss = () => tf.sum(tf.square(tower.apply(x))) as tf.Scalar;
      checkGradients(loss, [x, ...tower.variables()], { perVariable: 8 });
      x.dispose();
      tower.dispose();
    });

    it("leaks no tensors and rejects bad arguments", async () => {
      const tower = new DenseTower({ inputDim: 2, units: [3], seed: 1 });
      const x = tf.ones([4, 2]) as tf.Tensor2D;
      await assertNoLeak(() => {
        tower.apply(x).dispose();
        tf.tidy(() => {
          tf.variableGrads(() => tf.sum(tower.apply(x)) as tf.Scalar, tower.variables());
        });
      });
      assert.throws(() => tower.apply(tf.ones([4, 3]) as tf.Tensor2D), /expected input \[N, 2\], got \[4,3\]/);
      assert.throws(() => tower.apply(x, 2), /fromLayer must be an integer in \[0, 1\]/);
      x.dispose();
      tower.dispose();
      assert.throws(() => new DenseTower({ inputDim: 2, units: [], seed: 1 }), /at least one layer/);
      assert.throws(() => new DenseTower({ inputDim: 2, units: [0], seed: 1 }), /units\[0\] must be an integer >= 1/);
      assert.throws(
        () => new DenseTower({ inputDim: 2, units: [2], activation: "gelu" as "relu", seed: 1 }),
        /activation must be one of/,
      );
      assert.throws(() => new DenseTower({ inputDim: 2, units: [2], seed: NaN }), /seed must be a finite number/);
    });
  });

  describe("activate", () => {
    it("applies relu, tanh, sigmoid and the identity", () => {
      const x = tf.tensor1d([-2, 0, 1.5]);
      assertClose(take(activate(x, "relu")), [0, 0, 1.5], { atol: 1e-5, rtol: 1e-4 });
      assertClose(take(activate(x, "tanh")), [Math.tanh(-2), 0, Math.tanh(1.5)], { atol: 1e-6, rtol: 1e-4 });
      assertClose(take(activate(x, "sigmoid")), [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-1.5))], {
        atol: 1e-6,
        rtol: 1e-4,
      });
      assert.equal(activate(x, "linear"), x);
      x.dispose();
    });
  });

  describe("gatherRows", () => {
    it("looks rows up like tf.gather, and sums the gradient of a row used twice", () => {
      const table = tf.variable(
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      );
      const ids = tf.tensor1d([2, 0, 2], "int32");
      assert.deepEqual(Array.from(take(gatherRows(table, ids))), [5, 6, 1, 2, 5, 6]);
      const weights = tf.tensor2d([
        [1, 10],
        [100, 1000],
        [2, 20],
      ]);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(gatherRows(table, ids), weights)) as tf.Scalar,
        [table],
      );
      // Row 2 is read twice (weights rows 0 and 2), row 0 once, row 1 never.
      assert.deepEqual(Array.from(take(grads[table.name])), [100, 1000, 0, 0, 3, 30]);
      const reference = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, ids), weights)) as tf.Scalar, [table]);
      assert.equal(value.dataSync()[0], reference.value.dataSync()[0]);
      tf.dispose([value, reference.value, reference.grads[table.name], weights]);
      checkGradients(() => tf.sum(tf.square(gatherRows(table, ids))) as tf.Scalar, [table]);
      tf.dispose([table, ids]);
    });

    it("keeps its ids for the backward pass even when they were created and disposed inside the loss", async () => {
      const table = tf.variable(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      );
      await assertNoLeak(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.tidy(() => tf.sum(gatherRows(table, tf.tensor1d([1, 1], "int32"))) as tf.Scalar),
          [table],
        );
        assert.deepEqual(Array.from(grads[table.name].dataSync()), [0, 0, 2, 2]);
        tf.dispose([value, grads[table.name]]);
      });
      table.dispose();
    });
  });
});
