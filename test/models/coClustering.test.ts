import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { SparseRatings } from "../../src/data/sparseRatings";
import { CoClustering, clusterMeans } from "../../src/models/coClustering";
import { encodeArrays } from "../../src/train/checkpointFormat";
import { assertClose, assertNoLeak } from "../support/assertions";
import { assertRefused, flipLastBit, jsonPathOf, literal, weightsPathOf } from "./savedFiles";
import { SMALL_MEAN, SMALL_ROWS, randomRatings, smallRatings } from "./ratingFixtures";

type Rows = ReadonlyArray<readonly [number, number, number]>;

/** The means of the clusters, the slow way: every rating's clusters looked up. */
function bruteMeans(rows: Rows, uc: ArrayLike<number>, ic: ArrayLike<number>, ku: number, ki: number, mu: number) {
  const mean = (pick: (u: number, i: number) => boolean) => {
    const chosen = rows.filter(([u, i]) => pick(u, i));
    return chosen.length === 0 ? mu : chosen.reduce((s, r) => s + r[2], 0) / chosen.length;
  };
  return {
    user: Array.from({ length: ku }, (_, c) => mean((u) => uc[u] === c)),
    item: Array.from({ length: ki }, (_, d) => mean((_u, i) => ic[i] === d)),
    co: Array.from({ length: ku * ki }, (_, k) => mean((u, i) => uc[u] === Math.floor(k / ki) && ic[i] === k % ki)),
  };
}

/** One epoch of the header, the slow way, from the clusters `uc`, `ic` (copied). */
function bruteEpoch(rows: Rows, uc: Int32Array, ic: Int32Array, ku: number, ki: number, mu: number) {
  const users = Array.from(new Set(rows.map((r) => r[0])));
  const items = Array.from(new Set(rows.map((r) => r[1])));
  const rowMean = (pick: (r: readonly [number, number, number]) => boolean) => {
    const chosen = rows.filter(pick);
    return chosen.reduce((s, r) => s + r[2], 0) / chosen.length;
  };
  const m = bruteMeans(rows, uc, ic, ku, ki, mu);
  const est = (u: number, i: number, c: number, d: number) =>
    m.co[c * ki + d] + rowMean((r) => r[0] === u) - m.user[c] + rowMean((r) => r[1] === i) - m.item[d];
  const argmin = (errors: number[]) => errors.indexOf(Math.min(...errors));
  const newUsers = Int32Array.from(uc);
  for (const u of users) {
    const errors = Array.from({ length: ku }, (_, c) =>
      rows.filter((r) => r[0] === u).reduce((s, [, i, r]) => s + (r - est(u, i, c, ic[i])) ** 2, 0),
    );
    newUsers[u] = argmin(errors);
  }
  const newItems = Int32Array.from(ic);
  for (const i of items) {
    const errors = Array.from({ length: ki }, (_, d) =>
      rows.filter((r) => r[1] === i).reduce((s, [u, , r]) => s + (r - est(u, i, newUsers[u], d)) ** 2, 0),
    );
    newItems[i] = argmin(errors);
  }
  return { userCluster: newUsers, itemCluster: newItems };
}

