import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { AdamW, adamw, clipByGlobalNorm, decayMatricesOnly } from "../../src/train/optimizers";
import { linearWarmupDecay } from "../../src/train/schedules";
import { assertClose } from "../support/assertions";

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** torch.optim.AdamW's update for one element, in float64: the reference the tests check against. */
function adamwReference(
  theta: number,
  gradients: number[],
  o: { lr: (step: number) => number; beta1: number; beta2: number; eps: number; wd: number },
): number {
  let m = 0;
  let v = 0;
  gradients.forEach((g, step) => {
    const t = step + 1;
    const lr = o.lr(step);
    theta *= 1 - lr * o.wd;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    const mHat = m / (1 - o.beta1 ** t);
    const vHat = v / (1 - o.beta2 ** t);
    theta -= (lr * mHat) / (Math.sqrt(vHat) + o.eps);
  });
  return theta;
}

function applyEach(optimizer: tf.Optimizer, pairs: [tf.Variable, number[]][]): void {
  const grads = pairs.map(([variable, g]) => ({ name: variable.name, tensor: tf.tensor(g, variable.shape) }));
  optimizer.applyGradients(grads);
  tf.dispose(grads.map((g) => g.tensor));
}

describe("train/optimizers", () => {
  before(async () => {
    await initBackend();
  });

  it("AdamW: two steps by hand, a decayed matrix and an undecayed bias", () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([1]));
    const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
    applyEach(optimizer, [
      [w, [0.5, 2]],
      [b, [0.5]],
    ]);
    // Step 1: m̂ = g and v̂ = g², so the Adam step is lr·g/(|g| + ε) ≈ lr·sign(g);
    // the matrix also shrinks by (1 − lr·λ) = 0.95: 1·0.95 − 0.1·0.5/(0.5 + 1e-6) = 0.8500002.
    assertClose(
      values(w),
      [0.95 - 0.05 / (0.5 + 1e-6), -1.9 - 0.2 / (2 + 1e-6)],
      { atol: 0, rtol: 1e-6 },
      "w after 1 step",
    );
    assertClose(values(b), [1 - 0.05 / (0.5 + 1e-6)], { atol: 0, rtol: 1e-6 }, "b after 1 step");
    assert.equal(optimizer.lastLearningRate, 0.1);
    applyEach(optimizer, [
      [w, [-1, 0]],
      [b, [-1]],
    ]);
    // Step 2 by hand for w[0]: m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·0.00025 + 0.001 = 0.00124975,
    // m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999; w = 0.8500002·0.95 − 0.1·m̂/(√v̂ + ε) = 0.84411...
    const mHat = -0.055 / 0.19;
    const vHat = 0.00124975 / 0.001999;
    const w0 = (0.95 - 0.05 / (0.5 + 1e-6)) * 0.95 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-6);
    assert.ok(Math.abs(w0 - 0.84411) < 1e-5, `hand value ${w0}`);
    const options = { lr: () => 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-6, wd: 0.5 };
    assertClose(values(w), [w0, adamwReference(-2, [2, 0], options)], { atol: 0, rtol: 1e-5 }, "w after 2 steps");
    assertClose(
      values(b),
      [adamwReference(1, [0.5, -1], { ...options, wd: 0 })],
      { atol: 0, rtol: 1e-5 },
      "b after 2 steps",
    );
    assert.equal(optimizer.iterations, 2);
    optimizer.dispose();
    tf.dispose([w, b]);
  });

  it("AdamW: a custom decay rule, a learning-rate schedule of the step, and a variable without a gradient", () => {
    const x = tf.variable(tf.scalar(2));
    const y = tf.variable(tf.scalar(3));
    const rates: number[] = [];
    const schedule = (step: number) => {
      rates.push(step);
      return 0.01 * (step + 1);
    };
    const asked: string[] = [];
    const optimizer = adamw({
      learningRate: schedule,
      weightDecay: 0.1,
      decay: (name) => (asked.push(name), name === x.name),
    });
    const gx = [0.3, -0.2, 0.7];
    for (const g of gx) applyEach(optimizer, [[x, [g]]]); // y gets no gradient
    assert.deepEqual(rates, [0, 1, 2]);
    assert.deepEqual(asked, [x.name], "the rule is asked once per variable");
    assert.ok(Math.abs((optimizer.lastLearningRate ?? NaN) - 0.03) < 1e-12);
    const expected = adamwReference(2, gx, { lr: (s) => 0.01 * (s + 1), beta1: 0.9, beta2: 0.999, eps: 1e-6, wd: 0.1 });
    assertClose(values(x), [expected], { atol: 0, rtol: 1e-5 }, "x");
    assert.deepEqual(values(y), [3]);
    optimizer.dispose();
    tf.dispose([x, y]);
  });

  it("AdamW with weightDecay 0 is tf.train.adam (same ε)", () => {
    const rng = new Rng(7);
    const init = (shape: number[]) =>
      tf.tensor(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
        shape,
      );
    const shapes = [[3, 4], [4], []];
    const ours = shapes.map((s) => tf.variable(init(s)));
    const theirs = ours.map((v) => tf.variable(v.clone()));
    const a = new AdamW({ learningRate: 0.05, weightDecay: 0, epsilon: 1e-6 });
    const b = tf.train.adam(0.05, 0.9, 0.999, 1e-6);
    for (let step = 0; step < 5; step++) {
      const grads = shapes.map((s) => init(s));
      a.applyGradients(ours.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      b.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      tf.dispose(grads);
    }
    ours.forEach((v, i) => assertClose(values(v), values(theirs[i]), { atol: 1e-6, rtol: 1e-4 }, `variable ${i}`));
    tf.dispose([...ours, ...theirs]);
    a.dispose();
    b.dispose();
  });

  it("AdamW decays matrices and embeddings only by default", () => {
    const matrix = tf.variable(tf.zeros([2, 2]));
    const bias = tf.variable(tf.zeros([2]));
    assert.equal(decayMatricesOnly("k", matrix), true);
    assert.equal(decayMatricesOnly("b", bias), false);
    // A zero gradient leaves only the decay: the matrix shrinks by (1 − lr·λ), the bias stays.
    const m = tf.variable(tf.ones([2, 2]));
    const g = tf.variable(tf.ones([3]));
    const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0.2 });
    applyEach(optimizer, [
      [m, [0, 0, 0, 0]],
      [g, [0, 0, 0]],
    ]);
    assertClose(values(m), [0.98, 0.98, 0.98, 0.98], { atol: 0, rtol: 1e-6 }, "matrix");
    assert.deepEqual(values(g), [1, 1, 1]);
    optimizer.dispose();
    tf.dispose([matrix, bias, m, g]);
  });

  it("AdamW keeps memory flat: no tensor outlives a step, dispose frees its moments", () => {
    const w = tf.variable(tf.ones([3, 2]));
    const b = tf.variable(tf.ones([2]));
    const start = tf.memory().numTensors;
    const optimizer = new AdamW({
      learningRate: linearWarmupDecay({ peakLearningRate: 0.1, warmupSteps: 2, totalSteps: 10 }),
    });
    const loss = () => tf.sum(tf.add(tf.matMul(tf.ones([4, 3]), w), b).square()) as tf.Scalar;
    optimizer.minimize(loss, false, [w, b]); // creates the moments: 2 per variable
    const afterFirst = tf.memory().numTensors;
    assert.equal(afterFirst, start + 4);
    for (let i = 0; i < 5; i++) optimizer.minimize(loss, false, [w, b]);
    assert.equal(tf.memory().numTensors, afterFirst);
    optimizer.dispose();
    assert.equal(tf.memory().numTensors, start);
    tf.dispose([w, b]);
  });

  it("AdamW state round-trips through getWeights/setWeights", async () => {
    const w = tf.variable(
      tf.tensor2d([
        [0.5, -1],
        [2, 0.1],
      ]),
    );
    const b = tf.variable(tf.tensor1d([0.3, -0.3]));
    const schedule = linearWarmupDecay({ peakLearningRate: 0.1, warmupSteps: 2, totalSteps: 6 });
    const gradients = [
      [1, 2, 3, 4, 0.5, -0.5],
      [-1, 0.5, 2, -2, 1, 1],
      [0.2, 0.2, -0.3, 0.1, -1, 2],
    ];
    const step = (optimizer: tf.Optimizer, g: number[]) =>
      applyEach(optimizer, [
        [w, g.slice(0, 4)],
        [b, g.slice(4)],
      ]);
    const a = new AdamW({ learningRate: schedule });
    step(a, gradients[0]);
    step(a, gradients[1]);
    const savedW = values(w);
    const savedB = values(b);
    const weights = await a.getWeights();
    assert.deepEqual(
      weights.map((x) => x.name),
      ["iter", `${w.name}/m`, `${b.name}/m`, `${w.name}/v`, `${b.name}/v`],
    );
    // A copy of the state, as a checkpoint would hold it; then a third step with the original.
    const copy = weights.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    tf.dispose(weights[0].tensor);
    step(a, gradients[2]);
    const expectedW = values(w);
    const expectedB = values(b);

    w.assign(tf.tensor2d(savedW, [2, 2]));
    b.assign(tf.tensor1d(savedB));
    const fresh = new AdamW({ learningRate: schedule });
    const before = tf.memory().numTensors;
    await fresh.setWeights(copy);
    assert.equal(tf.memory().numTensors, before + 4, "setWeights copies the moments");
    tf.dispose(copy.map((c) => c.tensor));
    assert.equal(fresh.iterations, 2);
    step(fresh, gradients[2]);
    assert.deepEqual(values(w), expectedW);
    assert.deepEqual(values(b), expectedB);
    // setWeights replaces the state without leaking the old moments.
    const again = await fresh.getWeights();
    const count = tf.memory().numTensors;
    await fresh.setWeights(again);
    assert.equal(tf.memory().numTensors, count);
    tf.dispose(again[0].tensor);
    a.dispose();
    fresh.dispose();
    tf.dispose([w, b]);
  });

  it("AdamW rejects bad settings and bad state, naming the field", async () => {
    for (const rate of [-1, 0, NaN, Infinity]) {
      assert.throws(
        () => new AdamW({ learningRate: rate }),
        new RegExp(`AdamW: learningRate must be a finite number > 0, got ${String(rate)}`),
      );
    }
    assert.throws(() => new AdamW({ learningRate: 0.1, beta1: 1 }), /AdamW: beta1 must be a number in \[0, 1\)/);
    assert.throws(() => new AdamW({ learningRate: 0.1, epsilon: 0 }), /AdamW: epsilon must be a finite number > 0/);
    assert.throws(() => new AdamW({ learningRate: 0.1, weightDecay: NaN }), /AdamW: weightDecay/);
    const v = tf.variable(tf.scalar(1));
    const bad = new AdamW({ learningRate: () => NaN });
    assert.throws(() => applyEach(bad, [[v, [1]]]), /learning-rate schedule gave NaN at step 0/);
    const optimizer = new AdamW({ learningRate: 0.1 });
    const iter = tf.scalar(3, "int32");
    const m = tf.scalar(0.1);
    await assert.rejects(
      optimizer.setWeights([
        { name: "iter", tensor: iter },
        { name: `${v.name}/m`, tensor: m },
      ]),
      /needs both '.*\/m' and '.*\/v'/,
    );
    await assert.rejects(
      optimizer.setWeights([
        { name: "iter", tensor: iter },
        { name: "x/q", tensor: m },
      ]),
      /'x\/q' is not a moment/,
    );
    await assert.rejects(
      optimizer.setWeights([{ name: `${v.name}/m`, tensor: m }]),
      /first weight must be the step count 'iter'/,
    );
    assert.equal(optimizer.iterations, 0, "a rejected state changes nothing");
    tf.dispose([v, iter, m]);
    bad.dispose();
    optimizer.dispose();
  });

  it("clips by global norm as tf.clip_by_global_norm", () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) };
    const before = tf.memory().numTensors;
    // ‖g‖ = √(3² + 4²) = 5; a limit of 1 scales by 1/5.
    const clipped = clipByGlobalNorm(grads, 1);
    assert.equal(clipped.norm, 5);
    assertClose(values(clipped.grads.a), [0.6, 0], { atol: 0, rtol: 1e-6 }, "a");
    assertClose(values(clipped.grads.b), [0, 0.8], { atol: 0, rtol: 1e-6 }, "b");
    assert.deepEqual(clipped.grads.b.shape, [1, 2]);
    // Under the limit: unchanged values, new tensors.
    const kept = clipByGlobalNorm(grads, 10);
    assert.equal(kept.norm, 5);
    assert.deepEqual(values(kept.grads.a), [3, 0]);
    assert.notEqual(kept.grads.a, grads.a);
    tf.dispose([...Object.values(clipped.grads), ...Object.values(kept.grads)]);
    assert.equal(tf.memory().numTensors, before, "only the returned gradients are new");
    assert.deepEqual(values(grads.a), [3, 0], "the inputs are left as they are");
    assert.deepEqual(clipByGlobalNorm({}, 1), { grads: {}, norm: 0 });
    assert.throws(() => clipByGlobalNorm(grads, 0), /clipByGlobalNorm: maxNorm must be a finite number > 0, got 0/);
    tf.dispose(Object.values(grads));
  });
});
