import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { LAYER_NORM, LAYER_NORM_GRAD } from "../../../src/backend/kernels/layerNorm";
import { Rng } from "../../../src/backend/random";
import { LayerNormalization } from "../../../src/nn/layerNorm";
import { resultOn, resultsOn, useWasmTrainingKernels, assertRegisteredForWasmOnly } from "./support";
import { assertClose } from "../../support/assertions";

// Widths 1..8 cover every width mod 4 with and without a vector part; 64 and 67 the same at scale.
const WIDTHS = [1, 3, 4, 5, 8, 64, 67];
// Leading shapes: one row, a few, and a rank-3 batch [B, T].
const LEADING = [[1], [2], [7], [2, 3]];
const EPSILONS = [1e-5, 1e-12];

/** Inputs, weights and a loss weighting for one case, all seeded. */
interface Case {
  shape: number[];
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  /** Weights w of the loss Σ w ⊙ LN(x). */
  w: Float32Array;
}

function normals(rng: Rng, size: number, mean = 0, std = 1): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal(mean, std));
}

function makeCase(rng: Rng, shape: number[], offset = 0, std = 2): Case {
  const size = tf.util.sizeFromShape(shape);
  const width = shape[shape.length - 1];
  return {
    shape,
    x: normals(rng, size, offset, std),
    gamma: normals(rng, width, 1, 0.5),
    beta: normals(rng, width),
    w: normals(rng, size),
  };
}

/** LN(x) in float64 from the float32 inputs: two-pass mean and biased variance per row. */
function layerNorm64(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
): Float64Array {
  const width = gamma.length;
  const y = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += width) {
    let mean = 0;
    for (let j = 0; j < width; j++) mean += x[start + j];
    mean /= width;
    let variance = 0;
    for (let j = 0; j < width; j++) variance += (x[start + j] - mean) ** 2;
    variance /= width;
    const scale = 1 / Math.sqrt(variance + epsilon);
    for (let j = 0; j < width; j++) y[start + j] = gamma[j] * (x[start + j] - mean) * scale + beta[j];
  }
  return y;
}

/** Σ w ⊙ LN(x) in float64. */
function loss64(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  w: ArrayLike<number>,
  epsilon: number,
): number {
  return layerNorm64(x, gamma, beta, epsilon).reduce((sum, y, i) => sum + w[i] * y, 0);
}

/** Gradients of Σ w ⊙ LN(x) w.r.t. x, γ and β by central differences of the float64 loss. */
function numericalGradients(c: Case, epsilon: number): [Float64Array, Float64Array, Float64Array] {
  const width = c.gamma.length;
  const x = Float64Array.from(c.x);
  const gamma = Float64Array.from(c.gamma);
  const beta = Float64Array.from(c.beta);
  // The loss is a sum over rows: an element of x moves only its own row's term.
  const dx = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += width) {
    const row = x.slice(start, start + width);
    const w = c.w.subarray(start, start + width);
    for (let j = 0; j < width; j++) {
      const h = 1e-4 * Math.max(1, Math.abs(row[j]) / 100);
      const v = row[j];
      row[j] = v + h;
      const up = loss64(row, gamma, beta, w, epsilon);
      row[j] = v - h;
      const down = loss64(row, gamma, beta, w, epsilon);
      row[j] = v;
      dx[start + j] = (up - down) / (2 * h);
    }
  }
  const partials = (params: Float64Array): Float64Array =>
    params.map((v, j) => {
      const h = 1e-3;
      params[j] = v + h;
      const up = loss64(x, gamma, beta, c.w, epsilon);
      params[j] = v - h;
      const down = loss64(x, gamma, beta, c.w, epsilon);
      params[j] = v;
      return (up - down) / (2 * h);
    });
  return [dx, partials(gamma), partials(beta)];
}

/** A LayerNormalization built for `shape` with the case's γ and β; the caller disposes it. */
function layerWith(c: Case, epsilon: number): LayerNormalization {
  const layer = new LayerNormalization({ epsilon });
  tf.tidy(() => {
    layer.apply(tf.zeros(c.shape)); // builds the weights
    layer.setWeights([tf.tensor1d(c.gamma), tf.tensor1d(c.beta)]);
  });
  return layer;
}

