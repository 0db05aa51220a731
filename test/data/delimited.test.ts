import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { zipSync } from "fflate";
import { Rng } from "../../src/backend/random";
import {
  assertUtf8,
  ByteSource,
  DataFormatError,
  DelimitedOptions,
  DelimitedReader,
  readDataFile,
  withDataFile,
} from "../../src/data/delimited";
import { makeTempDir, removeTempDir, writeFile } from "./fixtures";

/** `bytes` handed out in chunks of 1..maxChunk bytes (a fixed seed). */
function chunked(bytes: Buffer, seed: number, maxChunk = 7): ByteSource {
  const rng = new Rng(seed);
  let at = 0;
  return {
    read: () => {
      if (at >= bytes.length) return null;
      const size = 1 + rng.int(maxChunk);
      const chunk = Buffer.from(bytes.subarray(at, at + size)); // a copy, as a file read gives
      at += size;
      return chunk;
    },
  };
}

/** Every record as [line, ...fields], or the error message where reading stops. */
function records(reader: DelimitedReader): Array<string | Array<string | number>> {
  const out: Array<string | Array<string | number>> = [];
  try {
    while (reader.next()) {
      const row: Array<string | number> = [reader.line];
      for (let i = 0; i < reader.count; i++) row.push(reader.string(i));
      out.push(row);
    }
  } catch (e) {
    out.push((e as Error).message);
  }
  return out;
}

/** Whether `withDataFile` gives exactly `expected`, read chunk by chunk. */
function streamed(file: string): Buffer {
  return withDataFile(file, (source) => {
    const chunks: Buffer[] = [];
    for (let c = source.read(); c !== null; c = source.read()) chunks.push(c);
    return Buffer.concat(chunks);
  });
}

