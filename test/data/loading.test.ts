import * as assert from "node:assert/strict";
import { IntIdMap } from "../../src/data/intIds";
import { ColumnsBuilder, dropUnused, readRatingsTable, TagCounter } from "../../src/data/loading";

describe("data/loading", () => {
  it("grows columns past their initial capacity and trims them", () => {
    const builder = new ColumnsBuilder(1);
    for (let k = 0; k < 40; k++) builder.push(k, 2 * k, k / 2, 1000 + k);
    const columns = builder.finish();
    assert.equal(columns.users.length, 40);
    assert.deepEqual(Array.from(columns.items.subarray(38)), [76, 78]);
    assert.deepEqual(Array.from(columns.ratings.subarray(0, 3)), [0, 0.5, 1]);
    assert.equal(columns.timestamps[39], 1039);
  });

  it("drops unused indices, renumbering in order", () => {
    const column = Int32Array.from([4, 1, 4, 2]);
    const keep = dropUnused(column, 6);
    assert.deepEqual(Array.from(keep), [1, 2, 4]);
    assert.deepEqual(Array.from(column), [2, 0, 2, 1]);
    const all = Int32Array.from([1, 0]);
    assert.deepEqual(Array.from(dropUnused(all, 2)), [0, 1]);
    assert.deepEqual(Array.from(all), [1, 0]);
  });

  it("ranks tags by count, then first appearance, merging case", () => {
    const counter = new TagCounter(3);
    counter.add(0, "b");
    counter.add(0, "a");
    counter.add(0, "A");
    counter.add(0, "c", 2);
    counter.add(2, "x");
    assert.deepEqual(counter.ranked(), [["a", "c", "b"], [], ["x"]]);
    assert.deepEqual(counter.ranked(1), [["a"], [], ["x"]]);
  });

  it("reads a ratings table, indexing users by ascending id when there is no user file", () => {
    const items = new IntIdMap();
    items.set(10, 0);
    items.set(20, 1);
    const raw = readRatingsTable(
      Buffer.from("u,i,r\n30,20,1\n4,10,2\n30,10,3\n100,20,4\n"),
      { file: "r.csv", delimiter: ",", header: { user: "u", item: "i", rating: "r" } },
      { map: items, file: "items.csv" },
    );
    assert.deepEqual(raw.userIds, [4, 30, 100]);
    assert.deepEqual(Array.from(raw.columns.users), [1, 0, 1, 2]);
    assert.deepEqual(Array.from(raw.columns.items), [1, 0, 0, 1]);
    assert.deepEqual(Array.from(raw.columns.ratings), [1, 2, 3, 4]);
    assert.ok(raw.columns.timestamps.every((t) => Number.isNaN(t)));
  });
});
