import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { gelu, geluTanh, PositionwiseFeedForward } from "../../src/nn/feedForward";
import { checkGradients, disposeOutput, normalTensor, randomizeWeights, take, variablesOf } from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

// Φ, the standard normal CDF, at −2, −1, 0, 1, 2 (from tables).
const PHI: Record<number, number> = {
  [-2]: 0.022750131948179,
  [-1]: 0.158655253931457,
  0: 0.5,
  1: 0.841344746068543,
  2: 0.977249868051821,
};

// erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7), independent of tf.erf.
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-x * x));
}

function tfjsActivation(name: string, x: tf.Tensor): Float32Array {
  // tfjs-layers 4.22 registers "gelu" (erf form) and "gelu_new" (tanh form); its typings do not list them.
  return take(tf.layers.activation({ activation: name as "relu" }).apply(x) as tf.Tensor);
}

describe("nn/feedForward", () => {
  before(async () => {
    await initBackend();
  });

  it("computes GELU(x) = x·Φ(x) exactly, and the tanh approximation within 5e-4 of it", () => {
    const points = [-2, -1, 0, 1, 2];
    const x = tf.tensor1d(points);
    assertClose(
      take(gelu(x)),
      points.map((v) => v * PHI[v]),
      { atol: 1e-6, rtol: 1e-4 },
    );
    const approx = take(geluTanh(x));
    assertClose(
      approx,
      points.map((v) => v * PHI[v]),
      { atol: 5e-4, rtol: 0 },
    );
    assert.ok(Math.abs(approx[3] - 0.841344746) > 1e-5, "the approximation is not the exact form");
    const grid = tf.linspace(-6, 6, 1201);
    const gap = take(tf.max(tf.abs(tf.sub(gelu(grid), geluTanh(grid)))));
    assert.ok(gap[0] < 5e-4 && gap[0] > 1e-5, `max gap ${gap[0]}`);
    // tfjs's own activations agree: "gelu" is the erf form, "gelu_new" the tanh form.
    assertClose(take(gelu(grid)), tfjsActivation("gelu", grid), { atol: 1e-6, rtol: 1e-4 });
    assertClose(take(geluTanh(grid)), tfjsActivation("gelu_new", grid), { atol: 1e-6, rtol: 1e-4 });
    tf.dispose([x, grid]);
  });

  it("maps [B, T, D] to [B, T, D_out] as act(x·W₁ + b₁)·W₂ + b₂, checked in loops", () => {
    const rng = new Rng(1);
    const x = normalTensor(rng, [2, 3, 4]);
    for (const activation of ["gelu", "geluTanh", "relu"] as const) {
      const layer = new PositionwiseFeedForward({ hiddenDim: 5, outputDim: 3, activation, seed: 1 });
      const out = layer.apply(x) as tf.Tensor;
      assert.deepEqual(out.shape, [2, 3, 3]);
      assert.deepEqual(layer.computeOutputShape([null, 3, 4]), [null, 3, 3]);
      randomizeWeights(layer, rng);
      const [w1, b1, w2, b2] = layer.getWeights().map((w) => w.arraySync()) as [
        number[][],
        number[],
        number[][],
        number[],
      ];
      const act = (v: number) =>
        activation === "relu"
          ? Math.max(0, v)
          : activation === "gelu"
            ? 0.5 * v * (1 + erf(v / Math.SQRT2))
            : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const rows = (x.arraySync() as number[][][]).flat();
      const expected = rows.flatMap((row) => {
        const hidden = b1.map((b, j) => act(b + row.reduce((s, v, i) => s + v * w1[i][j], 0)));
        return b2.map((b, k) => b + hidden.reduce((s, h, j) => s + h * w2[j][k], 0));
      });
      assertClose(take(layer.apply(x) as tf.Tensor), expected, { atol: 1e-4, rtol: 1e-4 }, activation);
      out.dispose();
    }
    x.dispose();
  });

  it("treats each position alone: changing one position changes only its output", () => {
    const rng = new Rng(2);
    const x = normalTensor(rng, [1, 4, 3]);
    const layer = new PositionwiseFeedForward({ hiddenDim: 6, seed: 2 });
    const base = take(layer.apply(x) as tf.Tensor);
    const changed = tf.add(
      x,
      tf
        .oneHot(tf.tensor1d([2], "int32"), 4)
        .reshape([1, 4, 1])
        .mul(5),
    );
    const out = take(layer.apply(changed) as tf.Tensor);
    assertClose(out.subarray(0, 6), base.subarray(0, 6), { atol: 1e-6, rtol: 1e-4 });
    assertClose(out.subarray(9), base.subarray(9), { atol: 1e-6, rtol: 1e-4 });
    assert.notDeepEqual(Array.from(out.subarray(6, 9)), Array.from(base.subarray(6, 9)));
    tf.dispose([x, changed]);
  });

  it("has gradients that match central differences w.r.t. its input and weights, for each activation", () => {
    const rng = new Rng(3);
    for (const activation of ["gelu", "geluTanh"] as const) {
      const layer = new PositionwiseFeedForward({ hiddenDim: 4, activation, seed: 3 });
      const x = tf.variable(normalTensor(rng, [1, 2, 3]), true, `ffn_grad_x_${activation}`);
      const projection = normalTensor(rng, [1, 2, 3]);
      disposeOutput(layer.apply(x));
      randomizeWeights(layer, rng);
      checkGradients(
        () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, projection)) as tf.Scalar,
        [x, ...variablesOf(layer)],
        { perVariable: 6 },
      );
      tf.dispose([x, projection]);
    }
  });

  it("lowers a loss in one Adam step and round-trips its config", () => {
    const rng = new Rng(4);
    const layer = new PositionwiseFeedForward({ hiddenDim: 8, activation: "relu", useBias: false, seed: 4 });
    const x = normalTensor(rng, [4, 3, 4]);
    const target = normalTensor(rng, [4, 3, 4]);
    const loss = () => tf.losses.meanSquaredError(target, layer.apply(x) as tf.Tensor) as tf.Scalar;
    const optimizer = tf.train.adam(0.01);
    const before = take(loss());
    optimizer.minimize(loss, false, variablesOf(layer));
    assert.ok(take(loss())[0] < before[0]);
    assert.equal(layer.getWeights().length, 2);
    const config = layer.getConfig();
    assert.deepEqual(
      (PositionwiseFeedForward.fromConfig(PositionwiseFeedForward, config) as PositionwiseFeedForward).getConfig(),
      config,
    );
    assert.throws(
      () => new PositionwiseFeedForward({ hiddenDim: 4, activation: "tanh" as never, seed: 1 }),
      /activation must be one of "gelu", "geluTanh", "relu"/,
    );
    optimizer.dispose();
    tf.dispose([x, target]);
  });

  it("leaks no tensors", async () => {
    const rng = new Rng(5);
    const layer = new PositionwiseFeedForward({ hiddenDim: 4, seed: 5 });
    const x = normalTensor(rng, [2, 2, 3]);
    disposeOutput(layer.apply(x));
    await assertNoLeak(() => {
      disposeOutput(layer.apply(x));
      tf.dispose([gelu(x), geluTanh(x)]);
    });
    x.dispose();
  });
});
