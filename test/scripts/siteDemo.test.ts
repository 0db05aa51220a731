// The demo page's parts that need no browser: the top-k with the picks left out, the recommendations of small
// saved models as the page loads them, the cache key, the data script read back, and the page's HTML. The page
// itself runs in Chromium in test/site/site.test.ts.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { demoCacheKey, demoDataScript, demoPage, readArtifacts } from "../../scripts/lib/siteDemo";
import type { SiteInfo, SitePage } from "../../scripts/lib/sitePages";
import { base64ToBytes, DEMO_DATA_GLOBAL, type DemoData } from "../../scripts/site/demo/data";
import { loadDemoModels, recommendForPicks, topItems } from "../../scripts/site/demo/recommend";
import { initBackend } from "../../src/backend/backend";
import { UserSequences } from "../../src/data/sequences";
import { generateSynthetic } from "../../src/data/synthetic";
import { MarkovChainRecommender } from "../../src/models/markovChain";
import { SasRec } from "../../src/models/sasrec";
import { readPageData } from "../site/demoPage";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "site-demo-"));
}

function demoData(): DemoData {
  return {
    dataset: { name: "synthetic-books", users: 3, items: 4, interactions: 9 },
    books: { titles: ["A <b>", "B", "C", "D"], authors: ["x", "y", "z", "w"], years: [2001, null, 1999, 2020] },
    popularity: [3, 2, 1, 3],
    samples: [[0, 1]],
    evaluation: { users: 3, rows: [{ model: "SASRec", ndcg10: 0.25, hr10: 0.5 }] },
    training: { epochs: 1, seconds: 2, maxLength: 8, hiddenSize: 8, numLayers: 1, numHeads: 1, parameters: 100 },
    models: { sasrec: { json: { a: 1 }, weights: "AAEC" }, markov: { json: {}, weights: "" } },
    wasm: {},
  };
}

describe("npm run site: the demo page", () => {
  it("topItems: the k best scores, the picks left out, ties to the lower item", () => {
    const scores = [0.5, 0.9, 0.1, 0.9, 0.7];
    assert.deepEqual(topItems(scores, [1], 3), [
      { item: 3, score: 0.9 },
      { item: 4, score: 0.7 },
      { item: 0, score: 0.5 },
    ]);
    assert.deepEqual(
      topItems(scores, [], 2).map((s) => s.item),
      [1, 3],
    );
    // Fewer items than k once the picks are out; a repeated pick counts once.
    assert.deepEqual(
      topItems(scores, [0, 0, 1, 2], 10).map((s) => s.item),
      [3, 4],
    );
  });

  it("recommends from saved models as the page loads them: 10 new items each, attention over the picks", async function () {
    this.timeout(60_000);
    await initBackend({ warn: () => {} });
    const data = generateSynthetic({ seed: 3, numUsers: 30, numItems: 40 }).interactions;
    const dir = tempDir();
    try {
      const sasrec = new SasRec(
        { numItems: data.numItems, maxLength: 6, hiddenSize: 8, numLayers: 1, numHeads: 1, dropout: 0, seed: 1 },
        UserSequences.from(data),
      );
      await sasrec.save(path.join(dir, "sasrec"));
      const markov = new MarkovChainRecommender().fit(data);
      await markov.save(path.join(dir, "markov"));
      const models = await loadDemoModels(
        readArtifacts(path.join(dir, "sasrec")),
        readArtifacts(path.join(dir, "markov")),
      );
      assert.equal(models.numItems, 40);

      const picks = [5, 9, 2];
      const result = recommendForPicks(models, picks);
      for (const list of [result.sasrec, result.markov]) {
        assert.equal(list.length, 10);
        assert.ok(
          list.every((s) => !picks.includes(s.item)),
          "no pick is recommended back",
        );
        for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].score >= list[i].score, "best first");
      }
      // The Markov chain's scores are P(next | last pick) of the model itself.
      const row = markov.transitionRow(2);
      result.markov.forEach((s) => assert.equal(s.score, row[s.item]));
      // The loaded SASRec scores as the saved one does.
      const direct = Array.from(sasrec.scoreSequences(Int32Array.of(0, 0, 0, 6, 10, 3), 1));
      result.sasrec.forEach((s) => assert.ok(Math.abs(s.score - direct[s.item]) < 1e-5));
      // Attention: one weight per pick, in pick order, summing to 1.
      assert.deepEqual(
        result.attention.map((a) => a.item),
        picks,
      );
      const total = result.attention.reduce((sum, a) => sum + a.weight, 0);
      assert.ok(Math.abs(total - 1) < 1e-5, `attention sums to ${total}`);
      assert.throws(() => recommendForPicks(models, []), /pick at least one/);
      sasrec.dispose();
      models.sasrec.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the cache key changes with the settings and with any source file's content", () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "a.ts");
      fs.writeFileSync(file, "one");
      const key = demoCacheKey({ epochs: 1 }, [file]);
      assert.equal(demoCacheKey({ epochs: 1 }, [file]), key, "the same inputs, the same key");
      assert.notEqual(demoCacheKey({ epochs: 2 }, [file]), key);
      fs.writeFileSync(file, "two");
      assert.notEqual(demoCacheKey({ epochs: 1 }, [file]), key);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("assets/demo-data.js sets the global the page reads, and reads back as written", () => {
    const dir = tempDir();
    try {
      const data = demoData();
      fs.mkdirSync(path.join(dir, "assets"));
      const script = demoDataScript(data, DEMO_DATA_GLOBAL);
      assert.ok(script.includes(`window.${DEMO_DATA_GLOBAL} = `));
      fs.writeFileSync(path.join(dir, "assets", "demo-data.js"), script);
      assert.deepEqual(readPageData(dir), data);
      assert.deepEqual(Array.from(base64ToBytes(data.models.sasrec.weights)), [0, 1, 2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the page: escaped text, the picker, both lists, the evaluation, its two scripts after the content", () => {
    const pages: SitePage[] = [
      {
        name: "00-a",
        title: "00 · A",
        teaches: "t",
        seedSection: "s",
        seconds: 1,
        ranAt: null,
        dataset: null,
        backend: null,
        figures: 0,
      },
    ];
    const info: SiteInfo = { intro: [], nbconvert: "7.0", builtAt: "2026-01-01T00:00:00Z" };
    const data = demoData();
    data.evaluation.rows[0].model = "<SASRec>";
    const html = demoPage(pages, info, data);
    for (const id of ["demo", "demo-status", "demo-search", "demo-choices", "demo-picks", "demo-sasrec", "demo-markov"])
      assert.ok(html.includes(`id="${id}"`), `#${id}`);
    assert.ok(html.includes("&lt;SASRec&gt;") && !html.includes("<SASRec>"), "model names are escaped");
    assert.match(html, /MovieLens\s+may not be redistributed/);
    const data1 = html.indexOf('<script src="assets/demo-data.js"></script>');
    const bundle = html.indexOf('<script src="assets/demo.js"></script>');
    assert.ok(data1 > html.indexOf('id="demo-markov"') && bundle > data1, "data, then the bundle, after the page");
    assert.ok(html.includes('href="demo.html" aria-current="page"'), "the contents mark the demo");
  });
});