/** LN(x) through the layer on the current backend. */
function forward(c: Case, epsilon: number): tf.Tensor {
  const layer = layerWith(c, epsilon);
  const y = layer.apply(tf.tensor(c.x, c.shape)) as tf.Tensor;
  layer.dispose();
  return y;
}

/** [dx, dγ, dβ] of Σ w ⊙ LN(x): dx by tf.grad, the parameters by tf.variableGrads on the layer's weights. */
function gradients(c: Case, epsilon: number): tf.Tensor[] {
  const layer = layerWith(c, epsilon);
  const x = tf.tensor(c.x, c.shape);
  const w = tf.tensor(c.w, c.shape);
  const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, w)) as tf.Scalar;
  const dx = tf.grad(loss)(x);
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => loss(x), [gamma, beta]);
  const result = [dx, grads[gamma.name], grads[beta.name]];
  layer.dispose();
  return result;
}

function runLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { epsilon }) as tf.Tensor;
}

function runLayerNormGrad(x: tf.Tensor, gamma: tf.Tensor, dy: tf.Tensor, epsilon = 1e-5): tf.Tensor[] {
  return tf.engine().runKernel(LAYER_NORM_GRAD, { x, gamma, dy }, { epsilon }) as tf.Tensor[];
}

const label = (c: Case, epsilon: number) => `[${c.shape}], ε ${epsilon}`;

