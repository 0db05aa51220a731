import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { mergeHeads, MultiHeadAttention, splitHeads } from "../../src/nn/multiHeadAttention";
import {
  checkGradients,
  checkReloaded,
  disposeOutput,
  normalTensor,
  permuteRows,
  randomizeWeights,
  take,
  variablesOf,
} from "./support";
import { assertClose, assertNoLeak } from "../support/assertions";

type Matrix = number[][];

/**
 * MultiHead(Q, K, V) = Concat(head_1..head_h)·W^O, head_i = softmax(Q W_i^Q (K W_i^K)ᵀ/√d_k) V W_i^V,
 * one sequence, one head at a time, in float64 loops. Blocked keys (mask 0) are left out of the softmax.
 */
function referenceAttention(
  query: Matrix, // [T_q, D_q]
  value: Matrix, // [T_k, D_v]
  w: { wq: Matrix; bq: number[]; wk: Matrix; bk: number[]; wv: Matrix; bv: number[]; wo: Matrix; bo: number[] },
  numHeads: number,
  keyMask?: number[], // [T_k]
): Matrix {
  const dk = w.wq[0].length / numHeads;
  const dv = w.wv[0].length / numHeads;
  const project = (x: Matrix, kernel: Matrix, bias: number[], from: number, width: number): Matrix =>
    x.map((row) =>
      Array.from(
        { length: width },
        (_, j) => bias[from + j] + row.reduce((sum, xi, i) => sum + xi * kernel[i][from + j], 0),
      ),
    );
  const concat: Matrix = query.map(() => []);
  for (let h = 0; h < numHeads; h++) {
    const q = project(query, w.wq, w.bq, h * dk, dk);
    const k = project(value, w.wk, w.bk, h * dk, dk);
    const v = project(value, w.wv, w.bv, h * dv, dv);
    q.forEach((qt, t) => {
      const allowed = k.map((_, s) => keyMask === undefined || keyMask[s] === 1);
      const scores = k.map((ks) => qt.reduce((sum, x, j) => sum + x * ks[j], 0) / Math.sqrt(dk));
      const top = Math.max(...scores.filter((_, s) => allowed[s]));
      const e = scores.map((x, s) => (allowed[s] ? Math.exp(x - top) : 0));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < dv; j++) concat[t].push(v.reduce((sum, vs, s) => sum + (e[s] / z) * vs[j], 0));
    });
  }
  return project(concat, w.wo, w.bo, 0, w.wo[0].length);
}

function weightsOf(layer: tf.layers.Layer) {
  const [wq, bq, wk, bk, wv, bv, wo, bo] = layer.getWeights().map((t) => t.arraySync());
  return { wq, bq, wk, bk, wv, bv, wo, bo } as {
    wq: Matrix;
    bq: number[];
    wk: Matrix;
    bk: number[];
    wv: Matrix;
    bv: number[];
    wo: Matrix;
    bo: number[];
  };
}

