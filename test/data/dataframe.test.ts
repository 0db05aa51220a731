import * as assert from "node:assert/strict";
import { DataFrame } from "danfojs-node";
import { interactionsFromDataFrame, interactionsToDataFrame } from "../../src/data/dataframe";
import { IdIndex, Interactions } from "../../src/data/interactions";

function tiny(): Interactions {
  return new Interactions({
    users: Int32Array.from([1, 0, 1]),
    items: Int32Array.from([0, 0, 1]),
    ratings: Float32Array.from([4.5, 3, 1]),
    timestamps: Float64Array.from([978300760, NaN, 1537799250]),
    userIndex: IdIndex.from(["7", "alice"]),
    itemIndex: IdIndex.from(["10", "20"]),
    itemInfo: { titles: ["Ten", "Twenty"] },
    name: "tiny",
  });
}

describe("data/dataframe", () => {
  it("turns interactions into rows of ids, ratings and full-precision timestamps", () => {
    const df = interactionsToDataFrame(tiny(), { titles: true });
    assert.deepEqual(df.columns, ["user", "item", "rating", "timestamp", "title"]);
    assert.deepEqual(df.values, [
      ["alice", "10", 4.5, 978300760, "Ten"],
      ["7", "10", 3, NaN, "Ten"],
      ["alice", "20", 1, 1537799250, "Twenty"],
    ]);
    assert.deepEqual(interactionsToDataFrame(tiny()).columns, ["user", "item", "rating", "timestamp"]);
  });

  it("reads a DataFrame back, ids as strings, indexed by first appearance", () => {
    const back = interactionsFromDataFrame(interactionsToDataFrame(tiny()), { name: "back" });
    assert.equal(back.name, "back");
    assert.deepEqual(back.userIndex.ids, ["alice", "7"]);
    assert.deepEqual(back.itemIndex.ids, ["10", "20"]);
    assert.deepEqual(Array.from(back.users), [0, 1, 0]);
    assert.deepEqual(Array.from(back.items), [0, 0, 1]);
    assert.deepEqual(Array.from(back.ratings), [4.5, 3, 1]);
    assert.deepEqual(Array.from(back.timestamps), [978300760, NaN, 1537799250]);
  });

  it("defaults to implicit feedback and rejects missing columns and ids", () => {
    const implicit = interactionsFromDataFrame(new DataFrame({ user: [1, 2], item: ["a", "a"] }));
    assert.deepEqual(Array.from(implicit.ratings), [1, 1]);
    assert.deepEqual(implicit.userIndex.ids, ["1", "2"]);
    assert.throws(() => interactionsFromDataFrame(new DataFrame({ user: [1] })), /no 'item' column \(columns: user\)/);
    assert.throws(
      () => interactionsFromDataFrame(new DataFrame({ user: ["u", ""], item: ["a", "b"] })),
      /row 1, column 'user': empty id/,
    );
  });
});
