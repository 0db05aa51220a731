// The course's website as a reader meets it: `npm run site -- --serve --no-execute` builds build/site/ from the
// executed notebooks and serves it; headless Chromium (Debian's, driven by playwright-core) then opens every page
// twice, from file:// and from that server. On each page: no script error, no failed request, no request leaving
// the site, every figure drawn, every formula typeset, every internal link resolving. Screenshots of the index and
// of one notebook page go to build/site-screenshots/.
//
// Run with `npm run test:site`, after `npm test` (which writes the executed notebooks to build/executed/).

import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_HINT, findChromium } from "../../scripts/lib/chromium";
import { countFormulas, figureCount, markdownText, parseNotebook } from "../../scripts/lib/executedNotebook";
import { PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { listNotebooks } from "../../scripts/lib/notebookRunner";
import { SITE_DIR } from "../../scripts/lib/siteBuild";
import type { DemoModels } from "../../scripts/site/demo/recommend";
import { assertMatchesNode, loadPageModels, pageState, readPageData, waitForRenders } from "./demoPage";

const SCREENSHOTS = path.join(PROJECT_ROOT, "build", "site-screenshots");
/** The notebook page photographed: figures and formulas both. */
const SCREENSHOT_NOTEBOOK = "05-attention-and-transformers";
const NOTEBOOKS = listNotebooks().map((file) => file.replace(/\.ipynb$/, ""));

interface Visit {
  page: Page;
  problems: string[];
  /** Every URL the page requested. */
  requests: string[];
}

/** Starts `npm run site -- --serve` (without executing notebooks) and resolves with the URL it prints. */
function startSiteServer(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const tsx = require.resolve("tsx/cli");
  const child = spawn(
    process.execPath,
    [tsx, path.join(PROJECT_ROOT, "scripts", "site.ts"), "--no-execute", "--serve", "--port", "0"],
    { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = /Serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
      if (match) resolve({ child, url: match[1], output: () => text });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`npm run site -- --serve exited (${code}) before serving:\n${text}`)));
  });
}

// In-page code is passed as strings: the project compiles without the DOM's types (lib: ES2020 only).
const MATHJAX_DONE = `(async () => {
  for (let i = 0; i < 600 && !(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise); i++)
    await new Promise((r) => setTimeout(r, 50));
  if (!window.MathJax || !window.MathJax.startup) return "MathJax did not start";
  await window.MathJax.startup.promise;
  return "ok";
})()`;

/** How many Plotly figures are drawn: a plot element with its SVG. */
const PLOTS_DRAWN = `document.querySelectorAll(".js-plotly-plot .main-svg").length === 0 ? 0 :
  [...document.querySelectorAll(".js-plotly-plot")].filter((p) => p.querySelector(".main-svg")).length`;

const MATH_STATE = `(() => {
  const cells = [...document.querySelectorAll(".jp-MarkdownOutput")];
  const raw = [];
  for (const cell of cells) {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll("mjx-container, code, pre, script").forEach((e) => e.remove());
    const text = copy.textContent;
    const left = text.match(/\\$\\$|\\$[^$\\s][^$]*\\$|\\\\(?:frac|sum|mathbf|mathrm|mathcal|hat|top|sqrt|cdot|left|right)\\b/);
    if (left) raw.push(left[0] + " in: " + text.slice(Math.max(0, left.index - 40), left.index + 60));
  }
  return {
    containers: document.querySelectorAll(".jp-MarkdownOutput mjx-container").length,
    errors: [...document.querySelectorAll("mjx-merror")].map((e) => e.textContent),
    raw,
  };
})()`;

const LINKS = `[...document.querySelectorAll("a[href]")].map((a) => a.href)`;

