import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { zipSync } from "fflate";
import { Rng } from "../../src/backend/random";
import { assertUtf8, DataFormatError, DelimitedReader, readDataFile } from "../../src/data/delimited";
import { makeTempDir, removeTempDir, writeFile } from "./fixtures";

function rows(text: string | Buffer, options: Partial<ConstructorParameters<typeof DelimitedReader>[1]> = {}): string[][] {
  const reader = new DelimitedReader(Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8"), { file: "t.csv", delimiter: ",", ...options });
  const out: string[][] = [];
  while (reader.next()) {
    const row: string[] = [];
    for (let i = 0; i < reader.count; i++) row.push(reader.string(i));
    out.push(row);
  }
  return out;
}

describe("data/delimited", () => {
  describe("DelimitedReader", () => {
    it("splits plain records, skipping blank lines, with or without a final newline", () => {
      assert.deepEqual(rows("a,b\n\nc,d"), [["a", "b"], ["c", "d"]]);
      assert.deepEqual(rows("a,b\r\nc,\r\n"), [["a", "b"], ["c", ""]]);
      assert.deepEqual(rows(""), []);
    });

    it("reads RFC 4180 quoted fields: delimiters, doubled quotes and line breaks inside quotes", () => {
      const text = 'id,title\n1,"Dune, Part One"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n';
      assert.deepEqual(rows(text, { quoted: true }), [
        ["id", "title"], ["1", "Dune, Part One"], ["2", 'say "hi"'], ["3", "two\nlines"], ["4", ""],
      ]);
    });

    it("counts lines across quoted line breaks", () => {
      const reader = new DelimitedReader(Buffer.from('a,"x\ny"\n\nb,c\n'), { file: "t.csv", delimiter: ",", quoted: true });
      assert.ok(reader.next());
      assert.equal(reader.line, 1);
      assert.ok(reader.next());
      assert.equal(reader.line, 4);
    });

    it("takes quotes literally when quoting is off", () => {
      assert.deepEqual(rows('a,"b,c"'), [["a", '"b', 'c"']]);
    });

    it("splits on a two-character delimiter and keeps single characters of it", () => {
      assert.deepEqual(rows("1::Star Wars: Episode IV (1977)::Action|Sci-Fi", { delimiter: "::" }), [
        ["1", "Star Wars: Episode IV (1977)", "Action|Sci-Fi"],
      ]);
    });

    it("decodes latin-1 and UTF-8 and skips a UTF-8 byte-order mark", () => {
      assert.deepEqual(rows(Buffer.from("1|Café", "latin1"), { delimiter: "|", encoding: "latin1" }), [["1", "Café"]]);
      assert.deepEqual(rows(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("x,Café")])), [["x", "Café"]]);
    });

    it("parses numbers from bytes like Number() does", () => {
      const rng = new Rng(7);
      const texts = ["0", "5", "-2", "3.5", "4.0", "0.5", "+1", "2008.0", "1e3", "9.78043902348e+12", ".5", "123456789012345"];
      for (let k = 0; k < 500; k++) {
        const digits = 1 + rng.int(9);
        const frac = rng.int(8);
        const whole = String(rng.int(10 ** Math.min(digits, 9)));
        texts.push(frac === 0 ? whole : `${whole}.${String(rng.int(10 ** frac)).padStart(frac, "0")}`);
      }
      const reader = new DelimitedReader(Buffer.from(texts.join(",")), { file: "n.csv", delimiter: "," });
      assert.ok(reader.next());
      for (let i = 0; i < texts.length; i++) assert.equal(reader.number(i), Number(texts[i]), texts[i]);
    });

    it("parses integers and canonical ids", () => {
      const reader = new DelimitedReader(Buffer.from("42,-7,007,0,12a"), { file: "i.csv", delimiter: "," });
      assert.ok(reader.next());
      assert.equal(reader.int(0), 42);
      assert.equal(reader.int(1), -7);
      assert.equal(reader.int(2), 7);
      assert.deepEqual([0, 1, 2, 3, 4].map((i) => reader.canonicalUint(i)), [42, -1, -1, 0, -1]);
      assert.throws(() => reader.int(4), /i\.csv:1: field 'column 5': expected an integer, got "12a"/);
    });

    it("names file, line and field of a bad number", () => {
      const reader = new DelimitedReader(Buffer.from("1\t2\t3\t4\n1\t2\tx\t4\n"), {
        file: "u.data", delimiter: "\t", names: ["user", "item", "rating", "timestamp"],
      });
      assert.ok(reader.next());
      assert.ok(reader.next());
      assert.throws(() => reader.number(2), (e: unknown) => {
        assert.ok(e instanceof DataFormatError);
        assert.equal(e.file, "u.data");
        assert.equal(e.line, 2);
        assert.equal(e.field, "rating");
        assert.equal(e.message, `u.data:2: field 'rating': expected a number, got "x"`);
        return true;
      });
    });

    it("rejects empty and non-finite numbers", () => {
      const reader = new DelimitedReader(Buffer.from("1,,Infinity,NaN, 3"), { file: "e.csv", delimiter: "," });
      assert.ok(reader.next());
      assert.throws(() => reader.number(1), /expected a number, got ""/);
      assert.throws(() => reader.number(2), /expected a number, got "Infinity"/);
      assert.throws(() => reader.number(3), /expected a number/);
      assert.equal(reader.numberOrNaN(1), NaN);
      assert.equal(reader.number(4), 3);
    });

    it("reports a wrong field count with the line number", () => {
      const reader = new DelimitedReader(Buffer.from("1\t2\t3\t4\n\n1\t2\t3\n"), { file: "u.data", delimiter: "\t", fields: 4 });
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /^DataFormatError: u\.data:3: expected 4 fields, found 3$/);
    });

    it("reports an unclosed quote at the line where its record starts", () => {
      const reader = new DelimitedReader(Buffer.from('a,b\nc,"d\ne\n'), { file: "q.csv", delimiter: ",", quoted: true });
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /q\.csv:2: field 'column 2': a quoted field is not closed/);
      const after = new DelimitedReader(Buffer.from('"a"b,c\n'), { file: "q.csv", delimiter: ",", quoted: true });
      assert.throws(() => after.next(), /q\.csv:1: field 'column 1': unexpected text after a closing quote/);
    });

    it("checks a header and holds later records to its width", () => {
      const reader = new DelimitedReader(Buffer.from("userId,movieId,rating\n1,2,3\n1,2\n"), { file: "r.csv", delimiter: ",", quoted: true });
      assert.deepEqual(reader.readHeader(["movieId"]), ["userId", "movieId", "rating"]);
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /r\.csv:3: expected 3 fields, found 2/);
      const missing = new DelimitedReader(Buffer.from("user,item\n"), { file: "m.csv", delimiter: ",", quoted: true });
      assert.throws(() => missing.readHeader(["rating"]), /m\.csv:1: the header lacks column 'rating'/);
      const empty = new DelimitedReader(Buffer.from(""), { file: "z.csv", delimiter: "," });
      assert.throws(() => empty.readHeader(), /z\.csv:1: the file is empty/);
    });
  });

  describe("assertUtf8", () => {
    it("passes UTF-8 and names the first line that is not", () => {
      assertUtf8(Buffer.from("a\nCafé\n"), "ok.csv");
      const bad = Buffer.concat([Buffer.from("id,title\n1,ok\n2,Caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
      assert.throws(() => assertUtf8(bad, "movies.csv"), /movies\.csv:3: invalid UTF-8/);
    });
  });

  describe("readDataFile", () => {
    let dir: string;
    before(() => {
      dir = makeTempDir();
    });
    after(() => removeTempDir(dir));

    it("reads plain, gzip'd and zipped files to the same bytes", () => {
      const text = "1::1193::5::978300760\n";
      assert.equal(readDataFile(writeFile(dir, "r.dat", text)).toString(), text);
      assert.equal(readDataFile(writeFile(dir, "r.dat.gz", zlib.gzipSync(Buffer.from(text)))).toString(), text);
      const zip = zipSync({ "book_tags.csv": Buffer.from(text), "README": Buffer.from("x") });
      assert.equal(readDataFile(writeFile(dir, "book_tags.csv.zip", zip)).toString(), text);
      const single = zipSync({ "folder/only.csv": Buffer.from(text) });
      assert.equal(readDataFile(writeFile(dir, "other.zip", single)).toString(), text);
    });

    it("names the file when the archive is damaged or lacks the member", () => {
      const broken = writeFile(dir, "broken.dat.gz", Buffer.from("not gzip"));
      assert.throws(() => readDataFile(broken), new RegExp(`${path.basename(broken)}: not a readable gzip file`));
      const two = writeFile(dir, "x.csv.zip", zipSync({ "a.csv": Buffer.from("1"), "b.csv": Buffer.from("2") }));
      assert.throws(() => readDataFile(two), /zip holds no 'x\.csv' \(members: a\.csv, b\.csv\)/);
    });
  });
});
