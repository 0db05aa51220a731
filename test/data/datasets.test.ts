import * as assert from "node:assert/strict";
import { loadDataset } from "../../src/data/datasets";
import { makeTempDir, quiet, removeTempDir, sharedDataset, writeFile } from "./fixtures";

describe("data/datasets", () => {
  it("dispatches by name to the matching loader", async () => {
    const dir = makeTempDir();
    try {
      writeFile(dir, "ml-latest-small/movies.csv", "movieId,title,genres\n1,A (1990),Drama\n");
      writeFile(dir, "ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,5\n");
      const data = await loadDataset("ml-latest-small", {
        dataDir: dir,
        download: false,
        log: quiet,
        checkRowCounts: false,
      });
      assert.equal(data.name, "ml-latest-small");
      assert.equal(data.length, 1);
      await assert.rejects(
        loadDataset("ml-100k", { dataDir: dir, download: false, log: quiet }),
        /ml-100k: u\.data, u\.item, u\.user not found/,
      );
      await assert.rejects(loadDataset("nope" as never), /unknown data set 'nope'/);
    } finally {
      removeTempDir(dir);
    }
  });

  it("loads the shared goodbooks sample through the same entry point", async function () {
    const root = sharedDataset("goodbooks-10k");
    if (!root) return this.skip();
    const data = await loadDataset("goodbooks-10k", {
      dataDir: root,
      download: false,
      log: quiet,
      ratings: "sample",
      tagsPerBook: 3,
    });
    assert.equal(data.length, 99);
    assert.ok(data.itemInfo.tags!.every((t) => t.length <= 3));
  });
});
