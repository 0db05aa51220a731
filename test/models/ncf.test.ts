import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { NegativeSampler } from "../../src/data/samplers";
import { evaluateRanking } from "../../src/eval/protocols";
import { NcfVariant, NeuralCF } from "../../src/models/ncf";
import { checkGradients, take } from "../nn/support";
import { pairs, plantedTastes, randomHitRate } from "./implicitFixtures";
import { ImplicitFeedbackBatch, fitImplicitFeedback, implicitFeedbackBatches } from "../../src/train/implicitFeedback";
import { bprLoss, sampledLogLoss } from "../../src/train/losses";
import { assertClose, assertNoLeak } from "../support/assertions";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const relu = (x: number) => Math.max(0, x);

/** x̂ of (u, i) computed in plain JS from the model's weights: the equations of the file header. */
function handLogit(model: NeuralCF, u: number, i: number): number {
  const p = model.params;
  const h = Array.from(p.output.dataSync());
  let phi: number[] = [];
  if (p.gmfUsers && p.gmfItems) {
    const pu = p.gmfUsers.arraySync()[u];
    const qi = p.gmfItems.arraySync()[i];
    phi = phi.concat(pu.map((v, f) => v * qi[f]));
  }
  if (p.mlpUsers && p.mlpItems) {
    let z = [...p.mlpUsers.arraySync()[u], ...p.mlpItems.arraySync()[i]];
    for (const layer of p.tower?.layers ?? []) {
      const w = layer.kernel.arraySync();
      const b = layer.bias!.arraySync();
      z = b.map((bj, j) => relu(z.reduce((s, zk, k) => s + zk * w[k][j], bj)));
    }
    phi = phi.concat(z);
  }
  return phi.reduce((s, v, k) => s + v * h[k], p.outputBias.dataSync()[0]);
}

function lossValue(model: NeuralCF, batch: ImplicitFeedbackBatch): number {
  return tf.tidy(() => model.loss(batch).dataSync()[0]);
}

const VARIANTS: NcfVariant[] = ["gmf", "mlp", "neumf"];

