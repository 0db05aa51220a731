// Building build/site/ from the executed notebooks: see scripts/site.ts for what it makes and why.

import * as fs from "node:fs";
import * as path from "node:path";
import { readCurriculum } from "./curriculum";
import {
  figureCount,
  notebookTitle,
  parseNotebook,
  resultsLine,
  runSeconds,
  runStarted,
  sharePlotlyBundles,
  staleReason,
  type NotebookJson,
  type SharedScripts,
} from "./executedNotebook";
import { ensureJupyter, PROJECT_ROOT, writeKernelSpec } from "./jupyter";
import {
  describeFailure,
  EXECUTED_DIR,
  listNotebooks,
  NOTEBOOK_DIR,
  JUPYTER_DIR,
  runNotebook,
  type RunReport,
} from "./notebookRunner";
import { convertNotebooks, nbconvertVersion } from "./siteConvert";
import { bundleDemo, demoDataScript, demoPage, prepareDemo } from "./siteDemo";
import { ASSETS, DEMO_PAGE, DOWNLOADS, indexPage, notebookPage, type SiteInfo, type SitePage } from "./sitePages";
import { DEMO_DATA_GLOBAL } from "../site/demo/data";

export const SITE_DIR = path.join(PROJECT_ROOT, "build", "site");
const WORK_DIR = path.join(PROJECT_ROOT, "build", "site-work");
const README = path.join(PROJECT_ROOT, "README.md");
const STATIC_ASSETS = path.join(PROJECT_ROOT, "scripts", "site", "assets");

export interface BuildOptions {
  /** Execute notebooks whose executed copy is missing or older than their code (else: fail, or warn). */
  execute: boolean;
  outDir?: string;
  log?: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  pages: SitePage[];
  files: number;
  bytes: number;
  seconds: number;
  /** Notebooks executed by this build. */
  executed: string[];
  /** Notebooks shown from an executed copy whose code differs from the notebook's (only without `execute`). */
  stale: string[];
  /** Whether this build trained the demo's models (false: reused from build/site-demo/). */
  demoTrained: boolean;
  /** Bytes of the demo page with its data and script. */
  demoBytes: number;
}

function readNotebook(file: string): NotebookJson {
  return parseNotebook(fs.readFileSync(file, "utf8"), file);
}

/** The README's paragraphs between its title and its first section: the course's introduction. */
export function readmeIntro(readme: string): string[] {
  const lines = readme.split("\n");
  const title = lines.findIndex((line) => /^#\s/.test(line));
  const end = lines.findIndex((line, i) => i > title && /^##\s/.test(line));
  return lines
    .slice(title + 1, end < 0 ? undefined : end)
    .join("\n")
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, " ").trim())
    .filter((paragraph) => paragraph.length > 0);
}

/** Links between notebooks (`05-….ipynb`) point at their pages on the site. */
export function linkNotebookPages(html: string, names: Set<string>): string {
  return html.replace(/href="(?:\.\/)?([\w.-]+)\.ipynb(#[^"]*)?"/g, (match, name: string, hash: string | undefined) =>
    names.has(name) ? `href="${name}.html${hash ?? ""}"` : match,
  );
}

/** Every file under `dir`, with sizes. */
function walk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = walk(full);
      files += inner.files;
      bytes += inner.bytes;
    } else {
      files += 1;
      bytes += fs.statSync(full).size;
    }
  }
  return { files, bytes };
}

/** Where notebooks and their executed copies are, and how one is executed (the tests put fakes here). */
export interface ExecutionSetup {
  notebookDir: string;
  executedDir: string;
  run: (file: string) => Promise<RunReport>;
}

function realExecution(python: string): ExecutionSetup {
  let prepared = false;
  return {
    notebookDir: NOTEBOOK_DIR,
    executedDir: EXECUTED_DIR,
    run: (file) => {
      // This checkout's kernel, in the runner's private Jupyter path; once, and only when something runs.
      if (!prepared) writeKernelSpec(JUPYTER_DIR);
      prepared = true;
      fs.mkdirSync(EXECUTED_DIR, { recursive: true });
      return runNotebook(python, path.join(NOTEBOOK_DIR, file), path.join(EXECUTED_DIR, file));
    },
  };
}

/**
 * Makes sure every notebook has a current executed copy: with `execute`, runs those that have none or whose code
 * has changed since they ran; without, fails naming the missing ones and warns about the changed ones.
 */
export async function ensureExecuted(
  notebooks: string[],
  execute: boolean,
  setup: ExecutionSetup,
  log: (line: string) => void,
): Promise<{ executed: string[]; stale: string[] }> {
  const missing: string[] = [];
  const stale: { file: string; reason: string }[] = [];
  for (const file of notebooks) {
    const executed = path.join(setup.executedDir, file);
    if (!fs.existsSync(executed)) {
      missing.push(file);
      continue;
    }
    const reason = staleReason(readNotebook(executed), readNotebook(path.join(setup.notebookDir, file)));
    if (reason) stale.push({ file, reason });
  }
  const shown = path.relative(PROJECT_ROOT, setup.executedDir) || setup.executedDir;
  if (!execute) {
    if (missing.length > 0) {
      throw new Error(
        `no executed copy of ${missing.join(", ")} in ${shown}/: run npm test (it executes every notebook ` +
          "there), or npm run site without --no-execute (it executes the missing ones).",
      );
    }
    for (const { file, reason } of stale) {
      log(`warning: ${shown}/${file} is not the notebook as it is now (${reason}); shown as it ran.`);
    }
    return { executed: [], stale: stale.map((s) => s.file) };
  }
  const toRun = [...missing.map((file) => ({ file, reason: "no executed copy" })), ...stale];
  for (const { file, reason } of toRun) {
    log(`Executing ${file} (${reason}) ...`);
    const report = await setup.run(file);
    if (!report.ok)
      throw new Error(`the site needs every notebook executed without error:\n${describeFailure(file, report)}`);
    log(`  ${file}: ${report.seconds.toFixed(0)} s`);
  }
  return { executed: toRun.map((r) => r.file), stale: [] };
}

