// npm run student-version: solution regions replaced the nbgrader way, everything else unchanged, clear
// errors for markers out of place, and copies of every notebook that nbformat accepts.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findJupyterPython } from "../../scripts/lib/jupyter";
import {
  NOTEBOOK_DIR,
  type Notebook,
  type NotebookCell,
  cellSource,
  codeStub,
  sourceLines,
  stripSolutions,
  studentNotebook,
  writeStudentVersions,
} from "../../scripts/studentVersion";

const WHERE = { file: "notebooks/99-test.ipynb", cell: 7, id: "abcd1234" };

function solutionCell(source: string, gradeId = "99-1-solution"): NotebookCell {
  return {
    cell_type: "code",
    id: "abcd1234",
    metadata: {
      nbgrader: { grade: false, grade_id: gradeId, locked: false, schema_version: 3, solution: true, task: false },
    },
    source: sourceLines(source),
    outputs: [{ output_type: "stream", name: "stdout", text: ["old output\n"] }],
    execution_count: 3,
  };
}

function notebookOf(...cells: NotebookCell[]): Notebook {
  return { cells, metadata: { kernelspec: { name: "recsys-ts" } }, nbformat: 4, nbformat_minor: 5 };
}

describe("scripts/studentVersion", () => {
  describe("stripSolutions", () => {
    it("replaces each region by the stub at the BEGIN line's indentation and keeps every other line", () => {
      const source = [
        "function f(x: number): number {",
        "  // BEGIN SOLUTION",
        "  const y = x * 2;",
        "  return y + 1;",
        "  // END SOLUTION",
        "}",
        "console.log(f(1));",
      ].join("\n");
      const { source: stripped, regions } = stripSolutions(source, "05.2", WHERE);
      assert.equal(regions, 1);
      assert.equal(
        stripped,
        [
          "function f(x: number): number {",
          "  // YOUR CODE HERE",
          '  throw new Error("Exercise 05.2: not done yet");',
          "}",
          "console.log(f(1));",
        ].join("\n"),
      );
      assert.deepEqual(codeStub("05.2"), ["// YOUR CODE HERE", 'throw new Error("Exercise 05.2: not done yet");']);
    });

    it("handles several regions", () => {
      const source = "// BEGIN SOLUTION\na();\n// END SOLUTION\nb();\n  // BEGIN SOLUTION\n  c();\n  // END SOLUTION";
      const { source: stripped, regions } = stripSolutions(source, "00.1", WHERE);
      assert.equal(regions, 2);
      assert.doesNotMatch(stripped, /a\(\)|c\(\)/);
      assert.match(stripped, /\nb\(\);\n/);
    });

    const bad: [string, string, RegExp][] = [
      [
        "BEGIN without END",
        "a();\n// BEGIN SOLUTION\nb();",
        /99-test\.ipynb, cell 7 \(id abcd1234\), line 2: BEGIN SOLUTION is never closed/,
      ],
      [
        "END without BEGIN",
        "a();\n// END SOLUTION",
        /cell 7 \(id abcd1234\), line 2: END SOLUTION without a BEGIN SOLUTION/,
      ],
      [
        "nested BEGIN",
        "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION",
        /line 2: BEGIN SOLUTION inside the region opened on line 1/,
      ],
      [
        "a Python-style marker",
        "### BEGIN SOLUTION\nx;\n### END SOLUTION",
        /line 1: a marker must be "\/\/ BEGIN SOLUTION" on a line of its own/,
      ],
      ["a marker after code", "x(); // END SOLUTION", /line 1: a marker must be "\/\/ END SOLUTION"/],
    ];
    for (const [what, source, message] of bad) {
      it(`refuses ${what}, naming the file, the cell and the line`, () => {
        assert.throws(() => stripSolutions(source, "99.1", WHERE), message);
      });
    }
  });

  describe("studentNotebook", () => {
    it("strips solution cells, clears outputs and leaves the other cells and the metadata as they were", () => {
      const markdown: NotebookCell = { cell_type: "markdown", id: "m1", metadata: {}, source: ["# Title"] };
      const plain: NotebookCell = {
        cell_type: "code",
        id: "c1",
        metadata: {},
        source: ["const a = 1;"],
        outputs: [],
        execution_count: null,
      };
      const solution = solutionCell("const b = 2;\n// BEGIN SOLUTION\nconst c = 3;\n// END SOLUTION\nconsole.log(b);");
      const nb = notebookOf(markdown, plain, solution);
      const before = JSON.stringify(nb);
      const student = studentNotebook(nb, "notebooks/99-test.ipynb");
      assert.equal(JSON.stringify(nb), before, "the input is not changed");
      assert.deepEqual(student.cells[0], markdown);
      assert.deepEqual(student.cells[1], plain);
      assert.deepEqual(student.cells[2].source, [
        "const b = 2;\n",
        "// YOUR CODE HERE\n",
        'throw new Error("Exercise 99.1: not done yet");\n',
        "console.log(b);",
      ]);
      assert.deepEqual(student.cells[2].metadata, solution.metadata);
      assert.deepEqual(student.cells[2].outputs, []);
      assert.equal(student.cells[2].execution_count, null);
      assert.deepEqual(student.metadata, nb.metadata);
    });

    it("refuses a solution cell without a region, markers outside solution cells, and a stray grade_id", () => {
      assert.throws(
        () => studentNotebook(notebookOf(solutionCell("const a = 1;")), "nb.ipynb"),
        /nb\.ipynb, cell 0 \(id abcd1234\): a solution cell needs a \/\/ BEGIN SOLUTION … \/\/ END SOLUTION region/,
      );
      const plain: NotebookCell = {
        cell_type: "code",
        id: "c9",
        metadata: {},
        source: ["a();\n", "// BEGIN SOLUTION\n", "b();\n", "// END SOLUTION"],
      };
      assert.throws(
        () => studentNotebook(notebookOf(plain), "nb.ipynb"),
        /cell 0 \(id c9\), line 2: solution markers in a cell whose metadata/,
      );
      assert.throws(
        () =>
          studentNotebook(notebookOf(solutionCell("// BEGIN SOLUTION\n// END SOLUTION", "my-exercise")), "nb.ipynb"),
        /grade_id "my-exercise" should look like "05-2-solution"/,
      );
    });
  });

  describe("writeStudentVersions, on the course's notebooks", function () {
    this.timeout(120_000);
    let out: string;
    let written: string[];

    before(() => {
      out = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-student-"));
      written = writeStudentVersions(NOTEBOOK_DIR, out);
    });
    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("writes a copy of every notebook, with a src link beside them", () => {
      const notebooks = fs
        .readdirSync(NOTEBOOK_DIR)
        .filter((f) => f.endsWith(".ipynb"))
        .sort();
      assert.deepEqual(
        written.map((f) => path.basename(f)),
        notebooks,
      );
      assert.ok(fs.existsSync(path.join(out, "src", "index.ts")), "src/index.ts through the link");
    });

    it("keeps every cell but the solution regions, and leaves no marker and no solution line", () => {
      let solutionCells = 0;
      for (const target of written) {
        const original = JSON.parse(
          fs.readFileSync(path.join(NOTEBOOK_DIR, path.basename(target)), "utf8"),
        ) as Notebook;
        const copy = JSON.parse(fs.readFileSync(target, "utf8")) as Notebook;
        assert.equal(copy.cells.length, original.cells.length);
        assert.deepEqual(copy.metadata, original.metadata);
        copy.cells.forEach((cell, i) => {
          const before = original.cells[i];
          assert.equal(cell.id, before.id);
          assert.deepEqual(cell.metadata, before.metadata);
          const text = cellSource(cell);
          assert.doesNotMatch(text, /BEGIN SOLUTION|END SOLUTION/);
          if (before.metadata.nbgrader?.solution !== true) {
            assert.equal(text, cellSource(before), `${path.basename(target)} cell ${i} changed`);
            return;
          }
          solutionCells++;
          const id = before.metadata.nbgrader.grade_id.replace(/^(\d\d)-(\d+)-solution$/, "$1.$2");
          assert.match(
            text,
            new RegExp(
              `// YOUR CODE HERE\\n\\s*throw new Error\\("Exercise ${id.replace(".", "\\.")}: not done yet"\\);`,
            ),
          );
          const solutionLines = cellSource(before)
            .split(/BEGIN SOLUTION|END SOLUTION/)[1]
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.length > 3);
          for (const line of solutionLines)
            assert.ok(!text.includes(line), `${path.basename(target)} cell ${i} still has "${line}"`);
        });
      }
      assert.ok(solutionCells >= 8, `${solutionCells} solution cells`);
    });

    it("writes notebooks that nbformat validates", function () {
      const python = findJupyterPython();
      if (!python) throw new Error("no Python with nbformat was found: run npm run setup");
      const script = [
        "import sys, nbformat",
        "for path in sys.argv[1:]:",
        "    nbformat.validate(nbformat.read(path, as_version=nbformat.NO_CONVERT))",
        "print(len(sys.argv) - 1)",
      ].join("\n");
      const run = spawnSync(python, ["-c", script, ...written], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), String(written.length));
    });
  });
});
