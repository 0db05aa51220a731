// The site's demo page (demo.html): the course's models recommending in the reader's browser. This is the Node
// side: it trains the models (or reuses them from build/site-demo/), writes assets/demo-data.js (books, models,
// tfjs's wasm binaries) and bundles scripts/site/demo/main.ts with esbuild into assets/demo.js.
//
// The models are notebook 07's: SASRec, the better of its two sequential Transformers on its measurements, with
// the notebook's architecture (2 layers, 1 head, dropout 0.2) on a shorter window and budget, and the first-order
// Markov chain for contrast. They train on the embedded data set (synthetic readers over goodbooks-10k's books,
// src/data/defaultDataset.ts), never on MovieLens, whose terms forbid redistributing it: the page ships the data's
// titles. Each reader's last book is held out, so that the page can show how well each model predicts it.
//
// Training takes a minute or so on two idle cores (4–5 on busy ones: 261 s measured); the models are cached in
// build/site-demo/ under a key of the settings, the library's source and the book list, so a rebuild with nothing
// changed trains nothing.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { loadEmbeddedBooks } from "../../src/data/catalogue";
import { loadEmbeddedDataset } from "../../src/data/defaultDataset";
import type { Interactions } from "../../src/data/interactions";
import { UserSequences } from "../../src/data/sequences";
import { leaveOneOutSplit } from "../../src/data/splitters";
import { evaluateRanking } from "../../src/eval/ranking";
import type { ItemScorer } from "../../src/eval/scorers";
import { PopularityRecommender } from "../../src/models/baselines";
import { MarkovChainRecommender } from "../../src/models/markovChain";
import { SasRec, type SasRecConfig } from "../../src/models/sasrec";
import { trainSequentialRecommender } from "../../src/train/sequentialTraining";
import type { DemoData, EncodedModel } from "../site/demo/data";
import type { ModelArtifacts } from "../site/demo/recommend";
import { PROJECT_ROOT } from "./jupyter";
import { ASSETS, DEMO_PAGE, escapeHtml, shell, type SiteInfo, type SitePage } from "./sitePages";

export const DEMO_CACHE_DIR = path.join(PROJECT_ROOT, "build", "site-demo");
const DEMO_ENTRY = path.join(PROJECT_ROOT, "scripts", "site", "demo", "main.ts");
const BUFFER_SHIM = path.join(PROJECT_ROOT, "scripts", "site", "demo", "bufferShim.ts");
const NODE_STUBS = path.join(PROJECT_ROOT, "scripts", "site", "demo", "nodeStubs.ts");
const SOURCE_DIR = path.join(PROJECT_ROOT, "src");
const BOOKS_CSV = path.join(PROJECT_ROOT, "datasets", "goodbooks-10k-text", "books.csv");

/** Everything that decides the demo's models. */
export const DEMO_SETTINGS = {
  datasetSeed: 2024,
  sasrec: { maxLength: 50, hiddenSize: 64, numLayers: 2, numHeads: 1, dropout: 0.2, seed: 2 },
  training: { epochs: 12, learningRate: 1e-3, seed: 13 },
  markov: { smoothing: 1 },
  samples: 4,
  sampleLength: 5,
} as const;

export type DemoSettings = typeof DEMO_SETTINGS;

/** What the build keeps in build/site-demo/ beside the two saved models. */
interface DemoSummary {
  key: string;
  data: Omit<DemoData, "models" | "wasm">;
}

/** Every file under `dir` ending in `.ts`, sorted (for the cache key). */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith(".ts")) out.push(full);
  }
  return out.sort();
}

/**
 * The cache key of the demo's models: sha256 of the settings, the library's source (any change may change the
 * training) and the book list. `files` are read as they are; their paths enter relative to the project.
 */
