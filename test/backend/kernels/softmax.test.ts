import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { SOFTMAX, SOFTMAX_GRAD } from "../../../src/backend/kernels/softmax";
import { Rng } from "../../../src/backend/random";
import { lengthMask, MASK_FILL, scaledDotProductAttention } from "../../../src/nn/attention";
import { resultOn, resultsOn, useWasmTrainingKernels, assertRegisteredForWasmOnly } from "./support";
import { assertClose } from "../../support/assertions";

// Sizes 1..9 cover every size mod 4 with and without a vector part; 200 and 1684 (a catalogue's
// worth of keys, 1684 ≡ 0 mod 4 and 200 likewise, 1684 = 4·421) both parts at scale.
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 200, 1684];
// Leading shapes of ranks 2, 3 and 4, each with at least three rows.
const LEADING = [[3], [2, 2], [2, 1, 3]];

/** The kernel, run directly. */
function softmaxKernel(logits: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(SOFTMAX, { logits }) as tf.Tensor;
}

/**
 * Seeded logits [...leading, n]: N(0, 3²) with a fifth of the entries masked to MASK_FILL, except
 * row 1, all masked (a padding query), and row 2, 1e4 + N(0, 3²) unmasked (exp would overflow
 * without the row maximum subtracted).
 */
function logitsFor(rng: Rng, shape: number[]): Float32Array {
  const n = shape[shape.length - 1];
  const z = new Float32Array(tf.util.sizeFromShape(shape));
  for (let i = 0; i < z.length; i++) {
    const row = Math.floor(i / n);
    if (row === 1) z[i] = MASK_FILL;
    else if (row === 2) z[i] = 1e4 + rng.normal(0, 3);
    else z[i] = rng.next() < 0.2 ? MASK_FILL : rng.normal(0, 3);
  }
  return z;
}

/** softmax over rows of n in float64 from the float32 logits. */
function softmax64(z: ArrayLike<number>, n: number): Float64Array {
  const p = new Float64Array(z.length);
  for (let start = 0; start < z.length; start += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, z[start + j]);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += p[start + j] = Math.exp(z[start + j] - max);
    for (let j = 0; j < n; j++) p[start + j] /= sum;
  }
  return p;
}

/** ∂/∂z of Σ w ⊙ softmax(z) by central differences of the float64 softmax, row by row. */
function numericalGradient(z: Float32Array, w: Float32Array, n: number): Float64Array {
  const dz = new Float64Array(z.length);
  const h = 1e-4;
  for (let start = 0; start < z.length; start += n) {
    const row = Float64Array.from(z.subarray(start, start + n));
    const weights = w.subarray(start, start + n);
    const loss = () => softmax64(row, n).reduce((sum, p, j) => sum + weights[j] * p, 0);
    for (let j = 0; j < n; j++) {
      // Divides by the step as stored: around −1e9 a float64 holds v ± h only to ~1e-7.
      const [v, above, below] = [row[j], row[j] + h, row[j] - h];
      row[j] = above;
      const up = loss();
      row[j] = below;
      const down = loss();
      row[j] = v;
      dz[start + j] = (up - down) / (above - below);
    }
  }
  return dz;
}

/** ∂/∂z of Σ w ⊙ softmax(z) by autodiff through `softmax`. */
function gradientThrough(
  softmax: (z: tf.Tensor) => tf.Tensor,
  z: Float32Array,
  w: Float32Array,
  shape: number[],
): tf.Tensor {
  const weights = tf.tensor(w, shape);
  return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(softmax(t), weights)))(tf.tensor(z, shape));
}

/** Seeded N(0, 1) tensor data. */
function normals(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal());
}

