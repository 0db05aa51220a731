import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { evaluateRanking } from "../../src/eval/ranking";
import {
  gaussianKl,
  MultVae,
  multVaeBatches,
  multinomialLogLikelihood,
  reparameterize,
} from "../../src/models/multVae";
import { klAnnealing } from "../../src/train/schedules";
import { fit } from "../../src/train/trainer";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";
import { checkGradients, randomTensor } from "./gradientCheck";

/** Two tastes: users 0..11 use items 0..9, users 12..23 items 10..19; two items of each user held out. */
function twoGroups() {
  const rows: [number, number][] = [];
  const held: [number, number][] = [];
  for (let u = 0; u < 24; u++) {
    const offset = u < 12 ? 0 : 10;
    const left = [(u % 10) + offset, ((u + 5) % 10) + offset];
    for (let i = offset; i < offset + 10; i++) (left.includes(i) ? held : rows).push([u, i]);
  }
  return { train: makeInteractions(rows, 24, 20, "two-groups"), test: makeInteractions(held, 24, 20, "held-out") };
}

const SMALL = { hiddenUnits: [16], latentDim: 4 };

describe("models/multVae", () => {
  before(async () => {
    await initBackend();
  });

  it("computes the KL of N(μ, σ²) against N(0, 1) as −½Σ(1 + log σ² − μ² − σ²)", () => {
    // Row 0: μ = (0.5, −1), σ² = (1, 0.25). Row 1: the prior itself, KL 0.
    const mu = tf.tensor2d([
      [0.5, -1],
      [0, 0],
    ]);
    const logVar = tf.tensor2d([
      [0, Math.log(0.25)],
      [0, 0],
    ]);
    const expected = -0.5 * (1 + 0 - 0.25 - 1 + (1 + Math.log(0.25) - 1 - 0.25)); // 0.125 + 1.318…
    const kl = gaussianKl(mu, logVar);
    assertClose(kl.dataSync(), [expected, 0], { atol: 1e-6 });
    tf.dispose([mu, logVar, kl]);
  });

  it("computes the multinomial log-likelihood Σ x_i log softmax(z)_i", () => {
    // softmax(0, ln 2, 0) = (¼, ½, ¼): items 0 and 1 give ln ¼ + ln ½ = −ln 8; a count of 2 doubles its term.
    const logits = tf.tensor2d([
      [0, Math.log(2), 0],
      [0, Math.log(2), 0],
    ]);
    const x = tf.tensor2d([
      [1, 1, 0],
      [0, 2, 0],
    ]);
    const ll = multinomialLogLikelihood(logits, x);
    assertClose(ll.dataSync(), [-Math.log(8), 2 * Math.log(0.5)], { atol: 1e-6 });
    // Shifting every logit of a row leaves it unchanged (softmax is shift-invariant), even far out.
    const shifted = tf.add(logits, 1000) as tf.Tensor2D;
    const same = multinomialLogLikelihood(shifted, x);
    assertClose(same.dataSync(), ll.dataSync(), { atol: 1e-3 });
    tf.dispose([logits, x, ll, shifted, same]);
  });

  it("has the gradients central differences give, for the KL, the likelihood and z", () => {
    const rng = new Rng(3);
    const [mu, logVar, logits, epsilon] = [
      randomTensor(rng, [2, 3], 0.7),
      randomTensor(rng, [2, 3], 0.5),
      randomTensor(rng, [2, 4], 1),
      randomTensor(rng, [2, 3], 1),
    ];
    const x = tf.tensor2d([1, 0, 1, 1, 0, 1, 0, 0], [2, 4]);
    checkGradients((m, v) => tf.sum(gaussianKl(m as tf.Tensor2D, v as tf.Tensor2D)), [mu, logVar]);
    checkGradients((z) => tf.sum(multinomialLogLikelihood(z as tf.Tensor2D, x)), [logits]);
    checkGradients(
      (m, v) => tf.sum(tf.square(reparameterize(m as tf.Tensor2D, v as tf.Tensor2D, epsilon as tf.Tensor2D))),
      [mu, logVar],
    );
    tf.dispose([mu, logVar, logits, epsilon, x]);
  });

  it("costs n_u·ln I + β·KL per user with zero weights and μ, log σ² set by the encoder's bias", () => {
    const { train } = twoGroups();
    const model = new MultVae(train, { ...SMALL, dropout: 0, seed: 1 });
    for (const v of model.trainableVariables()) tf.tidy(() => v.assign(tf.zerosLike(v)));
    // μ = 0.5 and log σ² = −1 on each of the L = 4 units; the decoder's logits are all 0: π uniform.
    const bias = model.encoder.layers[1].bias!;
    tf.tidy(() => bias.assign(tf.tensor1d([0.5, 0.5, 0.5, 0.5, -1, -1, -1, -1])));
    const kl = -0.5 * 4 * (1 - 1 - 0.25 - Math.exp(-1));
    const batch = { users: Int32Array.from([0, 13]), beta: 0.3 };
    const loss = model.loss(batch, false); // every user has 8 training items
    assertClose(loss.dataSync()[0], 8 * Math.log(20) + 0.3 * kl, { rtol: 1e-6 });
    loss.dispose();
    model.dispose();
  });

  it("anneals β as the paper does (0, midway, the cap) and the batches carry β of their global step", () => {
    // The paper's schedule: total_anneal_steps 200000, cap 0.2, so the cap is reached at step 40000.
    const beta = klAnnealing({ cap: 0.2, totalSteps: 200000 });
    assert.deepEqual([0, 20000, 40000, 46400].map(beta), [0, 0.1, 0.2, 0.2]);

    const users = Int32Array.from({ length: 10 }, (_, u) => u);
    const rng = new Rng(2);
    const epoch2 = multVaeBatches(users, 2, { batchSize: 4, rng, beta: (step) => step });
    assert.deepEqual(
      epoch2.map((b) => [b.users.length, b.beta]),
      [
        [4, 6],
        [4, 7],
        [2, 8],
      ],
    );
    assert.deepEqual(
      Array.from(epoch2.flatMap((b) => Array.from(b.users))).sort((a, b) => a - b),
      Array.from(users),
    );
  });

  it("trains with finite gradients on every weight, and learns the two tastes without leaking tensors", async () => {
    const { train, test } = twoGroups();
    const model = new MultVae(train, { ...SMALL, seed: 4 });
    const { value, grads } = tf.variableGrads(() => model.loss({ users: Int32Array.from([0, 1, 12]), beta: 0.2 }));
    for (const [name, g] of Object.entries(grads)) {
      const values = g.dataSync();
      assert.ok(values.every(Number.isFinite), `${name} has a non-finite gradient`);
      assert.ok(
        values.some((v) => v !== 0),
        `${name} has a zero gradient`,
      );
    }
    tf.dispose([value, ...Object.values(grads)]);

    const before = evaluateRanking(model, { train, test, k: 5, metrics: ["recall"] }).metrics["recall@5"];
    const rng = new Rng(5);
    const beta = klAnnealing({ cap: 0.2, totalSteps: 200 });
    // The optimizer is made and disposed inside the check: Adam's moments are tensors too.
    const history = await assertNoLeak(async () => {
      const optimizer = tf.train.adam(0.01);
      const logs = await fit(model, {
        optimizer,
        epochs: 60,
        progress: "silent",
        batches: (epoch) => multVaeBatches(model.trainingUsers, epoch, { batchSize: 8, rng, beta }),
      });
      optimizer.dispose();
      return logs;
    });
    const after = evaluateRanking(model, { train, test, k: 5, metrics: ["recall"] }).metrics["recall@5"];
    assert.ok(history[59].loss < history[0].loss, `loss ${history[0].loss} → ${history[59].loss}`);
    assert.ok(after > 0.9 && after > before, `recall@5 ${before} → ${after}`);
    model.dispose();
  });

  it("scores with μ and no dropout (the same twice), as scorePairs does, and saves and loads to the same scores", async () => {
    const { train } = twoGroups();
    const model = new MultVae(train, { ...SMALL, seed: 6 });
    const users = Int32Array.from([2, 20]);
    const all = await assertNoLeak(() => model.scoreItems(users));
    assert.deepEqual(model.scoreItems(users), all);
    const pairs = await assertNoLeak(() => model.scorePairs(users, Int32Array.from([3, 17])));
    assertClose(Array.from(pairs), [all[3], all[20 + 17]], { atol: 1e-6 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-multvae-"));
    try {
      await model.save(dir);
      const loaded = await MultVae.load(dir, train);
      assert.deepEqual(loaded.hiddenUnits, [16]);
      assert.deepEqual(loaded.scoreItems(users), all);
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    model.dispose();
  });

  it("gives the same weights for the same seeds", async () => {
    const { train } = twoGroups();
    const trained = async (seed: number) => {
      const model = new MultVae(train, { ...SMALL, seed });
      const rng = new Rng(seed);
      const optimizer = tf.train.adam(0.01);
      await fit(model, {
        optimizer,
        epochs: 2,
        progress: "silent",
        batches: (epoch) => multVaeBatches(model.trainingUsers, epoch, { batchSize: 8, rng, beta: () => 0.2 }),
      });
      optimizer.dispose();
      const weights = model.decoder.layers[1].kernel.dataSync() as Float32Array;
      model.dispose();
      return weights;
    };
    const a = await trained(7);
    assert.deepEqual(a, await trained(7));
    assert.notDeepEqual(a, await trained(8));
  });

  it("rejects bad settings, users and β", () => {
    const { train } = twoGroups();
    assert.throws(() => new MultVae(train, { dropout: 1, seed: 0 }), /dropout must be a number in \[0, 1\)/);
    assert.throws(() => new MultVae(train, { latentDim: 0, seed: 0 }), /latentDim must be a positive integer/);
    const model = new MultVae(train, { ...SMALL, seed: 0 });
    assert.throws(() => model.scoreItems(Int32Array.from([24])), /outside the 24 users/);
    assert.throws(() => model.loss({ users: Int32Array.from([0]), beta: NaN }), /beta must be a finite number/);
    assert.throws(() => model.scorePairs(Int32Array.from([0]), Int32Array.from([20])), /outside the 20 items/);
    model.dispose();
  });
});
