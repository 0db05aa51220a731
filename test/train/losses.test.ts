import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { gatherPositions, sampledSoftmaxCrossEntropy, softmaxCrossEntropyFromLabels } from "../../src/train/losses";
import { checkGradients, normalTensor, take } from "../nn/support";
import { assertClose, assertNoLeak } from "../support/assertions";

// Every check runs on wasm (the fused kernels) and on cpu (the composed ops).
const BACKENDS = ["wasm", "cpu"] as const;

describe("losses", () => {
  let backend: string;
  before(async () => {
    backend = (await initBackend()).name;
  });
  afterEach(async () => {
    await tf.setBackend(backend);
  });

  for (const name of BACKENDS) {
    describe(`softmaxCrossEntropyFromLabels on ${name}`, () => {
      beforeEach(async () => {
        await tf.setBackend(name);
      });

      it("is log Σ exp(z) − z_y on a hand-checked example", () => {
        const logits = tf.tensor2d([
          [0, 0],
          [1, 2],
          [3, 0],
        ]);
        const losses = take(softmaxCrossEntropyFromLabels(logits, Int32Array.from([0, 1, 1])));
        assertClose(losses, [Math.log(2), Math.log(1 + Math.exp(-1)), Math.log(1 + Math.exp(3))], {
          atol: 1e-6,
          rtol: 1e-5,
        });
        logits.dispose();
      });

      it("equals tfjs's one-hot softmax cross-entropy on random inputs, large logits included", () => {
        const rng = new Rng(4);
        const logits = normalTensor(rng, [6, 11], 20) as tf.Tensor2D;
        const labels = Int32Array.from({ length: 6 }, () => rng.int(11));
        const expected = take(
          tf.losses.softmaxCrossEntropy(
            tf.oneHot(tf.tensor1d(labels, "int32"), 11),
            logits,
            undefined,
            undefined,
            tf.Reduction.NONE,
          ),
        );
        assertClose(take(softmaxCrossEntropyFromLabels(logits, labels)), expected, { atol: 1e-4, rtol: 1e-5 });
        logits.dispose();
      });

      it("has the gradient of central differences", () => {
        const rng = new Rng(5);
        const logits = tf.variable(normalTensor(rng, [4, 9], 2));
        const labels = tf.tensor1d(
          Int32Array.from({ length: 4 }, () => rng.int(9)),
          "int32",
        );
        const weights = tf.tensor1d([0.5, -1, 2, 1]); // an uneven upstream gradient per row
        checkGradients(
          () =>
            tf.sum(
              tf.mul(softmaxCrossEntropyFromLabels(logits as unknown as tf.Tensor2D, labels), weights),
            ) as tf.Scalar,
          [logits],
          { perVariable: 20 },
        );
        tf.dispose([logits, labels, weights]);
      });

      it("rejects labels outside [0, C) and labels of the wrong length", () => {
        const logits = tf.zeros([2, 3]) as tf.Tensor2D;
        assert.throws(
          () => softmaxCrossEntropyFromLabels(logits, Int32Array.from([0, 3])),
          /labels\[1\] = 3 is outside \[0, 3\)/,
        );
        assert.throws(() => softmaxCrossEntropyFromLabels(logits, Int32Array.from([0])), /labels must be int32 \[2\]/);
        logits.dispose();
      });

      it("keeps memory flat over training steps", async () => {
        const rng = new Rng(6);
        const logits = tf.variable(normalTensor(rng, [5, 8]));
        const labels = tf.tensor1d(
          Int32Array.from({ length: 5 }, () => rng.int(8)),
          "int32",
        );
        const optimizer = tf.train.adam(0.1);
        const step = () =>
          optimizer.minimize(
            () => tf.mean(softmaxCrossEntropyFromLabels(logits as unknown as tf.Tensor2D, labels)) as tf.Scalar,
          );
        step(); // Adam creates its slots on the first step
        await assertNoLeak(() => {
          for (let i = 0; i < 5; i++) step();
        });
        optimizer.dispose();
        tf.dispose([logits, labels]);
      });
    });
  }

  describe("gatherPositions", () => {
    it("picks the rows b·T + t of [B, T, D]", () => {
      const hidden = tf.tensor3d(
        Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i),
        [2, 3, 2],
      );
      const rows = gatherPositions(hidden, Int32Array.from([4, 0]));
      assert.deepEqual(rows.shape, [2, 2]);
      assert.deepEqual(Array.from(take(rows)), [8, 9, 0, 1]);
      assert.throws(
        () => gatherPositions(hidden, Int32Array.from([6])),
        /positions\[0\] = 6 is outside \[0, B·T = 6\)/,
      );
      hidden.dispose();
    });
  });

  for (const name of BACKENDS) {
    describe(`sampledSoftmaxCrossEntropy on ${name}`, () => {
      beforeEach(async () => {
        await tf.setBackend(name);
      });

      it("leaves accidental hits out of the softmax (hand-checked, no correction)", () => {
        // All mass on item 2: every negative is item 2. Row 0 (label 0) sees [o_0, o_2 × S]; row 1's
        // label is 2, so all its negatives are hits and only its label remains: loss 0.
        const hidden = tf.tensor2d([
          [1, 0],
          [0, 1],
        ]);
        const items = tf.tensor2d([
          [0.5, 0],
          [0, 0],
          [2, 1],
        ]); // o_i,c = h_i·w_c
        const losses = take(
          sampledSoftmaxCrossEntropy(hidden, items, undefined, Int32Array.from([0, 2]), {
            numSampled: 3,
            rng: new Rng(1),
            proposal: Float32Array.from([0, 0, 1]),
            logQCorrection: false,
          }),
        );
        // Row 0: o_0 = 0.5, o_2 = 2, three copies: log(1 + 3·e^{1.5}).
        assertClose(losses, [Math.log(1 + 3 * Math.exp(1.5)), 0], { atol: 1e-5, rtol: 1e-5 });
        tf.dispose([hidden, items]);
      });

      it("subtracts log(S·q) from each candidate with the logQ correction", () => {
        // Proposal q = (1/4, 3/4) over two items, S = 2; draws decide the candidates, so compare with
        // the same draws computed by hand.
        const proposal = Float32Array.from([1, 3]);
        const hidden = tf.tensor2d([[0.3, -0.2]]);
        const items = tf.tensor2d([
          [1, 2],
          [-1, 0.5],
        ]);
        const bias = tf.tensor1d([0.1, -0.2]);
        const loss = take(
          sampledSoftmaxCrossEntropy(hidden, items, bias, Int32Array.from([0]), {
            numSampled: 2,
            rng: new Rng(9),
            proposal,
          }),
        )[0];
        const draws = new Rng(9);
        const drawn = [0, 1].map(() => (draws.next() * 4 < 1 ? 0 : 1));
        const logit = (c: number) =>
          [0.3 * 1 - 0.2 * 2 + 0.1, 0.3 * -1 - 0.2 * 0.5 - 0.2][c] - Math.log(2 * [0.25, 0.75][c]);
        const candidates = [logit(0), ...drawn.map((c) => (c === 0 ? -Infinity : logit(c)))];
        const expected = -candidates[0] + Math.log(candidates.reduce((s, o) => s + Math.exp(o), 0));
        assert.ok(Math.abs(loss - expected) < 1e-5, `${loss} vs ${expected}`);
        tf.dispose([hidden, items, bias]);
      });

      it("has the gradient of central differences in the hidden states, item weights and biases", () => {
        const rng = new Rng(10);
        const hidden = tf.variable(normalTensor(rng, [3, 4]));
        const items = tf.variable(normalTensor(rng, [12, 4]));
        const bias = tf.variable(normalTensor(rng, [12]));
        const labels = Int32Array.from([1, 7, 11]);
        const loss = () =>
          tf.mean(
            sampledSoftmaxCrossEntropy(
              hidden as unknown as tf.Tensor2D,
              items as unknown as tf.Tensor2D,
              bias as unknown as tf.Tensor1D,
              labels,
              { numSampled: 5, rng: new Rng(3) },
            ),
          ) as tf.Scalar;
        checkGradients(loss, [hidden, items, bias], { perVariable: 8 });
        tf.dispose([hidden, items, bias]);
      });

      it("rejects a bad proposal and numSampled", () => {
        const hidden = tf.zeros([1, 2]) as tf.Tensor2D;
        const items = tf.zeros([3, 2]) as tf.Tensor2D;
        const y = Int32Array.from([0]);
        assert.throws(
          () => sampledSoftmaxCrossEntropy(hidden, items, undefined, y, { numSampled: 0, rng: new Rng(1) }),
          /numSampled must be a positive integer/,
        );
        assert.throws(
          () =>
            sampledSoftmaxCrossEntropy(hidden, items, undefined, y, {
              numSampled: 2,
              rng: new Rng(1),
              proposal: Float32Array.from([1, 1]),
            }),
          /proposal has 2 entries, expected C = 3/,
        );
        assert.throws(
          () =>
            sampledSoftmaxCrossEntropy(hidden, items, undefined, y, {
              numSampled: 2,
              rng: new Rng(1),
              proposal: Float32Array.from([0, 0, 0]),
            }),
          /needs positive mass/,
        );
        tf.dispose([hidden, items]);
      });
    });
  }
});
