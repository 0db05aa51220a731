import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  ATTENTION,
  ATTENTION_GRAD,
  attentionWasmConfigs,
  SELF_ATTENTION,
} from "../../../src/backend/kernels/attention";
import { kernelThreads, setKernelThreads } from "../../../src/backend/kernels/kernelPool";
import { Rng } from "../../../src/backend/random";
import { packedHeadsAttention } from "../../../src/nn/multiHeadAttention";
import { assertClose, assertNoLeak } from "../../support/assertions";
import { assertRegisteredForWasmOnly, resultsOn, useWasmTrainingKernels } from "./support";

interface Case {
  name: string;
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  dk: number;
  dv: number;
  /** "keys": a [B, T_k] padding mask (sequence 1 all padding); "keys4": the same as [B, 1, 1, T_k]. */
  mask?: "keys" | "keys4";
  causal?: boolean;
  dropout?: number;
}

// Odd sizes exercise every tile edge of the gemm and every tail of the SIMD loops.
const CASES: Case[] = [
  { name: "self-attention, odd sizes", batch: 2, heads: 2, tq: 5, tk: 5, dk: 3, dv: 3 },
  { name: "padding mask and causal", batch: 3, heads: 2, tq: 7, tk: 7, dk: 4, dv: 4, mask: "keys", causal: true },
  {
    name: "cross-attention, d_v ≠ d_k, [B,1,1,T_k] mask",
    batch: 2,
    heads: 3,
    tq: 6,
    tk: 9,
    dk: 3,
    dv: 5,
    mask: "keys4",
  },
  { name: "dropout in training", batch: 2, heads: 2, tq: 9, tk: 9, dk: 8, dv: 8, mask: "keys", dropout: 0.3 },
  { name: "BERT pretraining's heads", batch: 3, heads: 2, tq: 48, tk: 48, dk: 32, dv: 32, mask: "keys", dropout: 0.1 },
];

/** Seeded inputs of a case: q, k, v, the loss weights of the output and of the attention weights, the mask. */
function inputsOf(c: Case, seed = 1) {
  const rng = new Rng(seed);
  const normal = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.normal(0, 1)),
      shape,
    );
  const keep = new Int32Array(c.batch * c.tk);
  for (let b = 0; b < c.batch; b++) {
    // Sequence 1 is all padding (its rows stay finite: uniform weights); the others end in padding.
    const length = b === 1 ? 0 : c.tk - b;
    keep.fill(1, b * c.tk, b * c.tk + length);
  }
  const mask =
    c.mask === undefined
      ? undefined
      : tf.tensor(keep, c.mask === "keys" ? [c.batch, c.tk] : [c.batch, 1, 1, c.tk], "int32");
  return {
    q: normal([c.batch, c.tq, c.heads * c.dk]),
    k: normal([c.batch, c.tk, c.heads * c.dk]),
    v: normal([c.batch, c.tk, c.heads * c.dv]),
    outWeights: normal([c.batch, c.tq, c.heads * c.dv]),
    probWeights: normal([c.batch, c.heads, c.tq, c.tk]),
    mask,
  };
}

/**
 * The output, the weights and the gradients w.r.t. q, k, v of Σ w₁ ⊙ output + Σ w₂ ⊙ weights (so that
 * both outputs carry a gradient), with the dropout keys drawn from a fresh Rng(7) as a layer would.
 * "packed" passes Q, K and V as one qkv (self-attention: T_q = T_k) and splits its gradient.
 */
