import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAMW, adamwWasmConfig, type AdamWUpdate } from "../../../src/backend/kernels/adamw";
import { kernelThreads, POOLED_ROWS_MIN_FLOATS, setKernelThreads } from "../../../src/backend/kernels/kernelPool";
import { Rng } from "../../../src/backend/random";
import { AdamW } from "../../../src/train/optimizers";
import { linearWarmupDecay } from "../../../src/train/schedules";
import { assertRegisteredForWasmOnly, useWasmTrainingKernels } from "./support";

// Sizes 1..9 cover every n mod 4 tail with and without a vector part; the last is split among threads.
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 4099, POOLED_ROWS_MIN_FLOATS + 4 * 100 + 3];

/**
 * Three AdamW steps of a matrix (decayed) and a bias (not decayed) of `size` floats each on `backend`,
 * from seeded values, with a warm-up schedule (its first rate is 0); returns θ, m and v of both.
 */
async function threeSteps(backend: "cpu" | "wasm", size: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const rng = new Rng(size);
  const draw = () => Float32Array.from({ length: size }, () => rng.normal(0, 2));
  const w = tf.variable(tf.tensor2d(draw(), [1, size]), true, `w${size}${backend}`);
  const b = tf.variable(tf.tensor1d(draw()), true, `b${size}${backend}`);
  const optimizer = new AdamW({
    learningRate: linearWarmupDecay({ peakLearningRate: 0.05, warmupSteps: 2, totalSteps: 10 }),
    weightDecay: 0.1,
  });
  for (let step = 0; step < 3; step++) {
    // Gradients with zeros and tiny values, where √v/c₂ + ε is dominated by ε.
    const gw = draw().map((g, i) => (i % 5 === 0 ? 0 : i % 7 === 0 ? g * 1e-8 : g));
    const grads = [
      { name: w.name, tensor: tf.tensor2d(gw, [1, size]) },
      { name: b.name, tensor: tf.tensor1d(draw()) },
    ];
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const [iterations, ...moments] = await optimizer.getWeights(); // m of w and b, then v of w and b
  iterations.tensor.dispose();
  const out = [w, b, ...moments.map((s) => s.tensor)].map((t) => Float32Array.from(t.dataSync()));
  optimizer.dispose();
  tf.dispose([w, b]);
  return out;
}

describe("RecsysAdamW kernel on the wasm backend", () => {
  useWasmTrainingKernels();

  it("is registered for wasm only", () => {
    assertRegisteredForWasmOnly(ADAMW);
  });

  it("is what AdamW runs on wasm: one kernel per variable, in place of the thirteen ops", async () => {
    await tf.setBackend("wasm");
    const w = tf.variable(tf.ones([3, 2]));
    const optimizer = new AdamW({ learningRate: 0.1 });
    const g = tf.fill([3, 2], 0.5);
    optimizer.applyGradients([{ name: w.name, tensor: g }]); // creates the moments
    const { kernelNames } = await tf.profile(() => optimizer.applyGradients([{ name: w.name, tensor: g }]));
    assert.deepEqual(
      kernelNames.filter((name) => name !== "Identity"),
      [ADAMW],
      `ran ${kernelNames}`,
    );
    optimizer.dispose();
    tf.dispose([w, g]);
  });

  it("gives the bits of the composed update on the cpu backend: θ, m and v, decayed or not, every tail", async () => {
    for (const size of SIZES) {
      const fused = await threeSteps("wasm", size);
      const composed = await threeSteps("cpu", size);
      assert.equal(fused.length, 6, "θ and the two moments of both variables");
      fused.forEach((values, o) => {
        const differing = values.findIndex((v, i) => !Object.is(v, composed[o][i]));
        assert.equal(differing, -1, `size ${size}, output ${o}: element ${differing} differs`);
      });
    }
  });

  it("gives the bits of the composed update on wasm too (tfjs's own kernels, the fused one unregistered)", async () => {
    const size = 4099;
    const fused = await threeSteps("wasm", size);
    tf.unregisterKernel(ADAMW, "wasm");
    try {
      const composed = await threeSteps("wasm", size);
      fused.forEach((values, o) =>
        assert.ok(
          values.every((v, i) => Object.is(v, composed[o][i])),
          `output ${o}`,
        ),
      );
    } finally {
      tf.registerKernel(adamwWasmConfig);
    }
  });

  it("gives the same bits on 1 and 2 threads", async () => {
    const size = SIZES[SIZES.length - 1];
    const saved = kernelThreads();
    try {
      setKernelThreads(1);
      const one = await threeSteps("wasm", size);
      setKernelThreads(2);
      const two = await threeSteps("wasm", size);
      one.forEach((values, o) =>
        assert.ok(
          values.every((v, i) => Object.is(v, two[o][i])),
          `output ${o}`,
        ),
      );
    } finally {
      setKernelThreads(saved);
    }
  });

  it("refuses inputs of different shapes or dtypes, naming them", async () => {
    await tf.setBackend("wasm");
    const update: AdamWUpdate = { beta1: 0.9, beta2: 0.999, epsilon: 1e-6, sqrtCorrection2: 1, stepSize: 1, decay: 1 };
    const attrs = update as unknown as tf.NamedAttrMap;
    const [theta, m, v] = [tf.zeros([4]), tf.zeros([4]), tf.zeros([4])];
    const short = tf.zeros([3]);
    const ints = tf.zeros([4], "int32");
    const before = tf.memory().numTensors;
    assert.throws(
      () => tf.engine().runKernel(ADAMW, { theta, m, v, g: short }, attrs),
      /RecsysAdamW: g \[3\] and theta \[4\] differ in shape/,
    );
    assert.throws(
      () => tf.engine().runKernel(ADAMW, { theta, m: ints, v, g: theta }, attrs),
      /RecsysAdamW: m must be a float32 tensor, got int32 \[4\]/,
    );
    assert.equal(tf.memory().numTensors, before, "nothing is allocated by a refused call");
    tf.dispose([theta, m, v, short, ints]);
  });
});
