// The demo page's script (bundled by the site build with esbuild into assets/demo.js): starts a tfjs backend
// (wasm first, its binaries from assets/demo-data.js as blob URLs so that file:// works; then WebGL; then the
// pure-JavaScript cpu backend), loads the course's SASRec and Markov chain from their saved artifacts, and
// recommends as the reader picks books. The numbers come from recommend.ts, which the Node test runs too.
//
// State the browser test reads is on #demo: data-state (loading, ready, error), data-backend, data-renders
// (how many times the recommendations were drawn) and the times in ms since navigation (data-ready-ms,
// data-first-recommendation-ms); each list item carries data-item and data-score at full precision.

import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { base64ToBytes, DEMO_DATA_GLOBAL, type DemoData } from "./data";
import { DEMO_TOP_K, loadDemoModels, recommendForPicks, type DemoModels, type ScoredItem } from "./recommend";

/** Books the picker lists at once. */
const CHOICES_SHOWN = 24;
/** The most picks kept (SASRec reads its latest maxLength; a demo needs far fewer). */
const MAX_PICKS = 20;

const WASM_FILES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"] as const;

interface Backend {
  name: string;
  /** Why earlier backends were passed over. */
  skipped: string[];
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`demo.html has no #${id}`);
  return found as T;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const BACKENDS = ["wasm", "webgl", "cpu"];

/** Points tfjs's wasm backend at its binaries (blob URLs of the embedded bytes) and adds the library's kernels. */
function prepareWasm(data: DemoData): void {
  const urls: Record<string, string> = {};
  for (const file of WASM_FILES) {
    const blob = new Blob([base64ToBytes(data.wasm[file])], { type: "application/wasm" });
    urls[file] = URL.createObjectURL(blob);
  }
  // Threads need a cross-origin-isolated page, which neither file:// nor a plain static host gives.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  setWasmPaths({ ...urls, "tfjs-backend-wasm-threaded-simd.wasm": urls["tfjs-backend-wasm-simd.wasm"] });
  // The library's fused kernels (layer norm, softmax, matrix products), as in Node: the same arithmetic.
  registerWasmTrainingKernels();
}

/**
 * wasm (SIMD where the browser has it, single-threaded), else WebGL, else cpu: the first that starts. A page
 * address ending in ?backend=webgl or ?backend=cpu starts there instead (the test checks the cpu fallback so).
 */
