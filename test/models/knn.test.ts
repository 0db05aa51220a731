import * as assert from "node:assert/strict";
import { loadMovieLens100K } from "../../src/data/movielens";
import { randomSplit } from "../../src/data/splitters";
import { evaluateRatings, recommendTopK } from "../../src/eval/protocols";
import { KNNBaseline, KNNBasic, KNNWithMeans } from "../../src/models/knn";
import { sharedDataset } from "../data/fixtures";
import { makeInteractions } from "../eval/fixtures";
import { SMALL_MEAN, randomRatings, smallRatings } from "./ratingFixtures";
import { assertClose } from "../support/assertions";

const one = (model: { predict(u: Int32Array, i: Int32Array): Float64Array }, u: number, i: number) =>
  model.predict(Int32Array.of(u), Int32Array.of(i))[0];

// User-based msd similarities of the hand-worked matrix (see similarities.test.ts):
//   sim(u1, u0) = 2/3, sim(u1, u2) = sim(u1, u3) = 1/10, sim(u0, u2) = 1/11, sim(u0, u3) = 2/15.
// Item i1 was rated by u0 (3), u2 (1) and u3 (1); item i2 by u2 (5) and u3 (5).

describe("KNNBasic", () => {
  it("averages the neighbours' ratings weighted by similarity, worked by hand", () => {
    const model = new KNNBasic().fit(smallRatings());
    // r̂(u1, i1) = (2/3 · 3 + 1/10 · 1 + 1/10 · 1) / (2/3 + 2/10) = 2.2 / (13/15) = 33/13.
    assertClose(one(model, 1, 1), 33 / 13, { atol: 1e-6, rtol: 0 });
    // r̂(u1, i2) = (0.1 · 5 + 0.1 · 5) / 0.2 = 5.
    assertClose(one(model, 1, 2), 5, { atol: 1e-6, rtol: 0 });
  });

  it("keeps the k most similar raters: k = 1 → u0 alone; k = 2 → u0 and u2 (tie with u3 to the lower index)", () => {
    assertClose(one(new KNNBasic({ k: 1 }).fit(smallRatings()), 1, 1), 3, { atol: 1e-6, rtol: 0 });
    assertClose(one(new KNNBasic({ k: 2 }).fit(smallRatings()), 1, 1), (2 + 0.1) / (2 / 3 + 0.1), {
      atol: 1e-6,
      rtol: 0,
    });
  });

  it("breaks similarity ties by index, whatever the log order", () => {
    // u0: A = 3; u1: A = 3, T = 2; u2: A = 3, T = 4. sim(u0, u1) = sim(u0, u2) = 1 (identical on A).
    const rows: [number, number, number][] = [
      [0, 0, 3],
      [1, 0, 3],
      [1, 1, 2],
      [2, 0, 3],
      [2, 1, 4],
    ];
    for (const log of [rows, [...rows].reverse()]) {
      const model = new KNNBasic({ k: 1 }).fit(makeInteractions(log, 3, 2, "ties"));
      assert.equal(one(model, 0, 1), 2);
      assert.equal(one(new KNNBasic({ k: 2 }).fit(makeInteractions(log, 3, 2, "ties")), 0, 1), 3);
    }
  });

  it("ignores neighbours with similarity <= 0 and falls back to μ without enough neighbours", () => {
    // Pearson from u0: u2 → 0 (u2 is constant on the common items), u3 → −1. Item i2's raters are
    // u2 and u3, so u0 has no usable neighbour for i2: PredictionImpossible → μ.
    assertClose(one(new KNNBasic({ similarity: { name: "pearson" } }).fit(smallRatings()), 0, 2), SMALL_MEAN, {
      atol: 1e-9,
      rtol: 0,
    });
    // Pearson from u1: u0 → 1, u2 → 0, u3 → 0: only u0 counts for i1.
    assertClose(one(new KNNBasic({ similarity: { name: "pearson" } }).fit(smallRatings()), 1, 1), 3, {
      atol: 1e-6,
      rtol: 0,
    });
    // msd with minK = 4: only 3 raters of i1 → μ.
    assertClose(one(new KNNBasic({ minK: 4 }).fit(smallRatings()), 1, 1), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
    assertClose(one(new KNNBasic({ minK: 3 }).fit(smallRatings()), 1, 1), 33 / 13, { atol: 1e-6, rtol: 0 });
  });

  it("predicts μ for an unknown user or item", () => {
    const model = new KNNBasic().fit(smallRatings());
    assertClose(one(model, 4, 0), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
    assertClose(one(model, 0, 4), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
  });

  it("item-based: averages the user's own ratings of the most similar items", () => {
    // sim(i1, i0) = 1/3, sim(i1, i3) = 2/15; u1 rated i0 = 4 and i3 = 1:
    // r̂(u1, i1) = (4/3 + 2/15) / (1/3 + 2/15) = 22/7.
    const model = new KNNBasic({ similarity: { userBased: false } }).fit(smallRatings());
    assertClose(one(model, 1, 1), 22 / 7, { atol: 1e-6, rtol: 0 });
  });

  it("with k ≥ all raters and uniform similarity, reduces to the mean rating of the item", () => {
    // Everyone rated the anchor item 0 with 3; u5 rated only the anchor, so sim(u5, v) = 1 for all v.
    const rows: [number, number, number][] = [[5, 0, 3]];
    const itemRatings = [5, 2, 4, 4, 1];
    itemRatings.forEach((r, u) => rows.push([u, 0, 3], [u, 1, r]));
    const data = makeInteractions(rows, 6, 2, "uniform");
    const mean = itemRatings.reduce((s, r) => s + r, 0) / itemRatings.length;
    for (const name of ["msd", "cosine"] as const) {
      assertClose(one(new KNNBasic({ k: 10, similarity: { name } }).fit(data), 5, 1), mean, { atol: 1e-6, rtol: 0 });
    }
    // KNNWithMeans then adds the mean offset of the neighbours: μ_u5 + mean(r_v1 − μ_v).
    const offsets = itemRatings.map((r) => r - (3 + r) / 2);
    assertClose(
      one(new KNNWithMeans({ k: 10 }).fit(data), 5, 1),
      3 + offsets.reduce((s, d) => s + d, 0) / offsets.length,
      { atol: 1e-6, rtol: 0 },
    );
  });

  it("selects the same neighbours as a full sort by (similarity desc, index asc), in predict and scoreItems", () => {
    // Sparse logs: few common items make msd ties (several raters at similarity 1) frequent. Dense
    // logs: up to ~40 candidates per pair, so selecting k among many is exercised too.
    const cases = [
      [21, 0.2, 1],
      [21, 0.2, 3],
      [22, 0.8, 7],
      [23, 0.9, 20],
    ] as const;
    for (const [seed, density, k] of cases) {
      const data = randomRatings(seed, 40, 25, density);
      const rated = new Map<string, number>();
      for (let r = 0; r < data.length; r++) rated.set(`${data.users[r]},${data.items[r]}`, data.ratings[r]);
      const mu = data.ratings.reduce((sum, r) => sum + r, 0) / data.length;
      for (const userBased of [true, false]) {
        const model = new KNNBasic({ k, similarity: { userBased } }).fit(data);
        const { size, values } = model.similarity;
        for (let u = 0; u < 40; u++) {
          const scores = model.scoreItems(Int32Array.of(u));
          for (let i = 0; i < 25; i++) {
            // Candidates: the raters of i (user-based) or the items u rated (item-based), sim > 0.
            const x = userBased ? u : i;
            const candidates: [number, number][] = [];
            for (let other = 0; other < size; other++) {
              const r = rated.get(userBased ? `${other},${i}` : `${u},${other}`);
              if (r !== undefined && values[x * size + other] > 0) candidates.push([other, r]);
            }
            candidates.sort((a, b) => values[x * size + b[0]] - values[x * size + a[0]] || a[0] - b[0]);
            const chosen = candidates.slice(0, k);
            const sims = chosen.map(([other]) => values[x * size + other]);
            // No candidate (which includes every pair of an unknown user or item): μ.
            const expected =
              chosen.length === 0
                ? mu
                : chosen.reduce((sum, [, r], j) => sum + sims[j] * r, 0) / sims.reduce((sum, v) => sum + v, 0);
            const what = `k=${k} ${userBased ? "user" : "item"}-based (${u}, ${i})`;
            assertClose(one(model, u, i), expected, { atol: 1e-9, rtol: 0 }, what);
            assertClose(scores[i], expected, { atol: 1e-9, rtol: 0 }, what);
          }
        }
      }
    }
  });

  it("validates its configuration and input", () => {
    assert.throws(() => new KNNBasic({ k: 0 }), /KNNBasic: k must be an integer >= 1/);
    assert.throws(() => new KNNBasic({ minK: -1 }), /minK must be an integer >= 0/);
    assert.throws(() => new KNNBasic({ similarity: { name: "jaccard" as never } }), /KNNBasic: similarity name/);
    assert.throws(() => new KNNBasic().predict(Int32Array.of(0), Int32Array.of(0)), /KNNBasic: call fit\(train\)/);
    assert.throws(
      () => new KNNBasic().fit(smallRatings()).predict(Int32Array.of(0), Int32Array.of(9)),
      /items\[0\] = 9/,
    );
  });
});

describe("KNNWithMeans", () => {
  it("adds the similarity-weighted mean-centred ratings to μ_u, worked by hand", () => {
    // μ_u1 = 2.5; neighbours for i1: u0 (3 − 3 = 0, sim 2/3), u2 (1 − 7/3, sim 1/10), u3 (1 − 10/3, sim 1/10):
    // r̂ = 2.5 + (0 − 0.4/3 − 0.7/3) / (13/15) = 2.5 − (11/30) · (15/13) = 2.5 − 11/26.
    assertClose(one(new KNNWithMeans().fit(smallRatings()), 1, 1), 2.5 - 11 / 26, { atol: 1e-6, rtol: 0 });
  });

  it("drops the neighbour term below minK or without a positive similarity; μ when unknown", () => {
    assertClose(one(new KNNWithMeans({ minK: 4 }).fit(smallRatings()), 1, 1), 2.5, { atol: 1e-12, rtol: 0 });
    assertClose(one(new KNNWithMeans({ similarity: { name: "pearson" } }).fit(smallRatings()), 0, 2), 3, {
      atol: 1e-12,
      rtol: 0,
    });
    assertClose(one(new KNNWithMeans().fit(smallRatings()), 4, 1), SMALL_MEAN, { atol: 1e-9, rtol: 0 });
  });

  it("item-based: centres on the item means", () => {
    // μ_i1 = 5/3, μ_i0 = 10/3, μ_i3 = 2; u1: i0 = 4, i3 = 1; sims 1/3 and 2/15:
    // r̂ = 5/3 + (1/3 · (4 − 10/3) + 2/15 · (1 − 2)) / (7/15) = 5/3 + (2/9 − 2/15) · 15/7 = 5/3 + 4/21.
    const model = new KNNWithMeans({ similarity: { userBased: false } }).fit(smallRatings());
    assertClose(one(model, 1, 1), 5 / 3 + 4 / 21, { atol: 1e-6, rtol: 0 });
  });
});

describe("KNNBaseline", () => {
  it("adds the similarity-weighted baseline residuals to b_ui, worked from the fitted biases", () => {
    const model = new KNNBaseline().fit(smallRatings());
    const { globalMean: mu, userBias: bu, itemBias: bi } = model.baselines;
    const residual = (v: number, r: number) => r - (mu + bu[v] + bi[1]);
    const expected =
      mu + bu[1] + bi[1] + ((2 / 3) * residual(0, 3) + 0.1 * residual(2, 1) + 0.1 * residual(3, 1)) / (2 / 3 + 0.2);
    assertClose(one(model, 1, 1), expected, { atol: 1e-6, rtol: 0 });
  });

  it("falls back to the partial baseline for unknown users or items", () => {
    const model = new KNNBaseline().fit(smallRatings());
    const { globalMean: mu, userBias: bu, itemBias: bi } = model.baselines;
    assertClose(one(model, 4, 1), mu + bi[1], { atol: 1e-9, rtol: 0 });
    assertClose(one(model, 0, 4), mu + bu[0], { atol: 1e-9, rtol: 0 });
    assertClose(one(new KNNBaseline({ minK: 4 }).fit(smallRatings()), 1, 1), mu + bu[1] + bi[1], {
      atol: 1e-12,
      rtol: 0,
    });
  });

  it("equals KNNBasic when every bias is 0 (ALS with 0 epochs)", () => {
    const data = randomRatings(9, 25, 18, 0.35);
    for (const similarity of [{}, { name: "pearson" as const, userBased: false }]) {
      const basic = new KNNBasic({ k: 5, similarity }).fit(data);
      const flat = new KNNBaseline({ k: 5, similarity, baseline: { epochs: 0 } }).fit(data);
      const users = new Int32Array(25 * 18);
      const items = new Int32Array(25 * 18);
      for (let j = 0; j < users.length; j++) [users[j], items[j]] = [Math.floor(j / 18), j % 18];
      const a = basic.predict(users, items);
      const b = flat.predict(users, items);
      for (let j = 0; j < a.length; j++) assertClose(b[j], a[j], { atol: 1e-9, rtol: 0 }, `pair ${j}`);
    }
  });

  it("uses the baselines for the pearson_baseline similarity", () => {
    const model = new KNNBaseline({ similarity: { name: "pearson_baseline", userBased: false } }).fit(
      randomRatings(4, 20, 15, 0.4),
    );
    assert.equal(model.similarity.name, "pearson_baseline");
    assert.equal(model.similarity.size, 15);
    assert.ok(model.similarity.values.some((v) => v !== 0 && v !== 1));
  });
});

describe("neighbourhood models as item scorers", () => {
  it("scoreItems gives every item's unclipped estimate, and predict clips it", () => {
    const data = randomRatings(12, 15, 10, 0.4);
    for (const model of [
      new KNNBasic().fit(data),
      new KNNWithMeans().fit(data),
      new KNNBaseline({ similarity: { userBased: false } }).fit(data),
    ]) {
      assert.equal(model.numItems, 10);
      const users = Int32Array.of(3, 0, 14);
      const scores = model.scoreItems(users);
      assert.equal(scores.length, 3 * 10);
      for (let row = 0; row < 3; row++) {
        const predicted = model.predict(
          new Int32Array(10).fill(users[row]),
          Int32Array.from({ length: 10 }, (_, i) => i),
        );
        for (let i = 0; i < 10; i++)
          assertClose(predicted[i], Math.min(5, Math.max(1, scores[row * 10 + i])), { atol: 1e-12, rtol: 0 });
      }
      const top = recommendTopK(model, [0, 1], { k: 3, excludeSeen: data });
      assert.equal(top.itemsOf(0).length, 3);
    }
  });
});

describe("neighbourhood models on MovieLens 100K", function () {
  const root = sharedDataset("ml-100k");
  before(function () {
    if (!root) this.skip();
  });

  it("KNNBaseline (Surprise defaults) beats KNNWithMeans, which beats KNNBasic, on an 80/20 split", async () => {
    const data = await loadMovieLens100K({ dataDir: root, download: false, log: () => undefined });
    const { train, test } = randomSplit(data, { ratio: 0.8, seed: 1 });
    const basic = evaluateRatings(new KNNBasic().fit(train), test).rmse;
    const means = evaluateRatings(new KNNWithMeans().fit(train), test).rmse;
    const baseline = evaluateRatings(new KNNBaseline().fit(train), test).rmse;
    // Surprise's 5-fold means: 0.980, 0.951, 0.931; one 80/20 fold varies by about ±0.01.
    assert.ok(basic > 0.97 && basic < 0.995, `KNNBasic RMSE ${basic}`);
    assert.ok(means > 0.94 && means < 0.965, `KNNWithMeans RMSE ${means}`);
    assert.ok(baseline > 0.92 && baseline < 0.945, `KNNBaseline RMSE ${baseline}`);
    assert.ok(baseline < means && means < basic);
  });
});