describe("nn/multiHeadAttention", () => {
  before(async () => {
    await initBackend();
  });

  it("splits heads into a batch axis and merges them back", () => {
    const x = tf.range(0, 2 * 3 * 6).reshape([2, 3, 6]);
    const heads = splitHeads(x, 2);
    assert.deepEqual(heads.shape, [2, 2, 3, 3]);
    // Head 1 of sequence 0, position 1 holds features 3..5 of that position: 9, 10, 11.
    assert.deepEqual((heads.arraySync() as number[][][][])[0][1][1], [9, 10, 11]);
    assert.deepEqual(Array.from(take(mergeHeads(heads))), Array.from(x.dataSync()));
    tf.dispose([x, heads]);
  });

  it("outputs [B, T_q, D_out] and, on request, weights [B, H, T_q, T_k]", () => {
    const rng = new Rng(1);
    const query = normalTensor(rng, [2, 3, 8]);
    const value = normalTensor(rng, [2, 5, 6]);
    const self = new MultiHeadAttention({ numHeads: 4, seed: 1 });
    const out = self.apply(query) as tf.Tensor;
    assert.deepEqual(out.shape, [2, 3, 8]);
    assert.deepEqual(self.dimensions, { keyDim: 2, valueDim: 2, outputDim: 8 });
    const cross = new MultiHeadAttention({
      numHeads: 2,
      keyDim: 3,
      valueDim: 5,
      outputDim: 7,
      returnAttentionWeights: true,
      seed: 2,
    });
    const [crossOut, weights] = cross.apply([query, value]) as tf.Tensor[];
    assert.deepEqual(crossOut.shape, [2, 3, 7]);
    assert.deepEqual(weights.shape, [2, 2, 3, 5]);
    assert.deepEqual(
      cross.computeOutputShape([
        [null, 3, 8],
        [null, 5, 6],
      ]),
      [
        [null, 3, 7],
        [null, 2, 3, 5],
      ],
    );
    assert.deepEqual(
      cross.getWeights().map((w) => w.shape),
      [[8, 6], [6], [6, 6], [6], [6, 10], [10], [10, 7], [7]],
    );
    tf.dispose([query, value, out, crossOut, weights]);
  });

  it("agrees with a per-head, loop-by-loop computation given the same weights", () => {
    const rng = new Rng(2);
    const query = normalTensor(rng, [2, 3, 4]);
    const value = normalTensor(rng, [2, 4, 5]);
    const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, outputDim: 4, seed: 3 });
    disposeOutput(layer.apply([query, value]));
    randomizeWeights(layer, rng);
    const keyMask = [
      [1, 1, 0, 0],
      [1, 1, 1, 1],
    ];
    const mask = tf.tensor2d(keyMask);
    const actual = take(layer.apply([query, value, mask]) as tf.Tensor);
    const w = weightsOf(layer);
    const q = query.arraySync() as number[][][];
    const v = value.arraySync() as number[][][];
    const expected = [0, 1].flatMap((b) => referenceAttention(q[b], v[b], w, 2, keyMask[b]).flat());
    assertClose(actual, expected, { atol: 1e-4, rtol: 1e-4 });
    tf.dispose([query, value, mask]);
  });

  it("agrees with the MultiHeadAttention that tfjs-layers 4.22 ships unexported, given the same weights", function () {
    this.timeout(60000);
    try {
      require.resolve("@tensorflow/tfjs-layers/dist/layers/nlp/multihead_attention");
    } catch {
      this.skip(); // another tfjs version, without that file
    }
    const script = path.join(__dirname, "tfjsMultiHeadAttention.ts");
    const output = execFileSync(process.execPath, ["--require", "tsx/cjs", script], {
      encoding: "utf8",
      cwd: path.join(__dirname, "..", ".."), // where tsx resolves from
    });
    const { outputDiff, weightsDiff } = JSON.parse(output.trim().split("\n").pop()!);
    assert.ok(outputDiff < 1e-5, `outputs differ by ${outputDiff}`);
    assert.ok(weightsDiff < 1e-6, `attention weights differ by ${weightsDiff}`);
  });

  it("accepts padding masks as [B, T_k], [B, T_q, T_k] or [B, 1, 1, T_k], and blocked positions change nothing", () => {
    const rng = new Rng(3);
    const x = normalTensor(rng, [2, 4, 6]);
    const layer = new MultiHeadAttention({ numHeads: 3, seed: 4 });
    const keyMask = tf.tensor2d([
      [1, 1, 1, 0],
      [1, 0, 0, 0],
    ]);
    const byKeys = take(layer.apply([x, x, keyMask]) as tf.Tensor);
    const full = tf.tile(tf.expandDims(keyMask, 1), [1, 4, 1]); // [B, T_q, T_k]
    assertClose(take(layer.apply([x, x, full]) as tf.Tensor), byKeys, { atol: 1e-6, rtol: 1e-4 });
    const broadcast = tf.reshape(keyMask, [2, 1, 1, 4]);
    assertClose(take(layer.apply([x, x, broadcast]) as tf.Tensor), byKeys, { atol: 1e-6, rtol: 1e-4 });
    // New values at the padded key positions, same queries: the output is unchanged.
    const padded = tf.sub(1, tf.expandDims(keyMask, 2));
    const changedValue = tf.add(x, tf.mul(padded, normalTensor(rng, [2, 4, 6], 10)));
    assertClose(take(layer.apply([x, changedValue, keyMask]) as tf.Tensor), byKeys, { atol: 1e-5, rtol: 1e-4 });
    tf.dispose([x, keyMask, full, broadcast, padded, changedValue]);
  });

  it("with causal: true, makes position t independent of positions after t", () => {
    const rng = new Rng(4);
    const x = normalTensor(rng, [1, 5, 4]);
    const layer = new MultiHeadAttention({ numHeads: 2, causal: true, seed: 5 });
    const base = take(layer.apply(x) as tf.Tensor);
    const later = tf.concat([tf.slice(x, [0, 0, 0], [1, 3, 4]), normalTensor(rng, [1, 2, 4])], 1);
    const changed = take(layer.apply(later) as tf.Tensor);
    assertClose(changed.subarray(0, 12), base.subarray(0, 12), { atol: 1e-6, rtol: 1e-4 });
    assert.notDeepEqual(Array.from(changed.subarray(12)), Array.from(base.subarray(12)));
    tf.dispose([x, later]);
  });

  it("is permutation-equivariant without positions or masks: permuting inputs permutes outputs", () => {
    const rng = new Rng(5);
    const x = normalTensor(rng, [2, 6, 4]);
    const layer = new MultiHeadAttention({ numHeads: 2, seed: 6 });
    const order = rng.permutation(6);
    const outputThenPermute = permuteRows(layer.apply(x) as tf.Tensor, order);
    const permuted = permuteRows(x, order);
    assertClose(take(layer.apply(permuted) as tf.Tensor), take(outputThenPermute), { atol: 1e-5, rtol: 1e-4 });
    tf.dispose([x, permuted]);
  });

  it("has gradients that match central differences w.r.t. its inputs and every weight", () => {
    const rng = new Rng(6);
    const layer = new MultiHeadAttention({ numHeads: 2, seed: 7 });
    const x = tf.variable(normalTensor(rng, [1, 3, 4]), true, "mha_grad_x");
    const mask = tf.tensor2d([[1, 1, 0]]);
    disposeOutput(layer.apply(x));
    randomizeWeights(layer, rng);
    const projection = normalTensor(rng, [1, 3, 4]);
    const loss = () => tf.sum(tf.mul(layer.apply([x, x, mask]) as tf.Tensor, projection)) as tf.Scalar;
    checkGradients(loss, [x, ...variablesOf(layer)], { perVariable: 8 });
    tf.dispose([x, mask, projection]);
  });

  it("draws distinct, reproducible initial weights from its seed", () => {
    const x = tf.zeros([1, 2, 4]);
    const build = (seed: number) => {
      const layer = new MultiHeadAttention({ numHeads: 2, useBias: false, seed });
      disposeOutput(layer.apply(x));
      return layer.getWeights().map((w) => Array.from(w.dataSync()));
    };
    const [a, b, c] = [build(11), build(11), build(12)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0], c[0]);
    assert.notDeepEqual(a[0], a[1]); // query and key kernels differ
    assert.notDeepEqual(a[1], a[2]);
    x.dispose();
  });

  it("lowers a loss in one Adam step from a seeded start", () => {
    const rng = new Rng(7);
    const layer = new MultiHeadAttention({ numHeads: 2, seed: 8 });
    const x = normalTensor(rng, [4, 5, 4]);
    const target = normalTensor(rng, [4, 5, 4]);
    const loss = () => tf.losses.meanSquaredError(target, layer.apply(x) as tf.Tensor) as tf.Scalar;
    disposeOutput(layer.apply(x));
    const optimizer = tf.train.adam(0.01);
    const before = take(loss());
    optimizer.minimize(loss, false, variablesOf(layer));
    const after = take(loss());
    assert.ok(after[0] < before[0], `${after[0]} >= ${before[0]}`);
    optimizer.dispose();
    tf.dispose([x, target]);
  });

  it("round-trips its config, and through fileSystemIO a model's predictions", async () => {
    const layer = new MultiHeadAttention({
      numHeads: 2,
      keyDim: 3,
      dropout: 0.1,
      causal: true,
      kernelInitializer: "truncatedNormal",
      seed: 9,
    });
    const config = layer.getConfig();
    const copy = MultiHeadAttention.fromConfig(MultiHeadAttention, config) as MultiHeadAttention;
    assert.deepEqual(copy.getConfig(), config);

    const rng = new Rng(8);
    const input = tf.input({ shape: [4, 6] });
    const mask = tf.input({ shape: [4] });
    const output = new MultiHeadAttention({ numHeads: 2, seed: 10, name: "attention" }).apply([
      input,
      input,
      mask,
    ]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [input, mask], outputs: output });
    randomizeWeights(model.getLayer("attention"), rng); // so that a fresh seeded init cannot pass for loading
    const x = normalTensor(rng, [2, 4, 6]);
    const m = tf.tensor2d([
      [1, 1, 1, 0],
      [1, 1, 0, 0],
    ]);
    await checkReloaded(model, (loaded) => {
      assert.ok(loaded.getLayer("attention") instanceof MultiHeadAttention);
      assert.deepEqual(take(loaded.predict([x, m]) as tf.Tensor), take(model.predict([x, m]) as tf.Tensor));
    });
    model.dispose();
    tf.dispose([x, m]);
  });

  it("rejects bad arguments and inputs with errors that name the field", () => {
    assert.throws(() => new MultiHeadAttention({ numHeads: 0, seed: 1 }), /numHeads must be an integer >= 1/);
    assert.throws(
      () => new MultiHeadAttention({ numHeads: 2, dropout: 1, seed: 1 }),
      /dropout must be a number in \[0, 1\)/,
    );
    assert.throws(() => new MultiHeadAttention({ numHeads: 2 } as never), /seed must be a finite number/);
    const x = tf.zeros([1, 2, 5]);
    assert.throws(
      () => new MultiHeadAttention({ numHeads: 2, seed: 1 }).apply(x),
      /not divisible by numHeads 2; set keyDim/,
    );
    const layer = new MultiHeadAttention({ numHeads: 1, seed: 1 });
    assert.throws(
      () => layer.apply([x, x, x, x]),
      /expected x, \[query, value\] or \[query, value, mask\], got 4 inputs/,
    );
    x.dispose();
  });

  it("leaks no tensors, in inference or in training with dropout", async () => {
    const rng = new Rng(9);
    const layer = new MultiHeadAttention({
      numHeads: 2,
      dropout: 0.2,
      causal: true,
      returnAttentionWeights: true,
      seed: 11,
    });
    const x = normalTensor(rng, [2, 3, 4]);
    const mask = tf.ones([2, 3]);
    disposeOutput(layer.apply(x)); // builds the weights, which stay
    await assertNoLeak(() => {
      disposeOutput(layer.apply([x, x, mask]));
      disposeOutput(layer.apply([x, x, mask], { training: true }));
    });
    tf.dispose([x, mask]);
  });
});