describe("the course's website in Chromium", function () {
  this.timeout(10 * 60_000);
  let browser: Browser;
  let server: { child: ChildProcess; url: string; output: () => string };
  /** The demo page's models, loaded in Node from the page's own data. */
  let demoModels: DemoModels;

  before(async function () {
    const executable = findChromium();
    if (!executable) throw new Error(`no Chromium for the browser test: ${CHROMIUM_HINT}`);
    const started = Date.now();
    server = await startSiteServer();
    console.log(`      site built and served at ${server.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Built from executed copies older than their notebooks (never in CI, where npm test has just run): say so.
    for (const line of server.output().split("\n")) if (line.startsWith("warning:")) console.log(`      ${line}`);
    // Not emptied first: jupyter.test.ts writes its screenshot here too.
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: executable, headless: true });
    demoModels = await loadPageModels(readPageData(SITE_DIR));
  });

  after(async function () {
    await browser?.close();
    server?.child.kill("SIGTERM");
  });

  const origins = [
    { label: "file://", base: () => pathToFileURL(SITE_DIR + path.sep).href },
    { label: "the --serve server on 127.0.0.1", base: () => server.url },
  ];

  for (const origin of origins) {
    describe(`from ${origin.label}`, function () {
      let context: BrowserContext;

      before(async function () {
        context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      });
      after(async () => context?.close());

      /** Opens `file` (relative to the site) and collects what went wrong while it loaded. */
      async function visit(file: string): Promise<Visit> {
        const base = origin.base();
        const page = await context.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
        page.on("console", (message) => {
          if (message.type() === "error") problems.push(`console error: ${message.text()}`);
        });
        page.on("requestfailed", (request) =>
          problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
        );
        page.on("response", (response) => {
          if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
        });
        page.on("request", (request) => requests.push(request.url()));
        // Nothing may leave the site: answer any other request with an error rather than the network.
        await page.route(
          (url) => !url.href.startsWith(base),
          (route) => route.abort("blockedbyclient"),
        );
        const response = await page.goto(new URL(file, base).href, { waitUntil: "load" });
        if (response && !response.ok()) problems.push(`HTTP ${response.status()} for ${file}`);
        return { page, problems, requests };
      }

      function assertStaysInSite(visit: Visit): void {
        const base = origin.base();
        const outside = visit.requests.filter((url) => !url.startsWith(base) && !/^(data|blob|about):/.test(url));
        assert.deepEqual(outside, [], `requests outside ${base}`);
      }

      /** Every link into the site names a file that exists, and an anchor that exists on its page. */
      async function assertLinksResolve(visit: Visit, file: string): Promise<number> {
        const base = origin.base();
        const hrefs = (await visit.page.evaluate(LINKS)) as string[];
        const internal = hrefs.filter((href) => href.startsWith(base));
        const broken: string[] = [];
        const pages = new Map<string, string>();
        for (const href of new Set(internal)) {
          const url = new URL(href);
          const fragment = url.hash.slice(1);
          url.hash = "";
          let text = pages.get(url.href);
          if (text === undefined) {
            if (url.protocol === "file:") {
              const target = fileURLToPath(url);
              const exists = fs.existsSync(target) && fs.statSync(target).isFile();
              if (!exists) broken.push(href);
              text = exists && target.endsWith(".html") ? fs.readFileSync(target, "utf8") : "";
            } else {
              const response = await fetch(url.href);
              text = response.ok ? await response.text() : "";
              if (!response.ok) broken.push(`${href} (HTTP ${response.status})`);
            }
            pages.set(url.href, text);
          }
          if (!fragment) continue;
          // A browser looks for the fragment as written, then percent-decoded (nbconvert 7 writes encoded ids).
          const candidates = [...new Set([fragment, decodeURIComponent(fragment)])];
          const found =
            url.href === new URL(file, base).href
              ? ((await visit.page.evaluate(
                  `${JSON.stringify(candidates)}.some((id) => document.getElementById(id) !== null)`,
                )) as boolean)
              : candidates.some((id) => text?.includes(`id="${id}"`));
          if (!found) broken.push(`${href} (no element with id "${fragment}")`);
        }
        assert.deepEqual(broken, [], `broken links on ${file}`);
        return internal.length;
      }

      it("the index lists every notebook with its page, run time and download, and loads cleanly", async function () {
        const v = await visit("index.html");
        try {
          assert.equal((await v.page.evaluate(MATHJAX_DONE)) as string, "ok");
          const rows = (await v.page.evaluate(
            `[...document.querySelectorAll(".site-curriculum tbody tr")].map((tr) => [...tr.cells].map((td) => td.innerText.trim()))`,
          )) as string[][];
          assert.equal(rows.length, NOTEBOOKS.length, "one curriculum row per notebook");
          for (const [i, row] of rows.entries()) {
            assert.ok(row[0].startsWith(NOTEBOOKS[i].slice(0, 2)), `row ${i} is notebook ${NOTEBOOKS[i]}: ${row[0]}`);
            assert.ok(row[1].length > 20, `row ${i} says what ${NOTEBOOKS[i]} teaches`);
            assert.match(
              row[3],
              /^(\d+ (s|min)|\d+ h \d+ min)\b/,
              `row ${i} gives ${NOTEBOOKS[i]}'s run time: ${JSON.stringify(row[3])}`,
            );
          }
          const pageLinks = (await v.page.evaluate(
            `[...document.querySelectorAll(".site-curriculum a")].map((a) => a.getAttribute("href"))`,
          )) as string[];
          for (const name of NOTEBOOKS) {
            assert.ok(pageLinks.includes(`${name}.html`), `the index links ${name}.html`);
            assert.ok(pageLinks.includes(`notebooks/${name}.ipynb`), `the index links notebooks/${name}.ipynb`);
          }
          await assertLinksResolve(v, "index.html");
          assertStaysInSite(v);
          assert.deepEqual(v.problems, []);
          if (origin.label === "file://") {
            await v.page.screenshot({ path: path.join(SCREENSHOTS, "index.png"), fullPage: true });
          }
        } finally {
          await v.page.close();
        }
      });

      it("the demo recommends in the page: top-10 and attention as Node computes them, updated on every pick", async function () {
        const v = await visit("demo.html");
        try {
          await v.page.waitForFunction(`document.getElementById("demo").dataset.state !== "loading"`, undefined, {
            timeout: 120_000,
          });
          const ready = await pageState(v.page);
          const status = (await v.page.evaluate(`document.getElementById("demo-status").textContent`)) as string;
          assert.equal(ready.state, "ready", `the demo did not start: ${status}`);
          assert.deepEqual(ready.sasrec, [], "nothing is recommended before a pick");
          const differences: number[] = [];

          // First pick: the most read book, as soon as the page is ready.
          await v.page.click("#demo-choices .demo-book >> nth=0");
          const first = await waitForRenders(v.page, 1);
          assert.equal(first.picks.length, 1);
          assert.equal(first.sasrec.length, 10);
          differences.push(assertMatchesNode(first, demoModels, "one pick"));

          // Second pick through the search box: SASRec's fourth suggestion, found by its title.
          const wanted = first.sasrec[3].item;
          await v.page.fill("#demo-search", readPageData(SITE_DIR).books.titles[wanted]);
          await v.page.click(`#demo-choices .demo-book[data-item="${wanted}"]`);
          const second = await waitForRenders(v.page, 2);
          assert.deepEqual(second.picks, [first.picks[0], wanted]);
          differences.push(assertMatchesNode(second, demoModels, "two picks"));
          assert.notDeepEqual(second.sasrec, first.sasrec, "SASRec's list changes with the second pick");

          await v.page.fill("#demo-search", "");
          await v.page.click("#demo-choices .demo-book >> nth=2");
          const third = await waitForRenders(v.page, 3);
          assert.equal(third.picks.length, 3);
          differences.push(assertMatchesNode(third, demoModels, "three picks"));
          if (origin.label === "file://") {
            await v.page.screenshot({ path: path.join(SCREENSHOTS, "demo.png"), fullPage: true });
          }

          // Removing the first pick recommends again, for the two left.
          await v.page.click("#demo-picks li >> nth=0 >> .demo-remove");
          const removed = await waitForRenders(v.page, 4);
          assert.deepEqual(removed.picks, third.picks.slice(1));
          differences.push(assertMatchesNode(removed, demoModels, "a pick removed"));
          assert.notDeepEqual(removed.sasrec, third.sasrec, "the list changes when a pick is removed");

          await assertLinksResolve(v, "demo.html");
          assertStaysInSite(v);
          assert.deepEqual(v.problems, []);
          console.log(
            `      demo on the ${ready.backend} backend: ready ${ready.readyMs} ms after navigation, first ` +
              `recommendation at ${first.firstRecommendationMs} ms (computed in ${first.lastRecommendationMs} ms); ` +
              `later picks ${[second, third, removed].map((s) => s.lastRecommendationMs).join(", ")} ms; ` +
              `largest difference from Node ${Math.max(...differences).toExponential(1)}`,
          );
        } finally {
          await v.page.close();
        }
      });

      // Once, from file://: the backend, not the origin, is under test.
      if (origin.label === "file://")
        it("the demo's fallback, tfjs's cpu backend (?backend=cpu), recommends as Node does too", async function () {
          const v = await visit("demo.html?backend=cpu");
          try {
            await v.page.waitForFunction(`document.getElementById("demo").dataset.state !== "loading"`, undefined, {
              timeout: 120_000,
            });
            const ready = await pageState(v.page);
            assert.equal(ready.state, "ready");
            assert.equal(ready.backend, "cpu");
            await v.page.click("#demo-choices .demo-book >> nth=0");
            await v.page.click("#demo-choices .demo-book >> nth=1");
            const shown = await waitForRenders(v.page, 2);
            const difference = assertMatchesNode(shown, demoModels, "two picks on cpu");
            assert.deepEqual(v.problems, []);
            console.log(
              `      demo on the cpu backend: ready ${ready.readyMs} ms after navigation, a pick in ` +
                `${shown.lastRecommendationMs} ms; largest difference from Node ${difference.toExponential(1)}`,
            );
          } finally {
            await v.page.close();
          }
        });

      for (const [i, name] of NOTEBOOKS.entries()) {
        it(`${name}: every figure drawn, every formula typeset, links resolve, nothing fails or leaves the site`, async function () {
          const downloaded = path.join(SITE_DIR, "notebooks", `${name}.ipynb`);
          const nb = parseNotebook(fs.readFileSync(downloaded, "utf8"), downloaded);
          const figures = figureCount(nb);
          const formulas = countFormulas(markdownText(nb));
          const started = Date.now();
          const v = await visit(`${name}.html`);
          try {
            assert.equal((await v.page.evaluate(MATHJAX_DONE)) as string, "ok");
            // Figures draw as the page parses; give a loaded machine time before counting.
            await v.page
              .waitForFunction(`(${PLOTS_DRAWN}) >= ${figures}`, undefined, { timeout: 60_000 })
              .catch(() => {});
            const drawn = (await v.page.evaluate(PLOTS_DRAWN)) as number;
            const plotElements = (await v.page.evaluate(
              `document.querySelectorAll(".js-plotly-plot").length`,
            )) as number;
            assert.equal(
              plotElements,
              figures,
              `${name} has ${figures} figure outputs, the page ${plotElements} plots`,
            );
            assert.equal(drawn, figures, `${name}: ${drawn} of ${figures} figures drawn`);

            const math = (await v.page.evaluate(MATH_STATE)) as { containers: number; errors: string[]; raw: string[] };
            assert.deepEqual(math.errors, [], `${name}: MathJax could not typeset`);
            assert.deepEqual(math.raw, [], `${name}: TeX left untypeset`);
            assert.equal(
              math.containers,
              formulas,
              `${name}: ${formulas} formulas in the markdown, ${math.containers} typeset`,
            );

            const nav = (await v.page.evaluate(
              `({ prev: document.querySelector(".site-pager-top a[rel=prev]")?.getAttribute("href") ?? null,
                  next: document.querySelector(".site-pager-top a[rel=next]")?.getAttribute("href") ?? null,
                  download: document.querySelector("a.site-download")?.getAttribute("href") ?? null,
                  current: document.querySelector(".site-contents a[aria-current=page]")?.getAttribute("href") ?? null })`,
            )) as Record<string, string | null>;
            assert.deepEqual(nav, {
              prev: i > 0 ? `${NOTEBOOKS[i - 1]}.html` : null,
              next: i < NOTEBOOKS.length - 1 ? `${NOTEBOOKS[i + 1]}.html` : null,
              download: `notebooks/${name}.ipynb`,
              current: `${name}.html`,
            });
            const links = await assertLinksResolve(v, `${name}.html`);
            assertStaysInSite(v);
            assert.deepEqual(v.problems, []);
            if (origin.label === "file://" && name === SCREENSHOT_NOTEBOOK) {
              await v.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
              const firstFigure = v.page.locator(".jp-Cell:has(.js-plotly-plot)").first();
              await firstFigure.screenshot({ path: path.join(SCREENSHOTS, `${name}-figure.png`) });
              const firstDisplayMath = v.page.locator(".jp-MarkdownCell:has(mjx-container[display=true])").first();
              await firstDisplayMath.screenshot({ path: path.join(SCREENSHOTS, `${name}-math.png`) });
            }
            console.log(
              `      ${name}: ${figures} figures, ${formulas} formulas, ${links} internal links, ` +
                `${((Date.now() - started) / 1000).toFixed(1)} s`,
            );
          } finally {
            await v.page.close();
          }
        });
      }
    });
  }
});
