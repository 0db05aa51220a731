// Running one notebook through Jupyter (scripts/run_notebook.py, nbclient) with this checkout's tslab kernel,
// registered in a private Jupyter path so that whatever kernel the user registered does not matter. Shared by the
// notebook tests, the test of the student copies and `npm run site` (which executes notebooks not yet executed).

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findJupyterPython, KERNEL_NAME, PROJECT_ROOT, writeKernelSpec } from "./jupyter";

export const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");
/** Where the notebook tests write the executed notebooks, and the site reads them. */
export const EXECUTED_DIR = path.join(PROJECT_ROOT, "build", "executed");
// A private Jupyter path, so the tests run this checkout's kernel whatever the user registered.
export const JUPYTER_DIR = path.join(PROJECT_ROOT, "build", "jupyter");
const RUNNER = path.join(PROJECT_ROOT, "scripts", "run_notebook.py");

/**
 * The Python whose Jupyter runs notebooks, with this checkout's kernel registered in JUPYTER_DIR (the private
 * Jupyter path `runNotebook` uses); throws when no Python has Jupyter.
 */
export function prepareNotebookRunner(): string {
  const python = findJupyterPython();
  if (!python) throw new Error("no Python with Jupyter (nbclient, nbformat, ipykernel) was found: run npm run setup");
  writeKernelSpec(JUPYTER_DIR);
  return python;
}

export interface RunReport {
  ok: boolean;
  seconds: number;
  executed: string;
  error?: { kind: string; message: string };
  failedCell?: { index: number; source: string; ename: string; evalue: string; stderr: string };
  lastStdout?: string;
}

/** The course's notebooks (file names), in course order. */
export function listNotebooks(): string[] {
  return fs
    .readdirSync(NOTEBOOK_DIR)
    .filter((f) => f.endsWith(".ipynb"))
    .sort();
}

/** Executes `notebook`, writes the executed copy to `executed` and resolves with the runner's report. */
export function runNotebook(python: string, notebook: string, executed: string): Promise<RunReport> {
  const env = { ...process.env, JUPYTER_PATH: JUPYTER_DIR };
  return new Promise((resolve, reject) => {
    execFile(
      python,
      [RUNNER, notebook, executed, "--kernel", KERNEL_NAME],
      { env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line) as RunReport);
        } catch {
          reject(new Error(`the notebook runner failed (${error?.message ?? "no report"}):\n${stderr.slice(-4000)}`));
        }
      },
    );
  });
}

export function describeFailure(file: string, report: RunReport): string {
  const cell = report.failedCell;
  if (!cell) return `${file} failed: ${report.error?.kind}: ${report.error?.message}`;
  return [
    `${file}: cell ${cell.index} failed${cell.ename ? ` with ${cell.ename}: ${cell.evalue}` : ""}`,
    "--- cell source ---",
    cell.source,
    "--- stderr ---",
    cell.stderr || "(empty)",
    `executed copy: ${report.executed}`,
  ].join("\n");
}
