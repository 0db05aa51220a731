import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { causalMask, lengthMask, paddingMask, scaledDotProductAttention } from "../../src/nn/attention";
import { checkGradients, normalTensor, take } from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

// Replaces positions `from..` of axis −2 of a [1, 1, T, D] tensor with fresh draws.
function perturbFrom(x: tf.Tensor, from: number, rng: Rng): tf.Tensor {
  const [, , t, d] = x.shape;
  return tf.tidy(() =>
    tf.concat([tf.slice(x, [0, 0, 0, 0], [1, 1, from, d]), normalTensor(rng, [1, 1, t - from, d])], 2),
  );
}

describe("nn/attention", () => {
  before(async () => {
    await initBackend();
  });

  it("computes softmax(QKᵀ/√d_k)V on a hand-checked example", () => {
    const q = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    const k = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    const v = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const { output, weights } = scaledDotProductAttention(q, k, v);
    // Scores are I/√2: each query puts e^{1/√2} / (e^{1/√2} + 1) on its own key.
    const own = Math.exp(Math.SQRT1_2) / (Math.exp(Math.SQRT1_2) + 1);
    assertClose(take(weights), [own, 1 - own, 1 - own, own], { atol: 1e-6, rtol: 1e-4 });
    assertClose(
      take(output),
      [own * 1 + (1 - own) * 3, own * 2 + (1 - own) * 4, (1 - own) * 1 + own * 3, (1 - own) * 2 + own * 4],
      { atol: 1e-5, rtol: 1e-4 },
    );
    tf.dispose([q, k, v]);
  });

  it("returns [..., T_q, D_v] outputs and [..., T_q, T_k] weights whose rows sum to 1", () => {
    const rng = new Rng(1);
    const q = normalTensor(rng, [2, 3, 4, 5]);
    const k = normalTensor(rng, [2, 3, 6, 5]);
    const v = normalTensor(rng, [2, 3, 6, 7]);
    const { output, weights } = scaledDotProductAttention(q, k, v);
    assert.deepEqual(output.shape, [2, 3, 4, 7]);
    assert.deepEqual(weights.shape, [2, 3, 4, 6]);
    assertClose(take(tf.sum(weights, -1)), new Array(2 * 3 * 4).fill(1), { atol: 1e-5, rtol: 1e-4 });
    tf.dispose([q, k, v, output, weights]);
  });

  it("gives blocked keys zero weight, so their keys and values change nothing", () => {
    const rng = new Rng(2);
    const q = normalTensor(rng, [2, 1, 4, 3]);
    const k = normalTensor(rng, [2, 1, 4, 3]);
    const v = normalTensor(rng, [2, 1, 4, 3]);
    const mask = lengthMask([2, 3], { maxLength: 4 }); // [2, 1, 1, 4]
    const first = scaledDotProductAttention(q, k, v, { mask });
    const w = first.weights.arraySync() as number[][][][];
    for (let t = 0; t < 4; t++) {
      assert.equal(w[0][0][t][2], 0);
      assert.equal(w[0][0][t][3], 0);
      assert.equal(w[1][0][t][3], 0);
    }
    // Overwrite the blocked keys and values with large numbers: the output stays the same.
    const blocked = tf.sub(1, mask.reshape([2, 1, 4, 1]));
    const k2 = tf.add(k, tf.mul(blocked, 100));
    const v2 = tf.add(v, tf.mul(blocked, -100));
    const second = scaledDotProductAttention(q, k2, v2, { mask });
    assertClose(take(second.output), take(first.output), { atol: 1e-6, rtol: 1e-4 });
    tf.dispose([q, k, v, mask, blocked, k2, v2, first.weights, second.weights]);
  });

  it("makes position t independent of later positions under the causal mask", () => {
    const rng = new Rng(3);
    const t = 5;
    const [q, k, v] = [0, 1, 2].map(() => normalTensor(rng, [1, 1, t, 4]));
    const mask = causalMask(t);
    const base = scaledDotProductAttention(q, k, v, { mask });
    const upper = (base.weights.arraySync() as number[][][][])[0][0];
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) assert.equal(upper[i][j], 0);
    const baseOutput = take(base.output);
    for (let cut = 1; cut < t; cut++) {
      const [q2, k2, v2] = [q, k, v].map((x) => perturbFrom(x, cut, rng));
      const changed = scaledDotProductAttention(q2, k2, v2, { mask });
      const out = take(changed.output);
      assertClose(out.subarray(0, cut * 4), baseOutput.subarray(0, cut * 4), { atol: 1e-6, rtol: 0 }, `cut ${cut}`);
      assert.notDeepEqual(Array.from(out.subarray(cut * 4)), Array.from(baseOutput.subarray(cut * 4)));
      tf.dispose([q2, k2, v2, changed.weights]);
    }
    tf.dispose([q, k, v, mask, base.weights]);
  });

  it("stays finite, attending uniformly, when a query's keys are all blocked", () => {
    const rng = new Rng(4);
    const [q, k, v] = [0, 1, 2].map(() => normalTensor(rng, [1, 1, 2, 3]));
    const mask = tf.zeros([1, 1, 1, 2]);
    const { output, weights } = scaledDotProductAttention(q, k, v, { mask });
    assertClose(take(weights), [0.5, 0.5, 0.5, 0.5], { atol: 1e-6, rtol: 1e-4 });
    const meanValue = take(tf.mean(v, 2));
    assertClose(take(output), [...meanValue, ...meanValue], { atol: 1e-5, rtol: 1e-4 });
    tf.dispose([q, k, v, mask]);
  });

  it("has gradients that match central differences w.r.t. q, k and v, with a mask", () => {
    const rng = new Rng(5);
    const q = tf.variable(normalTensor(rng, [1, 2, 3, 4]), true, "grad_q");
    const k = tf.variable(normalTensor(rng, [1, 2, 3, 4]), true, "grad_k");
    const v = tf.variable(normalTensor(rng, [1, 2, 3, 4]), true, "grad_v");
    const mask = lengthMask([2], { maxLength: 3 });
    const projection = normalTensor(rng, [1, 2, 3, 4]);
    const loss = () => tf.sum(tf.mul(scaledDotProductAttention(q, k, v, { mask }).output, projection)) as tf.Scalar;
    checkGradients(loss, [q, k, v], { perVariable: 24 });
    tf.dispose([q, k, v, mask, projection]);
  });

  it("drops attention weights only in training, reproducibly from the rng, and needs an rng to do so", () => {
    const rng = new Rng(6);
    const [q, k, v] = [0, 1, 2].map(() => normalTensor(rng, [1, 1, 8, 4]));
    const inference = scaledDotProductAttention(q, k, v, { dropout: 0.5 });
    const a = scaledDotProductAttention(q, k, v, { dropout: 0.5, training: true, rng: new Rng(9) });
    const b = scaledDotProductAttention(q, k, v, { dropout: 0.5, training: true, rng: new Rng(9) });
    const plain = take(inference.output);
    const dropped = take(a.output);
    assert.deepEqual(dropped, take(b.output));
    assert.notDeepEqual(dropped, plain);
    // The returned weights are the ones before dropout.
    assertClose(take(a.weights), take(inference.weights), { atol: 1e-6, rtol: 1e-4 });
    b.weights.dispose();
    assert.throws(() => scaledDotProductAttention(q, k, v, { dropout: 0.5, training: true }), /needs an rng/);
    tf.dispose([q, k, v]);
  });

  it("rejects mismatched shapes", () => {
    const x = tf.zeros([1, 2, 3]);
    const y = tf.zeros([1, 2, 4]);
    assert.throws(() => scaledDotProductAttention(x, y, y), /share their last axis/);
    assert.throws(() => scaledDotProductAttention(x, x, tf.zeros([1, 5, 3])), /same length T_k/);
    tf.dispose([x, y]);
  });

  it("builds causal, padding and length masks of the documented shapes", () => {
    const causal = causalMask(3);
    assert.deepEqual(causal.shape, [1, 1, 3, 3]);
    assert.deepEqual(Array.from(take(causal)), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
    const ids = tf.tensor2d(
      [
        [5, 7, 0],
        [0, 0, 3],
      ],
      [2, 3],
      "int32",
    );
    const padding = paddingMask(ids);
    assert.deepEqual(padding.shape, [2, 1, 1, 3]);
    assert.deepEqual(Array.from(take(padding)), [1, 1, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(take(paddingMask(ids, 7))), [1, 0, 1, 1, 1, 1]);
    ids.dispose();
    assert.deepEqual(Array.from(take(lengthMask([1, 3, 0], { maxLength: 3 }))), [1, 0, 0, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(take(lengthMask([1, 2], { maxLength: 3, padding: "left" }))), [0, 0, 1, 0, 1, 1]);
    assert.throws(() => lengthMask([4], { maxLength: 3 }), /lengths\[0\] must be an integer in \[0, 3\]/);
    assert.throws(() => causalMask(0), /t must be an integer >= 1/);
  });

  it("leaks no tensors", async () => {
    const rng = new Rng(7);
    const [q, k, v] = [0, 1, 2].map(() => normalTensor(rng, [2, 2, 3, 4]));
    const mask = lengthMask([3, 1], { maxLength: 3 });
    await assertNoLeak(() => {
      const { output, weights } = scaledDotProductAttention(q, k, v, { mask, dropout: 0.1, training: true, rng });
      tf.dispose([output, weights]);
    });
    tf.dispose([q, k, v, mask]);
  });
});
