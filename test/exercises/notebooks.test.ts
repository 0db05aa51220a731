// The exercises as the notebooks hold them: every check("…") id a notebook calls is registered and every
// registered id is called; each exercise is a task, a solution cell and a check cell with nbgrader's
// metadata, in the notebook's "## Exercises" section before its results; and the results line reports them.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { cellSource, listNotebooks, type Notebook, stripSolutions } from "../../scripts/studentVersion";
import { exerciseIds } from "../../src/exercises/registry";

const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");
const CHECK_CALL = /\bcheck\(\s*"([^"]+)"/g;

function read(file: string): Notebook {
  return JSON.parse(fs.readFileSync(path.join(NOTEBOOK_DIR, file), "utf8")) as Notebook;
}

/** The ids of the check("…") calls in a notebook's code cells, in order. */
function checkIds(nb: Notebook): string[] {
  return nb.cells
    .filter((c) => c.cell_type === "code")
    .flatMap((c) => [...cellSource(c).matchAll(CHECK_CALL)].map((m) => m[1]));
}

describe("exercises in the notebooks", () => {
  const notebooks = listNotebooks(NOTEBOOK_DIR).map((file) => ({ file, nb: read(file) }));

  it("call check() with exactly the registered ids, each once", () => {
    const used = notebooks.flatMap(({ nb }) => checkIds(nb));
    assert.deepEqual(used.slice().sort(), exerciseIds().slice().sort());
    assert.equal(new Set(used).size, used.length, "an id is checked twice");
  });

  it("have nbgrader cells only for registered exercises", () => {
    const gradeIds = notebooks.flatMap(({ nb }) => nb.cells.flatMap((c) => c.metadata.nbgrader?.grade_id ?? []));
    const expected = exerciseIds().flatMap((id) => [
      `${id.replace(".", "-")}-solution`,
      `${id.replace(".", "-")}-check`,
    ]);
    assert.deepEqual(gradeIds.slice().sort(), expected.sort());
  });

  for (const { file, nb } of notebooks) {
    const notebook = file.slice(0, 2);
    const ids = exerciseIds(notebook);
    if (ids.length === 0) continue;

    describe(file, () => {
      const text = nb.cells.map((c) => cellSource(c));
      const exercisesAt = text.findIndex((s, i) => nb.cells[i].cell_type === "markdown" && /^## Exercises\b/m.test(s));
      const resultsAt = text.findIndex((s, i) => nb.cells[i].cell_type === "markdown" && /^## Results\b/m.test(s));

      it("checks only its own exercises", () => {
        assert.deepEqual(checkIds(nb), ids);
      });

      it('has an "## Exercises" section before "## Results", holding every exercise cell', () => {
        assert.ok(exercisesAt >= 0, 'no "## Exercises" heading');
        assert.ok(resultsAt > exercisesAt, '"## Results" must come after "## Exercises"');
        nb.cells.forEach((cell, i) => {
          if (cell.metadata.nbgrader)
            assert.ok(i > exercisesAt && i < resultsAt, `cell ${i} has nbgrader metadata outside the section`);
        });
      });

      ids.forEach((id, k) => {
        const [, number] = id.split(".");
        it(`${id}: a task, a solution cell with markers, then its locked check cell`, () => {
          const solutionAt = nb.cells.findIndex(
            (c) => c.metadata.nbgrader?.grade_id === `${notebook}-${number}-solution`,
          );
          assert.ok(solutionAt > exercisesAt, `no solution cell ${notebook}-${number}-solution`);
          const solution = nb.cells[solutionAt];
          assert.equal(solution.cell_type, "code");
          assert.deepEqual(solution.metadata.nbgrader, {
            grade: false,
            grade_id: `${notebook}-${number}-solution`,
            locked: false,
            schema_version: 3,
            solution: true,
            task: false,
          });
          const stripped = stripSolutions(cellSource(solution), id, { file, cell: solutionAt, id: solution.id });
          assert.equal(stripped.regions, 1, "one // BEGIN SOLUTION … // END SOLUTION region");

          const task = nb.cells[solutionAt - 1];
          assert.equal(task.cell_type, "markdown");
          assert.match(cellSource(task), new RegExp(`^### Exercise ${id.replace(".", "\\.")} · `));

          const checkCell = nb.cells[solutionAt + 1];
          assert.equal(checkCell.cell_type, "code");
          assert.deepEqual(checkCell.metadata.nbgrader, {
            grade: true,
            grade_id: `${notebook}-${number}-check`,
            locked: true,
            points: 1,
            schema_version: 3,
            solution: false,
            task: false,
          });
          assert.deepEqual(
            [...cellSource(checkCell).matchAll(CHECK_CALL)].map((m) => m[1]),
            [id],
          );
          if (k > 0) {
            const previous = nb.cells.findIndex((c) => c.metadata.nbgrader?.grade_id === `${notebook}-${k}-check`);
            assert.ok(previous < solutionAt, `${id} comes after exercise ${k}`);
          }
        });
      });

      it("reports every exercise in its results line", () => {
        const results = cellSource(nb.cells[nb.cells.length - 1]);
        const reported = /exercises: \{([^}]*)\}/.exec(results);
        assert.ok(reported, "the results line has no exercises: { … }");
        assert.deepEqual(
          [...reported[1].matchAll(/"(\d\d\.\d+)"/g)].map((m) => m[1]),
          ids,
        );
      });
    });
  }
});
