import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { evaluateRanking } from "../../src/eval/ranking";
import { LightGcn, lightGcnLoss, lightGcnPropagate } from "../../src/models/lightGcn";
import { NormalizedAdjacency } from "../../src/nn/graphPropagation";
import { fitImplicitFeedback } from "../../src/train/implicitFeedback";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";
import { checkGradients, randomTensor } from "./gradientCheck";

// 3 users × 4 items. Item 3 has no interaction (an isolated node); (0, 1) is logged twice and counts once.
const TOY_ROWS: [number, number][] = [
  [0, 0],
  [0, 1],
  [0, 1],
  [1, 1],
  [1, 2],
  [2, 0],
];

/** D^(−1/2) A D^(−1/2) of the toy graph, dense [7 × 7], built straight from the definition. */
function denseNormalizedAdjacency(): number[][] {
  const n = 7;
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const [u, i] of TOY_ROWS) {
    a[u][3 + i] = 1;
    a[3 + i][u] = 1;
  }
  const degree = a.map((row) => row.reduce((s, v) => s + v, 0));
  return a.map((row, v) => row.map((x, w) => (x === 0 ? 0 : x / Math.sqrt(degree[v] * degree[w]))));
}

function matMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, c) => row.reduce((s, x, k) => s + x * b[k][c], 0)));
}

/** (1/(K+1)) Σ_k Â^k E⁰ in plain JavaScript. */
function denseLightGcn(e0: number[][], layers: number): number[][] {
  const norm = denseNormalizedAdjacency();
  let layer = e0;
  const sum = e0.map((row) => row.slice());
  for (let k = 0; k < layers; k++) {
    layer = matMul(norm, layer);
    layer.forEach((row, v) => row.forEach((x, c) => (sum[v][c] += x)));
  }
  return sum.map((row) => row.map((x) => x / (layers + 1)));
}

