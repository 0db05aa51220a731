// The demo page's checks for the browser test (site.test.ts runs them from file:// and from the server): the
// page starts a tfjs backend and loads its models, and for picks made by clicking, both top-10 lists and the
// attention bars match what Node computes with the same code (scripts/site/demo/recommend.ts) on the same
// models (read back from the page's own assets/demo-data.js), items equal and scores within 1e-4.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Page } from "playwright-core";
import { initBackend } from "../../src/backend/backend";
import { base64ToBytes, DEMO_DATA_GLOBAL, type DemoData } from "../../scripts/site/demo/data";
import { loadDemoModels, recommendForPicks, type DemoModels } from "../../scripts/site/demo/recommend";

export const SCORE_TOLERANCE = 1e-4;

/** The data the built page carries, parsed from its assets/demo-data.js. */
export function readPageData(siteDir: string): DemoData {
  const file = path.join(siteDir, "assets", "demo-data.js");
  const text = fs.readFileSync(file, "utf8");
  const start = text.indexOf(`window.${DEMO_DATA_GLOBAL} = `);
  if (start < 0) throw new Error(`${file} does not set window.${DEMO_DATA_GLOBAL}`);
  const json = text.slice(start + `window.${DEMO_DATA_GLOBAL} = `.length).replace(/;\s*$/, "");
  return JSON.parse(json) as DemoData;
}

/** The page's models, loaded in Node on the library's backend. */
export async function loadPageModels(data: DemoData): Promise<DemoModels> {
  await initBackend({ warn: () => {} });
  const decode = (name: "sasrec" | "markov") => ({
    json: data.models[name].json,
    weights: base64ToBytes(data.models[name].weights),
  });
  return loadDemoModels(decode("sasrec"), decode("markov"));
}

interface ShownItem {
  item: number;
  score: number;
}

interface PageState {
  state: string;
  backend: string | null;
  renders: number;
  picks: number[];
  attention: number[];
  sasrec: ShownItem[];
  markov: ShownItem[];
  readyMs: number | null;
  firstRecommendationMs: number | null;
  lastRecommendationMs: number | null;
}

const PAGE_STATE = `(() => {
  const root = document.getElementById("demo");
  const list = (id) => [...document.querySelectorAll("#" + id + " li")].map((li) =>
    ({ item: Number(li.dataset.item), score: Number(li.dataset.score) }));
  const number = (value) => (value === undefined ? null : Number(value));
  return {
    state: root.dataset.state,
    backend: root.dataset.backend ?? null,
    renders: Number(root.dataset.renders ?? 0),
    picks: [...document.querySelectorAll("#demo-picks li")].map((li) => Number(li.dataset.item)),
    attention: [...document.querySelectorAll("#demo-picks li")].map((li) => Number(li.dataset.attention)),
    sasrec: list("demo-sasrec"),
    markov: list("demo-markov"),
    readyMs: number(root.dataset.readyMs),
    firstRecommendationMs: number(root.dataset.firstRecommendationMs),
    lastRecommendationMs: number(root.dataset.lastRecommendationMs),
  };
})()`;

export async function pageState(page: Page): Promise<PageState> {
  return (await page.evaluate(PAGE_STATE)) as PageState;
}

/** Waits until the page has drawn its recommendations `renders` times. */
export async function waitForRenders(page: Page, renders: number): Promise<PageState> {
  await page.waitForFunction(`Number(document.getElementById("demo").dataset.renders ?? 0) >= ${renders}`, undefined, {
    timeout: 30_000,
  });
  return pageState(page);
}

/**
 * The page's lists and attention for its current picks against Node's, item for item, score for score; returns
 * the largest difference seen.
 */
export function assertMatchesNode(shown: PageState, models: DemoModels, label: string): number {
  const expected = recommendForPicks(models, shown.picks);
  let largest = 0;
  for (const model of ["sasrec", "markov"] as const) {
    const items = shown[model].map((s) => s.item);
    assert.deepEqual(
      items,
      expected[model].map((s) => s.item),
      `${label}: ${model}'s top-10 for picks ${shown.picks}`,
    );
    shown[model].forEach((s, i) => {
      const diff = Math.abs(s.score - expected[model][i].score);
      largest = Math.max(largest, diff);
      assert.ok(
        diff <= SCORE_TOLERANCE,
        `${label}: ${model} rank ${i + 1} score ${s.score} vs Node ${expected[model][i].score}`,
      );
    });
  }
  assert.equal(shown.attention.length, expected.attention.length, `${label}: one attention bar per pick`);
  shown.attention.forEach((w, p) => {
    const diff = Math.abs(w - expected.attention[p].weight);
    largest = Math.max(largest, diff);
    assert.ok(
      diff <= SCORE_TOLERANCE,
      `${label}: attention on pick ${p + 1}: ${w} vs Node ${expected.attention[p].weight}`,
    );
  });
  return largest;
}
