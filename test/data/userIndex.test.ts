import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { UserItems, argsortStable, rowsByItem, rowsByUser } from "../../src/data/userIndex";

type Row = [user: string, item: string, time: number];

function log(rows: Row[], userIndex = new IdIndex(), itemIndex = new IdIndex()): Interactions {
  return new Interactions({
    users: Int32Array.from(rows, (r) => userIndex.add(r[0])),
    items: Int32Array.from(rows, (r) => itemIndex.add(r[1])),
    ratings: new Float32Array(rows.length).fill(1),
    timestamps: Float64Array.from(rows, (r) => r[2]),
    userIndex,
    itemIndex,
    name: "tiny",
  });
}

describe("data/userIndex", () => {
  describe("argsortStable", () => {
    it("sorts negatives, zeros, infinities and NaN, keeping ties in index order", () => {
      const values = Float64Array.from([3, -1, NaN, 0, -0, -Infinity, 3, Infinity, -1.5, 0]);
      assert.deepEqual([...argsortStable(values)], [5, 8, 1, 3, 4, 9, 0, 6, 7, 2]);
    });

    it("agrees with a stable comparator sort on random data with ties", () => {
      const rng = new Rng(1);
      for (const n of [0, 1, 7, 1000]) {
        const values = Float64Array.from({ length: n }, () => (rng.int(3) === 0 ? rng.int(20) : rng.normal(0, 1e6)));
        const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
        assert.deepEqual([...argsortStable(values)], expected);
      }
    });

    it("orders timestamps that differ only in low bits", () => {
      const values = Float64Array.from([1e9 + 0.5, 1e9, 1e9 + 0.25, 1e9 - 1e-6]);
      assert.deepEqual([...argsortStable(values)], [3, 1, 2, 0]);
    });
  });

  describe("rowsByUser / rowsByItem", () => {
    const data = log([
      ["a", "x", 30],
      ["b", "x", 10],
      ["a", "y", 10],
      ["a", "z", 20],
      ["b", "y", 10],
    ]);

    it("keeps log order by default and sorts by time on request, ties in log order", () => {
      assert.deepEqual([...rowsByUser(data).rows], [0, 2, 3, 1, 4]);
      assert.deepEqual([...rowsByUser(data, "time").rows], [2, 3, 0, 1, 4]);
      assert.deepEqual([...rowsByItem(data, "time").rows], [1, 0, 2, 4, 3]);
    });

    it("names the row when a time-ordered view meets a missing timestamp", () => {
      const partial = log([
        ["a", "x", 1],
        ["b", "y", NaN],
      ]);
      assert.throws(() => rowsByUser(partial, "time"), /rowsByUser: 'tiny' has no timestamp at row 1 \(user 'b'\)/);
    });
  });

  describe("UserItems", () => {
    it("holds each user's distinct items ascending, across parts of one log", () => {
      const users = new IdIndex();
      const items = IdIndex.from(["i0", "i1", "i2", "i3"]);
      const train = log(
        [
          ["a", "i3", 1],
          ["a", "i1", 2],
          ["a", "i3", 3],
          ["b", "i0", 4],
        ],
        users,
        items,
      );
      const test = log(
        [
          ["a", "i0", 5],
          ["c", "i2", 6],
        ],
        users,
        items,
      );
      const seen = UserItems.from(train, test);
      assert.deepEqual([...seen.itemsOf(0)], [0, 1, 3]);
      assert.deepEqual([...seen.itemsOf(1)], [0]);
      assert.deepEqual([...seen.itemsOf(2)], [2]);
      assert.equal(seen.count(0), 3);
      assert.equal(seen.has(0, 3), true);
      assert.equal(seen.has(0, 2), false);
      assert.equal(seen.has(2, 0), false);
    });

    it("agrees with a set on random data", () => {
      const rng = new Rng(3);
      const rows: Row[] = Array.from({ length: 500 }, (): Row => [`u${rng.int(20)}`, `i${rng.int(50)}`, 0]);
      const data = log(rows);
      const seen = UserItems.from(data);
      const truth = new Set(rows.map((r) => `${data.userIndex.indexOf(r[0])}|${data.itemIndex.indexOf(r[1])}`));
      for (let u = 0; u < data.numUsers; u++) {
        for (let i = 0; i < data.numItems; i++) assert.equal(seen.has(u, i), truth.has(`${u}|${i}`));
      }
    });

    it("refuses parts that do not share id indices", () => {
      assert.throws(() => UserItems.from(log([["a", "x", 1]]), log([["a", "x", 1]])), /does not share the id indices/);
    });
  });
});
