import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { NegativeSampler } from "../../src/data/samplers";
import { UserItems } from "../../src/data/userIndex";
import { BprMf, bprBatches, bprMfLoss } from "../../src/models/bpr";
import { fit } from "../../src/train/trainer";
import { makeInteractions } from "../eval/fixtures";
import { checkGradients, randomTensor } from "./gradientCheck";

/**
 * Two tastes: users 0..11 consume from items 0..9, users 12..23 from items 10..19, each user all of
 * their group's items but two, which are left out for testing.
 */
function twoGroups(): { train: ReturnType<typeof makeInteractions>; heldOut: Map<number, number[]> } {
  const rows: [number, number][] = [];
  const heldOut = new Map<number, number[]>();
  for (let u = 0; u < 24; u++) {
    const offset = u < 12 ? 0 : 10;
    const left = [(u % 10) + offset, ((u + 5) % 10) + offset];
    heldOut.set(u, left);
    for (let i = offset; i < offset + 10; i++) if (!left.includes(i)) rows.push([u, i]);
  }
  return { train: makeInteractions(rows, 24, 20, "two-groups"), heldOut };
}

describe("models/bpr", () => {
  before(async () => {
    await initBackend();
  });

  it("costs ln 2 per triple when every score is equal, plus the penalty", () => {
    const model = new BprMf(3, 4, { factors: 2, regularization: 0.5, initStd: 0, seed: 0 });
    const batch = {
      users: Int32Array.from([0, 1]),
      positives: Int32Array.from([0, 1]),
      negatives: Int32Array.from([2, 3]),
    };
    const loss = model.loss(batch);
    assert.ok(Math.abs(loss.dataSync()[0] - Math.LN2) < 1e-6);
    loss.dispose();
    // With p_0 = (1, 0), q_0 = (2, 0), q_2 = 0 and no bias: x̂_uij = 2, penalty 1 + 4 = 5.
    tf.tidy(() => {
      model.params.userFactors.assign(
        tf.tensor2d([
          [1, 0],
          [0, 0],
          [0, 0],
        ]),
      );
      model.params.itemFactors.assign(
        tf.tensor2d([
          [2, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ]),
      );
    });
    const one = model.loss({
      users: Int32Array.from([0]),
      positives: Int32Array.from([0]),
      negatives: Int32Array.from([2]),
    });
    assert.ok(Math.abs(one.dataSync()[0] - (Math.log(1 + Math.exp(-2)) + 0.5 * 5)) < 1e-6);
    one.dispose();
    model.dispose();
  });

  it("has the gradient central differences give", () => {
    const rng = new Rng(5);
    const inputs = [randomTensor(rng, [3, 2], 0.7), randomTensor(rng, [5, 2], 0.7), randomTensor(rng, [5], 0.7)];
    const [users, positives, negatives] = [
      tf.tensor1d([0, 1, 0, 2], "int32"),
      tf.tensor1d([1, 0, 1, 4], "int32"),
      tf.tensor1d([3, 1, 2, 0], "int32"),
    ];
    checkGradients(
      (p, q, b) =>
        bprMfLoss(
          { userFactors: p as tf.Tensor2D, itemFactors: q as tf.Tensor2D, itemBias: b as tf.Tensor1D },
          0.1,
          users,
          positives,
          negatives,
        ),
      inputs,
    );
    checkGradients(
      (p, q) =>
        bprMfLoss({ userFactors: p as tf.Tensor2D, itemFactors: q as tf.Tensor2D }, 0.1, users, positives, negatives),
      inputs.slice(0, 2),
    );
    tf.dispose([...inputs, users, positives, negatives]);
  });

  it("visits every training pair once per epoch, each with an unseen negative", () => {
    const { train } = twoGroups();
    const sampler = new NegativeSampler(train);
    const seen = UserItems.from(train);
    const batches = bprBatches(train, sampler, { batchSize: 50, rng: new Rng(1) });
    assert.deepEqual(
      batches.map((b) => b.users.length),
      [50, 50, 50, 42],
    );
    const pairs = new Set<string>();
    for (const b of batches) {
      b.users.forEach((u, k) => {
        pairs.add(`${u}:${b.positives[k]}`);
        assert.ok(!seen.has(u, b.negatives[k]), `user ${u} has seen negative ${b.negatives[k]}`);
        assert.ok(seen.has(u, b.positives[k]));
      });
    }
    assert.equal(pairs.size, train.length);
  });

  it("learns to rank a user's held-out items above the other group's", async () => {
    const { train, heldOut } = twoGroups();
    const model = new BprMf(24, 20, { factors: 2, regularization: 0.01, seed: 0 });
    const sampler = new NegativeSampler(train);
    const rng = new Rng(3);
    const optimizer = tf.train.adam(0.05);
    const history = await fit(model, {
      optimizer,
      epochs: 30,
      progress: "silent",
      batches: () => bprBatches(train, sampler, { batchSize: 32, rng }),
    });
    optimizer.dispose();
    assert.ok(history[29].loss < history[0].loss / 2, `loss ${history[0].loss} → ${history[29].loss}`);
    const scores = model.scoreItems(Int32Array.from({ length: 24 }, (_, u) => u));
    for (let u = 0; u < 24; u++) {
      const other = u < 12 ? 10 : 0;
      const worstHeldOut = Math.min(...heldOut.get(u)!.map((i) => scores[u * 20 + i]));
      for (let i = other; i < other + 10; i++)
        assert.ok(
          worstHeldOut > scores[u * 20 + i],
          `user ${u}: item ${i} outranks a held-out item ${Array.from(scores.subarray(u * 20, u * 20 + 20), (v) => v.toFixed(2))}`,
        );
    }
    model.dispose();
  });

  it("scores every item consistently with scorePairs, without leaking tensors", async () => {
    const { train } = twoGroups();
    const model = new BprMf(24, 20, { factors: 3, seed: 1 });
    tf.tidy(() => model.params.itemBias!.assign(tf.linspace(-1, 1, 20)));
    const start = tf.memory().numTensors;
    const all = model.scoreItems(Int32Array.from([5, 13]));
    const pairs = model.scorePairs(Int32Array.from([5, 13]), Int32Array.from([7, 19]));
    assert.ok(Math.abs(pairs[0] - all[7]) < 1e-6 && Math.abs(pairs[1] - all[20 + 19]) < 1e-6);
    const optimizer = tf.train.sgd(0.1);
    const sampler = new NegativeSampler(train);
    const rng = new Rng(0);
    await fit(model, {
      optimizer,
      epochs: 1,
      progress: "silent",
      batches: () => bprBatches(train, sampler, { batchSize: 64, rng }),
    });
    optimizer.dispose();
    assert.equal(tf.memory().numTensors, start);
    model.dispose();
  });

  it("gives the same weights for the same seeds", async () => {
    const { train } = twoGroups();
    const trained = async (seed: number): Promise<Float32Array> => {
      const model = new BprMf(24, 20, { factors: 3, seed });
      const optimizer = tf.train.sgd(0.1);
      const sampler = new NegativeSampler(train);
      const rng = new Rng(seed);
      await fit(model, {
        optimizer,
        epochs: 2,
        progress: "silent",
        batches: () => bprBatches(train, sampler, { batchSize: 64, rng }),
      });
      optimizer.dispose();
      const q = model.params.itemFactors.dataSync() as Float32Array;
      model.dispose();
      return q;
    };
    const a = await trained(4);
    assert.deepEqual(a, await trained(4));
    assert.notDeepEqual(a, await trained(5));
  });
});
