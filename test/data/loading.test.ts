import * as assert from "node:assert/strict";
import * as path from "node:path";
import { DATASET_SOURCES } from "../../src/data/cache";
import { DataFormatError } from "../../src/data/delimited";
import { IntIdMap } from "../../src/data/intIds";
import {
  checkRowCount,
  ColumnsBuilder,
  dropUnused,
  forEachRepeat,
  MAX_ROWS,
  readRatingsTable,
  TagCounter,
} from "../../src/data/loading";

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

  it("keeps every row across many growth steps and block moves, in plain arrays", () => {
    const n = 3 * (1 << 20) + 12345; // past several growth steps and 1M-row move blocks
    const builder = new ColumnsBuilder();
    for (let k = 0; k < n; k++) builder.push(k, n - k, k % 5, k * 0.5);
    const { users, items, ratings, timestamps } = builder.finish();
    assert.equal(users.length, n);
    let bad = -1;
    for (let k = 0; k < n && bad < 0; k++)
      if (users[k] !== k || items[k] !== n - k || ratings[k] !== k % 5 || timestamps[k] !== k * 0.5) bad = k;
    assert.equal(bad, -1, `row ${bad}`);
    // Ordinary fixed-size buffers, so the columns can be posted to a worker or cloned.
    assert.equal(timestamps.buffer.byteLength, n * 8);
    assert.equal(structuredClone(users.subarray(0, 3))[2], 2);
    assert.ok(MAX_ROWS >= 2 ** 29);
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

describe("data/loading checks", () => {
  const items = new IntIdMap();
  items.set(10, 0);
  items.set(20, 1);
  const layout = { file: "r.csv", delimiter: ",", header: { user: "u", item: "i", rating: "r" } };
  const read = (text: string, checks: Parameters<typeof readRatingsTable>[4] = {}) =>
    readRatingsTable(Buffer.from(text), layout, { map: items, file: "items.csv" }, undefined, checks);
  const halves = { min: 0.5, max: 5, step: 0.5 };

  it("rejects ratings off the data set's scale, and any that overflow a 32-bit float", () => {
    assert.deepEqual(Array.from(read("u,i,r\n1,10,0.5\n1,20,4.5\n", { scale: halves }).columns.ratings), [0.5, 4.5]);
    assert.throws(
      () => read("u,i,r\n1,10,4\n1,20,999\n", { scale: halves, dataset: "ml-latest-small" }),
      /r\.csv:3: field 'r': rating 999 is off ml-latest-small's rating scale \(0\.5–5 in steps of 0\.5\)/,
    );
    assert.throws(
      () => read("u,i,r\n1,10,-3\n", { scale: halves }),
      /r\.csv:2: field 'r': rating -3 is off the rating scale/,
    );
    assert.throws(() => read("u,i,r\n1,10,3.7\n", { scale: halves }), /rating 3\.7 is off the rating scale/);
    // No scale: still no Infinity from a float32 overflow.
    assert.equal(read("u,i,r\n1,10,1e38\n").columns.ratings[0], Math.fround(1e38));
    assert.throws(() => read("u,i,r\n1,10,1e39\n"), /r\.csv:2: field 'r': rating 1e\+39 does not fit a 32-bit float/);
  });

  it("rejects a file without rows", () => {
    assert.throws(() => read("u,i,r\n\n"), /^DataFormatError: r\.csv: the file has no ratings$/);
  });

  it("names both lines of a repeated (user, item) pair, or merges repeats as asked", () => {
    const text = "u,i,r\n1,10,1\n2,10,2\n\n1,20,3\n1,10,4\n2,10,5\n1,10,3\n";
    assert.throws(
      () => read(text),
      (e: unknown) => {
        assert.ok(e instanceof DataFormatError);
        assert.equal(e.line, 6);
        assert.match(
          e.message,
          /^r\.csv:6: user 1 and item 10 already appear on line 2 \(3 rows repeat an earlier \(user, item\) pair\); pass duplicates: "keepLast" or "mean"/,
        );
        return true;
      },
    );
    const last = read(text, { duplicates: "keepLast" });
    // Lines 5, 7 and 8 stay; users by ascending id (1 → 0, 2 → 1), items 10 → 0, 20 → 1.
    assert.deepEqual(Array.from(last.columns.users), [0, 1, 0]);
    assert.deepEqual(Array.from(last.columns.items), [1, 0, 0]);
    assert.deepEqual(Array.from(last.columns.ratings), [3, 5, 3]);
    assert.equal(last.records, 6);
    const mean = read(text, { duplicates: "mean" });
    assert.deepEqual(Array.from(mean.columns.ratings), [3, 3.5, Math.fround(8 / 3)]);
    assert.throws(
      () => read(text, { duplicates: "first" as never }),
      /duplicates must be "error", "keepLast" or "mean", got "first"/,
    );
  });

  it("finds repeats whether or not rows are grouped by user", () => {
    const pairs = (users: number[], items: number[]) => {
      const found: Array<[number, number]> = [];
      forEachRepeat(Int32Array.from(users), Int32Array.from(items), (a, b) => found.push([a, b]));
      return found;
    };
    assert.deepEqual(pairs([0, 0, 0, 1, 1], [3, 4, 3, 3, 3]), [
      [0, 2],
      [3, 4],
    ]);
    assert.deepEqual(pairs([1, 0, 1, 0, 1], [3, 3, 3, 2, 3]), [
      [0, 2],
      [2, 4],
    ]);
    assert.deepEqual(pairs([0, 1, 0], [1, 1, 2]), []);
  });

  it("checks a known file's row count, saying how to fix it or skip the check", () => {
    const source = DATASET_SOURCES["ml-100k"];
    const file = path.join("/data", "ml-100k", "u.data");
    checkRowCount(source, "/data/ml-100k", file, 100000, {});
    assert.throws(
      () => checkRowCount(source, "/data/ml-100k", file, 99999, {}),
      /\/data\/ml-100k\/u\.data: 99,999 rows, but ml-100k's u\.data has 100,000: the copy is incomplete or was changed\. Delete it and download it again, or pass \{ checkRowCounts: false \}/,
    );
    checkRowCount(source, "/data/ml-100k", file, 5, { checkRowCounts: false });
    checkRowCount(source, "/data/ml-100k", path.join("/data/ml-100k", "u.genre"), 5, {}); // no published count
  });
});
