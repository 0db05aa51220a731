import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { loadMovieLens100K } from "../../src/data/movielens";
import {
  Split,
  chronologicalSplit,
  kFoldSplit,
  leaveOneOutSplit,
  randomSplit,
  stratifiedSplit,
  temporalSplit,
} from "../../src/data/splitters";

type Row = [user: string, item: string, rating: number, time: number];

function log(rows: Row[], name = "tiny"): Interactions {
  const userIndex = new IdIndex();
  const itemIndex = new IdIndex();
  return new Interactions({
    users: Int32Array.from(rows, (r) => userIndex.add(r[0])),
    items: Int32Array.from(rows, (r) => itemIndex.add(r[1])),
    ratings: Float32Array.from(rows, (r) => r[2]),
    timestamps: Float64Array.from(rows, (r) => r[3]),
    userIndex,
    itemIndex,
    name,
  });
}

/** Users a (5 rows), b (4), c (1), d (3); timestamps out of row order, no (user, item) repeats. */
const TINY: Row[] = [
  ["a", "i1", 5, 50],
  ["b", "i1", 3, 10],
  ["a", "i2", 4, 20],
  ["c", "i3", 2, 70],
  ["d", "i4", 1, 30],
  ["a", "i3", 3, 40],
  ["b", "i2", 2, 60],
  ["d", "i1", 4, 15],
  ["a", "i4", 5, 10],
  ["b", "i5", 5, 35],
  ["a", "i5", 1, 90],
  ["d", "i2", 3, 80],
  ["b", "i3", 4, 5],
];

/** A random log: `numUsers` users with 1..30 interactions each, timestamps with many ties. */
function randomLog(seed: number, numUsers = 60, numItems = 40): Interactions {
  const rng = new Rng(seed);
  const rows: Row[] = [];
  for (let u = 0; u < numUsers; u++) {
    const count = 1 + rng.int(30);
    for (let j = 0; j < count; j++) rows.push([`u${u}`, `i${rng.int(numItems)}`, 1 + rng.int(5), 1000 + rng.int(50)]);
  }
  new Rng(seed + 1).shuffle(rows);
  return log(rows, "random");
}

function key(data: Interactions, k: number): string {
  return `${data.userIndex.idOf(data.users[k])}|${data.itemIndex.idOf(data.items[k])}|${data.ratings[k]}|${data.timestamps[k]}`;
}

/** Counts of each (user, item, rating, time) row. */
function multiset(data: Interactions): Map<string, number> {
  const counts = new Map<string, number>();
  for (let k = 0; k < data.length; k++) counts.set(key(data, k), (counts.get(key(data, k)) ?? 0) + 1);
  return counts;
}

/** Every row of `data` is in exactly one of `parts`, and the parts hold nothing else. */
function assertPartition(data: Interactions, parts: Interactions[]): void {
  const union = new Map<string, number>();
  for (const part of parts) for (const [k, c] of multiset(part)) union.set(k, (union.get(k) ?? 0) + c);
  assert.deepEqual([...union.entries()].sort(), [...multiset(data).entries()].sort());
}

function partsOf(split: Split): Interactions[] {
  return split.validation ? [split.train, split.validation, split.test] : [split.train, split.test];
}

