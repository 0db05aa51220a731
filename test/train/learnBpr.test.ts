// LearnBPR: one per-triple step by hand and against the gradient of its objective, the skipped draws,
// determinism, that it learns a two-group preference, and that it leaves no tensor behind.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { BprMf } from "../../src/models/bpr";
import { BprArrays, learnBpr, learnBprStep } from "../../src/train/learnBpr";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";

describe("train/learnBpr", () => {
  before(async () => {
    await initBackend();
  });

  it("takes the step of the header on a one-factor triple worked by hand", () => {
    // x̂ = 0 − 0 + 1·(0.5 − (−0.5)) = 1, z = 1/(1 + e) = 0.2689414; α = 0.1, λ = 0: each parameter moves by
    // ±α·z·(its partner) = ±0.02689414.
    const params: BprArrays = {
      userFactors: Float32Array.of(1),
      itemFactors: Float32Array.of(0.5, -0.5),
      itemBias: Float32Array.of(0, 0),
      factors: 1,
    };
    const z = learnBprStep(params, 0, 0, 1, 0.1, 0);
    assertClose(z, 1 / (1 + Math.E), { atol: 1e-12 });
    assertClose(params.userFactors, [1.02689414], { atol: 1e-7 });
    assertClose(params.itemFactors, [0.52689414, -0.52689414], { atol: 1e-7 });
    assertClose(params.itemBias!, [0.02689414, -0.02689414], { atol: 1e-7 });
  });

  it("steps up the gradient of ln σ(x̂_uij) − (λ/2)‖Θ_uij‖², as tf.grad computes it", () => {
    const d = 3;
    const p = [0.3, -0.2, 0.5];
    const qi = [0.1, 0.4, -0.3];
    const qj = [-0.2, 0.1, 0.2];
    const [bi, bj, alpha, lambda] = [0.05, -0.1, 0.05, 0.02];
    const params: BprArrays = {
      userFactors: Float32Array.from(p),
      itemFactors: Float32Array.from([...qi, ...qj]),
      itemBias: Float32Array.of(bi, bj),
      factors: d,
    };
    learnBprStep(params, 0, 0, 1, alpha, lambda);
    const objective = (pu: tf.Tensor, ti: tf.Tensor, tj: tf.Tensor, b: tf.Tensor) => {
      const x = tf.add(tf.sum(tf.mul(pu, tf.sub(ti, tj))), tf.sub(b.slice(0, 1), b.slice(1, 1)).reshape([]));
      const penalty = tf.addN([
        tf.sum(tf.square(pu)),
        tf.sum(tf.square(ti)),
        tf.sum(tf.square(tj)),
        tf.sum(tf.square(b)),
      ]);
      // ln σ(x) = −softplus(−x) (tf.logSigmoid's gradient reads a tensor a tidy disposes).
      return tf.sub(tf.neg(tf.softplus(tf.neg(x))), tf.mul(penalty, lambda / 2)) as tf.Scalar;
    };
    const grads = tf.tidy(() =>
      tf
        .grads(objective)([tf.tensor1d(p), tf.tensor1d(qi), tf.tensor1d(qj), tf.tensor1d([bi, bj])])
        .map((g) => Array.from(g.dataSync())),
    );
    const ascend = (from: number[], g: number[]) => from.map((v, k) => v + alpha * g[k]);
    assertClose(params.userFactors, ascend(p, grads[0]), { atol: 1e-6 }, "p_u");
    assertClose(params.itemFactors, [...ascend(qi, grads[1]), ...ascend(qj, grads[2])], { atol: 1e-6 }, "q_i, q_j");
    assertClose(params.itemBias!, ascend([bi, bj], grads[3]), { atol: 1e-6 }, "b_i, b_j");
  });

  it("skips draws of an item the user has, and only ever pushes the one negative down", async () => {
    // One user with items 0 and 1 of three: every draw of j = 0 or 1 is skipped, j = 2 is the negative.
    const train = makeInteractions(
      [
        [0, 0],
        [0, 1],
      ],
      1,
      3,
    );
    const model = new BprMf(1, 3, { factors: 2, regularization: 0, seed: 1 });
    const log = await learnBpr(model, train, { epochs: 30, learningRate: 0.1, seed: 2, progress: "silent" });
    const skipped = log.reduce((total, epoch) => total + epoch.skipped, 0);
    // 60 draws, each skipped with probability 2/3: 40 expected, and surely between 25 and 55.
    assert.ok(skipped > 25 && skipped < 55, `skipped ${skipped} of 60`);
    const bias = Array.from(model.params.itemBias!.dataSync());
    assert.ok(bias[0] > 0 && bias[1] > 0 && bias[2] < 0, `biases ${bias}`);
    assertClose(bias[0] + bias[1], -bias[2], { atol: 1e-6 }, "with λ = 0 every +z on b_i is a −z on b_j");
    model.dispose();
  });

  it("learns two groups' tastes, the same way for the same seed", async () => {
    // Users 0–3 have items 0–2 (all but one each), users 4–7 items 3–5: the held-out item of one's own
    // group must outrank every item of the other group.
    const rows: [number, number][] = [];
    for (let u = 0; u < 8; u++) {
      const base = u < 4 ? 0 : 3;
      for (let k = 0; k < 3; k++) if (k !== u % 3) rows.push([u, base + k]);
    }
    const train = makeInteractions(rows, 8, 6, "two groups");
    const fitted = async () => {
      const model = new BprMf(8, 6, { factors: 4, regularization: 0.001, seed: 3 });
      await learnBpr(model, train, { epochs: 200, learningRate: 0.1, seed: 4, progress: "silent" });
      const scores = model.scoreItems(Int32Array.from({ length: 8 }, (_, u) => u));
      model.dispose();
      return scores;
    };
    const scores = await fitted();
    for (let u = 0; u < 8; u++) {
      const own = (u < 4 ? 0 : 3) + (u % 3);
      const others = u < 4 ? [3, 4, 5] : [0, 1, 2];
      for (const other of others)
        assert.ok(scores[u * 6 + own] > scores[u * 6 + other], `user ${u}: ${own} vs ${other}`);
    }
    assert.deepEqual(await fitted(), scores);
  });

  it("refuses data of another shape and leaves no tensor behind", async () => {
    const train = makeInteractions([[0, 1]], 2, 3);
    const model = new BprMf(2, 3, { factors: 2, seed: 1 });
    await assertNoLeak(() => learnBpr(model, train, { epochs: 2, learningRate: 0.01, seed: 1, progress: "silent" }));
    const other = new BprMf(2, 4, { factors: 2, seed: 1 });
    await assert.rejects(
      learnBpr(other, train, { epochs: 1, learningRate: 0.01, seed: 1 }),
      /2 users × 4 items, the data 'fixture' 2 × 3/,
    );
    model.dispose();
    other.dispose();
  });
});
