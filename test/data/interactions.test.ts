// The interaction log every loader produces: ids mapped to dense indices and back, parallel columns
// checked for length, and selections that share the id space.

import * as assert from "node:assert/strict";
import { IdIndex, Interactions } from "../../src/data/interactions";

function log(): Interactions {
  return new Interactions({
    users: Int32Array.of(0, 1, 0),
    items: Int32Array.of(2, 0, 1),
    ratings: Float32Array.of(5, 3, 4),
    timestamps: Float64Array.of(10, 20, 30),
    userIndex: IdIndex.from(["alice", "bob"]),
    itemIndex: IdIndex.from(["x", "y", "z", "w"]),
    itemInfo: { titles: ["X", "Y", "Z", "W"] },
    name: "three",
  });
}

describe("data/interactions", () => {
  it("IdIndex numbers ids by first appearance and maps them back", () => {
    const index = IdIndex.from(["b", "a", "b", "c"]);
    assert.deepEqual(index.ids, ["b", "a", "c"]);
    assert.equal(index.size, 3);
    assert.equal(index.indexOf("a"), 1);
    assert.equal(index.indexOf("nope"), undefined);
    assert.equal(index.add("a"), 1, "an id already there keeps its index");
    assert.equal(index.add("d"), 3);
    assert.equal(index.idOf(3), "d");
    assert.throws(() => index.idOf(4), /IdIndex: index 4 is out of range \[0, 4\)/);
  });

  it("counts the whole id space, not only the ids that occur in the rows", () => {
    const data = log();
    assert.deepEqual([data.length, data.numUsers, data.numItems], [3, 2, 4]);
    assert.equal(data.name, "three");
    const bare = new Interactions({ ...log(), itemInfo: undefined, name: undefined });
    assert.deepEqual([bare.name, bare.itemInfo, bare.userInfo], ["interactions", {}, {}]);
  });

  it("select copies the rows asked for, in that order, and shares the id indices and side information", () => {
    const data = log();
    const part = data.select([2, 0], "part");
    assert.deepEqual(Array.from(part.users), [0, 0]);
    assert.deepEqual(Array.from(part.items), [1, 2]);
    assert.deepEqual(Array.from(part.ratings), [4, 5]);
    assert.deepEqual(Array.from(part.timestamps), [30, 10]);
    assert.equal(part.userIndex, data.userIndex);
    assert.equal(part.itemIndex, data.itemIndex);
    assert.equal(part.itemInfo, data.itemInfo);
    assert.deepEqual([part.name, part.numItems, data.select([1]).name], ["part", 4, "three"]);
    part.ratings[0] = 1;
    assert.equal(data.ratings[2], 4, "a copy, not a view");
  });

  it("rejects columns of different lengths, naming the column", () => {
    assert.throws(
      () => new Interactions({ ...log(), ratings: Float32Array.of(1, 2) }),
      /Interactions: column 'ratings' has 2 rows, 'users' has 3/,
    );
    assert.throws(
      () => new Interactions({ ...log(), timestamps: new Float64Array(4) }),
      /column 'timestamps' has 4 rows/,
    );
  });
});