/** Rows of `part` per user id. */
function countsByUser(part: Interactions): Map<string, number> {
  const counts = new Map<string, number>();
  for (let k = 0; k < part.length; k++) {
    const id = part.userIndex.idOf(part.users[k]);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function maxOf(values: Float64Array): number {
  return values.reduce((a, b) => Math.max(a, b), -Infinity);
}

function minOf(values: Float64Array): number {
  return values.reduce((a, b) => Math.min(a, b), Infinity);
}

function sameRows(a: Interactions, b: Interactions): boolean {
  return (
    a.length === b.length &&
    a.users.every((u, k) => u === b.users[k] && a.items[k] === b.items[k] && a.timestamps[k] === b.timestamps[k])
  );
}

describe("data/splitters", () => {
  describe("randomSplit", () => {
    it("partitions the rows, round(ratio·n) in train, sharing the id indices", () => {
      const data = log(TINY);
      const split = randomSplit(data, { seed: 7 });
      assertPartition(data, partsOf(split));
      assert.equal(split.train.length, Math.round(0.75 * 13));
      assert.equal(split.validation, undefined);
      assert.equal(split.train.userIndex, data.userIndex);
      assert.equal(split.test.itemIndex, data.itemIndex);
      assert.equal(split.train.name, "tiny/train");
    });

    it("cuts three parts at the rounded cumulative ratios, after normalising them", () => {
      const data = randomLog(3);
      const n = data.length;
      const split = randomSplit(data, { ratio: [6, 2, 2], seed: 1 });
      assertPartition(data, partsOf(split));
      assert.equal(split.train.length, Math.round(0.6 * n));
      assert.equal(split.validation?.length, Math.round(0.8 * n) - Math.round(0.6 * n));
    });

    it("keeps each part in log order", () => {
      const rows: Row[] = Array.from({ length: 50 }, (_, k): Row => [`u${k % 7}`, `i${k}`, 3, k]);
      const split = randomSplit(log(rows), { seed: 2 });
      for (const part of partsOf(split))
        for (let k = 1; k < part.length; k++) assert.ok(part.timestamps[k - 1] < part.timestamps[k]);
    });

    it("is reproducible by seed and changes with it", () => {
      const data = randomLog(5);
      assert.ok(sameRows(randomSplit(data, { seed: 11 }).test, randomSplit(data, { seed: 11 }).test));
      assert.ok(!sameRows(randomSplit(data, { seed: 11 }).test, randomSplit(data, { seed: 12 }).test));
    });

    it("rejects bad ratios and a missing seed with errors naming the splitter", () => {
      const data = log(TINY);
      assert.throws(() => randomSplit(data, { ratio: 1, seed: 1 }), /randomSplit: ratio must be in \(0, 1\), got 1/);
      assert.throws(
        () => randomSplit(data, { ratio: [0.5, -0.5], seed: 1 }),
        /randomSplit: every ratio must be a positive number/,
      );
      assert.throws(
        () => randomSplit(data, {} as { seed: number }),
        /randomSplit: config.seed must be a finite number/,
      );
    });
  });

  describe("kFoldSplit", () => {
    it("makes k disjoint test folds that cover every row, sizes as in Surprise's KFold", () => {
      const data = log(TINY);
      const folds = kFoldSplit(data, { k: 5, seed: 3 });
      assert.equal(folds.length, 5);
      // 13 rows over 5 folds: the first 13 mod 5 = 3 folds get one extra row.
      assert.deepEqual(
        folds.map((f) => f.test.length),
        [3, 3, 3, 2, 2],
      );
      for (const fold of folds) assertPartition(data, [fold.train, fold.test]);
      assertPartition(
        data,
        folds.map((f) => f.test),
      );
      assert.equal(folds[2].test.name, "tiny/fold3-test");
    });

    it("is reproducible by seed and changes with it", () => {
      const data = randomLog(8);
      const a = kFoldSplit(data, { seed: 1 });
      const b = kFoldSplit(data, { seed: 1 });
      const c = kFoldSplit(data, { seed: 2 });
      assert.ok(a.every((fold, f) => sameRows(fold.test, b[f].test)));
      assert.ok(!a.every((fold, f) => sameRows(fold.test, c[f].test)));
    });

    it("rejects k outside [2, n]", () => {
      const data = log(TINY);
      assert.throws(() => kFoldSplit(data, { k: 1, seed: 1 }), /kFoldSplit: k must be an integer in \[2, 13\].*got 1/);
      assert.throws(() => kFoldSplit(data, { k: 14, seed: 1 }), /got 14/);
    });
  });

  describe("stratifiedSplit", () => {
    it("keeps floor(0.75·n) of each user's rows in train, as Microsoft Recommenders' rank rule gives", () => {
      const data = log(TINY);
      const split = stratifiedSplit(data, { seed: 4 });
      assertPartition(data, partsOf(split));
      // a: 5 rows → ranks 0.2, 0.4, 0.6 ≤ 0.75; b: 4 → 3; c: 1 → rank 1 > 0.75, test only; d: 3 → 2.
      assert.deepEqual(Object.fromEntries(countsByUser(split.train)), { a: 3, b: 3, d: 2 });
      assert.deepEqual(Object.fromEntries(countsByUser(split.test)), { a: 2, b: 1, c: 1, d: 1 });
    });

    it("keeps every user's train fraction within one row of the ratio", () => {
      for (const seed of [1, 2, 3]) {
        const data = randomLog(seed);
        for (const ratio of [0.5, 0.75, 0.8]) {
          const split = stratifiedSplit(data, { ratio, seed });
          assertPartition(data, partsOf(split));
          const train = countsByUser(split.train);
          for (const [user, n] of countsByUser(data))
            assert.ok(Math.abs((train.get(user) ?? 0) - ratio * n) <= 1, `user ${user}`);
        }
      }
    });

    it("splits three ways by cumulative rank and drops users below minInteractions", () => {
      const data = log(TINY);
      const split = stratifiedSplit(data, { ratio: [0.6, 0.2, 0.2], seed: 9, minInteractions: 2 });
      assert.ok(split.validation);
      assertPartition(log(TINY.filter((r) => r[0] !== "c")), partsOf(split));
      // a (5): ranks 0.2..0.6 train, 0.8 validation, 1 test; b (4): 0.25, 0.5 train, 0.75 val, 1 test.
      assert.deepEqual(Object.fromEntries(countsByUser(split.train)), { a: 3, b: 2, d: 1 });
      assert.deepEqual(Object.fromEntries(countsByUser(split.validation)), { a: 1, b: 1, d: 1 });
      assert.deepEqual(Object.fromEntries(countsByUser(split.test)), { a: 1, b: 1, d: 1 });
    });

    it("stratifies per item on request", () => {
      const data = randomLog(4);
      const split = stratifiedSplit(data, { seed: 1, by: "item" });
      const train = new Map<number, number>();
      for (const i of split.train.items) train.set(i, (train.get(i) ?? 0) + 1);
      const all = new Map<number, number>();
      for (const i of data.items) all.set(i, (all.get(i) ?? 0) + 1);
      for (const [item, n] of all) assert.equal(train.get(item) ?? 0, Math.floor(0.75 * n + 1e-9));
    });

    it("is reproducible by seed and changes with it", () => {
      const data = randomLog(6);
      assert.ok(sameRows(stratifiedSplit(data, { seed: 5 }).test, stratifiedSplit(data, { seed: 5 }).test));
      assert.ok(!sameRows(stratifiedSplit(data, { seed: 5 }).test, stratifiedSplit(data, { seed: 6 }).test));
    });
  });

  describe("chronologicalSplit", () => {
    it("puts each user's earliest rows in train, by the same rank rule", () => {
      const data = log(TINY);
      const split = chronologicalSplit(data);
      assertPartition(data, partsOf(split));
      const times = (part: Interactions, user: string): number[] =>
        [...part.timestamps].filter((_, k) => part.userIndex.idOf(part.users[k]) === user).sort((x, y) => x - y);
      assert.deepEqual(times(split.train, "a"), [10, 20, 40]);
      assert.deepEqual(times(split.test, "a"), [50, 90]);
      assert.deepEqual(times(split.train, "b"), [5, 10, 35]);
      assert.deepEqual(times(split.test, "c"), [70]);
      assert.deepEqual(times(split.test, "d"), [80]);
    });

    it("never has a train row later than a test row of the same user, even with ties", () => {
      for (const seed of [1, 2, 3]) {
        const data = randomLog(seed);
        const split = chronologicalSplit(data, { ratio: [0.7, 0.1, 0.2] });
        assertPartition(data, partsOf(split));
        const latestTrain = new Map<number, number>();
        split.train.users.forEach((u, k) =>
          latestTrain.set(u, Math.max(latestTrain.get(u) ?? -Infinity, split.train.timestamps[k])),
        );
        for (const part of [split.validation as Interactions, split.test]) {
          part.users.forEach((u, k) => assert.ok(part.timestamps[k] >= (latestTrain.get(u) ?? -Infinity)));
        }
      }
    });

    it("breaks timestamp ties by log order", () => {
      const data = log([
        ["a", "i1", 1, 5],
        ["a", "i2", 1, 5],
        ["a", "i3", 1, 5],
        ["a", "i4", 1, 5],
      ]);
      const split = chronologicalSplit(data, { ratio: 0.5 });
      assert.deepEqual([...split.train.items], [0, 1]);
      assert.deepEqual([...split.test.items], [2, 3]);
    });

    it("needs timestamps unless told to trust the log order", () => {
      const data = log([
        ["a", "i1", 1, 5],
        ["a", "i2", 1, NaN],
        ["a", "i3", 1, 7],
        ["a", "i4", 1, 9],
      ]);
      assert.throws(
        () => chronologicalSplit(data),
        /chronologicalSplit: 'tiny' has no timestamp at row 1 \(user 'a'\)/,
      );
      assert.deepEqual([...chronologicalSplit(data, { order: "row", ratio: 0.5 }).test.items], [2, 3]);
    });
  });

  describe("leaveOneOutSplit", () => {
    it("holds out each user's latest row as test and the one before as validation", () => {
      const data = log(TINY);
      const split = leaveOneOutSplit(data);
      assertPartition(data, partsOf(split));
      const byUser = (part: Interactions): Record<string, number> =>
        Object.fromEntries([...part.users].map((u, k) => [part.userIndex.idOf(u), part.timestamps[k]]));
      // c (1 row) stays in train; every other user has at least 3.
      assert.deepEqual(byUser(split.test), { a: 90, b: 60, d: 80 });
      assert.deepEqual(byUser(split.validation as Interactions), { a: 50, b: 35, d: 30 });
      assert.equal(split.train.length, 13 - 6);
    });

    it("picks the latest on random logs and keeps too-short users in train only", () => {
      const data = randomLog(10);
      const split = leaveOneOutSplit(data);
      assertPartition(data, partsOf(split));
      const latest = new Map<number, number>();
      data.users.forEach((u, k) => latest.set(u, Math.max(latest.get(u) ?? -Infinity, data.timestamps[k])));
      split.test.users.forEach((u, k) => assert.equal(split.test.timestamps[k], latest.get(u)));
      const counts = countsByUser(data);
      const tested = countsByUser(split.test);
      for (const [user, n] of counts)
        assert.equal(tested.get(user) ?? 0, n >= 3 ? 1 : 0, `user ${user} with ${n} rows`);
      assert.equal(countsByUser(split.validation as Interactions).size, tested.size);
    });

    it("without validation, holds out the last row of users with at least two", () => {
      const data = log([
        ["a", "i1", 1, 1],
        ["a", "i2", 1, 2],
        ["b", "i1", 1, 3],
      ]);
      const split = leaveOneOutSplit(data, { validation: false });
      assert.equal(split.validation, undefined);
      assert.deepEqual([...split.test.items], [1]);
      assert.deepEqual([...split.train.items], [0, 0]);
    });

    it("counts the later row as later when timestamps tie", () => {
      const data = log([
        ["a", "i1", 1, 5],
        ["a", "i2", 1, 5],
        ["a", "i3", 1, 5],
      ]);
      const split = leaveOneOutSplit(data);
      assert.deepEqual([...split.test.items], [2]);
      assert.deepEqual([...(split.validation as Interactions).items], [1]);
    });

    it("honours minInteractions and rejects values that leave a part empty", () => {
      const data = log(TINY);
      assert.equal(leaveOneOutSplit(data, { minInteractions: 5 }).test.length, 1); // only a
      assert.throws(
        () => leaveOneOutSplit(data, { minInteractions: 2 }),
        /leaveOneOutSplit: minInteractions must be an integer >= 3/,
      );
    });
  });

  describe("temporalSplit", () => {
    it("cuts so that round(fraction·n) rows are at or after the cut", () => {
      const data = log(TINY); // 13 distinct-enough times; 10 appears twice
      const split = temporalSplit(data, { testFraction: 0.3 });
      assertPartition(data, partsOf(split));
      // Sorted times: 5 10 10 15 20 30 35 40 50 60 70 80 90; the last round(3.9) = 4 start at 60.
      assert.equal(split.cutTime, 60);
      assert.deepEqual(
        [...split.test.timestamps].sort((x, y) => x - y),
        [60, 70, 80, 90],
      );
      assert.ok(split.train.timestamps.every((t) => t < 60));
    });

    it("sends every row tied with the cut time to test", () => {
      const data = log([
        ["a", "i1", 1, 1],
        ["a", "i2", 1, 2],
        ["b", "i1", 1, 2],
        ["b", "i2", 1, 3],
      ]);
      const split = temporalSplit(data, { testFraction: 0.5 });
      assert.equal(split.cutTime, 2);
      assert.equal(split.test.length, 3);
    });

    it("drops test rows whose user or item is unseen in train on request", () => {
      const data = log([
        ["a", "i1", 1, 1],
        ["b", "i2", 1, 2],
        ["a", "i2", 1, 3],
        ["a", "i3", 1, 4],
        ["c", "i1", 1, 5],
        ["b", "i1", 1, 6],
      ]);
      const kept = temporalSplit(data, { cutTime: 4 });
      assert.equal(kept.test.length, 3);
      const dropped = temporalSplit(data, { cutTime: 4, dropUnseen: true });
      assert.equal(dropped.train.length, 3);
      // i3 is new (row 4) and c is new (row 5): only (b, i1) stays.
      assert.deepEqual([...dropped.test.timestamps], [6]);
    });

    it("keeps train strictly before test on random logs", () => {
      const data = randomLog(12);
      const split = temporalSplit(data);
      assertPartition(data, partsOf(split));
      const lastTrain = maxOf(split.train.timestamps);
      assert.ok(minOf(split.test.timestamps) > lastTrain);
      assert.ok(split.test.length >= Math.round(0.2 * data.length));
    });
  });

  describe("on MovieLens 100K ($RECSYS_DATA_DIR)", function () {
    let data: Interactions;
    before(async function () {
      if (!process.env.RECSYS_DATA_DIR) this.skip();
      data = await loadMovieLens100K({ download: false });
    });

    it("stratified: every user within one row of 75% in train", () => {
      const split = stratifiedSplit(data, { seed: 42 });
      assert.equal(split.train.length + split.test.length, 100000);
      const train = countsByUser(split.train);
      for (const [user, n] of countsByUser(data)) assert.ok(Math.abs((train.get(user) ?? 0) - 0.75 * n) <= 1);
    });

    it("leave-one-out: one test and one validation row per user (all have >= 20 ratings)", () => {
      const split = leaveOneOutSplit(data);
      assert.equal(split.test.length, 943);
      assert.equal(split.validation?.length, 943);
      assert.equal(split.train.length, 100000 - 2 * 943);
    });

    it("temporal: a fifth of the ratings at or after the cut", () => {
      const split = temporalSplit(data, { testFraction: 0.2 });
      assert.ok(split.test.length >= 20000 && split.test.length < 20100);
      assert.ok(maxOf(split.train.timestamps) < split.cutTime);
    });
  });
});
