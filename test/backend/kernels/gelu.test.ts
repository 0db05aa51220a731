import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { GELU, GELU_GRAD } from "../../../src/backend/kernels/gelu";
import { Rng } from "../../../src/backend/random";
import { gelu } from "../../../src/nn/feedForward";
import { resultOn, useWasmTrainingKernels, assertRegisteredForWasmOnly } from "./support";
import { assertClose } from "../../support/assertions";

// The kernel's erf is Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5e-7) in float32.
const TOLERANCE = 2e-6;

// Sizes 1..9 cover every n mod 4 tail with and without a vector part; the large ones both, at scale.
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 3001, 4099];
const SPECIAL = [0, -0, 10, -10, 50, -50, 100, -100, 1e-30, -6, 6];

/** Seeded N(0, 3²) draws with every third element replaced by a special value, cycling from `size`. */
function inputs(rng: Rng, size: number): Float32Array {
  const x = Float32Array.from({ length: size }, () => rng.normal(0, 3));
  for (let i = 0; i < size; i += 3) x[i] = SPECIAL[(size + i / 3) % SPECIAL.length];
  return x;
}

/** erf in float64 to ~1e-15: (2/√π)·e^(−x²)·Σ 2ⁿ·x^(2n+1)/(1·3···(2n+1)), all terms positive. */
function erf64(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x); // erfc(6) ≈ 2e-17
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** The exact GELU in float64. */
function gelu64(x: number): number {
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

/** GELU'(x) by central differences of gelu64. */
function geluSlope64(x: number): number {
  const h = 1e-4;
  return (gelu64(x + h) - gelu64(x - h)) / (2 * h);
}

describe("RecsysGelu kernels on the wasm backend", () => {
  useWasmTrainingKernels();

  it("are registered for wasm only, with a gradient", () => {
    assertRegisteredForWasmOnly(GELU, GELU_GRAD);
    assert.ok(tf.getGradient(GELU));
  });

  it("float64 reference: erf64 and gelu64 pass hand-checked values", () => {
    // erf(0.5) and erf(1) from tables (DLMF 7.2); GELU(1) = Φ(1) = 0.841344746...
    assert.ok(Math.abs(erf64(0.5) - 0.5204998778130465) < 1e-15);
    assert.ok(Math.abs(erf64(1) - 0.8427007929497149) < 1e-15);
    assert.ok(Math.abs(erf64(-2) + 0.9953222650189527) < 1e-15);
    assert.ok(Math.abs(gelu64(1) - 0.8413447460685429) < 1e-15);
  });

  it("is what gelu() runs on wasm, in place of the composed Erf", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor1d([-1, 0, 2]);
    const { kernelNames } = await tf.profile(() => gelu(x));
    assert.ok(kernelNames.includes(GELU), `ran ${kernelNames}`);
    assert.ok(!kernelNames.includes("Erf"), `ran ${kernelNames}`);
    x.dispose();
  });

  it("matches the cpu backend's composed GELU and the exact float64 one, tails and large |x| included", async () => {
    const rng = new Rng(11);
    for (const size of SIZES) {
      const x = inputs(rng, size);
      const actual = await resultOn("wasm", () => tf.engine().runKernel(GELU, { x: tf.tensor1d(x) }) as tf.Tensor);
      const onCpu = await resultOn("cpu", () => gelu(tf.tensor1d(x)));
      assert.deepEqual([actual.shape, actual.dtype], [[size], "float32"]);
      assertClose(actual.values, onCpu.values, { atol: TOLERANCE, rtol: TOLERANCE }, `GELU vs cpu, size ${size}`);
      assertClose(
        actual.values,
        Array.from(x, gelu64),
        { atol: TOLERANCE, rtol: TOLERANCE },
        `GELU vs float64, size ${size}`,
      );
    }
  });

  it("keeps the sign of zero and the shape of its input", async () => {
    const [zero, negativeZero] = (await resultOn("wasm", () => gelu(tf.tensor1d([0, -0])))).values;
    assert.ok(Object.is(zero, 0) && Object.is(negativeZero, -0), `GELU(±0) = ${zero}, ${negativeZero}`);
    const result = await resultOn("wasm", () => gelu(tf.ones([2, 3, 1])));
    assert.deepEqual(result.shape, [2, 3, 1]);
  });

  it("gives the gradient of the cpu backend's composition and of central differences in float64", async () => {
    const rng = new Rng(12);
    for (const size of SIZES) {
      const x = inputs(rng, size);
      const dy = Float32Array.from({ length: size }, () => rng.normal());
      const grad = () => tf.grad((t: tf.Tensor) => gelu(t))(tf.tensor1d(x), tf.tensor1d(dy));
      const actual = await resultOn("wasm", grad);
      const onCpu = await resultOn("cpu", grad);
      assertClose(
        actual.values,
        onCpu.values,
        { atol: TOLERANCE, rtol: TOLERANCE },
        `GELU' vs cpu autodiff, size ${size}`,
      );
      const numerical = Array.from(x, (xi, i) => dy[i] * geluSlope64(xi));
      assertClose(
        actual.values,
        numerical,
        { atol: TOLERANCE, rtol: TOLERANCE },
        `GELU' vs central differences, size ${size}`,
      );
    }
  });

  it("its gradient kernel is GELU'(x)·dy at hand-checked points", async () => {
    // GELU'(0) = ½; GELU'(1) = Φ(1) + φ(1) = 0.841344746 + 0.241970725; GELU'(±100) = 1, 0.
    const dx = await resultOn(
      "wasm",
      () =>
        tf.engine().runKernel(GELU_GRAD, {
          x: tf.tensor1d([0, 1, 100, -100, 1]),
          dy: tf.tensor1d([2, 1, 3, 3, -1]),
        }) as tf.Tensor,
    );
    assertClose(
      dx.values,
      [1, 1.0833154705876864, 3, 0, -1.0833154705876864],
      { atol: TOLERANCE, rtol: TOLERANCE },
      "GELU'·dy",
    );
  });

  it("propagates NaN forward and backward, lane by lane", async () => {
    const x = [1, NaN, -2, 0.5, NaN]; // a NaN in the vector part and in the tail
    const y = await resultOn("wasm", () => gelu(tf.tensor1d(x)));
    const dx = await resultOn("wasm", () => tf.grad((t: tf.Tensor) => gelu(t))(tf.tensor1d(x)));
    for (const [name, values] of [
      ["GELU", y.values],
      ["GELU'", dx.values],
    ] as const) {
      assert.deepEqual(values.map(Number.isNaN), [false, true, false, false, true], `${name}: ${values}`);
    }
    const fromDy = await resultOn(
      "wasm",
      () => tf.engine().runKernel(GELU_GRAD, { x: tf.tensor1d([1, 2]), dy: tf.tensor1d([NaN, 1]) }) as tf.Tensor,
    );
    assert.deepEqual(fromDy.values.map(Number.isNaN), [true, false]);
  });

  it("rejects int32 tensors and mismatched shapes, leaving no output behind", async () => {
    await tf.setBackend("wasm");
    const ints = tf.tensor1d([1, 2, 3], "int32");
    const floats = tf.tensor1d([1, 2, 3]);
    const pair = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    assert.throws(() => tf.engine().runKernel(GELU, { x: ints }), /RecsysGelu: x must be a float32 tensor, got int32/);
    assert.throws(
      () => tf.engine().runKernel(GELU_GRAD, { x: floats, dy: ints }),
      /RecsysGeluGrad: dy must be a float32 tensor, got int32/,
    );
    assert.throws(
      () => tf.engine().runKernel(GELU_GRAD, { x: ints, dy: floats }),
      /RecsysGeluGrad: x must be a float32 tensor, got int32/,
    );
    assert.throws(
      () => tf.engine().runKernel(GELU_GRAD, { x: floats, dy: pair }),
      /RecsysGeluGrad: x \[3\] and dy \[2\] differ in shape/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([ints, floats, pair]);
  });

  it("leaves no tensor or byte behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor2d([
      [-1, 0.5, 2],
      [3, -4, 0],
    ]);
    const before = tf.memory();
    tf.tidy(() => {
      gelu(x);
      tf.grad((t: tf.Tensor) => gelu(t))(x);
    });
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
