// The student copies (npm run student-version) still run: notebook 05's, the cheapest with exercises, is
// executed by Jupyter and must run every cell before its first exercise and stop exactly at that exercise's
// solution cell, with the stub's "not done yet" error.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { type Notebook, STUDENT_DIR, writeStudentVersions } from "../../scripts/studentVersion";
import { describeFailure, prepareNotebookRunner, runNotebook } from "../../scripts/lib/notebookRunner";

const NOTEBOOK = "05-attention-and-transformers.ipynb";

describe("student copies, executed by Jupyter with the tslab kernel", function () {
  this.timeout(15 * 60_000);
  let python: string;

  before(function () {
    python = prepareNotebookRunner();
    writeStudentVersions();
  });

  it(`${NOTEBOOK.replace(/\.ipynb$/, "")} runs up to its first exercise and stops at its solution cell`, async () => {
    const copy = path.join(STUDENT_DIR, NOTEBOOK);
    const nb = JSON.parse(fs.readFileSync(copy, "utf8")) as Notebook;
    const firstSolution = nb.cells.findIndex((c) => c.metadata.nbgrader?.solution === true);
    assert.ok(firstSolution > 0, "the copy has a solution cell");
    const firstId = nb.cells[firstSolution].metadata.nbgrader!.grade_id.replace(/^(\d\d)-(\d+)-solution$/, "$1.$2");

    const report = await runNotebook(python, copy, path.join(PROJECT_ROOT, "build", "executed", "student", NOTEBOOK));
    assert.equal(report.ok, false, "a student copy cannot run to its end: its exercises are not done");
    assert.ok(report.failedCell, describeFailure(NOTEBOOK, report));
    assert.equal(report.failedCell.index, firstSolution, describeFailure(NOTEBOOK, report));
    assert.match(report.failedCell.stderr, new RegExp(`Exercise ${firstId.replace(".", "\\.")}: not done yet`));
  });
});
