import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { rowsByUser } from "../../src/data/userIndex";
import { dpSgdStep } from "../../src/privacy/dpSgd";
import { BiasedMfTables, copyFactorTables, createFactorTables } from "../../src/privacy/factorTables";
import { FedAvgRoundOptions, fedAvgRound, trainFedAvg } from "../../src/privacy/federated";
import { makeInteractions } from "../eval/fixtures";
import { randomRatings } from "../models/ratingFixtures";

const ONE_STEP: FedAvgRoundOptions = {
  localEpochs: 1,
  localBatchSize: Infinity,
  learningRate: 0.05,
  regularization: 0.1,
  serverLearningRate: 1,
};

/** A centralised SGD step of rate γ on `rows`: dpSgdStep without noise or clipping, at η = γ and L = 1. */
function centralisedStep(tables: BiasedMfTables, data: Interactions, rows: number[], gamma: number) {
  dpSgdStep(
    tables,
    data,
    rows,
    { learningRate: gamma, clipNorm: Infinity, noiseMultiplier: 0, regularization: 0.1, expectedLotSize: 1 },
    new Rng(0),
  );
}

function assertTablesClose(a: BiasedMfTables, b: BiasedMfTables, tolerance: number): void {
  for (const key of ["userFactors", "itemFactors", "userBias", "itemBias"] as const) {
    a[key].forEach((v, j) => assert.ok(Math.abs(v - b[key][j]) <= tolerance, `${key}[${j}]: ${v} vs ${b[key][j]}`));
  }
}

function rowsOf(data: Interactions, user: number): number[] {
  const rows: number[] = [];
  for (let k = 0; k < data.length; k++) if (data.users[k] === user) rows.push(k);
  return rows;
}

describe("privacy/federated", () => {
  it("one client and one local step equal a centralised SGD step on that user's ratings", () => {
    const data = randomRatings(3, 6, 8, 0.5);
    const start = createFactorTables(6, 8, { factors: 3, globalMean: 3, initStd: 0.3, rng: new Rng(1) });
    const federated = copyFactorTables(start);
    const used = fedAvgRound(federated, data, rowsByUser(data), [2], ONE_STEP, new Rng(5));
    const centralised = copyFactorTables(start);
    centralisedStep(centralised, data, rowsOf(data, 2), 0.05);
    assert.equal(used, rowsOf(data, 2).length);
    assertTablesClose(federated, centralised, 1e-12);
    // Something moved: user 2's row and the rows of the items it rated.
    assert.notEqual(federated.userBias[2], start.userBias[2]);
  });

  it("the server applies the rating-weighted mean of the clients' item deltas; user rows stay the clients' own", () => {
    const data = randomRatings(4, 6, 8, 0.5);
    const start = createFactorTables(6, 8, { factors: 2, globalMean: 3, initStd: 0.3, rng: new Rng(2) });
    const clients = [1, 4];
    const federated = copyFactorTables(start);
    fedAvgRound(federated, data, rowsByUser(data), clients, { ...ONE_STEP, serverLearningRate: 2 }, new Rng(5));
    // Each client alone, from the same start.
    const alone = clients.map((u) => {
      const t = copyFactorTables(start);
      centralisedStep(t, data, rowsOf(data, u), 0.05);
      return t;
    });
    const weights = clients.map((u) => rowsOf(data, u).length);
    const total = weights[0] + weights[1];
    const expected = copyFactorTables(start);
    for (const key of ["itemFactors", "itemBias"] as const) {
      expected[key].forEach((_, j) => {
        const mean =
          (weights[0] * (alone[0][key][j] - start[key][j]) + weights[1] * (alone[1][key][j] - start[key][j])) / total;
        expected[key][j] = start[key][j] + 2 * mean;
      });
    }
    for (const [c, u] of clients.entries()) {
      expected.userBias[u] = alone[c].userBias[u];
      for (let f = 0; f < 2; f++) expected.userFactors[u * 2 + f] = alone[c].userFactors[u * 2 + f];
    }
    assertTablesClose(federated, expected, 1e-12);
    // Users outside the round are untouched.
    for (const u of [0, 2, 3, 5]) assert.equal(federated.userBias[u], start.userBias[u]);
  });

  it("local epochs and batches: E epochs of per-rating steps on one rating are E sequential SGD steps", () => {
    const data = makeInteractions([[0, 1, 5]], 1, 2);
    const start = createFactorTables(1, 2, { factors: 2, globalMean: 3, initStd: 0.5, rng: new Rng(3) });
    const federated = copyFactorTables(start);
    fedAvgRound(federated, data, rowsByUser(data), [0], { ...ONE_STEP, localEpochs: 3, localBatchSize: 1 }, new Rng(1));
    const sequential = copyFactorTables(start);
    for (let e = 0; e < 3; e++) centralisedStep(sequential, data, [0], 0.05);
    assertTablesClose(federated, sequential, 1e-12);
  });

  it("trains: deterministic per seed, test RMSE per round, falling on a planted matrix", () => {
    const rng = new Rng(8);
    const uf = Array.from({ length: 80 }, () => [rng.normal(), rng.normal()]);
    const vf = Array.from({ length: 40 }, () => [rng.normal(), rng.normal()]);
    const rows: [number, number, number][] = [];
    for (let u = 0; u < 80; u++) {
      for (let i = 0; i < 40; i++) {
        if (rng.next() < 0.4)
          rows.push([u, i, Math.min(5, Math.max(1, 3 + uf[u][0] * vf[i][0] + uf[u][1] * vf[i][1]))]);
      }
    }
    const order = rng.permutation(rows.length);
    const cut = Math.floor(0.9 * rows.length);
    const train = makeInteractions(
      Array.from(order.subarray(0, cut), (r) => rows[r]),
      80,
      40,
      "planted",
    );
    const test = makeInteractions(
      Array.from(order.subarray(cut), (r) => rows[r]),
      80,
      40,
      "planted",
    );
    const config = {
      rounds: 30,
      clientsPerRound: 20,
      factors: 4,
      learningRate: 0.02,
      serverLearningRate: 5,
      seed: 3,
      test,
    };
    const seen: number[] = [];
    const { history, model } = trainFedAvg(train, { ...config, onRound: (log) => seen.push(log.round) });
    assert.deepEqual(
      seen,
      Array.from({ length: 30 }, (_, j) => j + 1),
    );
    assert.equal(history.length, 30);
    assert.ok(history.every((h) => h.clients === 20 && h.ratings > 0 && h.testRmse !== undefined));
    const first = history[0].testRmse!;
    const last = history[29].testRmse!;
    assert.ok(last < 0.8 * first, `RMSE ${first} → ${last}`);
    assert.equal(model.numUsers, 80);
    const again = trainFedAvg(train, config).history.map((h) => h.testRmse);
    assert.deepEqual(
      again,
      history.map((h) => h.testRmse),
    );
    // More clients per round than users: every user each round.
    assert.equal(trainFedAvg(train, { ...config, rounds: 1, clientsPerRound: 500 }).history[0].clients, 80);
  });

  it("rejects bad settings", () => {
    const data = randomRatings(1, 5, 5, 0.5);
    assert.throws(() => trainFedAvg(data, { seed: 1, rounds: 0 }), /rounds must be a positive integer/);
    assert.throws(() => trainFedAvg(data, { seed: 1, localBatchSize: 0 }), /localBatchSize must be/);
    assert.throws(() => trainFedAvg(data, { seed: 1, serverLearningRate: 0 }), /serverLearningRate must be/);
    assert.throws(() => trainFedAvg(data.select([]), { seed: 1 }), /is empty/);
  });
});