function attentionAndGradients(c: Case, form: "separate" | "packed" = "separate"): tf.Tensor[] {
  const { q, k, v, outWeights, probWeights, mask } = inputsOf(c);
  const options = {
    numHeads: c.heads,
    mask,
    causal: c.causal,
    dropout: c.dropout,
    training: true,
  };
  const lossOf = ({ output, weights }: { output: tf.Tensor; weights: tf.Tensor }) =>
    tf.add(tf.sum(tf.mul(output, outWeights)), tf.sum(tf.mul(weights, probWeights))) as tf.Scalar;
  if (form === "packed") {
    const qkv = tf.concat([q, k, v], 2);
    const attend = (x: tf.Tensor) => packedHeadsAttention({ qkv: x, keyDim: c.dk }, { ...options, rng: new Rng(7) });
    const forward = attend(qkv);
    const [dqkv] = tf.grads((x: tf.Tensor) => lossOf(attend(x)))([qkv]);
    return [forward.output, forward.weights, ...tf.split(dqkv, [c.heads * c.dk, c.heads * c.dk, c.heads * c.dv], 2)];
  }
  const attend = (qx: tf.Tensor, kx: tf.Tensor, vx: tf.Tensor) =>
    packedHeadsAttention({ q: qx, k: kx, v: vx }, { ...options, rng: new Rng(7) });
  const forward = attend(q, k, v);
  const grads = tf.grads((qx: tf.Tensor, kx: tf.Tensor, vx: tf.Tensor) => lossOf(attend(qx, kx, vx)))([q, k, v]);
  return [forward.output, forward.weights, ...grads];
}