export function demoCacheKey(settings: unknown, files: readonly string[]): string {
  const hash = createHash("sha256").update(JSON.stringify(settings));
  for (const file of files) {
    hash.update(`\0${path.relative(PROJECT_ROOT, file)}\0`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest("hex");
}

function currentKey(): string {
  return demoCacheKey(DEMO_SETTINGS, [...sourceFiles(SOURCE_DIR), BOOKS_CSV]);
}

/** The saved model in `dir` (checkpoint.json and weights.bin), as the page and the test load it. */
export function readArtifacts(dir: string): ModelArtifacts {
  return {
    json: JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8")),
    weights: new Uint8Array(fs.readFileSync(path.join(dir, "weights.bin"))),
  };
}

/** The demo's two saved models in the cache. */
export function readDemoArtifacts(cacheDir = DEMO_CACHE_DIR): { sasrec: ModelArtifacts; markov: ModelArtifacts } {
  return { sasrec: readArtifacts(path.join(cacheDir, "sasrec")), markov: readArtifacts(path.join(cacheDir, "markov")) };
}

function encode(artifacts: ModelArtifacts): EncodedModel {
  return { json: artifacts.json, weights: Buffer.from(artifacts.weights).toString("base64") };
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** Title, authors and year of each item of `data`, from the embedded catalogue its ids come from. */
function bookList(data: Interactions): DemoData["books"] {
  const catalogue = loadEmbeddedBooks();
  const position = new Map(catalogue.ids.map((id, i) => [id, i]));
  const books: DemoData["books"] = { titles: [], authors: [], years: [] };
  for (let item = 0; item < data.numItems; item++) {
    const id = data.itemIndex.idOf(item);
    const p = position.get(id);
    if (p === undefined) throw new Error(`item ${id} of ${data.name} is not in ${catalogue.name}`);
    const year = catalogue.years?.[p] ?? NaN;
    books.titles.push(catalogue.titles[p]);
    books.authors.push(catalogue.authors?.[p] ?? "");
    books.years.push(Number.isFinite(year) ? year : null);
  }
  return books;
}

/** Trains both models, saves them to `cacheDir`, and returns what the page shows about them. */
async function trainDemo(cacheDir: string, key: string, log: (line: string) => void): Promise<DemoSummary> {
  const started = Date.now();
  await initBackend({ warn: log });
  const settings = DEMO_SETTINGS;
  const data = loadEmbeddedDataset(settings.datasetSeed);
  const books = bookList(data);
  const split = leaveOneOutSplit(data, { validation: false });
  const sequences = UserSequences.from(split.train);
  const config: SasRecConfig = { numItems: data.numItems, ...settings.sasrec };
  const sasrec = new SasRec(config, sequences);
  log(
    `Training the demo's SASRec on ${data.name} (${data.numUsers} readers, ${data.numItems} books, ` +
      `${settings.training.epochs} epochs) ...`,
  );
  const training = await trainSequentialRecommender(sasrec, sequences, { ...settings.training, label: "demo SASRec" });
  const markov = new MarkovChainRecommender(settings.markov).fit(split.train);
  const popularity = new PopularityRecommender().fit(split.train);
  const models: [string, ItemScorer][] = [
    ["SASRec", sasrec],
    ["Markov chain", markov],
    ["popularity", popularity],
  ];
  const rows = models.map(([model, scorer]) => {
    const report = evaluateRanking(scorer, { train: split.train, test: split.test, k: 10, metrics: ["ndcg", "hr"] });
    return { model, ndcg10: round(report.metrics["ndcg@10"]), hr10: round(report.metrics["hr@10"]) };
  });

  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  await sasrec.save(path.join(cacheDir, "sasrec"));
  await markov.save(path.join(cacheDir, "markov"));

  // The picker's order and the sample readers: the training data's counts and its readers' latest books.
  const counts = new Array<number>(data.numItems).fill(0);
  for (const item of split.train.items) counts[item] += 1;
  const samples: number[][] = [];
  for (let u = 0; u < sequences.numUsers && samples.length < settings.samples; u += 97) {
    const items = Array.from(sequences.itemsOf(u));
    if (items.length >= settings.sampleLength) samples.push(items.slice(-settings.sampleLength));
  }
  const summary: DemoSummary = {
    key,
    data: {
      dataset: { name: data.name, users: data.numUsers, items: data.numItems, interactions: data.length },
      books,
      popularity: counts,
      samples,
      evaluation: { users: split.test.length, rows },
      training: {
        epochs: settings.training.epochs,
        seconds: round(training.seconds, 1),
        maxLength: settings.sasrec.maxLength,
        hiddenSize: settings.sasrec.hiddenSize,
        numLayers: settings.sasrec.numLayers,
        numHeads: settings.sasrec.numHeads,
        parameters: sasrec.countParams(),
      },
    },
  };
  fs.writeFileSync(path.join(cacheDir, "summary.json"), JSON.stringify(summary));
  sasrec.dispose();
  log(
    `  trained in ${((Date.now() - started) / 1000).toFixed(0)} s; NDCG@10 on each reader's last book: ` +
      rows.map((r) => `${r.model} ${r.ndcg10}`).join(", "),
  );
  return summary;
}

export interface PreparedDemo {
  data: DemoData;
  /** Whether this build trained the models (false: they came from the cache). */
  trained: boolean;
}

/** The demo's data and models: from build/site-demo/ when its key is current, else trained now. */
export async function prepareDemo(log: (line: string) => void, cacheDir = DEMO_CACHE_DIR): Promise<PreparedDemo> {
  const key = currentKey();
  const summaryFile = path.join(cacheDir, "summary.json");
  let summary: DemoSummary | null = null;
  let trained = false;
  if (fs.existsSync(summaryFile)) {
    const cached = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as DemoSummary;
    if (cached.key === key) summary = cached;
    else log("The demo's models are out of date (settings, library or book list changed): training them again.");
  }
  if (summary === null) {
    summary = await trainDemo(cacheDir, key, log);
    trained = true;
  }
  const artifacts = readDemoArtifacts(cacheDir);
  const wasmDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  const wasm: Record<string, string> = {};
  for (const file of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) {
    wasm[file] = fs.readFileSync(path.join(wasmDir, file)).toString("base64");
  }
  return {
    data: { ...summary.data, models: { sasrec: encode(artifacts.sasrec), markov: encode(artifacts.markov) }, wasm },
    trained,
  };
}

/** assets/demo-data.js: the data as a global, for a page opened from file:// (see scripts/site/demo/data.ts). */
export function demoDataScript(data: DemoData, global: string): string {
  return `// The demo's books, models and tfjs wasm binaries (generated by npm run site).\nwindow.${global} = ${JSON.stringify(data)};\n`;
}

/**
 * Bundles the page's script (scripts/site/demo/main.ts, the library files it imports and @tensorflow/tfjs) with
 * esbuild into `outFile`, for browsers, minified. The library's Node-only file I/O, required lazily by the saved
 * model loaders and never called in the page, stays out (`node:*` external); Buffer's one use gets a shim. The
 * kernels import node:v8, node:os and node:worker_threads at load: the page gets stubs (it runs one thread and
 * sets no engine flags), and `process.env`, which the kernels read for their settings, is empty there.
 */
export async function bundleDemo(outFile: string): Promise<void> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [DEMO_ENTRY],
    outfile: outFile,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "linked",
    external: ["node:*"],
    inject: [BUFFER_SHIM],
    plugins: [
      {
        name: "node-stubs",
        setup(build) {
          build.onResolve({ filter: /^node:(v8|os|worker_threads)$/ }, () => ({ path: NODE_STUBS }));
        },
      },
    ],
    define: { "process.env.NODE_ENV": '"production"', "process.env": "{}" },
    logLevel: "silent",
  });
  const problems = [...result.errors, ...result.warnings].map((m) => m.text);
  if (result.errors.length > 0) throw new Error(`esbuild could not bundle the demo: ${problems.join("; ")}`);
}

