import * as assert from "node:assert/strict";
import { EMBEDDED_DATASET_NAME, loadDefaultDataset, loadEmbeddedDataset } from "../../src/data/defaultDataset";
import { makeTempDir, removeTempDir, sharedDataset, writeFile } from "./fixtures";

describe("data/defaultDataset", () => {
  let dir: string;
  beforeEach(() => (dir = makeTempDir()));
  afterEach(() => removeTempDir(dir));

  it("loads MovieLens 100K when the data directory has it", async function () {
    const shared = sharedDataset("ml-100k");
    if (!shared) this.skip();
    const { data, source, note } = await loadDefaultDataset({ dataDir: shared, download: false });
    assert.equal(source, "ml-100k");
    assert.equal(data.length, 100_000);
    assert.match(note, /MovieLens 100K/);
  });

  it("falls back to the embedded data set, saying why, when MovieLens is unavailable", async () => {
    const { data, source, note } = await loadDefaultDataset({ dataDir: dir, download: false });
    assert.equal(source, EMBEDDED_DATASET_NAME);
    assert.equal(data.name, EMBEDDED_DATASET_NAME);
    assert.match(note, /MovieLens 100K is unavailable .*downloads are off.*embedded goodbooks-10k/);
    assert.ok(data.itemInfo.titles && data.itemInfo.titles.length === data.numItems, "items carry real book titles");
  });

  it("never hides a malformed MovieLens file behind the fallback", async () => {
    writeFile(dir, "ml-100k/u.data", "1\t2\tnot-a-rating\t881250949\n");
    writeFile(
      dir,
      "ml-100k/u.item",
      "2|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
    );
    writeFile(dir, "ml-100k/u.user", "1|24|M|technician|85711\n");
    await assert.rejects(
      loadDefaultDataset({ dataDir: dir, download: false }),
      /u\.data:1: field .rating.: expected a number/,
    );
  });

  it("generates the same embedded data for the same seed, and other data for another", () => {
    const a = loadEmbeddedDataset(7);
    const b = loadEmbeddedDataset(7);
    const c = loadEmbeddedDataset(8);
    assert.deepEqual(a.items, b.items);
    assert.deepEqual(a.ratings, b.ratings);
    assert.notDeepEqual(a.items, c.items);
  });
});
