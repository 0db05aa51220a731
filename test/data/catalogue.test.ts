import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  catalogueToCsv,
  EMBEDDED_BOOKS_DIR,
  ItemCatalogue,
  loadEmbeddedBooks,
  parseCatalogueCsv,
} from "../../src/data/catalogue";
import { isShelfTag, loadGoodbooksCatalogue } from "../../src/data/goodbooks";
import { makeTempDir, quiet, removeTempDir, sharedDataset, writeFile } from "./fixtures";

const embeddedDir = path.join(__dirname, "..", "..", EMBEDDED_BOOKS_DIR);

describe("data/catalogue", () => {
  it("writes and reads catalogue CSV losslessly, quoting where needed", () => {
    const catalogue: ItemCatalogue = {
      name: "t",
      ids: ["1", "x 2"],
      titles: ['Say "hi", then leave', "Plain"],
      authors: ["A, B", ""],
      years: Float64Array.from([-750, NaN]),
      tags: [["epic", "poetry"], []],
    };
    const csv = catalogueToCsv(catalogue);
    assert.equal(csv, 'id,title,authors,year,tags\n1,"Say ""hi"", then leave","A, B",-750,epic|poetry\nx 2,Plain,,,\n');
    const back = parseCatalogueCsv(Buffer.from(csv), "t.csv", "t");
    assert.deepEqual({ ...back, years: Array.from(back.years!) }, { ...catalogue, years: [-750, NaN] });
    assert.throws(() => catalogueToCsv({ ...catalogue, tags: [["a|b"], []] }), /tag 'a\|b' of item 1 contains '\|'/);
  });

  it("rejects duplicate ids and bad years", () => {
    const dir = makeTempDir();
    try {
      const dup = writeFile(dir, "dup.csv", "id,title,authors,year,tags\n1,A,,,\n1,B,,,\n");
      assert.throws(() => loadEmbeddedBooks({ file: dup }), /dup\.csv:3: field 'id': duplicate id 1/);
      const year = writeFile(dir, "year.csv", "id,title,authors,year,tags\n1,A,,19x5,\n");
      assert.throws(
        () => loadEmbeddedBooks({ file: year }),
        /year\.csv:2: field 'year': expected an integer, got "19x5"/,
      );
    } finally {
      removeTempDir(dir);
    }
  });

  describe("the embedded goodbooks-10k text", () => {
    it("matches the checksum in SHA256SUMS and README.md", () => {
      const bytes = fs.readFileSync(path.join(embeddedDir, "books.csv"));
      const sum = crypto.createHash("sha256").update(bytes).digest("hex");
      assert.equal(fs.readFileSync(path.join(embeddedDir, "SHA256SUMS"), "utf8"), `${sum}  books.csv\n`);
      assert.ok(
        fs.readFileSync(path.join(embeddedDir, "README.md"), "utf8").includes(sum),
        "README.md lists the sha256",
      );
      assert.ok(
        fs.readFileSync(path.join(embeddedDir, "LICENSE"), "utf8").includes("creativecommons.org/licenses/by-sa/4.0"),
      );
    });

    it("holds the 2,000 most-rated books with titles, authors, years and up to 8 descriptive tags", () => {
      const books = loadEmbeddedBooks();
      assert.equal(books.name, "goodbooks-10k-text");
      assert.equal(books.ids.length, 2000);
      assert.equal(new Set(books.ids).size, 2000);
      assert.equal(books.titles[0], "The Hunger Games (The Hunger Games, #1)");
      assert.equal(books.authors![0], "Suzanne Collins");
      assert.equal(books.years![0], 2008);
      assert.ok(books.titles.every((t) => t.length > 0));
      assert.ok(books.tags.every((tags) => tags.length >= 1 && tags.length <= 8 && tags.every((t) => !isShelfTag(t))));
      assert.ok(books.ids.every((id) => /^\d+$/.test(id) && Number(id) >= 1 && Number(id) <= 10000));
    });

    it("is what scripts/build-embedded-dataset.ts makes from goodbooks-10k", async function () {
      const root = sharedDataset("goodbooks-10k");
      if (!root) return this.skip();
      const catalogue = await loadGoodbooksCatalogue({
        dataDir: root,
        download: false,
        log: quiet,
        top: 2000,
        tagsPerBook: 8,
      });
      assert.equal(catalogueToCsv(catalogue), fs.readFileSync(path.join(embeddedDir, "books.csv"), "utf8"));
    });
  });
});