describe("models/coClustering", () => {
  before(async () => {
    await initBackend();
  });

  it("computes the cluster means; an empty cluster gets μ", () => {
    // Users {u0, u1} | {u2, u3}, items {i0, i1} | {i2, i3}, and a third, empty user cluster.
    const ratings = new SparseRatings(smallRatings());
    const uc = Int32Array.of(0, 0, 1, 1, -1);
    const ic = Int32Array.of(0, 0, 1, 1, -1);
    const means = clusterMeans(ratings, uc, ic, 3, 2);
    // Cluster 0 of users rated 5, 3, 1, 4, 1: 14/5; co-cluster (0, 0): 5, 3, 4; (1, 1): 5, 5, 4.
    assertClose(means.user, [14 / 5, 17 / 6, SMALL_MEAN], { atol: 1e-12 });
    assertClose(means.co.subarray(0, 4), [4, 1, 1, 14 / 3], { atol: 1e-12 });
    assertClose(means.co.subarray(4), [SMALL_MEAN, SMALL_MEAN], { atol: 1e-12 });
    const brute = bruteMeans(SMALL_ROWS, uc, ic, 3, 2, SMALL_MEAN);
    assertClose(means.item, brute.item, { atol: 1e-12 });
    assertClose(means.co, brute.co, { atol: 1e-12 });
  });

  it("one epoch moves users, then items (seeing the users' new clusters), to their least-error cluster", () => {
    const data = randomRatings(4, 12, 10, 0.5);
    const rows: Array<[number, number, number]> = Array.from({ length: data.length }, (_, r) => [
      data.users[r],
      data.items[r],
      data.ratings[r],
    ]);
    const mu = rows.reduce((s, r) => s + r[2], 0) / rows.length;
    let moves = 0;
    for (const seed of [1, 2, 3]) {
      let previous = new CoClustering({ epochs: 0, seed }).fit(data);
      for (let epochs = 1; epochs <= 3; epochs++) {
        const next = new CoClustering({ epochs, seed }).fit(data);
        const expected = bruteEpoch(rows, previous.userClusters, previous.itemClusters, 3, 3, mu);
        assert.deepEqual(next.userClusters, expected.userCluster, `seed ${seed}, epoch ${epochs}: users`);
        assert.deepEqual(next.itemClusters, expected.itemCluster, `seed ${seed}, epoch ${epochs}: items`);
        moves += next.userClusters.filter((c, u) => c !== previous.userClusters[u]).length;
        previous = next;
      }
    }
    assert.ok(moves > 0, "some user changed cluster");
  });

  it("predicts C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i), clipped; μ for an unknown user or item", () => {
    const model = new CoClustering({ seed: 5 }).fit(smallRatings());
    const { userClusters: uc, itemClusters: ic } = model;
    const m = bruteMeans(SMALL_ROWS, uc, ic, 3, 3, SMALL_MEAN);
    const userMeans = [3, 2.5, 7 / 3, 10 / 3];
    const itemMeans = [10 / 3, 5 / 3, 5, 2];
    const users = Int32Array.from({ length: 16 }, (_, k) => k >> 2);
    const items = Int32Array.from({ length: 16 }, (_, k) => k & 3);
    const expected = Array.from(users, (u, k) => {
      const i = items[k];
      return m.co[uc[u] * 3 + ic[i]] + userMeans[u] - m.user[uc[u]] + itemMeans[i] - m.item[ic[i]];
    });
    assertClose(
      model.scoreItems(Int32Array.of(0, 1, 2, 3)).filter((_, k) => k % 5 !== 4),
      expected,
      { atol: 1e-9 },
    );
    assertClose(
      model.predict(users, items),
      expected.map((e) => Math.min(5, Math.max(1, e))),
      { atol: 1e-9 },
    );
    assert.equal(uc[4], -1);
    assertClose(model.predict(Int32Array.of(4, 0), Int32Array.of(0, 4)), [SMALL_MEAN, SMALL_MEAN], { atol: 1e-12 });
  });

  it("rejects bad settings and use before fit", () => {
    assert.throws(
      () => new CoClustering({ seed: 0, userClusters: 0 }),
      /CoClustering: userClusters must be a positive integer/,
    );
    assert.throws(() => new CoClustering({ seed: 0, epochs: -1 }), /CoClustering: epochs must be an integer >= 0/);
    assert.throws(() => new CoClustering({} as never), /CoClustering: seed must be a finite number/);
    assert.throws(
      () => new CoClustering({ seed: 0 }).scoreItems(Int32Array.of(0)),
      /CoClustering.scoreItems: call fit/,
    );
  });

  describe("saving and loading", () => {
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-coclustering-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    // 9 users, 12 items; u6, i3 and i11 have no rating (cluster −1: they get μ).
    const data = randomRatings(4, 9, 12, 0.3);
    const fitted = () => new CoClustering({ userClusters: 4, itemClusters: 2, seed: 3 }).fit(data);

    it("gives back the clusters, the means and the same predictions and scores, with or without the data", async () => {
      const model = fitted();
      assert.equal(model.userClusters[6], -1);
      assert.equal(model.itemClusters[11], -1);
      const everyone = Int32Array.from({ length: 9 }, (_, u) => u);
      const dir = path.join(root, "round-trip");
      await assertNoLeak(async () => {
        await model.save(dir);
        for (const loaded of [await CoClustering.load(dir, data), await CoClustering.load(dir)]) {
          assert.deepEqual(loaded.config, model.config);
          assert.deepEqual(loaded.userClusters, model.userClusters);
          assert.deepEqual(loaded.itemClusters, model.itemClusters);
          assert.deepEqual(loaded.clusterMeans, model.clusterMeans);
          assert.deepEqual(loaded.predict(data.users, data.items), model.predict(data.users, data.items));
          assert.deepEqual(loaded.scoreItems(everyone), model.scoreItems(everyone));
        }
      });
      const saved = JSON.parse(fs.readFileSync(jsonPathOf(dir), "utf8"));
      assert.deepEqual(
        saved.weightSpecs.map(
          (w: { name: string; dtype: string; shape: number[] }) => `${w.name} ${w.dtype} [${w.shape}]`,
        ),
        [
          "userClusters int32 [9]",
          "itemClusters int32 [12]",
          "userMeans float64 [9]",
          "itemMeans float64 [12]",
          "clusterMeans/user float64 [4]",
          "clusterMeans/item float64 [2]",
          "clusterMeans/co float64 [4,2]",
        ],
      );
      await assert.rejects(
        CoClustering.load(dir, randomRatings(5, 9, 12, 0.3)),
        /CoClustering.load: .*checkpoint.json was trained on 'random-4' with rows \d+; 'random-5' has \d+/,
      );
    });

    it("refuses damaged files, naming the file and the weight or field", async () => {
      const dir = path.join(root, "damaged");
      await fitted().save(dir);
      const json = literal(jsonPathOf(dir));
      const load = () => CoClustering.load(dir);
      await assertRefused(
        dir,
        flipLastBit,
        load,
        new RegExp(
          `CoClustering.load: ${literal(weightsPathOf(dir))} fails its checksum .*, first in weight 'clusterMeans/co' .*: the file is corrupt`,
        ),
      );
      // Fewer clusters in the config than the saved assignments use.
      await assertRefused(
        dir,
        ({ json }) => (json.state.config.userClusters = 2),
        load,
        new RegExp(`CoClustering.load: ${json}: weight 'userClusters' holds [23] at index \\d+, outside \\[−1, 2\\)`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.config.itemClusters = 3),
        load,
        new RegExp(
          `CoClustering.load: ${json}: weight 'clusterMeans/item' has shape \\[2\\], the model expects \\[3\\]`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.weightSpecs[2].name = "userMean"),
        load,
        new RegExp(`CoClustering.load: ${json} has no weight 'userMeans'`),
      );
      await assertRefused(
        dir,
        ({ json }) => delete json.state.fitted!.globalMean,
        load,
        new RegExp(
          `CoClustering.load: ${json}: the saved state does not restore a CoClustering: CoClustering: globalMean must be a finite number, got undefined`,
        ),
      );
      // Undamaged again, it loads.
      await CoClustering.load(dir);
    });

    it("refuses a saved cluster outside [−1, k), naming the weight", async () => {
      // One user, one item, k_u = k_i = 1.
      const saved = (itemCluster: number) =>
        encodeArrays(
          "test",
          [
            { name: "userClusters", values: Int32Array.of(0), shape: [1] },
            { name: "itemClusters", values: Int32Array.of(itemCluster), shape: [1] },
            { name: "userMeans", values: Float64Array.of(4), shape: [1] },
            { name: "itemMeans", values: Float64Array.of(4), shape: [1] },
            { name: "clusterMeans/user", values: Float64Array.of(4), shape: [1] },
            { name: "clusterMeans/item", values: Float64Array.of(4), shape: [1] },
            { name: "clusterMeans/co", values: Float64Array.of(4), shape: [1, 1] },
          ],
          {
            model: "CoClustering",
            config: { userClusters: 1, itemClusters: 1, epochs: 0, seed: 0 },
            fitted: { numUsers: 1, numItems: 1, ratingScale: [1, 5], globalMean: 3 },
          },
        );
      for (const [cluster, expected] of [
        [0, 4],
        [-1, 3],
      ]) {
        const { json, data } = await saved(cluster);
        assert.deepEqual(Array.from((await CoClustering.fromArtifacts(json, data)).scoreItems(Int32Array.of(0))), [
          expected,
        ]);
      }
      const bad = await saved(1);
      await assert.rejects(
        CoClustering.fromArtifacts(bad.json, bad.data),
        /CoClustering.fromArtifacts: the model JSON: weight 'itemClusters' holds 1 at index 0, outside \[−1, 1\)/,
      );
    });
  });
});