describe("RecsysLayerNorm kernels on the wasm backend", () => {
  useWasmTrainingKernels();

  it("are registered for wasm only", () => {
    assertRegisteredForWasmOnly(LAYER_NORM, LAYER_NORM_GRAD);
  });

  it("float64 reference: layerNorm64 passes a hand-checked row", () => {
    // [0, 0, 0, 0, 10]: mean 2, variance (4·4 + 64)/5 = 16, x̂ = [−½, −½, −½, −½, 2].
    const y = layerNorm64([0, 0, 0, 0, 10], [1, 2, 3, 4, 5], [1, 1, 1, 1, 1], 0);
    assert.deepEqual(Array.from(y), [0.5, 0, -0.5, -1, 11]);
  });

  it("is what LayerNormalization runs on wasm, one kernel each way", async () => {
    await tf.setBackend("wasm");
    const c = makeCase(new Rng(1), [2, 3, 5]);
    const layer = layerWith(c, 1e-5);
    const x = tf.tensor(c.x, c.shape);
    const { kernelNames: forwardKernels } = await tf.profile(() => layer.apply(x) as tf.Tensor);
    // tf.customGrad's wrapper shows up as a kernel without a name.
    assert.deepEqual(
      forwardKernels.filter((name) => name !== ""),
      [LAYER_NORM],
    );
    const { kernelNames: backwardKernels } = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x),
    );
    assert.ok(backwardKernels.includes(LAYER_NORM_GRAD), `ran ${backwardKernels}`);
    assert.ok(!backwardKernels.includes("Rsqrt") && !backwardKernels.includes("Mean"), `ran ${backwardKernels}`);
    layer.dispose();
    x.dispose();
  });

  it("normalises hand-checked rows: the vector part, the tail, and both", async () => {
    // Row [0, 0, 0, 0, 10]: mean 2, variance 16, x̂ = [−½, −½, −½, −½, 2] (vector part and a tail of 1).
    // Row [1, 3]: mean 2, variance 1, x̂ = [−1, 1] (tail only).
    const epsilon = 1e-12;
    const y5 = await resultOn("wasm", () =>
      runLayerNorm(
        tf.tensor2d([0, 0, 0, 0, 10], [1, 5]),
        tf.tensor1d([1, 2, 3, 4, 5]),
        tf.tensor1d([1, 1, 1, 1, 1]),
        epsilon,
      ),
    );
    assertClose(y5.values, [0.5, 0, -0.5, -1, 11], { atol: 1e-6, rtol: 1e-6 }, "width 5");
    const y2 = await resultOn("wasm", () =>
      runLayerNorm(tf.tensor2d([1, 3, 10, 14], [2, 2]), tf.tensor1d([2, -1]), tf.tensor1d([0, 0.5]), epsilon),
    );
    // Row [10, 14]: mean 12, variance 4, x̂ = [−1, 1].
    assertClose(y2.values, [-2, -0.5, -2, -0.5], { atol: 1e-6, rtol: 1e-6 }, "width 2");
    // ε enters under the root: [−1, 1] / √(1 + ε) with ε = 0.25.
    const y = await resultOn("wasm", () =>
      runLayerNorm(tf.tensor2d([1, 3], [1, 2]), tf.ones([2]), tf.zeros([2]), 0.25),
    );
    assertClose(y.values, [-1 / Math.sqrt(1.25), 1 / Math.sqrt(1.25)], { atol: 1e-6, rtol: 1e-6 }, "ε = 0.25");
  });

  it("matches the cpu backend's composed layer norm and float64, every width mod 4, rank 2 and 3", async () => {
    const rng = new Rng(2);
    for (const width of WIDTHS) {
      for (const leading of LEADING) {
        for (const epsilon of EPSILONS) {
          const c = makeCase(rng, [...leading, width]);
          const actual = await resultOn("wasm", () => forward(c, epsilon));
          const onCpu = await resultOn("cpu", () => forward(c, epsilon));
          assert.deepEqual([actual.shape, actual.dtype], [c.shape, "float32"]);
          assertClose(actual.values, onCpu.values, { atol: 1e-5, rtol: 1e-5 }, `LN vs cpu, ${label(c, epsilon)}`);
          assertClose(
            actual.values,
            layerNorm64(c.x, c.gamma, c.beta, epsilon),
            { atol: 1e-5, rtol: 1e-5 },
            `LN vs float64, ${label(c, epsilon)}`,
          );
        }
      }
    }
  });

  it("width 1: every row is constant, so the output is β", async () => {
    const c = makeCase(new Rng(3), [6, 1]);
    for (const epsilon of EPSILONS) {
      const y = await resultOn("wasm", () => forward(c, epsilon));
      assert.deepEqual(y.values, new Array(6).fill(c.beta[0]), `ε ${epsilon}`);
    }
  });

  it("centres before squaring: rows of 1000 + N(0, 1) normalise as in float64", async () => {
    // A one-pass variance E[x²] − E[x]² would lose all of σ² = 1 to the rounding of E[x²] ≈ 10⁶ in float32.
    const rng = new Rng(4);
    for (const width of [3, 5, 8, 64, 67]) {
      for (const epsilon of EPSILONS) {
        const c = makeCase(rng, [4, width], 1000, 1);
        const actual = await resultOn("wasm", () => forward(c, epsilon));
        assertClose(
          actual.values,
          layerNorm64(c.x, c.gamma, c.beta, epsilon),
          { atol: 1e-3, rtol: 1e-3 },
          `LN vs float64, ${label(c, epsilon)}`,
        );
      }
    }
  });

  it("gives β for constant rows of 0 and of powers of two", async () => {
    // These sums are exact in float32, so the mean is the constant and x − μ = 0 exactly.
    const rng = new Rng(5);
    for (const width of [2, 4, 8, 64]) {
      for (const value of [0, 1, -0.5, 1024]) {
        const gamma = normals(rng, width, 1, 0.5);
        const beta = normals(rng, width);
        for (const epsilon of EPSILONS) {
          const y = await resultOn("wasm", () =>
            runLayerNorm(tf.fill([3, width], value), tf.tensor1d(gamma), tf.tensor1d(beta), epsilon),
          );
          assert.deepEqual(y.values, [...beta, ...beta, ...beta], `value ${value}, width ${width}, ε ${epsilon}`);
        }
      }
    }
  });

  it("gives β for constant rows of any value and width (variance 0)", async () => {
    // The float64 reference gives β exactly; a mean rounded away from the constant makes x − μ a
    // common nonzero error that x̂ = (x − μ)/√(σ² + ε) blows up to ±1 when ε is small.
    const rng = new Rng(6);
    for (const width of [3, 5, 7, 64, 67]) {
      for (const value of [0.1, -3.7, 1000.1]) {
        const gamma = normals(rng, width, 1, 0.5);
        const beta = normals(rng, width);
        for (const epsilon of EPSILONS) {
          const y = await resultOn("wasm", () =>
            runLayerNorm(tf.fill([3, width], value), tf.tensor1d(gamma), tf.tensor1d(beta), epsilon),
          );
          assertClose(
            y.values,
            [...beta, ...beta, ...beta],
            { atol: 1e-4, rtol: 1e-4 },
            `y, value ${value}, width ${width}, ε ${epsilon}`,
          );
          // x̂ = 0, so dγ = Σ dy ⊙ x̂ = 0 whatever dy.
          const [, params] = await resultsOn("wasm", () =>
            runLayerNormGrad(
              tf.fill([3, width], value),
              tf.tensor1d(gamma),
              tf.tensor(normals(rng, 3 * width), [3, width]),
              epsilon,
            ),
          );
          assertClose(
            params.values.slice(0, width),
            new Array(width).fill(0),
            { atol: 1e-4, rtol: 1e-4 },
            `dγ, value ${value}, width ${width}, ε ${epsilon}`,
          );
        }
      }
    }
  });

  it("gives the gradients w.r.t. x, γ and β of cpu autodiff and of central differences in float64", async () => {
    const rng = new Rng(7);
    for (const width of WIDTHS) {
      for (const leading of [[2], [2, 3]]) {
        for (const epsilon of EPSILONS) {
          const c = makeCase(rng, [...leading, width]);
          const actual = await resultsOn("wasm", () => gradients(c, epsilon));
          const onCpu = await resultsOn("cpu", () => gradients(c, epsilon));
          const numerical = numericalGradients(c, epsilon);
          ["dx", "dγ", "dβ"].forEach((name, i) => {
            assert.deepEqual(actual[i].shape, i === 0 ? c.shape : [width], `${name} shape`);
            assertClose(
              actual[i].values,
              onCpu[i].values,
              { atol: 1e-4, rtol: 1e-4 },
              `${name} vs cpu, ${label(c, epsilon)}`,
            );
            assertClose(
              actual[i].values,
              numerical[i],
              { atol: 1e-4, rtol: 1e-4 },
              `${name} vs central differences, ${label(c, epsilon)}`,
            );
          });
        }
      }
    }
  });

  it("crosses many rows: [3, 50, 64] forward and backward, and the large offset backward", async () => {
    const rng = new Rng(8);
    for (const [c, tolerance] of [
      [makeCase(rng, [3, 50, 64]), 1e-4],
      [makeCase(rng, [2, 9, 67], 1000, 1), 1e-3],
    ] as const) {
      const epsilon = 1e-5;
      const y = await resultOn("wasm", () => forward(c, epsilon));
      assertClose(
        y.values,
        await resultOn("cpu", () => forward(c, epsilon)).then((r) => r.values),
        { atol: tolerance, rtol: tolerance },
        `LN vs cpu, ${label(c, epsilon)}`,
      );
      assertClose(
        y.values,
        layerNorm64(c.x, c.gamma, c.beta, epsilon),
        { atol: tolerance, rtol: tolerance },
        `LN vs float64, ${label(c, epsilon)}`,
      );
      const actual = await resultsOn("wasm", () => gradients(c, epsilon));
      const onCpu = await resultsOn("cpu", () => gradients(c, epsilon));
      const numerical = numericalGradients(c, epsilon);
      ["dx", "dγ", "dβ"].forEach((name, i) => {
        assertClose(
          actual[i].values,
          onCpu[i].values,
          { atol: tolerance, rtol: tolerance },
          `${name} vs cpu, ${label(c, epsilon)}`,
        );
        assertClose(
          actual[i].values,
          numerical[i],
          { atol: tolerance, rtol: tolerance },
          `${name} vs central differences, ${label(c, epsilon)}`,
        );
      });
    }
  });

  it("its gradient kernel returns dx and [dγ; dβ] = [Σ dy ⊙ x̂; Σ dy] on a hand-checked example", async () => {
    // Rows [1, 3] and [10, 14] both have x̂ = [−1, 1] (ε → 0). A row of width 2 normalises to ±1
    // whatever its values, so dx = 0; with dy = [1, 0] and [0, 3], dγ = [−1, 0] + [0, 3] = [−1, 3]
    // and dβ = [1, 3].
    const [dx, params] = await resultsOn("wasm", () =>
      runLayerNormGrad(
        tf.tensor2d([1, 3, 10, 14], [2, 2]),
        tf.tensor1d([2, -1]),
        tf.tensor2d([1, 0, 0, 3], [2, 2]),
        1e-12,
      ),
    );
    assert.deepEqual(
      [dx.shape, params.shape],
      [
        [2, 2],
        [2, 2],
      ],
    );
    assertClose(params.values, [-1, 3, 1, 3], { atol: 1e-6, rtol: 1e-6 }, "[dγ; dβ]");
    assertClose(dx.values, [0, 0, 0, 0], { atol: 1e-6, rtol: 1e-6 }, "dx");
    // Width 3, γ = 1, ε → 0: x = [0, 1, 2] has μ = 1, σ² = 2/3, r = √1.5, x̂ = [−1, 0, 1]·√1.5. For
    // dy = [1, 0, 0]: mean g = ⅓, mean(g x̂) = −√1.5/3, dx = r·([1, 0, 0] − ⅓ + x̂·√1.5/3)
    // = √1.5·([⅔, −⅓, −⅓] + [−½, 0, ½]) = √1.5·[⅙, −⅓, ⅙].
    const [dx3] = await resultsOn("wasm", () =>
      runLayerNormGrad(tf.tensor2d([0, 1, 2], [1, 3]), tf.ones([3]), tf.tensor2d([1, 0, 0], [1, 3]), 1e-12),
    );
    const r = Math.sqrt(1.5);
    assertClose(dx3.values, [r / 6, -r / 3, r / 6], { atol: 1e-6, rtol: 1e-6 }, "dx, width 3");
  });

  it("rejects a γ or β of the wrong length, int32 inputs and a dy of another shape, leaving nothing behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([2, 4]);
    const four = tf.ones([4]);
    const three = tf.ones([3]);
    const ints = tf.ones([2, 4], "int32");
    const dy = tf.ones([4, 2]);
    const before = tf.memory();
    assert.throws(() => runLayerNorm(x, three, four), /RecsysLayerNorm: gamma must be \[4\], got \[3\]/);
    assert.throws(() => runLayerNorm(x, four, three), /RecsysLayerNorm: beta must be \[4\], got \[3\]/);
    assert.throws(() => runLayerNorm(ints, four, four), /RecsysLayerNorm: x must be a float32 tensor, got int32/);
    assert.throws(() => runLayerNormGrad(x, three, x), /RecsysLayerNormGrad: gamma must be \[4\], got \[3\]/);
    assert.throws(() => runLayerNormGrad(x, four, ints), /RecsysLayerNormGrad: dy must be a float32 tensor, got int32/);
    assert.throws(() => runLayerNormGrad(x, four, dy), /RecsysLayerNormGrad: x \[2,4\] and dy \[4,2\] differ in shape/);
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numDataBuffers, before.numDataBuffers);
    tf.dispose([x, four, three, ints, dy]);
  });

  it("leaves no tensor, buffer or byte behind, forward and backward", async () => {
    await tf.setBackend("wasm");
    const c = makeCase(new Rng(9), [3, 4, 67]);
    const layer = layerWith(c, 1e-5);
    const x = tf.tensor(c.x, c.shape);
    const before = tf.memory();
    tf.tidy(() => {
      layer.apply(x);
      tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x);
      tf.variableGrads(
        () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar,
        layer.trainableWeights.map((v) => v.read() as tf.Variable),
      );
    });
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numDataBuffers, before.numDataBuffers); // the kernel's float64 scratch included
    assert.equal(after.numBytes, before.numBytes);
    layer.dispose();
    x.dispose();
  });
});