/** The demo page: what runs, the data and its terms, the picker, both top-10 lists and the held-out scores. */
export function demoPage(pages: SitePage[], info: SiteInfo, data: DemoData): string {
  const { dataset, training, evaluation } = data;
  const rows = evaluation.rows
    .map((r) => `<tr><td>${escapeHtml(r.model)}</td><td>${r.ndcg10.toFixed(4)}</td><td>${r.hr10.toFixed(4)}</td></tr>`)
    .join("\n");
  const main = `<main class="site-demo" id="demo" data-state="loading">
<h1>Recommendations in your browser</h1>
<p>Pick a few books, in the order you read them. This page then asks two of the course's models what comes next:
<strong>SASRec</strong>, the self-attentive sequential model of
<a href="07-bert-fine-tuning-for-recommendation.html">notebook 07</a> (it beat BERT4Rec there), and a
<strong>first-order Markov chain</strong>, which looks at your last pick only. Both were trained by the site's build
and run here with TensorFlow.js: nothing leaves this page. The bars beside your picks are SASRec's attention:
how much the position that scores the catalogue reads each pick in its last layer (heads averaged).
<a href="08-challenges-and-future.html">Notebook 08</a> measures how far such weights can be trusted as an
explanation.</p>
<p class="demo-data-note">The data: ${dataset.users.toLocaleString("en")} synthetic readers and
${dataset.interactions.toLocaleString("en")} readings over ${dataset.items.toLocaleString("en")} books of
goodbooks-10k (titles and authors CC BY-SA 4.0, Zygmunt Zając), the course's embedded data set
(<code>${escapeHtml(dataset.name)}</code>). The notebooks use MovieLens where the learner has it, but MovieLens
may not be redistributed, so the published site trains on this one. SASRec: ${training.numLayers} layers,
${training.numHeads} head${training.numHeads === 1 ? "" : "s"}, width ${training.hiddenSize}, the latest ${training.maxLength} picks,
${training.epochs} epochs (${training.seconds.toFixed(0)} s on the build machine).</p>
<p id="demo-status" class="demo-status" role="status">Loading the models…</p>
<div class="demo-layout">
<section class="demo-pick" aria-labelledby="demo-pick-title">
<h2 id="demo-pick-title">Pick books</h2>
<input id="demo-search" type="search" placeholder="Search by title or author" aria-label="Search books" disabled>
<p id="demo-choices-note" class="demo-note"></p>
<ol id="demo-choices" class="demo-choices"></ol>
</section>
<section class="demo-picked" aria-labelledby="demo-picks-title">
<h2 id="demo-picks-title">Your picks <span class="demo-note">(attention)</span></h2>
<p id="demo-picks-empty" class="demo-note">None yet.</p>
<ol id="demo-picks" class="demo-picks"></ol>
<p class="demo-buttons"><button id="demo-sample" type="button" disabled>A reader from the data</button>
<button id="demo-clear" type="button" disabled>Clear</button></p>
</section>
<section class="demo-results" aria-labelledby="demo-results-title">
<h2 id="demo-results-title">What comes next</h2>
<div class="demo-lists">
<div><h3>SASRec <span class="demo-note">(logit)</span></h3><ol id="demo-sasrec" class="demo-list"></ol></div>
<div><h3>Markov chain <span class="demo-note">(P(next | last pick))</span></h3><ol id="demo-markov" class="demo-list"></ol></div>
</div>
</section>
</div>
<h2 id="demo-evaluation">How well they predict</h2>
<p>Each reader's last book was held out of training; the table ranks all ${dataset.items.toLocaleString("en")} books
for the ${evaluation.users.toLocaleString("en")} readers (the full ranking of notebook 07). These readers are
synthetic: their next book follows the previous one by a first-order chain more than a third of the time
(<code>src/data/synthetic.ts</code>), which is exactly the Markov chain's model, so it wins here. On MovieLens
100K, trained on the full budget, SASRec comes out ahead of it (notebook 07 and the README's table).</p>
<table class="demo-evaluation">
<thead><tr><th>model</th><th>NDCG@10</th><th>HR@10</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</main>`;
  return shell({
    title: "Demo: recommendations in your browser · recsys-ts",
    pages,
    current: DEMO_PAGE,
    main,
    info,
    scripts: [`${ASSETS}demo-data.js`, `${ASSETS}demo.js`],
  });
}
