// Executes every notebook in notebooks/ through Jupyter (nbclient) with this checkout's tslab kernel,
// then checks the results line its last cell prints against the tolerances in expectations.ts.
// Executed copies go to build/executed/ (ignored by git) for inspection.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  describeFailure,
  EXECUTED_DIR,
  listNotebooks,
  NOTEBOOK_DIR,
  prepareNotebookRunner,
  runNotebook,
} from "../../scripts/lib/notebookRunner";
import { checkPlotlyOutputs, expectations } from "./expectations";

/** The results object: the last line of the last cell's stdout, which must be JSON. */
export function parseResultsLine(stdout: string | undefined): Record<string, unknown> {
  const lines = (stdout ?? "").trim().split("\n");
  const last = lines[lines.length - 1];
  try {
    const parsed = JSON.parse(last);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    throw new Error(`the last cell must print its results as one JSON object on its last line; got: ${JSON.stringify(last)}`);
  }
}

describe("notebooks, executed by Jupyter with the tslab kernel", function () {
  this.timeout(45 * 60_000);
  let python: string;

  before(function () {
    python = prepareNotebookRunner();
    fs.mkdirSync(EXECUTED_DIR, { recursive: true });
  });

  for (const file of listNotebooks()) {
    const name = file.replace(/\.ipynb$/, "");
    it(`${name} runs top to bottom and its results are within tolerance`, async function () {
      const report = await runNotebook(python, path.join(NOTEBOOK_DIR, file), path.join(EXECUTED_DIR, file));
      if (!report.ok) throw new Error(describeFailure(file, report));
      const results = parseResultsLine(report.lastStdout);
      const check = expectations[name];
      assert.ok(check, `test/notebooks/expectations.ts has no entry for ${name}`);
      check(results);
      checkPlotlyOutputs(JSON.parse(fs.readFileSync(report.executed, "utf8")));
      console.log(`      ${name}: ${report.seconds.toFixed(1)} s, results ${JSON.stringify(results)}`);
    });
  }
});