function toRows(values: Float32Array, cols: number): number[][] {
  return Array.from({ length: values.length / cols }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}

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

describe("models/lightGcn", () => {
  before(async () => {
    await initBackend();
  });

  it("builds the graph of distinct pairs with each node's degree", () => {
    const adjacency = new NormalizedAdjacency(
      3,
      4,
      Int32Array.from(TOY_ROWS, (r) => r[0]),
      Int32Array.from(TOY_ROWS, (r) => r[1]),
    );
    assert.equal(adjacency.numNodes, 7);
    assert.equal(adjacency.numEdges, 5);
    assert.deepEqual(Array.from(adjacency.degrees), [2, 2, 1, 2, 2, 1, 0]);
    adjacency.dispose();
  });

  for (const sparseProduct of ["csr", "ops"] as const) {
    it(`propagates as the dense D^(−1/2) A D^(−1/2), layer mean over 0..K ("${sparseProduct}")`, () => {
      const train = makeInteractions(TOY_ROWS, 3, 4, "toy");
      for (const layers of [0, 1, 2, 3]) {
        // D = 5: the "csr" loop's four-column passes and its remainder.
        const model = new LightGcn(train, { factors: 5, layers, sparseProduct, seed: 4 });
        const e0 = toRows(
          Float32Array.from([...model.params.userEmbeddings.dataSync(), ...model.params.itemEmbeddings.dataSync()]),
          5,
        );
        const got = lightGcnPropagate(model.adjacency, model.params, layers);
        assertClose(got.dataSync(), denseLightGcn(e0, layers).flat(), { atol: 1e-6 }, `K = ${layers}`);
        got.dispose();
        // The isolated item keeps only its layer-0 row: E⁰/(K+1).
        const final = model.embeddings();
        assertClose(
          final.items.dataSync().slice(15, 20),
          e0[6].map((x) => x / (layers + 1)),
          { atol: 1e-7 },
        );
        tf.dispose([final.users, final.items]);
        model.dispose();
      }
    });

    it(`has the gradient central differences give: the product (Â is symmetric) and the loss ("${sparseProduct}")`, () => {
      const adjacency = new NormalizedAdjacency(
        3,
        4,
        Int32Array.from(TOY_ROWS, (r) => r[0]),
        Int32Array.from(TOY_ROWS, (r) => r[1]),
        sparseProduct,
      );
      const rng = new Rng(8);
      const weights = randomTensor(rng, [7, 2], 1);
      const x = randomTensor(rng, [7, 2], 0.5);
      checkGradients((e) => tf.sum(tf.mul(adjacency.multiply(e as tf.Tensor2D), weights)), [x]);
      const users = tf.tensor1d([0, 1, 2, 0], "int32");
      const positives = tf.tensor1d([1, 2, 0, 0], "int32");
      const negatives = tf.tensor2d([3, 2, 0, 1, 3, 1, 2, 3], [4, 2], "int32");
      const inputs = [randomTensor(rng, [3, 2], 0.7), randomTensor(rng, [4, 2], 0.7)];
      checkGradients(
        (p, q) =>
          lightGcnLoss(
            adjacency,
            { userEmbeddings: p as tf.Tensor2D, itemEmbeddings: q as tf.Tensor2D },
            2,
            0.3,
            users,
            positives,
            negatives,
          ),
        inputs,
      );
      tf.dispose([weights, x, users, positives, negatives, ...inputs]);
      adjacency.dispose();
    });
  }

  it("costs ln 2 per triple at zero embeddings, and BPR on the dense embeddings plus λ/2B·Σ‖e⁰‖²", () => {
    const train = makeInteractions(TOY_ROWS, 3, 4, "toy");
    const zero = new LightGcn(train, { factors: 2, initStd: 0, seed: 0 });
    const batch = {
      users: Int32Array.from([0, 1]),
      positives: Int32Array.from([0, 1]),
      negatives: Int32Array.from([2, 3]),
    };
    const flat = zero.loss(batch);
    assertClose(flat.dataSync()[0], Math.LN2);
    flat.dispose();
    zero.dispose();

    const lambda = 0.5;
    const model = new LightGcn(train, { factors: 2, layers: 2, regularization: lambda, seed: 3 });
    const e0 = toRows(
      Float32Array.from([...model.params.userEmbeddings.dataSync(), ...model.params.itemEmbeddings.dataSync()]),
      2,
    );
    const e = denseLightGcn(e0, 2);
    const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];
    let expected = 0;
    for (let k = 0; k < 2; k++) {
      const [u, i, j] = [batch.users[k], 3 + batch.positives[k], 3 + batch.negatives[k]];
      expected += Math.log(1 + Math.exp(-(dot(e[u], e[i]) - dot(e[u], e[j])))) / 2;
      expected += (lambda / (2 * 2)) * (dot(e0[u], e0[u]) + dot(e0[i], e0[i]) + dot(e0[j], e0[j]));
    }
    const loss = model.loss(batch);
    assertClose(loss.dataSync()[0], expected, { rtol: 1e-5 });
    loss.dispose();
    model.dispose();
  });

  it("learns the two tastes: held-out items rank first, loss falls, no tensor leaks", async () => {
    const { train, test } = twoGroups();
    const model = new LightGcn(train, { factors: 8, layers: 2, seed: 1 });
    const before = evaluateRanking(model, { train, test, k: 5, metrics: ["recall"] }).metrics["recall@5"];
    const history = await assertNoLeak(() =>
      fitImplicitFeedback(model, { epochs: 20, batchSize: 64, learningRate: 0.05, seed: 2, progress: "silent" }),
    );
    const after = evaluateRanking(model, { train, test, k: 5, metrics: ["recall"] }).metrics["recall@5"];
    assert.ok(history[19].loss < history[0].loss / 2, `loss ${history[0].loss} → ${history[19].loss}`);
    assert.ok(after > 0.9 && after > before, `recall@5 ${before} → ${after}`);
    model.dispose();
  });

  it("scores every item as scorePairs does, leaks nothing, and saves and loads to the same scores", async () => {
    const { train } = twoGroups();
    const model = new LightGcn(train, { factors: 4, layers: 2, seed: 5 });
    const users = Int32Array.from([3, 17]);
    const all = await assertNoLeak(() => model.scoreItems(users));
    const pairs = await assertNoLeak(() => model.scorePairs(users, Int32Array.from([4, 19])));
    assertClose(Array.from(pairs), [all[4], all[20 + 19]], { atol: 1e-6 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-lightgcn-"));
    try {
      await model.save(dir);
      const loaded = await LightGcn.load(dir, train);
      assert.equal(loaded.layers, 2);
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
      const model = new LightGcn(train, { factors: 3, seed });
      await fitImplicitFeedback(model, { epochs: 2, batchSize: 64, seed, progress: "silent" });
      const weights = model.params.itemEmbeddings.dataSync() as Float32Array;
      model.dispose();
      return weights;
    };
    const a = await trained(4);
    assert.deepEqual(a, await trained(4));
    assert.notDeepEqual(a, await trained(5));
  });

  it("rejects bad settings and users outside the graph", () => {
    const { train } = twoGroups();
    assert.throws(() => new LightGcn(train, { layers: -1, seed: 0 }), /layers must be an integer >= 0/);
    assert.throws(() => new LightGcn(train, { factors: 0, seed: 0 }), /factors must be a positive integer/);
    const model = new LightGcn(train, { factors: 2, seed: 0 });
    assert.throws(() => model.scoreItems(Int32Array.from([24])), /outside the 24 users/);
    assert.throws(
      () => model.loss({ users: Int32Array.from([0]), positives: Int32Array.from([0]), negatives: new Int32Array(0) }),
      /at least one negative/,
    );
    model.dispose();
  });
});
