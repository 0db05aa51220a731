// One notebook run the way a learner runs it: a live Jupyter Notebook server (as `npm run course` starts it, with
// --allow-root as root) on a free port with a token, the notebook opened in headless Chromium, Run ▸ Run All Cells
// clicked in the menu, and the page watched until the kernel is idle. Then: every code cell ran (a failing cell
// stops Run All), the saved notebook holds no error output, and every figure the notebook produced is drawn in the
// page by the front end from our display bundle (nbclient, which the notebook tests use, renders nothing).
//
// The notebook is notebook 00 (about half a minute), copied into build/site-jupyter/ so that saving it there leaves
// notebooks/ alone; its `./src` link points at this checkout's library, as notebooks/src does. The kernel is the
// one setup registered (`npm run test:site` runs setup first; JUPYTER_DATA_DIR is honoured).

import * as assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_HINT, findChromium } from "../../scripts/lib/chromium";
import { figureCount, parseNotebook, type NotebookJson } from "../../scripts/lib/executedNotebook";
import { findJupyterPython, KERNEL_NAME, PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { freePort } from "../../scripts/lib/staticServer";

const NOTEBOOK = "00-environment-and-data.ipynb";
const WORK_DIR = path.join(PROJECT_ROOT, "build", "site-jupyter");
const SCREENSHOT = path.join(PROJECT_ROOT, "build", "site-screenshots", "jupyter-00.png");

interface Jupyter {
  child: ChildProcess;
  base: string;
  token: string;
  output: () => string;
}

/**
 * What differs between the two front ends a learner may have: Notebook 7 (JupyterLab's components, what pip
 * installs) and the classic Notebook 6 (Debian bookworm's jupyter-notebook, what CI has). The rest of the check
 * is the same.
 */
interface FrontEnd {
  name: string;
  /** Command-line options that set the server's token. */
  tokenArgs: (token: string) => string[];
  codeCell: string;
  /** The prompt beside a code cell: "[3]:" or "In [3]:" once run, with a "*" while queued or running. */
  prompt: string;
  notebook: string;
  /** Clicks Run All in the menu bar. */
  runAll: (page: Page) => Promise<void>;
  plot: string;
  errorOutput: string;
  /**
   * The front end's own sign of an idle kernel, where it has one. Notebook 6's server sometimes reports a
   * kernel as "starting" long after the page has connected and the kernel answered (its status listener
   * misses the first messages), so the page's indicator counts too.
   */
  kernelIdleIndicator?: string;
}

const NOTEBOOK_7: FrontEnd = {
  name: "Notebook 7",
  tokenArgs: (token) => [`--IdentityProvider.token=${token}`, "--ServerApp.open_browser=False"],
  codeCell: ".jp-CodeCell",
  prompt: ".jp-CodeCell .jp-InputArea-prompt",
  notebook: ".jp-Notebook",
  async runAll(page) {
    await page.click(".lm-MenuBar-item:has-text('Run')");
    await page.click(".lm-Menu-item:has-text('Run All Cells')");
  },
  plot: ".jp-OutputArea-output .js-plotly-plot",
  errorOutput: ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']",
};

const CLASSIC_NOTEBOOK: FrontEnd = {
  name: "Notebook 6 (classic)",
  tokenArgs: (token) => [`--NotebookApp.token=${token}`, "--NotebookApp.open_browser=False"],
  kernelIdleIndicator: "#kernel_indicator_icon.kernel_idle_icon",
  codeCell: ".code_cell",
  prompt: ".code_cell .input_prompt",
  notebook: "#notebook",
  async runAll(page) {
    // "Cell", not "Cell Toolbar" (a submenu of View).
    await page
      .locator("#menus a.dropdown-toggle")
      .filter({ hasText: /^\s*Cell\s*$/ })
      .click();
    await page.click("#run_all_cells a");
  },
  plot: ".output_area .js-plotly-plot",
  errorOutput: ".output_area .output_error",
};

/** The front end of the Jupyter Notebook that `python` runs, from its major version. */
function frontEndOf(python: string): FrontEnd {
  const version = execFileSync(python, ["-c", "import notebook; print(notebook.__version__)"], { encoding: "utf8" });
  return Number(version.trim().split(".")[0]) >= 7 ? NOTEBOOK_7 : CLASSIC_NOTEBOOK;
}

/** Starts `python -m notebook` on `port`, resolving once its REST API answers. */
async function startJupyter(python: string, port: number, frontEnd: FrontEnd): Promise<Jupyter> {
  const token = randomBytes(16).toString("hex");
  const args = [
    "-m",
    "notebook",
    "--no-browser",
    `--port=${port}`,
    "--ip=127.0.0.1",
    `--notebook-dir=${WORK_DIR}`,
    ...frontEnd.tokenArgs(token),
  ];
  if (process.getuid?.() === 0) args.push("--allow-root");
  const child = spawn(python, args, { cwd: WORK_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook exited (${child.exitCode}):\n${text}`);
    try {
      const response = await fetch(`${base}/api/status?token=${token}`);
      if (response.ok) return { child, base, token, output: () => text };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  child.kill("SIGTERM");
  throw new Error(`jupyter notebook did not answer on ${base} within 60 s:\n${text}`);
}

async function api<T>(jupyter: Jupyter, route: string): Promise<T> {
  const response = await fetch(`${jupyter.base}/api/${route}${route.includes("?") ? "&" : "?"}token=${jupyter.token}`);
  if (!response.ok) throw new Error(`GET /api/${route}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Code cells of the open notebook: how many, how many show an execution count, how many are queued or running. */
const promptsOf = (frontEnd: FrontEnd) => `(() => {
  const prompts = [...document.querySelectorAll(${JSON.stringify(frontEnd.prompt)})].map((p) => p.textContent.trim());
  return {
    cells: prompts.length,
    counted: prompts.filter((p) => /\\[\\d+\\]:?$/.test(p)).length,
    busy: prompts.filter((p) => p.includes("*")).length,
  };
})()`;

const plotsDrawnOf = (frontEnd: FrontEnd) =>
  `[...document.querySelectorAll(${JSON.stringify(frontEnd.plot)})].filter((p) => p.querySelector(".main-svg")).length`;

describe("a notebook run in a live Jupyter Notebook from Chromium, as a learner runs it", function () {
  this.timeout(8 * 60_000);
  let browser: Browser | undefined;
  let jupyter: Jupyter | undefined;
  let frontEnd: FrontEnd = NOTEBOOK_7;

  before(async function () {
    const executable = findChromium();
    if (!executable) throw new Error(`no Chromium for the browser test: ${CHROMIUM_HINT}`);
    const python = findJupyterPython();
    if (!python) throw new Error("no Python with Jupyter: run npm run setup");
    fs.rmSync(WORK_DIR, { recursive: true, force: true });
    fs.mkdirSync(WORK_DIR, { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, "notebooks", NOTEBOOK), path.join(WORK_DIR, NOTEBOOK));
    fs.symlinkSync(path.join(PROJECT_ROOT, "src"), path.join(WORK_DIR, "src"));
    frontEnd = frontEndOf(python);
    jupyter = await startJupyter(python, await freePort(), frontEnd);
    const specs = await api<{ kernelspecs: Record<string, unknown> }>(jupyter, "kernelspecs");
    assert.ok(
      KERNEL_NAME in specs.kernelspecs,
      `Jupyter has no ${KERNEL_NAME} kernel (it has ${Object.keys(specs.kernelspecs).join(", ")}): run npm run setup`,
    );
    browser = await chromium.launch({ executablePath: executable, headless: true });
  });

  after(async function () {
    await browser?.close();
    if (jupyter) {
      // Shut the kernels down through the server, then the server itself.
      for (const kernel of await api<{ id: string }[]>(jupyter, "kernels").catch(() => [])) {
        await fetch(`${jupyter.base}/api/kernels/${kernel.id}?token=${jupyter.token}`, { method: "DELETE" }).catch(
          () => {},
        );
      }
      jupyter.child.kill("SIGTERM");
    }
  });

  it(`${NOTEBOOK}: Run All Cells finishes without an error output and draws every figure`, async function () {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => {
      // JupyterLab's debugger panel asks every kernel for a debug session; tslab has no debugger, and the
      // panel's unhandled rejection says so once per cell. Not an error of the notebook or of our outputs.
      if (error.message !== "No active debugger session") pageErrors.push(error.message);
    });
    try {
      const started = Date.now();
      await page.goto(`${jupyter!.base}/notebooks/${NOTEBOOK}?token=${jupyter!.token}`);
      // The kernel is up when the notebook's kernel session exists and is idle.
      await page.waitForSelector(frontEnd.codeCell, { timeout: 60_000 });
      const kernelIdle = async () => {
        const sessions = await api<{ kernel: { execution_state: string } }[]>(jupyter!, "sessions");
        if (sessions.length > 0 && sessions.every((s) => s.kernel.execution_state === "idle")) return true;
        const indicator = frontEnd.kernelIdleIndicator;
        return sessions.length > 0 && indicator !== undefined && (await page.locator(indicator).count()) > 0;
      };
      for (let i = 0; i < 240 && !(await kernelIdle()); i++) await page.waitForTimeout(250);
      assert.ok(await kernelIdle(), "the recsys-ts kernel did not start within a minute");

      // Run ▸ Run All Cells, from the menu bar.
      // Notebook 7.6's own front end may throw while it loads (a settings schema it cannot find): not ours. What
      // counts is what is thrown once the notebook runs, while our outputs render.
      const loadErrors = pageErrors.splice(0);
      await frontEnd.runAll(page);
      const clicked = Date.now();
      // Done: no cell queued or running, every code cell numbered (a failure stops Run All), the kernel idle.
      await page
        .waitForFunction(
          `(() => { const p = ${promptsOf(frontEnd)}; return p.busy === 0 && p.counted === p.cells; })()`,
          undefined,
          {
            timeout: 6 * 60_000,
            polling: 500,
          },
        )
        .catch(() => {});
      const prompts = (await page.evaluate(promptsOf(frontEnd))) as { cells: number; counted: number; busy: number };
      assert.equal(prompts.busy, 0, "cells still queued or running");
      assert.equal(prompts.counted, prompts.cells, `${prompts.counted} of ${prompts.cells} code cells ran`);
      assert.ok(await kernelIdle(), "the kernel is idle at the end");
      const seconds = (Date.now() - clicked) / 1000;

      // Save (Ctrl+S) and read the notebook back: its outputs as the front end received them.
      const saved = path.join(WORK_DIR, NOTEBOOK);
      await page.click(frontEnd.notebook);
      await page.keyboard.press("Control+s");
      // Saved when the file parses with every code cell numbered (a save in progress may be read half-written).
      const savedRun = (): NotebookJson | null => {
        try {
          const nb = parseNotebook(fs.readFileSync(saved, "utf8"), saved);
          const code = nb.cells.filter((cell) => cell.cell_type === "code");
          return code.every((cell) => typeof cell.execution_count === "number") ? nb : null;
        } catch {
          return null;
        }
      };
      for (let i = 0; i < 300 && savedRun() === null; i++) await page.waitForTimeout(100);
      const nb = savedRun();
      assert.ok(nb !== null, `the notebook was not saved with its outputs to ${saved}`);
      const errors = nb.cells.flatMap((cell, i) =>
        (cell.outputs ?? [])
          .filter((output) => output.output_type === "error")
          .map((output) => `cell ${i}: ${String(output.ename)}: ${String(output.evalue)}`),
      );
      assert.deepEqual(errors, [], "error outputs");
      const figures = figureCount(nb);
      assert.ok(figures > 0, "notebook 00 shows figures");
      const plotsDrawn = plotsDrawnOf(frontEnd);
      await page.waitForFunction(`(${plotsDrawn}) >= ${figures}`, undefined, { timeout: 30_000 }).catch(() => {});
      const drawn = (await page.evaluate(plotsDrawn)) as number;
      assert.equal(drawn, figures, `${drawn} of ${figures} figures drawn in the page`);
      const errorsShown = (await page.evaluate(
        `document.querySelectorAll(${JSON.stringify(frontEnd.errorOutput)}).length`,
      )) as number;
      assert.equal(errorsShown, 0, "error outputs shown in the page");
      assert.deepEqual(pageErrors, [], "script errors in the page while the notebook ran");
      if (loadErrors.length > 0)
        console.log(`      (the Notebook front end threw while loading: ${loadErrors.join("; ")})`);
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.locator(frontEnd.plot).first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: SCREENSHOT });
      console.log(
        `      ${NOTEBOOK} in ${frontEnd.name}: ${prompts.cells} code cells run in ${seconds.toFixed(0)} s after Run All ` +
          `(${((clicked - started) / 1000).toFixed(0)} s to open and start the kernel), ${drawn} figures drawn`,
      );
    } finally {
      await context.close();
    }
  });
});