export async function buildSite(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const log = options.log ?? console.log;
  const outDir = options.outDir ?? SITE_DIR;
  const notebooks = listNotebooks();
  const curriculum = new Map(readCurriculum(README).map((entry) => [entry.notebook, entry]));
  for (const file of notebooks) {
    const name = file.replace(/\.ipynb$/, "");
    if (!curriculum.has(name)) throw new Error(`README.md's curriculum table has no row for notebooks/${file}`);
  }

  const python = ensureJupyter(log);
  const { executed, stale } = await ensureExecuted(notebooks, options.execute, realExecution(python), log);

  // The notebooks as nbconvert will see them: plotly.js moved out into one shared file.
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const shared: SharedScripts = { files: new Map() };
  const pages: SitePage[] = [];
  const prepared: string[] = [];
  for (const file of notebooks) {
    const name = file.replace(/\.ipynb$/, "");
    const nb = readNotebook(path.join(EXECUTED_DIR, file));
    const entry = curriculum.get(name)!;
    const results = resultsLine(nb);
    const text = (key: string): string | null => (typeof results?.[key] === "string" ? (results[key] as string) : null);
    pages.push({
      name,
      title: notebookTitle(nb, name),
      teaches: entry.teaches,
      seedSection: entry.seedSection,
      seconds: runSeconds(nb),
      ranAt: runStarted(nb),
      dataset: text("dataset") ?? text("corpus"),
      backend: text("backend"),
      figures: figureCount(nb),
    });
    const target = path.join(WORK_DIR, file);
    fs.writeFileSync(target, JSON.stringify(sharePlotlyBundles(nb, shared, ASSETS)));
    prepared.push(target);
  }

  const demo = await prepareDemo(log);

  log(`Converting ${notebooks.length} notebooks with nbconvert ...`);
  const converted = convertNotebooks(python, prepared, path.join(WORK_DIR, "html"));
  const info: SiteInfo = {
    intro: readmeIntro(fs.readFileSync(README, "utf8")),
    nbconvert: nbconvertVersion(python),
    builtAt: new Date().toISOString(),
  };

  // Assemble beside the old site and swap at the end, so that a failed build leaves the last good one.
  const staging = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const assets = path.join(staging, ASSETS);
  const downloads = path.join(staging, DOWNLOADS);
  fs.mkdirSync(path.join(assets, "mathjax"), { recursive: true });
  fs.mkdirSync(downloads, { recursive: true });

  const names = new Set(pages.map((p) => p.name));
  const first = converted.get(pages[0].name)!;
  fs.writeFileSync(path.join(assets, "notebook.css"), first.css + "\n");
  for (const file of ["site.css", "mathjax-config.js"]) {
    fs.copyFileSync(path.join(STATIC_ASSETS, file), path.join(assets, file));
  }
  // MathJax's single-file build with every TeX extension: it loads no further component.
  fs.copyFileSync(require.resolve("mathjax/es5/tex-svg-full.js"), path.join(assets, "mathjax", "tex-svg-full.js"));
  fs.copyFileSync(
    path.join(path.dirname(require.resolve("mathjax/package.json")), "LICENSE"),
    path.join(assets, "mathjax", "LICENSE"),
  );
  for (const [file, source] of shared.files) fs.writeFileSync(path.join(assets, file), source);

  pages.forEach((page, i) => {
    const cells = linkNotebookPages(converted.get(page.name)!.cells, names);
    fs.writeFileSync(path.join(staging, `${page.name}.html`), notebookPage(pages, i, cells, info));
    // The executed notebook as the tests wrote it: outputs and figures open in Jupyter as they are here.
    fs.copyFileSync(path.join(EXECUTED_DIR, `${page.name}.ipynb`), path.join(downloads, `${page.name}.ipynb`));
  });
  fs.writeFileSync(path.join(staging, "index.html"), indexPage(pages, info));
  // The demo: its page, its data (models and wasm binaries inside) and its bundled script.
  fs.writeFileSync(path.join(staging, `${DEMO_PAGE}.html`), demoPage(pages, info, demo.data));
  fs.writeFileSync(path.join(assets, "demo-data.js"), demoDataScript(demo.data, DEMO_DATA_GLOBAL));
  await bundleDemo(path.join(assets, "demo.js"));
  const demoBytes = [`${DEMO_PAGE}.html`, `${ASSETS}demo-data.js`, `${ASSETS}demo.js`]
    .map((file) => fs.statSync(path.join(staging, file)).size)
    .reduce((a, b) => a + b, 0);
  // No Jekyll on GitHub Pages: serve the files as they are.
  fs.writeFileSync(path.join(staging, ".nojekyll"), "");

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(staging, outDir);
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
  const { files, bytes } = walk(outDir);
  return {
    outDir,
    pages,
    files,
    bytes,
    seconds: (Date.now() - started) / 1000,
    executed,
    stale,
    demoTrained: demo.trained,
    demoBytes,
  };
}