describe("models/ncf", () => {
  before(async () => {
    await initBackend();
  });

  describe("losses", () => {
    it("sampledLogLoss is the mean binary cross-entropy over positives (y = 1) and negatives (y = 0)", () => {
      const pos = tf.tensor1d([0, 2]);
      const neg = tf.tensor2d([
        [0, 3],
        [-1, 0.5],
      ]);
      const expected =
        -(
          Math.log(sigmoid(0)) +
          Math.log(sigmoid(2)) +
          [0, 3, -1, 0.5].reduce((s, x) => s + Math.log(1 - sigmoid(x)), 0)
        ) / 6;
      assertClose(take(sampledLogLoss(pos, neg)), [expected], { atol: 1e-6, rtol: 1e-4 });
      // Extreme logits stay finite: −ln σ(−60) = 60.
      assertClose(take(sampledLogLoss(tf.tensor1d([-60]), tf.tensor2d([[60]]))), [60], { atol: 1e-4, rtol: 1e-4 });
      tf.dispose([pos, neg]);
    });

    it("bprLoss is the mean of −ln σ(x⁺ − x⁻) over every (positive, negative) pair", () => {
      const pos = tf.tensor1d([1, -1]);
      const neg = tf.tensor2d([
        [0, 3],
        [-1, -2],
      ]);
      const margins = [1, -2, 0, 1];
      const expected = margins.reduce((s, m) => s - Math.log(sigmoid(m)), 0) / 4;
      assertClose(take(bprLoss(pos, neg)), [expected], { atol: 1e-6, rtol: 1e-4 });
      tf.dispose([pos, neg]);
    });

    it("have the gradients that central differences give", () => {
      const pos = tf.variable(tf.tensor1d([0.3, -1.2, 2]));
      const neg = tf.variable(
        tf.tensor2d([
          [0.1, -0.4],
          [1.5, 0],
          [-2, 0.7],
        ]),
      );
      checkGradients(() => sampledLogLoss(pos, neg), [pos, neg]);
      checkGradients(() => bprLoss(pos, neg), [pos, neg]);
      tf.dispose([pos, neg]);
    });
  });

  describe("NeuralCF", () => {
    it("scores x̂ = hᵀ[p^G ⊙ q^G ; MLP(p^M, q^M)] + b, as the equations say, for each variant", () => {
      const { train } = plantedTastes();
      for (const variant of VARIANTS) {
        const model = new NeuralCF(train, { variant, factors: 3, mlpLayers: [6, 4, 2], initStd: 0.5, seed: 1 });
        tf.tidy(() => model.params.outputBias.assign(tf.tensor1d([0.3])));
        const users = Int32Array.of(0, 7, 7, 59);
        const items = Int32Array.of(0, 39, 12, 5);
        const expected = Array.from(users, (u, k) => handLogit(model, u, items[k]));
        assertClose(model.scorePairs(users, items), expected, { atol: 1e-5, rtol: 1e-4 }, variant);
        model.dispose();
      }
    });

    it("GMF with h = 1 and b = 0 is matrix factorisation: x̂ = p_uᵀq_i", () => {
      const { train } = plantedTastes();
      const model = new NeuralCF(train, { variant: "gmf", factors: 4, initStd: 0.5, seed: 2 });
      tf.tidy(() => model.params.output.assign(tf.ones([4, 1])));
      const P = model.params.gmfUsers!.arraySync();
      const Q = model.params.gmfItems!.arraySync();
      const scores = model.scoreItems(Int32Array.of(3));
      assertClose(
        scores,
        Q.map((q) => q.reduce((s, v, f) => s + v * P[3][f], 0)),
        { atol: 1e-5, rtol: 1e-4 },
      );
      model.dispose();
    });

    it("scoreItems agrees with scorePairs, the MLP's first layer split into a user and an item half", () => {
      const { train } = plantedTastes();
      for (const [variant, mlpLayers] of [
        ["gmf", [8]],
        ["mlp", [8, 4, 2]],
        ["mlp", [8]],
        ["neumf", [8, 6]],
      ] as Array<[NcfVariant, number[]]>) {
        const model = new NeuralCF(train, { variant, factors: 3, mlpLayers, initStd: 0.5, seed: 3 });
        const users = Int32Array.of(5, 0, 44);
        const all = model.scoreItems(users);
        assert.equal(all.length, 3 * 40);
        const pairUsers = Int32Array.from({ length: 120 }, (_, k) => users[Math.floor(k / 40)]);
        const pairItems = Int32Array.from({ length: 120 }, (_, k) => k % 40);
        assertClose(
          all,
          model.scorePairs(pairUsers, pairItems),
          { atol: 1e-5, rtol: 1e-4 },
          `${variant} [${mlpLayers}]`,
        );
        model.dispose();
      }
    });

    it("pretrained NeuMF scores α·x̂^GMF + (1 − α)·x̂^MLP before any training", () => {
      const { train } = plantedTastes();
      const gmf = new NeuralCF(train, { variant: "gmf", factors: 3, initStd: 0.5, seed: 4 });
      const mlp = new NeuralCF(train, { variant: "mlp", mlpLayers: [6, 4], initStd: 0.5, seed: 5 });
      tf.tidy(() => {
        gmf.params.outputBias.assign(tf.tensor1d([0.4]));
        mlp.params.outputBias.assign(tf.tensor1d([-1]));
      });
      const alpha = 0.3;
      const neumf = new NeuralCF(train, {
        variant: "neumf",
        factors: 3,
        mlpLayers: [6, 4],
        seed: 6,
        pretrained: { gmf, mlp, alpha },
      });
      const users = Int32Array.of(1, 2, 30);
      const items = Int32Array.of(4, 17, 39);
      const g = gmf.scorePairs(users, items);
      const m = mlp.scorePairs(users, items);
      assertClose(
        neumf.scorePairs(users, items),
        Array.from(g, (v, k) => alpha * v + (1 - alpha) * m[k]),
        { atol: 1e-5, rtol: 1e-4 },
      );
      assert.throws(
        () =>
          new NeuralCF(train, { variant: "neumf", factors: 4, mlpLayers: [6, 4], seed: 6, pretrained: { gmf, mlp } }),
        /the GMF has 3 factors, this model 4/,
      );
      assert.throws(
        () =>
          new NeuralCF(train, {
            variant: "neumf",
            factors: 3,
            mlpLayers: [6, 4],
            seed: 6,
            pretrained: { gmf: mlp, mlp: gmf },
          }),
        /expected a GMF and an MLP/,
      );
      assert.throws(
        () => new NeuralCF(train, { variant: "gmf", factors: 3, seed: 6, pretrained: { gmf, mlp } }),
        /only a NeuMF model/,
      );
      [gmf, mlp, neumf].forEach((x) => x.dispose());
    });

    it("has the loss gradient that central differences give, for the log loss and BPR", () => {
      const { train } = plantedTastes();
      // A repeated user and item, so that gradients of the look-ups have to accumulate.
      const batch = {
        users: Int32Array.of(0, 0, 5),
        positives: Int32Array.of(0, 1, 11),
        negatives: Int32Array.of(20, 1 + 10, 30, 0, 11, 21),
      };
      for (const loss of ["logLoss", "bpr"] as const) {
        const model = new NeuralCF(train, {
          variant: "neumf",
          factors: 2,
          mlpLayers: [4, 3],
          initStd: 0.5,
          loss,
          seed: 7,
        });
        // A small step: a ReLU unit within 0.01 of its kink would spoil the default 0.01.
        checkGradients(() => model.loss(batch), model.trainableVariables(), { perVariable: 6, step: 1e-3, atol: 3e-3 });
        model.dispose();
      }
    });

    it("lowers the loss of a batch with one training step", () => {
      const { train } = plantedTastes();
      for (const variant of VARIANTS) {
        const model = new NeuralCF(train, { variant, factors: 4, mlpLayers: [8, 4], seed: 8 });
        const [batch] = implicitFeedbackBatches(train, new NegativeSampler(train), {
          batchSize: 64,
          negatives: 4,
          rng: new Rng(2),
        });
        const before = lossValue(model, batch);
        const optimizer = tf.train.sgd(0.1); // a plain gradient step: first order, it must go down
        optimizer.minimize(() => model.loss(batch), true, model.trainableVariables())?.dispose();
        assert.ok(lossValue(model, batch) < before, `${variant}: ${lossValue(model, batch)} >= ${before}`);
        optimizer.dispose();
        model.dispose();
      }
    });

    it("learns planted tastes: held-out items ranked first, far above chance", async () => {
      const { train, test } = plantedTastes();
      for (const [variant, loss] of [
        ["gmf", "logLoss"],
        ["mlp", "logLoss"],
        ["neumf", "bpr"],
      ] as Array<[NcfVariant, "logLoss" | "bpr"]>) {
        const model = new NeuralCF(train, { variant, loss, factors: 8, mlpLayers: [16, 8], initStd: 0.1, seed: 9 });
        await fitImplicitFeedback(model, {
          epochs: 25,
          batchSize: 32,
          learningRate: 0.02,
          seed: 3,
          progress: "silent",
        });
        const report = evaluateRanking(model, { train, test, k: 2, metrics: ["hr", "ndcg"] });
        assert.ok(
          report.metrics["hr@2"] > 0.85,
          `${variant}/${loss}: hr@2 = ${report.metrics["hr@2"]}, chance ${randomHitRate(2).toFixed(3)}`,
        );
        assert.ok(report.metrics["ndcg@2"] > 0.7, `${variant}/${loss}: ndcg@2 = ${report.metrics["ndcg@2"]}`);
        model.dispose();
      }
    });

    it("starts from the same weights with the same seed and trains to the same losses", async () => {
      const { train } = plantedTastes();
      const run = async (seed: number) => {
        const model = new NeuralCF(train, { factors: 4, mlpLayers: [8, 4], seed });
        const initial = model.trainableVariables().map((v) => Array.from(v.dataSync()));
        const logs = await fitImplicitFeedback(model, { epochs: 2, batchSize: 64, seed: 1, progress: "silent" });
        model.dispose();
        return { initial, losses: logs.map((l) => l.loss) };
      };
      const a = await run(11);
      const b = await run(11);
      const c = await run(12);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a.initial[0], c.initial[0]);
    });

    it("leaks no tensors in loss, scoring and training", async () => {
      const { train } = plantedTastes();
      const model = new NeuralCF(train, { factors: 4, mlpLayers: [8, 4], seed: 13 });
      const [batch] = implicitFeedbackBatches(train, new NegativeSampler(train), {
        batchSize: 16,
        negatives: 2,
        rng: new Rng(4),
      });
      await assertNoLeak(async () => {
        lossValue(model, batch);
        model.scoreItems(Int32Array.of(0, 1, 2));
        model.scorePairs(Int32Array.of(0, 1), Int32Array.of(2, 3));
        await fitImplicitFeedback(model, { epochs: 1, batchSize: 64, seed: 1, progress: "silent" });
      });
      const count = tf.memory().numTensors;
      model.dispose();
      assert.equal(tf.memory().numTensors, count - model.trainableVariables().length);
    });

    it("rejects bad configurations and batches with clear errors", () => {
      const { train } = plantedTastes();
      assert.throws(
        () => new NeuralCF(train, { variant: "deep" as NcfVariant, seed: 1 }),
        /variant must be "gmf", "mlp" or "neumf"/,
      );
      assert.throws(
        () => new NeuralCF(train, { mlpLayers: [7, 4], seed: 1 }),
        /mlpLayers must start with an even width/,
      );
      assert.throws(() => new NeuralCF(train, { factors: 0, seed: 1 }), /factors must be a positive integer/);
      assert.throws(() => new NeuralCF(train, { loss: "hinge" as "bpr", seed: 1 }), /loss must be "logLoss" or "bpr"/);
      assert.throws(() => new NeuralCF(pairs([], 2, 2), { seed: 1 }), /the training data 'tiny' is empty/);
      const model = new NeuralCF(train, { factors: 2, mlpLayers: [4, 2], seed: 1 });
      assert.throws(
        () => model.loss({ users: Int32Array.of(0), positives: Int32Array.of(0), negatives: new Int32Array(0) }),
        /at least one negative/,
      );
      assert.throws(
        () =>
          model.loss({ users: Int32Array.of(0, 1), positives: Int32Array.of(0, 1), negatives: Int32Array.of(5, 6, 7) }),
        /not a whole number per positive/,
      );
      assert.throws(() => model.scorePairs(Int32Array.of(0), Int32Array.of()), /1 users but 0 items/);
      model.dispose();
    });
  });
});
