// Committed notebooks are clean sources: no outputs, no execution counts, this project's kernel, and a
// last code cell that prints the results line the notebook test reads.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { KERNEL_NAME, PROJECT_ROOT } from "../../scripts/lib/jupyter";

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");
const files = fs.readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith(".ipynb")).sort();

describe("committed notebooks", () => {
  it("exist", () => {
    assert.ok(files.length > 0, "notebooks/ holds no .ipynb files");
  });

  for (const file of files) {
    describe(file, () => {
      const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOK_DIR, file), "utf8")) as {
        cells: NotebookCell[];
        metadata: { kernelspec?: { name?: string } };
      };
      const codeCells = nb.cells.filter((c) => c.cell_type === "code");

      it("carries no outputs or execution counts", () => {
        const dirty = codeCells.map((c, i) => ({ i, c })).filter(({ c }) => (c.outputs?.length ?? 0) > 0 || c.execution_count != null);
        assert.deepEqual(dirty.map(({ i }) => i), [], "strip outputs before committing (these code cells have some)");
      });

      it(`uses the ${KERNEL_NAME} kernel`, () => {
        assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME);
      });

      it("ends with a cell that prints its results as JSON", () => {
        const last = codeCells[codeCells.length - 1];
        const source = Array.isArray(last.source) ? last.source.join("") : last.source;
        assert.match(source, /console\.log\(JSON\.stringify\(/);
      });
    });
  }
});