async function startBackend(data: DemoData): Promise<Backend> {
  const asked = new URLSearchParams(location.search).get("backend") ?? "wasm";
  const start = BACKENDS.indexOf(asked);
  if (start < 0) throw new Error(`?backend= must be one of ${BACKENDS.join(", ")}, not ${asked}`);
  const skipped = BACKENDS.slice(0, start).map((name) => `${name}: the address asks for ${asked}`);
  for (const name of BACKENDS.slice(start)) {
    try {
      if (name === "wasm") prepareWasm(data);
      if (await tf.setBackend(name)) return { name, skipped };
      skipped.push(`${name}: tf.setBackend failed`);
    } catch (error) {
      skipped.push(`${name}: ${reason(error)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${skipped.join("; ")})`);
}

class Demo {
  private picks: number[] = [];
  private renders = 0;
  private readonly root = element<HTMLElement>("demo");
  private readonly lowerTitles: string[];

  constructor(
    private readonly data: DemoData,
    private readonly models: DemoModels,
  ) {
    const { titles, authors } = data.books;
    this.lowerTitles = titles.map((title, i) => `${title} ${authors[i]}`.toLowerCase());
  }

  /** "Author (year)". */
  byline(item: number): string {
    const { authors, years } = this.data.books;
    const year = years[item];
    return `${authors[item]}${year === null ? "" : ` (${year})`}`;
  }

  /** The title, and the author and year below it in smaller type. */
  bookLabel(item: number): HTMLElement {
    const label = document.createElement("span");
    label.className = "demo-title";
    const byline = document.createElement("span");
    byline.className = "demo-byline";
    byline.textContent = this.byline(item);
    label.append(this.data.books.titles[item], byline);
    return label;
  }

  start(): void {
    element<HTMLInputElement>("demo-search").addEventListener("input", () => this.renderChoices());
    element<HTMLButtonElement>("demo-clear").addEventListener("click", () => this.setPicks([]));
    element<HTMLButtonElement>("demo-sample").addEventListener("click", () => {
      const samples = this.data.samples;
      const next = (Number(this.root.dataset.sample ?? "-1") + 1) % samples.length;
      this.root.dataset.sample = String(next);
      this.setPicks(samples[next]);
    });
    for (const id of ["demo-search", "demo-clear", "demo-sample"]) element<HTMLInputElement>(id).disabled = false;
    this.renderChoices();
    this.renderPicks(null);
  }

  setPicks(picks: number[]): void {
    this.picks = picks.slice(-MAX_PICKS);
    this.renderChoices();
    if (this.picks.length === 0) {
      this.renderPicks(null);
      this.renderLists(null);
      return;
    }
    const started = performance.now();
    const result = recommendForPicks(this.models, this.picks);
    this.renderPicks(result.attention.map((a) => a.weight));
    this.renderLists(result);
    this.renders += 1;
    this.root.dataset.renders = String(this.renders);
    this.root.dataset.lastRecommendationMs = (performance.now() - started).toFixed(1);
    if (this.root.dataset.firstRecommendationMs === undefined) {
      this.root.dataset.firstRecommendationMs = performance.now().toFixed(0);
    }
  }

  private renderChoices(): void {
    const query = element<HTMLInputElement>("demo-search").value.trim().toLowerCase();
    const picked = new Set(this.picks);
    const order = this.data.popularity.map((count, item) => ({ count, item })).sort((a, b) => b.count - a.count);
    const shown = order
      .filter(({ item }) => !picked.has(item) && (query === "" || this.lowerTitles[item].includes(query)))
      .slice(0, CHOICES_SHOWN);
    const list = element<HTMLOListElement>("demo-choices");
    list.replaceChildren(
      ...shown.map(({ item }) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "demo-book";
        button.dataset.item = String(item);
        button.append(this.bookLabel(item));
        button.addEventListener("click", () => this.setPicks([...this.picks, item]));
        li.append(button);
        return li;
      }),
    );
    element<HTMLElement>("demo-choices-note").textContent =
      shown.length === 0 ? "No book matches." : query === "" ? "The most read books first." : "";
  }

  private renderPicks(weights: number[] | null): void {
    const list = element<HTMLOListElement>("demo-picks");
    element<HTMLElement>("demo-picks-empty").hidden = this.picks.length > 0;
    list.replaceChildren(
      ...this.picks.map((item, position) => {
        const li = document.createElement("li");
        li.dataset.item = String(item);
        const title = this.bookLabel(item);
        const bar = document.createElement("span");
        bar.className = "demo-attention";
        const weight = weights?.[position] ?? 0;
        li.dataset.attention = String(weight);
        bar.style.setProperty("--weight", String(weight));
        bar.title = `attention ${weight.toFixed(3)}`;
        const value = document.createElement("span");
        value.className = "demo-attention-value";
        value.textContent = weights === null ? "" : weight.toFixed(2);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "demo-remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", `remove ${this.data.books.titles[item]}`);
        remove.addEventListener("click", () => this.setPicks(this.picks.filter((_, p) => p !== position)));
        li.append(title, bar, value, remove);
        return li;
      }),
    );
  }

  private renderLists(result: { sasrec: ScoredItem[]; markov: ScoredItem[] } | null): void {
    for (const [id, items] of [
      ["demo-sasrec", result?.sasrec ?? []],
      ["demo-markov", result?.markov ?? []],
    ] as const) {
      element<HTMLOListElement>(id).replaceChildren(
        ...items.map(({ item, score }) => {
          const li = document.createElement("li");
          li.dataset.item = String(item);
          li.dataset.score = String(score);
          const title = this.bookLabel(item);
          const value = document.createElement("span");
          value.className = "demo-score";
          value.textContent = id === "demo-markov" ? score.toFixed(3) : score.toFixed(2);
          li.append(title, value);
          return li;
        }),
      );
    }
  }
}

async function main(): Promise<void> {
  const root = element<HTMLElement>("demo");
  const status = element<HTMLElement>("demo-status");
  try {
    const data = (window as unknown as Record<string, DemoData | undefined>)[DEMO_DATA_GLOBAL];
    if (data === undefined) throw new Error("assets/demo-data.js did not load");
    const started = performance.now();
    const backend = await startBackend(data);
    root.dataset.backend = backend.name;
    const artifacts = (name: "sasrec" | "markov") => ({
      json: data.models[name].json,
      weights: base64ToBytes(data.models[name].weights),
    });
    const models = await loadDemoModels(artifacts("sasrec"), artifacts("markov"));
    // One scoring pass before the reader clicks, so that the first click does not pay for kernel set-up.
    recommendForPicks(models, [0], DEMO_TOP_K);
    const loaded = performance.now() - started;
    status.textContent =
      `SASRec (${data.training.parameters.toLocaleString("en")} parameters) and the Markov chain run in this ` +
      `page on tfjs's ${backend.name} backend, loaded in ${(loaded / 1000).toFixed(1)} s` +
      (backend.skipped.length > 0 ? ` (passed over: ${backend.skipped.join("; ")})` : "") +
      ". Pick a book to start.";
    new Demo(data, models).start();
    root.dataset.readyMs = performance.now().toFixed(0);
    root.dataset.state = "ready";
  } catch (error) {
    root.dataset.state = "error";
    status.textContent = `The demo could not start: ${reason(error)}`;
    status.classList.add("demo-error");
    throw error;
  }
}

void main();