describe("RecsysSoftmax kernels on the wasm backend", () => {
  useWasmTrainingKernels();

  it("are registered for wasm only, with a gradient", () => {
    assertRegisteredForWasmOnly(SOFTMAX, SOFTMAX_GRAD);
    assert.ok(tf.getGradient(SOFTMAX));
  });

  it("float64 reference: softmax64 passes hand-checked rows", () => {
    assertClose(
      softmax64([0, Math.log(3), 5, 5], 2),
      [0.25, 0.75, 0.5, 0.5],
      { atol: 1e-15, rtol: 1e-15 },
      "softmax64",
    );
  });

  it("computes hand-checked rows: ¼ ¾, thirds, a masked key, large logits", async () => {
    const y = await resultOn("wasm", () => softmaxKernel(tf.tensor1d([0, Math.log(3)])));
    assertClose(y.values, [0.25, 0.75], { atol: 1e-6, rtol: 1e-6 }, "[0, ln 3]");
    const thirds = await resultOn("wasm", () => softmaxKernel(tf.fill([2, 3], 7)));
    assertClose(thirds.values, new Array(6).fill(1 / 3), { atol: 1e-6, rtol: 1e-6 }, "constant rows");
    const masked = await resultOn("wasm", () => softmaxKernel(tf.tensor2d([[0, MASK_FILL, 0, 0, MASK_FILL]])));
    assert.deepEqual(
      masked.values.map((p) => p === 0),
      [false, true, false, false, true],
    );
    assertClose(masked.values, [1 / 3, 0, 1 / 3, 1 / 3, 0], { atol: 1e-6, rtol: 1e-6 }, "masked");
    // Logits 1e4 + [0, 1, 2] are exact in float32: softmax([0, 1, 2]) = e^j / (1 + e + e²).
    const large = await resultOn("wasm", () => softmaxKernel(tf.tensor1d([1e4, 1e4 + 1, 1e4 + 2])));
    const total = 1 + Math.E + Math.E ** 2;
    assertClose(
      large.values,
      [1 / total, Math.E / total, Math.E ** 2 / total],
      { atol: 1e-6, rtol: 1e-6 },
      "1e4 + [0, 1, 2]",
    );
  });

  it("matches tf.softmax on cpu and in float64 for every size mod 4 and ranks 2 to 4, masks included", async () => {
    const rng = new Rng(21);
    for (const n of SIZES) {
      for (const leading of LEADING) {
        const shape = [...leading, n];
        const z = logitsFor(rng, shape);
        const actual = await resultOn("wasm", () => softmaxKernel(tf.tensor(z, shape)));
        const onCpu = await resultOn("cpu", () => tf.softmax(tf.tensor(z, shape)));
        const what = `[${shape}]`;
        assert.deepEqual([actual.shape, actual.dtype], [shape, "float32"]);
        assertClose(actual.values, onCpu.values, { atol: 1e-6, rtol: 1e-6 }, `softmax vs cpu, ${what}`);
        assertClose(actual.values, softmax64(z, n), { atol: 1e-6, rtol: 1e-6 }, `softmax vs float64, ${what}`);
        for (let start = 0; start < z.length; start += n) {
          const row = actual.values.slice(start, start + n);
          const allMasked = z.subarray(start, start + n).every((v) => v === MASK_FILL);
          assert.ok(row.every(Number.isFinite), `${what}, row ${start / n}: ${row}`);
          assert.ok(
            Math.abs(row.reduce((a, b) => a + b, 0) - 1) <= 1e-5,
            `${what}, row ${start / n} sums to ${row.reduce((a, b) => a + b, 0)}`,
          );
          if (allMasked) {
            assertClose(
              row,
              new Array(n).fill(1 / n),
              { atol: 1e-6, rtol: 1e-6 },
              `${what}: a row of all ${MASK_FILL} is uniform`,
            );
          } else {
            // exp must underflow to exactly 0 at masked keys, not to a tiny weight.
            row.forEach((p, j) => {
              if (z[start + j] === MASK_FILL) assert.equal(p, 0, `${what}, row ${start / n}, masked key ${j}`);
            });
          }
        }
      }
    }
  });

  it("gives NaN rows where cpu does (a NaN or +∞ logit) and 0 for −∞, other rows untouched", async () => {
    const rows = [
      [1, NaN, 2, 3, 4, 5],
      [1, 2, 3, 4, 5, NaN],
      [1, Infinity, 2, 3, 4, 5],
      [-Infinity, 0, 1, 2, 3, 4],
      [1, 2, 3, 4, 5, 6],
    ];
    const actual = await resultOn("wasm", () => softmaxKernel(tf.tensor2d(rows)));
    const onCpu = await resultOn("cpu", () => tf.softmax(tf.tensor2d(rows)));
    assert.deepEqual(actual.values.map(Number.isNaN), onCpu.values.map(Number.isNaN));
    assert.deepEqual(actual.values.map(Number.isNaN), [...new Array(18).fill(true), ...new Array(12).fill(false)]);
    assert.equal(actual.values[18], 0);
    assertClose(actual.values.slice(18), onCpu.values.slice(18), { atol: 1e-6, rtol: 1e-6 }, "finite rows");
  });

  it("keeps rank-1 and empty inputs' shapes", async () => {
    const one = await resultOn("wasm", () => softmaxKernel(tf.tensor1d([2])));
    assert.deepEqual([one.shape, one.values], [[1], [1]]);
    const empty = await resultOn("wasm", () => softmaxKernel(tf.zeros([2, 0])));
    assert.deepEqual([empty.shape, empty.values], [[2, 0], []]);
  });

  it("its gradient kernel is y ⊙ (dy − Σ dy·y) on a hand-checked row", async () => {
    // y = [¼, ¾], dy = [1, 0]: Σ dy·y = ¼, dz = [¼·¾, ¾·(−¼)] = [3/16, −3/16].
    const dz = await resultOn(
      "wasm",
      () =>
        tf.engine().runKernel(SOFTMAX_GRAD, { y: tf.tensor2d([[0.25, 0.75]]), dy: tf.tensor2d([[1, 0]]) }) as tf.Tensor,
    );
    assertClose(dz.values, [3 / 16, -3 / 16], { atol: 1e-7, rtol: 1e-7 }, "dz");
  });

  it("gives the gradient of cpu autodiff through tf.softmax and of central differences in float64", async () => {
    const rng = new Rng(22);
    for (const n of SIZES) {
      for (const leading of n > 200 ? [[3]] : LEADING) {
        const shape = [...leading, n];
        const z = logitsFor(rng, shape);
        const w = normals(rng, z.length);
        const actual = await resultOn("wasm", () => gradientThrough(softmaxKernel, z, w, shape));
        const onCpu = await resultOn("cpu", () => gradientThrough((t) => tf.softmax(t), z, w, shape));
        const what = `[${shape}]`;
        assert.deepEqual(actual.shape, shape);
        assertClose(actual.values, onCpu.values, { atol: 1e-5, rtol: 1e-5 }, `dz vs cpu, ${what}`);
        assertClose(
          actual.values,
          numericalGradient(z, w, n),
          { atol: 1e-5, rtol: 1e-5 },
          `dz vs central differences, ${what}`,
        );
      }
    }
  });

  it("is what scaledDotProductAttention runs on wasm, and matches its cpu weights, output and gradients", async () => {
    const rng = new Rng(23);
    const [b, h, t, d] = [3, 2, 5, 4];
    const [q, k, v, w] = [0, 1, 2, 3].map(() => normals(rng, b * h * t * d));
    const shape = [b, h, t, d];
    // Lengths 5, 3 and 0: no padding, two padded keys, every key padded.
    const lengths = [5, 3, 0];
    const attend = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor) =>
      scaledDotProductAttention(qt, kt, vt, { mask: lengthMask(lengths, { maxLength: t }) });
    const forward = () => {
      const { output, weights } = attend(tf.tensor(q, shape), tf.tensor(k, shape), tf.tensor(v, shape));
      return [output, weights];
    };
    const backward = () =>
      tf.grads((qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor) =>
        tf.sum(tf.mul(attend(qt, kt, vt).output, tf.tensor(w, shape))),
      )([tf.tensor(q, shape), tf.tensor(k, shape), tf.tensor(v, shape)]);

    await tf.setBackend("wasm");
    const { kernelNames } = await tf.profile(() => forward());
    assert.ok(kernelNames.includes(SOFTMAX) && !kernelNames.includes("Softmax"), `ran ${kernelNames}`);
    const { kernelNames: backwardKernels } = await tf.profile(() => backward());
    assert.ok(backwardKernels.includes(SOFTMAX_GRAD), `ran ${backwardKernels}`);

    const [output, weights] = await resultsOn("wasm", forward);
    const [outputOnCpu, weightsOnCpu] = await resultsOn("cpu", forward);
    assert.deepEqual(
      [output.shape, weights.shape],
      [
        [b, h, t, d],
        [b, h, t, t],
      ],
    );
    assertClose(weights.values, weightsOnCpu.values, { atol: 1e-6, rtol: 1e-6 }, "weights vs cpu");
    assertClose(output.values, outputOnCpu.values, { atol: 1e-5, rtol: 1e-5 }, "output vs cpu");
    for (let i = 0; i < weights.values.length; i++) {
      const batch = Math.floor(i / (h * t * t));
      const key = i % t;
      const what = `weights element ${i} (sequence ${batch}, key ${key})`;
      if (lengths[batch] === 0) assertClose([weights.values[i]], [1 / t], { atol: 1e-6, rtol: 1e-6 }, what);
      else if (key >= lengths[batch]) assert.equal(weights.values[i], 0, what);
    }
    const grads = await resultsOn("wasm", backward);
    const gradsOnCpu = await resultsOn("cpu", backward);
    ["dq", "dk", "dv"].forEach((name, i) =>
      assertClose(grads[i].values, gradsOnCpu[i].values, { atol: 1e-5, rtol: 1e-5 }, `${name} vs cpu`),
    );
  });

  it("rejects int32 and scalar logits and a dy of another shape, leaving nothing behind", async () => {
    await tf.setBackend("wasm");
    const ints = tf.ones([2, 3], "int32");
    const scalar = tf.scalar(1);
    const y = tf.fill([2, 3], 1 / 3);
    const transposed = tf.ones([3, 2]);
    const before = tf.memory();
    assert.throws(() => softmaxKernel(ints), /RecsysSoftmax: logits must be a float32 tensor of rank ≥ 1/);
    assert.throws(() => softmaxKernel(scalar), /RecsysSoftmax: logits must be a float32 tensor of rank ≥ 1/);
    assert.throws(
      () => tf.engine().runKernel(SOFTMAX_GRAD, { y, dy: ints }),
      /RecsysSoftmaxGrad: dy must be a float32 tensor of rank ≥ 1/,
    );
    assert.throws(
      () => tf.engine().runKernel(SOFTMAX_GRAD, { y, dy: transposed }),
      /RecsysSoftmaxGrad: dy \[3,2\] differs in shape from \[2,3\]/,
    );
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numDataBuffers, before.numDataBuffers);
    tf.dispose([ints, scalar, y, transposed]);
  });

  it("leaves no tensor, buffer or byte behind, forward and backward", async () => {
    await tf.setBackend("wasm");
    const z = tf.tensor(logitsFor(new Rng(24), [4, 9]), [4, 9]);
    const before = tf.memory();
    tf.tidy(() => {
      softmaxKernel(z);
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(softmaxKernel(t))))(z);
    });
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numDataBuffers, before.numDataBuffers);
    assert.equal(after.numBytes, before.numBytes);
    z.dispose();
  });
});
