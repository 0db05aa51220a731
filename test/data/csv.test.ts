import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { loadInteractionsCsv } from "../../src/data/csv";
import { makeTempDir, removeTempDir, writeFile } from "./fixtures";

describe("data/csv", () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeTempDir(dir));

  it("reads user, item, rating and timestamp in any column order, indexing by first appearance", () => {
    const file = writeFile(
      dir,
      "my-log.csv",
      "item,user,timestamp,rating\n" +
        '"Dune, Part One",alice,1704240000,4\n' +
        "The Hobbit,bob,2024-01-03,5\n" +
        "\n" +
        "The Hobbit, alice ,2024-01-03T12:00:00Z,3.5\n" +
        "42,007,2024-01-03 12:00,1\n" +
        "42,7,2024-01-03T13:00:00+01:00,2\n" +
        "The Hobbit,7,,2\n",
    );
    const data = loadInteractionsCsv(file);
    assert.equal(data.name, "my-log");
    assert.deepEqual(data.userIndex.ids, ["alice", "bob", "007", "7"]);
    assert.deepEqual(data.itemIndex.ids, ["Dune, Part One", "The Hobbit", "42"]);
    assert.deepEqual(Array.from(data.users), [0, 1, 0, 2, 3, 3]);
    assert.deepEqual(Array.from(data.items), [0, 1, 1, 2, 2, 1]);
    assert.deepEqual(Array.from(data.ratings), [4, 5, 3.5, 1, 2, 2]);
    const day = Date.UTC(2024, 0, 3) / 1000;
    assert.deepEqual(Array.from(data.timestamps), [
      1704240000,
      day,
      day + 12 * 3600,
      day + 12 * 3600,
      day + 12 * 3600,
      NaN,
    ]);
  });

  it("treats a log without ratings as implicit feedback", () => {
    const data = loadInteractionsCsv(writeFile(dir, "clicks.csv", "user,item\nu1,i1\nu2,i1\n"), { name: "clicks" });
    assert.equal(data.name, "clicks");
    assert.deepEqual(Array.from(data.ratings), [1, 1]);
    assert.ok(data.timestamps.every((t) => Number.isNaN(t)));
  });

  it("takes the catalogue from an items file, keeping unrated items", () => {
    const items = writeFile(
      dir,
      "items.csv",
      'item,title,genres,year\nb2,"Book Two, The",Drama|Comedy,2001\nb1,Book One,,\nb3,Book Three,Horror,1999\n',
    );
    const data = loadInteractionsCsv(writeFile(dir, "log.csv", "user,item,rating\nu,b1,5\nu,b3,2\n"), {
      itemsFile: items,
    });
    assert.deepEqual(data.itemIndex.ids, ["b2", "b1", "b3"]);
    assert.deepEqual(Array.from(data.items), [1, 2]);
    assert.deepEqual(data.itemInfo.titles, ["Book Two, The", "Book One", "Book Three"]);
    assert.deepEqual(data.itemInfo.genres, [["Drama", "Comedy"], [], ["Horror"]]);
    assert.deepEqual(Array.from(data.itemInfo.years!), [2001, NaN, 1999]);
    assert.equal(data.itemInfo.tags, undefined);
  });

  it("names file, line and field of bad input", () => {
    const bad = (name: string, text: string | Buffer) => () => loadInteractionsCsv(writeFile(dir, name, text));
    assert.throws(bad("a.csv", "user,item,rating\nu,i,5\nu,i\n"), /a\.csv:3: expected 3 fields, found 2/);
    assert.throws(
      bad("b.csv", "user,item,rating\nu,i,five\n"),
      /b\.csv:2: field 'rating': expected a number, got "five"/,
    );
    assert.throws(
      bad("c.csv", "user,item,ratng\nu,i,5\n"),
      /c\.csv:1: unknown column 'ratng' \(column 3\); expected user, item, rating, timestamp/,
    );
    assert.throws(bad("d.csv", "user,rating\nu,5\n"), /d\.csv:1: the header lacks column 'item'/);
    assert.throws(bad("e.csv", "user,item\n,i\n"), /e\.csv:2: field 'user': empty id/);
    assert.throws(
      bad("f.csv", "user,item,timestamp\nu,i,yesterday\n"),
      /f\.csv:2: field 'timestamp': expected Unix seconds or an ISO 8601 date, got "yesterday"/,
    );
    assert.throws(
      bad("g.csv", Buffer.concat([Buffer.from("user,item\nu,Caf"), Buffer.from([0xe9, 0x0a])])),
      /g\.csv:2: invalid UTF-8/,
    );
    assert.throws(bad("h.csv", "user,item,user\nu,i,u\n"), /h\.csv:1: column 'user' appears twice/);
    const items = writeFile(dir, "items.csv", "item,title\ni1,One\n");
    assert.throws(
      () => loadInteractionsCsv(writeFile(dir, "log.csv", "user,item\nu,i1\nu,i2\n"), { itemsFile: items }),
      /log\.csv:3: field 'item': unknown item id i2 \(not in items\.csv\)/,
    );
    const dupes = writeFile(dir, "dupes.csv", "item,title\n1,One\n2,Two\n1,Again\n");
    assert.throws(
      () => loadInteractionsCsv(writeFile(dir, "log2.csv", "user,item\nu,1\n"), { itemsFile: dupes }),
      /dupes\.csv:4: field 'item': duplicate item id 1/,
    );
    assert.throws(() => loadInteractionsCsv(path.join(dir, "missing.csv")), /ENOENT/);
  });

  it("rejects an empty file, a header without rows, and ratings that overflow or leave the given scale", () => {
    const bad =
      (name: string, text: string, options = {}) =>
      () =>
        loadInteractionsCsv(writeFile(dir, name, text), options);
    assert.throws(bad("empty.csv", ""), /empty\.csv:1: the file is empty \(expected a header line\)/);
    assert.throws(
      bad("header.csv", "user,item,rating\n\n"),
      /header\.csv: no interactions \(the file has a header but no rows\)/,
    );
    assert.throws(
      bad("huge.csv", "user,item,rating\nu,i,4\nu,j,1e39\n"),
      /huge\.csv:3: field 'rating': rating 1e\+39 does not fit a 32-bit float/,
    );
    const stars = { ratingScale: { min: 1, max: 5, step: 1 } };
    assert.throws(
      bad("scale.csv", "user,item,rating\nu,i,999\n", stars),
      /scale\.csv:2: field 'rating': rating 999 is off the rating scale \(1–5 in steps of 1\)/,
    );
    assert.equal(loadInteractionsCsv(writeFile(dir, "ok.csv", "user,item,rating\nu,i,5\n"), stars).ratings[0], 5);
  });

  it("names both lines of a repeated (user, item) pair, or merges repeats as asked", () => {
    const file = writeFile(
      dir,
      "repeats.csv",
      'user,item,rating,timestamp\nalice,Dune,2,10\nbob,Dune,3,11\n" alice",Dune,5,12\n',
    );
    assert.throws(
      () => loadInteractionsCsv(file),
      /repeats\.csv:4: user alice and item Dune already appear on line 2; pass duplicates: "keepLast" or "mean"/,
    );
    const last = loadInteractionsCsv(file, { duplicates: "keepLast" });
    assert.deepEqual(Array.from(last.ratings), [3, 5]);
    assert.deepEqual(Array.from(last.timestamps), [11, 12]);
    assert.deepEqual(Array.from(loadInteractionsCsv(file, { duplicates: "mean" }).ratings), [3, 3.5]);
  });

  it("reads a gzip'd file the same as the plain one", () => {
    const text = "user,item,rating\nu1,i1,3\nu2,i2,4\n";
    const plain = loadInteractionsCsv(writeFile(dir, "x.csv", text));
    const gz = loadInteractionsCsv(writeFile(dir, "y.csv.gz", zlib.gzipSync(text)));
    assert.equal(gz.name, "y");
    assert.deepEqual(Array.from(gz.ratings), Array.from(plain.ratings));
    assert.deepEqual(gz.itemIndex.ids, plain.itemIndex.ids);
  });
});