describe("RecsysAttention kernel on the wasm backend", () => {
  useWasmTrainingKernels();

  it("is registered for wasm only, with its gradient kernel", () => {
    assertRegisteredForWasmOnly(ATTENTION, SELF_ATTENTION, ATTENTION_GRAD);
  });

  for (const c of CASES) {
    const forms = c.tq === c.tk ? (["separate", "packed"] as const) : (["separate"] as const);
    for (const form of forms) {
      it(`matches the composed ops (split heads, softmax, dropout, merge) on cpu: ${c.name}, ${form} q, k, v`, async () => {
        const expected = await resultsOn("cpu", () => attentionAndGradients(c, form));
        const actual = await resultsOn("wasm", () => attentionAndGradients(c, form));
        const names = ["output", "weights", "dq", "dk", "dv"];
        for (let i = 0; i < names.length; i++) {
          assert.deepEqual(actual[i].shape, expected[i].shape, names[i]);
          // float32 sums in another order (and fused multiply-adds) against tfjs's cpu kernels.
          assertClose(actual[i].values, expected[i].values, { atol: 2e-5, rtol: 2e-4 }, `${c.name}: ${names[i]}`);
        }
      });
    }
  }

  it("gives the same results for Q, K and V packed in one tensor as for three tensors", async () => {
    const c = CASES[4];
    const separate = await resultsOn("wasm", () => attentionAndGradients(c, "separate"));
    const packed = await resultsOn("wasm", () => attentionAndGradients(c, "packed"));
    for (let i = 0; i < separate.length; i++) assert.deepEqual(packed[i].values, separate[i].values, `result ${i}`);
  });

  it("runs as one kernel each way in place of the composed ops", async () => {
    await tf.setBackend("wasm");
    const c = CASES[1];
    for (const [form, forward] of [
      ["separate", ATTENTION],
      ["packed", SELF_ATTENTION],
    ] as const) {
      const { kernelNames } = await tf.profile(() => attentionAndGradients(c, form));
      assert.ok(kernelNames.includes(forward) && kernelNames.includes(ATTENTION_GRAD), kernelNames.join(" "));
      for (const composed of ["RecsysSoftmax", "BatchMatMul", "Transpose"]) {
        assert.ok(!kernelNames.includes(composed), `${form}: ${composed} should not run: ${kernelNames.join(" ")}`);
      }
    }
  });

  it("falls back to the composed ops for a mask per query [B, T_q, T_k], with the same results", async () => {
    const c = CASES[1];
    const run = () => {
      const { q, k, v, mask } = inputsOf(c);
      const perQuery = tf.tile(tf.expandDims(mask!, 1), [1, c.tq, 1]); // the same mask for every query
      return [
        packedHeadsAttention({ q, k, v }, { numHeads: c.heads, mask: perQuery }).output,
        packedHeadsAttention({ q, k, v }, { numHeads: c.heads, mask }).output,
      ];
    };
    await tf.setBackend("wasm");
    const { kernelNames } = await tf.profile(run);
    assert.ok(!kernelNames.includes(ATTENTION) || kernelNames.includes("RecsysSoftmax"), kernelNames.join(" "));
    const [composed, fused] = await resultsOn("wasm", run);
    assertClose(fused.values, composed.values, { atol: 1e-6, rtol: 1e-5 });
  });

  it("gives the same bits on 1 and 2 threads (pairs split among the kernel pool's threads)", async () => {
    const c = { ...CASES[4], batch: 24 }; // 48 pairs of 48×48 scores: enough to be pooled
    const saved = kernelThreads();
    try {
      setKernelThreads(1);
      const one = await resultsOn("wasm", () => attentionAndGradients(c, "packed"));
      setKernelThreads(2);
      await new Promise((resolve) => setTimeout(resolve, 200)); // let the worker start
      const two = await resultsOn("wasm", () => attentionAndGradients(c, "packed"));
      for (let i = 0; i < one.length; i++) assert.deepEqual(two[i].values, one[i].values, `result ${i}`);
    } finally {
      setKernelThreads(saved);
    }
  });

  it("leaves no tensor behind, forward or backward", async () => {
    await tf.setBackend("wasm");
    await assertNoLeak(() => tf.dispose(tf.tidy(() => attentionAndGradients(CASES[3]))));
    // Outside any tidy, with a [B, T_k] mask and a [B, 1, 1, T_k] one (reshaped inside).
    for (const c of [CASES[3], CASES[2]]) {
      await assertNoLeak(() => {
        const inputs = inputsOf(c);
        const { q, k, v, mask } = inputs;
        const options = { numHeads: c.heads, mask, dropout: 0.3, training: true, rng: new Rng(1) };
        const result = packedHeadsAttention({ q, k, v }, options);
        tf.dispose([...Object.values(inputs), result.output, result.weights] as tf.Tensor[]);
      }, c.name);
    }
  });

  it("attends over no key as the composed ops do: zeros out, zero gradients", async () => {
    const run = () => {
      const [q, k, v] = [tf.ones([1, 2, 4]), tf.zeros([1, 0, 4]), tf.zeros([1, 0, 4])];
      const output = packedHeadsAttention({ q, k, v }, { numHeads: 2 }).output;
      const [dq] = tf.grads((x: tf.Tensor) => tf.sum(packedHeadsAttention({ q: x, k, v }, { numHeads: 2 }).output))([
        q,
      ]);
      return [output, dq];
    };
    const [output, dq] = await resultsOn("wasm", run);
    assert.deepEqual(output, { shape: [1, 2, 4], dtype: "float32", values: new Array<number>(8).fill(0) });
    assert.deepEqual(dq.values, new Array<number>(8).fill(0));
    assert.deepEqual((await resultsOn("cpu", run))[0], output);
  });

  it("rejects inputs whose widths do not split into the heads, naming the shapes", async () => {
    await tf.setBackend("wasm");
    const [q, k, v] = [tf.zeros([1, 2, 6]), tf.zeros([1, 3, 6]), tf.zeros([1, 2, 6])];
    const attrs = { numHeads: 4, scale: 1, causal: false, rate: 0, key1: 0, key2: 0 };
    assert.throws(() => tf.engine().runKernel(ATTENTION, { q, k, v: tf.zeros([1, 3, 8]) }, attrs), /H = 4/);
    assert.throws(
      () => tf.engine().runKernel(ATTENTION, { q, k, v }, { ...attrs, numHeads: 2 }),
      /k \[B, T_k, H·d_k\], v \[B, T_k, H·d_v\].*\[1,2,6\], \[1,3,6\], \[1,2,6\]/,
    );
    tf.dispose([q, k, v]);
  });

  it("is the kernel config the registry holds", () => {
    for (const config of attentionWasmConfigs) {
      assert.equal(tf.getKernel(config.kernelName, "wasm")?.kernelFunc, config.kernelFunc);
    }
  });
});
