import * as assert from "node:assert/strict";
import { zipSync } from "fflate";
import { isShelfTag, loadGoodbooks, loadGoodbooksCatalogue } from "../../src/data/goodbooks";
import { makeTempDir, quiet, removeTempDir, sharedDataset, writeFile } from "./fixtures";

// Hand-written files are subsets: their row counts are not the published ones.
const offline = { download: false, log: quiet, checkRowCounts: false };

describe("data/goodbooks", () => {
  describe("isShelfTag", () => {
    it("drops shelves about the reader and keeps tags about the book", () => {
      const shelves = [
        "to-read",
        "currently-reading",
        "owned",
        "books-i-own",
        "favorites",
        "favourites",
        "kindle",
        "ebook",
        "e-books",
        "audiobook",
        "read-in-2015",
        "2016-reads",
        "5-stars",
        "did-not-finish",
        "dnf",
        "to-buy",
        "wish-list",
        "my-library",
        "book-club",
        "default",
        "books",
        "series",
        "-",
        "--1-",
        "Owned",
      ];
      const descriptions = [
        "fantasy",
        "young-adult",
        "historical-fiction",
        "20th-century",
        "sci-fi",
        "magic",
        "non-fiction",
        "classics",
        "stephen-king",
        "dystopia",
        "1001-books",
        "harry-potter",
        "fiction",
        "ya",
      ];
      for (const tag of shelves) assert.equal(isShelfTag(tag), true, tag);
      for (const tag of descriptions) assert.equal(isShelfTag(tag), false, tag);
    });
  });

  describe("loaders on hand-written files", () => {
    let dir: string;
    before(() => {
      dir = makeTempDir();
      writeFile(
        dir,
        "goodbooks-10k/books.csv",
        "book_id,goodreads_book_id,authors,original_publication_year,title,ratings_count\n" +
          '1,2767052,Suzanne Collins,2008.0,"The Hunger Games (The Hunger Games, #1)",4780653\n' +
          '2,3,"J.K. Rowling, Mary GrandPré",1997.0,Harry Potter,4602479\n' +
          "3,41865,Stephenie Meyer,,Twilight,9000000\n",
      );
      writeFile(
        dir,
        "goodbooks-10k/tags.csv",
        "tag_id,tag_name\n0,to-read\n1,fantasy\n2,young-adult\n3,read-in-2015\n4,dystopia\n5,favorites\n",
      );
      const bookTags =
        "goodreads_book_id,tag_id,count\n2767052,0,100\n2767052,4,50\n2767052,2,50\n2767052,1,10\n2767052,1,45\n" +
        "3,1,5\n3,3,9\n3,2,-1\n41865,5,3\n";
      writeFile(dir, "goodbooks-10k/book_tags.csv.zip", zipSync({ "book_tags.csv": Buffer.from(bookTags) }));
      writeFile(dir, "goodbooks-10k/ratings.csv", "user_id,book_id,rating\n7,2,5\n3,1,4\n7,3,1\n");
    });
    after(() => removeTempDir(dir));

    it("loads ratings with titles, authors, years and ranked descriptive tags", async () => {
      const data = await loadGoodbooks({ dataDir: dir, ...offline });
      assert.equal(data.name, "goodbooks-10k");
      assert.deepEqual(data.userIndex.ids, ["3", "7"]);
      assert.deepEqual(data.itemIndex.ids, ["1", "2", "3"]);
      assert.deepEqual(Array.from(data.users), [1, 0, 1]);
      assert.deepEqual(Array.from(data.items), [1, 0, 2]);
      assert.deepEqual(Array.from(data.ratings), [5, 4, 1]);
      assert.ok(data.timestamps.every((t) => Number.isNaN(t)));
      assert.deepEqual(data.itemInfo.titles, ["The Hunger Games (The Hunger Games, #1)", "Harry Potter", "Twilight"]);
      assert.deepEqual(data.itemInfo.authors, ["Suzanne Collins", "J.K. Rowling, Mary GrandPré", "Stephenie Meyer"]);
      assert.deepEqual(Array.from(data.itemInfo.years!), [2008, 1997, NaN]);
      // fantasy 10 + 45 = 55 leads; dystopia and young-adult tie at 50 and keep file order;
      // to-read, read-in-2015 and favorites are shelves; the count -1 row is ignored.
      assert.deepEqual(data.itemInfo.tags, [["fantasy", "dystopia", "young-adult"], ["fantasy"], []]);
    });

    it("builds a catalogue of the most-rated books with a tag limit", async () => {
      const catalogue = await loadGoodbooksCatalogue({ dataDir: dir, ...offline, top: 2, tagsPerBook: 2 });
      assert.equal(catalogue.name, "goodbooks-10k (top 2)");
      assert.deepEqual(catalogue.ids, ["3", "1"]);
      assert.deepEqual(catalogue.titles, ["Twilight", "The Hunger Games (The Hunger Games, #1)"]);
      assert.deepEqual(catalogue.tags, [[], ["fantasy", "dystopia"]]);
      assert.deepEqual(Array.from(catalogue.years!), [NaN, 2008]);
    });

    it("names the line of a book_tags row whose book or tag is unknown", async () => {
      const bad = makeTempDir();
      try {
        writeFile(
          bad,
          "goodbooks-10k/books.csv",
          "book_id,goodreads_book_id,authors,original_publication_year,title,ratings_count\n1,10,A,2000,T,5\n",
        );
        writeFile(bad, "goodbooks-10k/tags.csv", "tag_id,tag_name\n0,fantasy\n");
        writeFile(bad, "goodbooks-10k/book_tags.csv", "goodreads_book_id,tag_id,count\n10,0,1\n11,0,1\n");
        await assert.rejects(
          loadGoodbooksCatalogue({ dataDir: bad, ...offline }),
          /book_tags\.csv:3: field 'goodreads_book_id': unknown goodreads book id 11 \(not in books\.csv\)/,
        );
        writeFile(bad, "goodbooks-10k/book_tags.csv", "goodreads_book_id,tag_id,count\n10,5,1\n");
        await assert.rejects(
          loadGoodbooksCatalogue({ dataDir: bad, ...offline }),
          /book_tags\.csv:2: field 'tag_id': unknown tag id 5 \(not in tags\.csv\)/,
        );
        writeFile(bad, "goodbooks-10k/book_tags.csv", "goodreads_book_id,tag_id,count\n10,0,1\n");
        writeFile(bad, "goodbooks-10k/ratings.csv", "user_id,book_id,rating\n1,1,5\n2,9,5\n");
        await assert.rejects(
          loadGoodbooks({ dataDir: bad, ...offline }),
          /ratings\.csv:3: field 'book_id': unknown item id 9 \(not in books\.csv\)/,
        );
      } finally {
        removeTempDir(bad);
      }
    });
  });

  describe("the shared copy", () => {
    it("gives all 10,000 books descriptive tags, and reads the publisher's rating sample", async function () {
      const root = sharedDataset("goodbooks-10k");
      if (!root) return this.skip();
      const catalogue = await loadGoodbooksCatalogue({ dataDir: root, ...offline });
      assert.equal(catalogue.ids.length, 10000);
      assert.equal(catalogue.ids[0], "1");
      assert.equal(catalogue.titles[1], "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)");
      assert.equal(catalogue.authors![1], "J.K. Rowling, Mary GrandPré");
      assert.equal(catalogue.years![0], 2008);
      assert.ok(catalogue.tags[0].includes("dystopian"));
      assert.ok(catalogue.tags.every((tags) => tags.length <= 8 && tags.every((t) => !isShelfTag(t))));
      const sample = await loadGoodbooks({ dataDir: root, ...offline, ratings: "sample" });
      assert.equal(sample.name, "goodbooks-10k (sample)");
      assert.equal(sample.length, 99);
      assert.equal(sample.numItems, 10000);
      assert.deepEqual(
        [sample.userIndex.idOf(sample.users[0]), sample.itemIndex.idOf(sample.items[0]), sample.ratings[0]],
        ["1", "258", 5],
      );
    });
  });
});