function rows(
  text: string | Buffer,
  options: Partial<ConstructorParameters<typeof DelimitedReader>[1]> = {},
): string[][] {
  const reader = new DelimitedReader(Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8"), {
    file: "t.csv",
    delimiter: ",",
    ...options,
  });
  const out: string[][] = [];
  while (reader.next()) {
    const row: string[] = [];
    for (let i = 0; i < reader.count; i++) row.push(reader.string(i));
    out.push(row);
  }
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("data/delimited", () => {
  describe("DelimitedReader", () => {
    it("splits plain records, skipping blank lines, with or without a final newline", () => {
      assert.deepEqual(rows("a,b\n\nc,d"), [
        ["a", "b"],
        ["c", "d"],
      ]);
      assert.deepEqual(rows("a,b\r\nc,\r\n"), [
        ["a", "b"],
        ["c", ""],
      ]);
      assert.deepEqual(rows(""), []);
    });

    it("reads RFC 4180 quoted fields: delimiters, doubled quotes and line breaks inside quotes", () => {
      const text = 'id,title\n1,"Dune, Part One"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n';
      assert.deepEqual(rows(text, { quoted: true }), [
        ["id", "title"],
        ["1", "Dune, Part One"],
        ["2", 'say "hi"'],
        ["3", "two\nlines"],
        ["4", ""],
      ]);
    });

    it("counts lines across quoted line breaks", () => {
      const reader = new DelimitedReader(Buffer.from('a,"x\ny"\n\nb,c\n'), {
        file: "t.csv",
        delimiter: ",",
        quoted: true,
      });
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
      const texts = [
        "0",
        "5",
        "-2",
        "3.5",
        "4.0",
        "0.5",
        "+1",
        "2008.0",
        "1e3",
        "9.78043902348e+12",
        ".5",
        "123456789012345",
      ];
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
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((i) => reader.canonicalUint(i)),
        [42, -1, -1, 0, -1],
      );
      assert.throws(() => reader.int(4), /i\.csv:1: field 'column 5': expected an integer, got "12a"/);
    });

    it("names file, line and field of a bad number", () => {
      const reader = new DelimitedReader(Buffer.from("1\t2\t3\t4\n1\t2\tx\t4\n"), {
        file: "u.data",
        delimiter: "\t",
        names: ["user", "item", "rating", "timestamp"],
      });
      assert.ok(reader.next());
      assert.ok(reader.next());
      assert.throws(
        () => reader.number(2),
        (e: unknown) => {
          assert.ok(e instanceof DataFormatError);
          assert.equal(e.file, "u.data");
          assert.equal(e.line, 2);
          assert.equal(e.field, "rating");
          assert.equal(e.message, `u.data:2: field 'rating': expected a number, got "x"`);
          return true;
        },
      );
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
      const reader = new DelimitedReader(Buffer.from("1\t2\t3\t4\n\n1\t2\t3\n"), {
        file: "u.data",
        delimiter: "\t",
        fields: 4,
      });
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /^DataFormatError: u\.data:3: expected 4 fields, found 3$/);
    });

    it("reports an unclosed quote at the line where its record starts", () => {
      const reader = new DelimitedReader(Buffer.from('a,b\nc,"d\ne\n'), {
        file: "q.csv",
        delimiter: ",",
        quoted: true,
      });
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /q\.csv:2: field 'column 2': a quoted field is not closed/);
      const after = new DelimitedReader(Buffer.from('"a"b,c\n'), { file: "q.csv", delimiter: ",", quoted: true });
      assert.throws(() => after.next(), /q\.csv:1: field 'column 1': unexpected text after a closing quote/);
    });

    it("checks a header and holds later records to its width", () => {
      const reader = new DelimitedReader(Buffer.from("userId,movieId,rating\n1,2,3\n1,2\n"), {
        file: "r.csv",
        delimiter: ",",
        quoted: true,
      });
      assert.deepEqual(reader.readHeader(["movieId"]), ["userId", "movieId", "rating"]);
      assert.ok(reader.next());
      assert.throws(() => reader.next(), /r\.csv:3: expected 3 fields, found 2/);
      const missing = new DelimitedReader(Buffer.from("user,item\n"), { file: "m.csv", delimiter: ",", quoted: true });
      assert.throws(() => missing.readHeader(["rating"]), /m\.csv:1: the header lacks column 'rating'/);
      const empty = new DelimitedReader(Buffer.from(""), { file: "z.csv", delimiter: "," });
      assert.throws(() => empty.readHeader(), /z\.csv:1: the file is empty/);
    });
  });

  describe("DelimitedReader over chunks", () => {
    const cases: Array<[string, Buffer, Partial<DelimitedOptions>]> = [
      ["plain", Buffer.from("1,2,3\n\n4,5,6\r\n7,,9\n\r\n10,11,12"), {}],
      ["'::'", Buffer.from("1::Toy Story (1995)::Animation|Comedy\n2::a:b::c\n3::x::\n"), { delimiter: "::" }],
      [
        "quoted",
        Buffer.from('id,title\n1,"Dune, Part One"\n2,"say ""hi"""\r\n3,"two\nlines",x\n\n4,"",""\n5,"end"'),
        { quoted: true },
      ],
      ["BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("a,Café\nb,Ünïcödé\n")]), {}],
      ["bad quote", Buffer.from('a,b\nc,"d\ne\n'), { quoted: true }],
      ["bad count", Buffer.from("1,2\n3,4\n\n5\n"), { fields: 2 }],
    ];
    for (const [name, bytes, options] of cases) {
      it(`reads ${name} records the same whatever the chunk boundaries`, () => {
        const opts: DelimitedOptions = { file: "c.csv", delimiter: ",", ...options };
        const whole = records(new DelimitedReader(bytes, opts));
        for (let seed = 1; seed <= 60; seed++) {
          assert.deepEqual(
            records(new DelimitedReader(chunked(bytes, seed, 1 + (seed % 9)), opts)),
            whole,
            `seed ${seed}`,
          );
        }
      });
    }

    it("names the first line that is not UTF-8 wherever the chunks break", () => {
      const bytes = Buffer.concat([
        Buffer.from('user,item\nu1,Café\n\nu2,"a\nb"\nu3,Caf'),
        Buffer.from([0xe9]),
        Buffer.from("\nu4,x\n"),
      ]);
      for (let seed = 1; seed <= 40; seed++) {
        const reader = new DelimitedReader(chunked(bytes, seed), {
          file: "u.csv",
          delimiter: ",",
          quoted: true,
          validateUtf8: true,
        });
        assert.throws(
          () => records(reader).forEach((r) => assert.equal(typeof r, "object", String(r))),
          /u\.csv:6: invalid UTF-8/,
        );
      }
      const ok = new DelimitedReader(chunked(Buffer.from("a,Ünïcödé\nb,€\n"), 3, 2), {
        file: "ok.csv",
        delimiter: ",",
        validateUtf8: true,
      });
      assert.deepEqual(records(ok), [
        [1, "a", "Ünïcödé"],
        [2, "b", "€"],
      ]);
    });

    it("refuses a record longer than 64 MiB, as a file that is not text", () => {
      const zeros: ByteSource = { read: () => Buffer.alloc(1 << 20) };
      assert.throws(
        () => new DelimitedReader(zeros, { file: "zeros.bin", delimiter: "," }).next(),
        /zeros\.bin:1: a record longer than 64 MiB/,
      );
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
      const zip = zipSync({ "book_tags.csv": Buffer.from(text), README: Buffer.from("x") });
      assert.equal(readDataFile(writeFile(dir, "book_tags.csv.zip", zip)).toString(), text);
      const single = zipSync({ "folder/only.csv": Buffer.from(text) });
      assert.equal(readDataFile(writeFile(dir, "other.zip", single)).toString(), text);
    });

    it("reads concatenated gzip members, across read chunks, to Node's bytes", () => {
      const rng = new Rng(3);
      // Digits compress about 2:1, so these members cross the 1 MiB read chunks.
      const parts = [900_000, 1, 1_500_000, 0, 700_000].map((n) =>
        Buffer.from(Array.from({ length: n }, () => String(rng.int(10))).join("")),
      );
      const file = writeFile(dir, "multi.txt.gz", Buffer.concat(parts.map((p) => zlib.gzipSync(p))));
      const expected = zlib.gunzipSync(fs.readFileSync(file));
      assert.ok(streamed(file).equals(expected));
      assert.ok(readDataFile(file).equals(expected));
    });

    it("never returns wrong data from a gzip file with a flipped bit or cut short, and names it", () => {
      const text = Buffer.from(
        "1::1193::5::978300760\n1::661::3::978302109\n1::914::3::978301968\n2::1357::5::978298709\n",
      );
      const gz = zlib.gzipSync(text);
      let flips = 0;
      let rejected = 0;
      for (let byte = 0; byte < gz.length; byte++) {
        for (const bit of [0, 3, 7]) {
          const damaged = Buffer.from(gz);
          damaged[byte] ^= 1 << bit;
          const file = writeFile(dir, "ratings.dat.gz", damaged);
          flips++;
          let bytes: Buffer;
          try {
            bytes = streamed(file);
          } catch (e) {
            assert.ok(e instanceof DataFormatError, String(e));
            assert.equal(e.file, file);
            assert.match(e.message, /gzip/);
            rejected++;
            continue;
          }
          // A flip that changes no data may pass (header hint, mtime and OS bytes, padding after the
          // last block, a table bit fflate decodes the same): the CRC proves the bytes are the original.
          assert.ok(bytes.equals(text), `byte ${byte} bit ${bit} loaded wrong data`);
        }
      }
      // Of all 584 one-bit flips of this file, 57 pass that way (49 of them in header bytes 3..9).
      assert.ok(rejected >= flips - 22, `${rejected} of ${flips} flips rejected`);
      for (let cut = 0; cut < gz.length; cut++) {
        const file = writeFile(dir, "cut.dat.gz", gz.subarray(0, cut));
        assert.throws(() => streamed(file), /cut\.dat\.gz: .*gzip/, `cut at ${cut}`);
      }
      // The message says what to do.
      const damaged = Buffer.from(gz);
      damaged[gz.length - 9] ^= 1;
      assert.throws(
        () => readDataFile(writeFile(dir, "x.dat.gz", damaged)),
        /x\.dat\.gz: (damaged|not a readable) gzip file.*download it again/,
      );
    });

    it("reports a damaged gzip rather than the garbage it decompresses to", () => {
      const gz = zlib.gzipSync("user,item,rating\n1,2,3\n");
      const damaged = Buffer.from(gz);
      damaged[gz.length - 4] ^= 1; // the recorded length: the data inflates fine, the check fails
      const file = writeFile(dir, "r.csv.gz", damaged);
      const read = () =>
        withDataFile(file, (source) => {
          const reader = new DelimitedReader(source, { file, delimiter: "," });
          reader.readHeader();
          reader.next();
          reader.fail(0, "not what we expected");
        });
      assert.throws(read, /r\.csv\.gz: damaged gzip file: 23 bytes decompressed, the file records/);
    });

    it("names a path that is a folder, missing, or too large to read whole", function () {
      assert.throws(() => readDataFile(dir), new RegExp(`${escape(dir)}: is a folder, expected a file`));
      assert.throws(() => streamed(path.join(dir, "none.csv")), /none\.csv: not found \(ENOENT\)/);
      // A sparse file: 2 GiB + 1 byte of size, no disk used.
      const big = path.join(dir, "big.csv");
      fs.closeSync(fs.openSync(big, "w"));
      fs.truncateSync(big, 2 ** 31 + 1);
      try {
        assert.throws(() => readDataFile(big), /big\.csv: 2\.0 GiB is too large to read whole/);
        // Streamed, size is no limit; here the content (zeros, no line ends) is the problem.
        assert.throws(
          () => withDataFile(big, (source) => new DelimitedReader(source, { file: big, delimiter: "," }).next()),
          /big\.csv:1: a record longer than 64 MiB/,
        );
      } finally {
        fs.rmSync(big);
      }
    });

    it("says a file or folder is unreadable, not missing, when permissions forbid it", function () {
      // root reads whatever the permissions say, so there is nothing to test as root.
      if (os.userInfo().uid === 0) return this.skip();
      const file = writeFile(dir, "locked/ratings.csv", "user,item\nu,i\n");
      fs.chmodSync(file, 0o000);
      try {
        assert.throws(() => readDataFile(file), /ratings\.csv: permission denied \(EACCES\).*fix the permissions/);
      } finally {
        fs.chmodSync(file, 0o644);
      }
    });

    it("names the file when the archive is damaged or lacks the member", () => {
      const broken = writeFile(dir, "broken.dat.gz", Buffer.from("not gzip"));
      assert.throws(() => readDataFile(broken), new RegExp(`${path.basename(broken)}: not a readable gzip file`));
      const two = writeFile(dir, "x.csv.zip", zipSync({ "a.csv": Buffer.from("1"), "b.csv": Buffer.from("2") }));
      assert.throws(() => readDataFile(two), /zip holds no 'x\.csv' \(members: a\.csv, b\.csv\)/);
    });
  });
});
