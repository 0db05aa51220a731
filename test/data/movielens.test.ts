import * as assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { Interactions } from "../../src/data/interactions";
import {
  loadMovieLens100K,
  loadMovieLens1M,
  loadMovieLensLatestSmall,
  ML100K_GENRES,
  titleYear,
} from "../../src/data/movielens";
import { makeTempDir, quiet, removeTempDir, sharedDataset, writeFile } from "./fixtures";

// Hand-written files are subsets: their row counts are not the published ones.
const offline = { download: false, log: quiet, checkRowCounts: false };

/** Ratings per value, e.g. { "1": 6110, ... }. */
function histogram(data: Interactions): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of data.ratings) counts[String(r)] = (counts[String(r)] ?? 0) + 1;
  return counts;
}

/** The row's (user id, item id, rating, timestamp) in the data set's own ids. */
function row(data: Interactions, k: number): [string, string, number, number] {
  return [data.userIndex.idOf(data.users[k]), data.itemIndex.idOf(data.items[k]), data.ratings[k], data.timestamps[k]];
}

const flags = (on: number[]): string => ML100K_GENRES.map((_, g) => (on.includes(g) ? 1 : 0)).join("|");

describe("data/movielens", () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeTempDir(dir));

  it("reads the year at the end of a title", () => {
    assert.equal(titleYear("Toy Story (1995)"), 1995);
    assert.equal(titleYear("Death Note: Desu nôto (2006–2007)"), 2006);
    assert.equal(titleYear("Babylon 5"), NaN);
    assert.equal(titleYear("1984 (1984) "), 1984);
  });

  describe("loadMovieLens100K", () => {
    function writeMl100k(ratings: string, extraItem = ""): void {
      writeFile(
        dir,
        "ml-100k/u.item",
        Buffer.from(
          `1|Café Society (1995)|01-Jan-1995||http://x|${flags([1])}\n` +
            `2|Unknown Date (1996)|||http://y|${flags([5, 8])}\n` +
            `3|Never Rated (1997)|05-May-1997||http://z|${flags([0])}\n` +
            extraItem,
          "latin1",
        ),
      );
      writeFile(dir, "ml-100k/u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n");
      writeFile(dir, "ml-100k/u.data", ratings);
    }

    it("reads ratings, latin-1 titles, years, genres and user details", async () => {
      writeMl100k("2\t1\t4\t881250949\n1\t2\t3\t881250950\n2\t2\t5\t881250951\n");
      const data = await loadMovieLens100K({ dataDir: dir, ...offline });
      assert.equal(data.name, "ml-100k");
      assert.equal(data.length, 3);
      // Users in u.user order, user 3 (no ratings) dropped; all three items kept.
      assert.deepEqual(data.userIndex.ids, ["1", "2"]);
      assert.deepEqual(data.itemIndex.ids, ["1", "2", "3"]);
      assert.deepEqual(Array.from(data.users), [1, 0, 1]);
      assert.deepEqual(Array.from(data.items), [0, 1, 1]);
      assert.deepEqual(Array.from(data.ratings), [4, 3, 5]);
      assert.deepEqual(Array.from(data.timestamps), [881250949, 881250950, 881250951]);
      assert.deepEqual(data.itemInfo.titles, ["Café Society (1995)", "Unknown Date (1996)", "Never Rated (1997)"]);
      assert.deepEqual(Array.from(data.itemInfo.years!), [1995, NaN, 1997]);
      assert.deepEqual(data.itemInfo.genres, [["Action"], ["Comedy", "Drama"], ["unknown"]]);
      assert.deepEqual(Array.from(data.userInfo.ages!), [24, 53]);
      assert.deepEqual(data.userInfo.genders, ["M", "F"]);
      assert.deepEqual(data.userInfo.occupations, ["technician", "other"]);
    });

    it("names file, line and field of bad input", async () => {
      writeMl100k("1\t1\t4\t881250949\n1\t2\t3\n");
      await assert.rejects(loadMovieLens100K({ dataDir: dir, ...offline }), /u\.data:2: expected 4 fields, found 3/);
      writeMl100k("1\t1\t4\t881250949\n\n1\t2\tfour\t881250949\n");
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.data:3: field 'rating': expected a number, got "four"/,
      );
      writeMl100k("1\t99\t4\t881250949\n");
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.data:1: field 'item id': unknown item id 99 \(not in u\.item\)/,
      );
      writeMl100k("7\t1\t4\t881250949\n");
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.data:1: field 'user id': unknown user id 7 \(not in u\.user\)/,
      );
      writeMl100k("1\t1\t4\t881250949\n", `1|Again (1998)|01-Jan-1998||http://w|${flags([])}\n`);
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.item:4: field 'movie id': duplicate movie id 1/,
      );
      writeMl100k("1\t1\t4\t881250949\n", `4|Bad (1998)|1998||http://w|${flags([])}\n`);
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.item:4: field 'release date': expected a date like 01-Jan-1995, got "1998"/,
      );
      writeMl100k("1\t1\t4\t881250949\n", `4|Bad (1998)|||http://w|${flags([]).replace(/^0/, "2")}\n`);
      await assert.rejects(
        loadMovieLens100K({ dataDir: dir, ...offline }),
        /u\.item:4: field 'unknown': expected a 0\/1 genre flag, got 2/,
      );
    });

    it("fails loudly on a cut file, ratings off the 1–5 stars, and repeated pairs", async () => {
      const checked = { dataDir: dir, download: false, log: quiet };
      // Three whole lines: without the published row counts this would load as three ratings.
      writeMl100k("1\t1\t4\t881250949\n1\t2\t3\t881250950\n2\t2\t5\t881250951\n");
      await assert.rejects(
        loadMovieLens100K(checked),
        /u\.item: 3 rows, but ml-100k's u\.item has 1,682: the copy is incomplete or was changed\. Delete it and download it again/,
      );
      assert.equal((await loadMovieLens100K({ ...checked, checkRowCounts: false })).length, 3);
      writeMl100k("");
      await assert.rejects(
        loadMovieLens100K({ ...checked, checkRowCounts: false }),
        /u\.data: the file has no ratings/,
      );
      for (const bad of ["999", "-3", "1e39", "3.5"]) {
        writeMl100k(`1\t1\t4\t881250949\n2\t2\t${bad}\t881250951\n`);
        await assert.rejects(
          loadMovieLens100K({ ...checked, checkRowCounts: false }),
          /u\.data:2: field 'rating': rating .* (is off ml-100k's rating scale \(1–5 in steps of 1\)|does not fit a 32-bit float)/,
          bad,
        );
      }
      writeMl100k("1\t1\t4\t881250949\n2\t2\t5\t881250951\n1\t1\t2\t881250952\n");
      await assert.rejects(
        loadMovieLens100K({ ...checked, checkRowCounts: false }),
        /u\.data:3: user 1 and item 1 already appear on line 1/,
      );
      const merged = await loadMovieLens100K({ ...checked, checkRowCounts: false, duplicates: "mean" });
      assert.deepEqual(Array.from(merged.ratings), [5, 3]);
    });

    it("loads the real ml-100k: 100,000 ratings, 943 users, 1,682 items", async function () {
      const root = sharedDataset("ml-100k");
      if (!root) return this.skip();
      const data = await loadMovieLens100K({ dataDir: root, ...offline });
      assert.equal(data.length, 100000);
      assert.equal(data.numUsers, 943);
      assert.equal(data.numItems, 1682);
      assert.deepEqual(row(data, 0), ["196", "242", 3, 881250949]);
      assert.deepEqual(row(data, 99999), ["12", "203", 3, 879959583]);
      // Rating histogram and time range as recorded in the copy's PROVENANCE.md.
      assert.deepEqual(histogram(data), { "1": 6110, "2": 11370, "3": 27145, "4": 34174, "5": 21201 });
      assert.equal(
        data.timestamps.reduce((a, b) => Math.min(a, b)),
        874724710,
      );
      assert.equal(
        data.timestamps.reduce((a, b) => Math.max(a, b)),
        893286638,
      );
      const cold = data.itemIndex.indexOf("1633")!;
      assert.equal(data.itemInfo.titles![cold], "Á köldum klaka (Cold Fever) (1994)");
      assert.equal(data.itemInfo.years![cold], 1996);
      assert.deepEqual(data.itemInfo.genres![data.itemIndex.indexOf("1")!], ["Animation", "Children's", "Comedy"]);
      assert.equal(data.itemInfo.titles![data.itemIndex.indexOf("267")!], "unknown");
      assert.equal(data.userInfo.occupations![data.userIndex.indexOf("1")!], "technician");
    });
  });

  describe("loadMovieLens1M", () => {
    const movies = Buffer.from(
      "1::Toy Story (1995)::Animation|Children's|Comedy\n73::Misérables, Les (1995)::Drama|Musical\n",
      "latin1",
    );
    const users = "1::F::1::10::48067\n2::M::56::16::70072\n";
    const ratings = "2::73::5::978300760\n1::1::3::978302109\n";

    it("reads '::' files with latin-1 titles and the README's age and occupation codes", async () => {
      writeFile(dir, "ml-1m/movies.dat", movies);
      writeFile(dir, "ml-1m/users.dat", users);
      writeFile(dir, "ml-1m/ratings.dat", ratings);
      const data = await loadMovieLens1M({ dataDir: dir, ...offline });
      assert.equal(data.name, "ml-1m");
      assert.deepEqual(
        [row(data, 0), row(data, 1)],
        [
          ["2", "73", 5, 978300760],
          ["1", "1", 3, 978302109],
        ],
      );
      assert.deepEqual(data.itemInfo.titles, ["Toy Story (1995)", "Misérables, Les (1995)"]);
      assert.deepEqual(data.itemInfo.genres, [
        ["Animation", "Children's", "Comedy"],
        ["Drama", "Musical"],
      ]);
      assert.deepEqual(Array.from(data.itemInfo.years!), [1995, 1995]);
      assert.deepEqual(Array.from(data.userInfo.ages!), [1, 56]);
      assert.deepEqual(data.userInfo.occupations, ["K-12 student", "self-employed"]);
    });

    it("reads gzip'd ratings, preferring the plain file, and names a partial copy", async () => {
      writeFile(dir, "ml-1m/movies.dat", movies);
      writeFile(dir, "ml-1m/users.dat", users);
      writeFile(dir, "ml-1m/subset-users-1-2999/ratings.dat.gz", zlib.gzipSync("1::1::1::1\n"));
      const subset = await loadMovieLens1M({ dataDir: dir, ...offline });
      assert.equal(subset.name, "ml-1m (subset-users-1-2999)");
      assert.deepEqual(row(subset, 0), ["1", "1", 1, 1]);
      assert.equal(subset.numUsers, 1);
      writeFile(dir, "ml-1m/ratings.dat.gz", zlib.gzipSync(ratings));
      const gz = await loadMovieLens1M({ dataDir: dir, ...offline });
      assert.equal(gz.name, "ml-1m");
      assert.equal(gz.length, 2);
      writeFile(dir, "ml-1m/ratings.dat", "1::1::2::5\n");
      assert.deepEqual(row(await loadMovieLens1M({ dataDir: dir, ...offline }), 0), ["1", "1", 2, 5]);
    });

    it("rejects a gzip'd ratings file with a flipped bit, naming it", async () => {
      writeFile(dir, "ml-1m/movies.dat", movies);
      writeFile(dir, "ml-1m/users.dat", users);
      const gz = zlib.gzipSync(ratings);
      const damaged = Buffer.from(gz);
      damaged[gz.length - 12] ^= 4;
      const file = writeFile(dir, "ml-1m/ratings.dat.gz", damaged);
      await assert.rejects(
        loadMovieLens1M({ dataDir: dir, ...offline }),
        new RegExp(`${file.replace(/[.\\/]/g, "\\$&")}: (damaged|not a readable) gzip file`),
      );
    });

    it("rejects unknown codes and ids", async () => {
      writeFile(dir, "ml-1m/movies.dat", movies);
      writeFile(dir, "ml-1m/users.dat", "1::F::1::10::48067\n2::M::57::16::70072\n");
      writeFile(dir, "ml-1m/ratings.dat", ratings);
      await assert.rejects(
        loadMovieLens1M({ dataDir: dir, ...offline }),
        /users\.dat:2: field 'Age': expected an age code/,
      );
      writeFile(dir, "ml-1m/users.dat", "1::F::1::21::48067\n");
      await assert.rejects(
        loadMovieLens1M({ dataDir: dir, ...offline }),
        /users\.dat:1: field 'Occupation': expected an occupation code 0\.\.20, got 21/,
      );
      writeFile(dir, "ml-1m/users.dat", users);
      writeFile(dir, "ml-1m/ratings.dat", "1::1::3::1\n1::2::3::1\n");
      await assert.rejects(
        loadMovieLens1M({ dataDir: dir, ...offline }),
        /ratings\.dat:2: field 'MovieID': unknown item id 2 \(not in movies\.dat\)/,
      );
    });

    it("loads the shared ml-1m subset: 487,650 ratings of users 1..2999", async function () {
      const root = sharedDataset("ml-1m");
      if (!root) return this.skip();
      const data = await loadMovieLens1M({ dataDir: root, ...offline });
      assert.equal(data.length, 487650);
      assert.equal(data.numUsers, 2999);
      assert.equal(data.numItems, 3883);
      assert.match(data.name, /subset/);
      assert.deepEqual(row(data, 0), ["1", "1193", 5, 978300760]);
      assert.deepEqual(row(data, data.length - 1), ["2999", "2046", 4, 970621145]);
      assert.deepEqual(histogram(data), { "1": 27472, "2": 53838, "3": 127216, "4": 170579, "5": 108545 });
      assert.equal(data.itemInfo.titles![data.itemIndex.indexOf("73")!], "Misérables, Les (1995)");
      assert.equal(data.userInfo.genders![0], "F");
    });
  });

  describe("loadMovieLensLatestSmall", () => {
    function writeLatest(moviesCsv: string | Buffer, tagsCsv?: string): void {
      writeFile(dir, "ml-latest-small/movies.csv", moviesCsv);
      writeFile(
        dir,
        "ml-latest-small/ratings.csv",
        "userId,movieId,rating,timestamp\n5,10,4.5,964982703\n1,7789,0.5,964981247\n",
      );
      if (tagsCsv) writeFile(dir, "ml-latest-small/tags.csv", tagsCsv);
    }
    const moviesCsv =
      'movieId,title,genres\n10,"American President, The (1995)",Comedy|Drama|Romance\n' +
      '7789,"11\'09""01 - September 11 (2002)",Drama\n99,Babylon 5,(no genres listed)\n';

    it("reads quoted titles, genres and tags; keeps unrated movies; indexes users by id", async () => {
      writeLatest(
        moviesCsv,
        'userId,movieId,tag,timestamp\n1,10,funny,1\n2,10,politics,2\n3,10,Funny,3\n1,99,"sci-fi, space",4\n',
      );
      const data = await loadMovieLensLatestSmall({ dataDir: dir, ...offline });
      assert.deepEqual(data.userIndex.ids, ["1", "5"]);
      assert.deepEqual(data.itemIndex.ids, ["10", "7789", "99"]);
      assert.deepEqual(
        [row(data, 0), row(data, 1)],
        [
          ["5", "10", 4.5, 964982703],
          ["1", "7789", 0.5, 964981247],
        ],
      );
      assert.deepEqual(data.itemInfo.titles, [
        "American President, The (1995)",
        "11'09\"01 - September 11 (2002)",
        "Babylon 5",
      ]);
      assert.deepEqual(data.itemInfo.genres, [["Comedy", "Drama", "Romance"], ["Drama"], []]);
      assert.deepEqual(Array.from(data.itemInfo.years!), [1995, 2002, NaN]);
      // "funny" twice (case-insensitive, first spelling kept) before "politics" once.
      assert.deepEqual(data.itemInfo.tags, [["funny", "politics"], [], ["sci-fi, space"]]);
    });

    it("rejects invalid UTF-8, a wrong header and unknown movies in tags.csv", async () => {
      writeLatest(
        Buffer.concat([
          Buffer.from("movieId,title,genres\n10,Caf"),
          Buffer.from([0xe9]),
          Buffer.from(" (1995),Drama\n"),
        ]),
      );
      await assert.rejects(loadMovieLensLatestSmall({ dataDir: dir, ...offline }), /movies\.csv:2: invalid UTF-8/);
      writeLatest("movieId,name,genres\n10,A (1995),Drama\n");
      await assert.rejects(
        loadMovieLensLatestSmall({ dataDir: dir, ...offline }),
        /movies\.csv:1: the header lacks column 'title'/,
      );
      writeLatest(moviesCsv, "userId,movieId,tag,timestamp\n1,11,funny,1\n");
      await assert.rejects(
        loadMovieLensLatestSmall({ dataDir: dir, ...offline }),
        /tags\.csv:2: field 'movieId': unknown movie id 11 \(not in movies\.csv\)/,
      );
    });

    it("loads the real ml-latest-small: 100,836 ratings, 610 users, all 9,742 movies", async function () {
      const root = sharedDataset("ml-latest-small");
      if (!root) return this.skip();
      const data = await loadMovieLensLatestSmall({ dataDir: root, ...offline });
      assert.equal(data.length, 100836);
      assert.equal(data.numUsers, 610);
      assert.equal(data.numItems, 9742);
      assert.equal(new Set(data.items).size, 9724, "9,724 movies are rated");
      assert.deepEqual(row(data, 0), ["1", "1", 4, 964982703]);
      assert.deepEqual(histogram(data), {
        "0.5": 1370,
        "1": 2811,
        "1.5": 1791,
        "2": 7551,
        "2.5": 5550,
        "3": 20047,
        "3.5": 13136,
        "4": 26818,
        "4.5": 8551,
        "5": 13211,
      });
      assert.equal(
        data.timestamps.reduce((a, b) => Math.min(a, b)),
        828124615,
      );
      assert.equal(
        data.timestamps.reduce((a, b) => Math.max(a, b)),
        1537799250,
      );
      assert.equal(data.itemInfo.titles![data.itemIndex.indexOf("7789")!], "11'09\"01 - September 11 (2002)");
      assert.deepEqual(data.itemInfo.genres![0], ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]);
      const tagged = data.itemInfo.tags!.filter((t) => t.length > 0).length;
      assert.ok(tagged > 1000 && tagged < 9742, `${tagged} movies have tags`);
    });
  });
});
