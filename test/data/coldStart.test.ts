import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { coldItemSplit } from "../../src/data/coldStart";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { loadMovieLens100K } from "../../src/data/movielens";
import { sharedDataset } from "./fixtures";

/**
 * A random log over `numItems` item ids, of which the last `unused` never occur, so that the split
 * must not draw them. Every user rates 1..15 distinct items.
 */
function randomLog(seed: number, numUsers = 50, numItems = 40, unused = 0): Interactions {
  const rng = new Rng(seed);
  const userIndex = new IdIndex();
  const itemIndex = IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`));
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const index = userIndex.add(`u${u}`);
    const chosen = rng.permutation(numItems - unused).subarray(0, 1 + rng.int(15));
    for (const i of chosen) {
      users.push(index);
      items.push(i);
    }
  }
  const n = users.length;
  return new Interactions({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from({ length: n }, () => 1 + rng.int(5)),
    timestamps: Float64Array.from({ length: n }, (_, k) => k),
    userIndex,
    itemIndex,
    name: "random",
  });
}

function itemsOf(data: Interactions): Set<number> {
  return new Set(data.items);
}

describe("data/coldStart", () => {
  describe("coldItemSplit", () => {
    it("moves every row of the hidden items to test and none of them stays in train", () => {
      const data = randomLog(1);
      const { train, test, coldItems } = coldItemSplit(data, { fraction: 0.25, seed: 7 });
      const cold = new Set(coldItems);
      for (const i of train.items) assert.ok(!cold.has(i), `cold item ${i} is in train`);
      for (const i of test.items) assert.ok(cold.has(i), `warm item ${i} is in test`);
      // Train and test partition the rows: sizes add up and each row of the log is in exactly one part.
      assert.equal(train.length + test.length, data.length);
      const rows = (part: Interactions) => Array.from(part.timestamps); // timestamps are the row numbers here
      assert.deepEqual(
        [...rows(train), ...rows(test)].sort((a, b) => a - b),
        Array.from(data.timestamps),
      );
      // Every hidden item had rows, and all of them went to test.
      assert.deepEqual(itemsOf(test), cold);
    });

    it("hides round(fraction × items present) items, ascending and distinct", () => {
      const data = randomLog(2, 50, 40, 8); // 32 items occur, 8 do not
      const present = itemsOf(data).size;
      for (const fraction of [0.1, 0.25, 0.5, 0.9]) {
        const { coldItems } = coldItemSplit(data, { fraction, seed: 3 });
        assert.equal(coldItems.length, Math.round(fraction * present), `fraction ${fraction}`);
        for (let c = 1; c < coldItems.length; c++) assert.ok(coldItems[c] > coldItems[c - 1]);
      }
    });

    it("never draws an item without interactions", () => {
      const data = randomLog(3, 50, 40, 20);
      for (let seed = 0; seed < 20; seed++) {
        const { coldItems } = coldItemSplit(data, { fraction: 0.5, seed });
        for (const i of coldItems) assert.ok(i < 20, `item ${i} never occurs in the log but was drawn (seed ${seed})`);
      }
    });

    it("is reproducible by seed, and different seeds hide different items", () => {
      const data = randomLog(4);
      const a = coldItemSplit(data, { fraction: 0.2, seed: 11 });
      const b = coldItemSplit(data, { fraction: 0.2, seed: 11 });
      const c = coldItemSplit(data, { fraction: 0.2, seed: 12 });
      assert.deepEqual(a.coldItems, b.coldItems);
      assert.deepEqual(a.train.items, b.train.items);
      assert.deepEqual(a.test.users, b.test.users);
      assert.notDeepEqual(a.coldItems, c.coldItems);
    });

    it("keeps the id indices and side information, so models sized on train fit test", () => {
      const data = randomLog(5);
      const { train, test } = coldItemSplit(data, { seed: 1 });
      assert.equal(train.itemIndex, data.itemIndex);
      assert.equal(test.userIndex, data.userIndex);
      assert.equal(train.numItems, data.numItems);
      assert.equal(test.name, "random/cold-item-test");
    });

    it("rejects fractions outside (0, 1), ones that hide nothing or everything, and a missing seed", () => {
      const data = randomLog(6, 5, 4); // at most 4 items
      assert.throws(() => coldItemSplit(data, { fraction: 0, seed: 1 }), /fraction must be in \(0, 1\)/);
      assert.throws(() => coldItemSplit(data, { fraction: 1, seed: 1 }), /fraction must be in \(0, 1\)/);
      assert.throws(() => coldItemSplit(data, { fraction: NaN, seed: 1 }), /fraction must be in \(0, 1\)/);
      assert.throws(() => coldItemSplit(data, { fraction: 0.01, seed: 1 }), /hides 0; it must hide at least one item/);
      assert.throws(() => coldItemSplit(data, { fraction: 0.99, seed: 1 }), /leave at least one in train/);
      assert.throws(
        () => coldItemSplit(data, { seed: undefined as unknown as number }),
        /config\.seed must be a finite number/,
      );
    });
  });

  describe("on MovieLens 100K ($RECSYS_DATA_DIR)", function () {
    const dataDir = sharedDataset("ml-100k");
    before(function () {
      if (dataDir === undefined) this.skip();
    });

    it("hides 168 of the 1,682 movies with every rating of theirs", async () => {
      const data = await loadMovieLens100K({ dataDir, download: false });
      const { train, test, coldItems } = coldItemSplit(data, { fraction: 0.1, seed: 42 });
      assert.equal(coldItems.length, 168);
      assert.equal(train.length + test.length, 100_000);
      const cold = new Set(coldItems);
      assert.ok(train.items.every((i) => !cold.has(i)));
      assert.deepEqual(itemsOf(test), cold);
    });
  });
});
