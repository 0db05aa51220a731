import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { UserSequences } from "../../src/data/sequences";
import { countParameters, latencyPerUser, quantile, summarizeWeights, timed, weightBytes } from "../../src/eval/cost";
import { PopularityRecommender } from "../../src/models/baselines";
import { BprMf } from "../../src/models/bpr";
import { SasRec } from "../../src/models/sasrec";
import { TwoTower } from "../../src/models/twoTower";
import { makeInteractions } from "./fixtures";

describe("eval/cost", () => {
  before(async () => {
    await initBackend();
  });

  describe("parameters and bytes", () => {
    it("counts BprMf's tables and item bias: 3×2 + 4×2 + 4 = 18 floats, 72 bytes", () => {
      const model = new BprMf(3, 4, { factors: 2, seed: 0 });
      assert.deepEqual(summarizeWeights(model), { parameters: 18, bytes: 72, tensors: 3 });
      const noBias = new BprMf(3, 4, { factors: 2, itemBias: false, seed: 0 });
      assert.equal(countParameters(noBias), 14);
      model.dispose();
      noBias.dispose();
    });

    it("counts a two-tower model's embeddings and MLPs from their shapes", () => {
      // 5 users, 4 items, no features: ids [5 × 3] and [4 × 3]; each tower's MLP 3 → 6 → 2 (kernels and biases).
      const train = makeInteractions(
        [
          [0, 0],
          [1, 1],
          [2, 2],
          [3, 3],
          [4, 0],
        ],
        5,
        4,
        "cost-two-tower",
      );
      const model = new TwoTower(train, {
        embeddingDim: 3,
        hiddenUnits: [6],
        outputDim: 2,
        itemFeatures: null,
        seed: 1,
      });
      const mlp = 3 * 6 + 6 + 6 * 2 + 2;
      assert.equal(countParameters(model), 5 * 3 + 4 * 3 + 2 * mlp);
      assert.equal(weightBytes(model), 4 * countParameters(model));
      model.dispose();
    });

    it("agrees with a layered model's own countParams", () => {
      const histories = UserSequences.fromArrays(10, [
        [0, 1, 2],
        [3, 4],
      ]);
      const model = new SasRec(
        { numItems: 10, maxLength: 4, hiddenSize: 8, numLayers: 1, numHeads: 2, seed: 2 },
        histories,
      );
      assert.equal(countParameters(model), model.countParams());
      model.dispose();
    });

    it("counts arrays in their own dtypes and a shared weight once", () => {
      const table = tf.zeros([2, 3]);
      const counts = new Float64Array(5);
      const codes = new Int8Array(4);
      assert.deepEqual(summarizeWeights([table, counts, codes, table, counts]), {
        parameters: 6 + 5 + 4,
        bytes: 4 * 6 + 8 * 5 + 4,
        tensors: 3,
      });
      table.dispose();
    });

    it("says what it accepts", () => {
      assert.throws(() => countParameters({} as never), /namedWeights\(\) or trainableVariables\(\)/);
      assert.throws(() => countParameters([[1, 2]] as never), /weights\[0\] is neither a tensor nor a typed array/);
    });
  });

  describe("time", () => {
    it("quantile interpolates between ranks", () => {
      assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
      assert.ok(Math.abs(quantile([1, 2, 3, 4], 0.95) - 3.85) < 1e-12);
      assert.equal(quantile([7], 0.95), 7);
      assert.throws(() => quantile([], 0.5), /no values/);
    });

    it("timed returns the result with the seconds taken", async () => {
      const { result, seconds, cpuSeconds } = await timed(async () => 42);
      assert.equal(result, 42);
      assert.ok(seconds >= 0 && cpuSeconds >= 0);
    });

    it("latencyPerUser times one request per user and reports ordered percentiles", () => {
      const train = makeInteractions(
        [
          [0, 0],
          [0, 1],
          [1, 1],
          [2, 2],
        ],
        3,
        4,
        "cost-latency",
      );
      const model = new PopularityRecommender().fit(train);
      let calls = 0;
      const counting = { numItems: 4, scoreItems: (users: Int32Array) => (calls++, model.scoreItems(users)) };
      const report = latencyPerUser(counting, [0, 1, 2], { k: 2, excludeSeen: train, warmUp: 2 });
      assert.equal(calls, 2 + 3, "two warm-up requests, then one per user");
      assert.equal(report.users, 3);
      assert.equal(report.k, 2);
      assert.equal(report.clock, "wall");
      assert.ok(0 <= report.p50Ms && report.p50Ms <= report.p95Ms && report.p95Ms <= report.maxMs);
      const cpu = latencyPerUser(model, [0, 1, 2], { k: 2, clock: "cpu" });
      assert.equal(cpu.clock, "cpu");
      assert.ok(0 <= cpu.p50Ms && cpu.p50Ms <= cpu.maxMs);
      assert.throws(() => latencyPerUser(model, [0], { k: 1, clock: "gpu" as never }), /clock must be one of/);
      assert.throws(() => latencyPerUser(model, [], { k: 2 }), /no users/);
      assert.throws(() => latencyPerUser(model, [0], { k: 0 }), /k must be an integer >= 1/);
    });
  });
});
