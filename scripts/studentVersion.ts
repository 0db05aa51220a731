// npm run student-version: writes build/student/<notebook>.ipynb for every notebook, with the reference
// solutions taken out the way nbgrader's `generate_assignment` does it (its ClearSolutions step), for
// TypeScript: in each solution cell (metadata nbgrader.solution = true), the lines from `// BEGIN SOLUTION`
// to `// END SOLUTION` become
//
//     // YOUR CODE HERE
//     throw new Error("Exercise 05.2: not done yet");
//
// at the indentation of the BEGIN line. Everything else is copied unchanged, outputs cleared. A marker out
// of place (unbalanced, nested, in a cell not marked as a solution, or a solution cell without one) stops
// the script with the file, the cell and the line, because a copy with half a solution left in it, or an
// exercise with nothing to fill in, must not reach learners.
//
// build/student/src links to src/, so the copies run where they are written, as the course's do.

import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./lib/jupyter";

export const BEGIN_SOLUTION = "// BEGIN SOLUTION";
export const END_SOLUTION = "// END SOLUTION";
export const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");
export const STUDENT_DIR = path.join(PROJECT_ROOT, "build", "student");

/** The nbgrader cell metadata this course uses (schema_version 3). */
export interface NbgraderMetadata {
  grade: boolean;
  grade_id: string;
  locked: boolean;
  points?: number;
  schema_version: number;
  solution: boolean;
  task: boolean;
}

export interface NotebookCell {
  cell_type: string;
  id?: string;
  metadata: { nbgrader?: NbgraderMetadata; [key: string]: unknown };
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Where a marker problem is: named in every error. */
export interface CellLocation {
  file: string;
  /** Index of the cell in the notebook (0-based, as Jupyter's execution reports count them). */
  cell: number;
  id?: string;
}

export class SolutionMarkerError extends Error {
  constructor(where: CellLocation, line: number | null, problem: string) {
    const cell = `cell ${where.cell}${where.id ? ` (id ${where.id})` : ""}`;
    super(`${where.file}, ${cell}${line === null ? "" : `, line ${line}`}: ${problem}`);
    this.name = "SolutionMarkerError";
  }
}

/** A cell's source as one string (nbformat allows a string or a list of lines). */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** A string as nbformat's list of lines, each but the last ending in "\n" (as Jupyter writes them). */
export function sourceLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  return lines.map((line, i) => (i < lines.length - 1 ? `${line}\n` : line)).filter((line) => line !== "");
}

/** "05-2-solution" → "05.2"; an error for a grade_id that does not follow the course's convention. */
export function exerciseIdOf(gradeId: string, where: CellLocation): string {
  const match = /^(\d\d)-(\d+)-solution$/.exec(gradeId);
  if (!match) {
    throw new SolutionMarkerError(where, null, `grade_id "${gradeId}" should look like "05-2-solution"`);
  }
  return `${match[1]}.${match[2]}`;
}

/** What replaces a solution region: the lines nbgrader's code stub would put there, for TypeScript. */
export function codeStub(exerciseId: string): string[] {
  return ["// YOUR CODE HERE", `throw new Error("Exercise ${exerciseId}: not done yet");`];
}

/**
 * `source` with every solution region replaced by the stub, and how many regions there were. A line is a
 * marker when it mentions BEGIN SOLUTION or END SOLUTION anywhere (nbgrader's rule), so a marker written
 * differently is an error here rather than solution code left in the student's copy.
 */
export function stripSolutions(
  source: string,
  exerciseId: string,
  where: CellLocation,
): { source: string; regions: number } {
  const out: string[] = [];
  let openedAt: number | null = null;
  let regions = 0;
  source.split("\n").forEach((line, i) => {
    const lineNumber = i + 1;
    const begins = line.includes("BEGIN SOLUTION");
    const ends = line.includes("END SOLUTION");
    if (!begins && !ends) {
      if (openedAt === null) out.push(line);
      return;
    }
    const expected = begins ? BEGIN_SOLUTION : END_SOLUTION;
    if ((begins && ends) || line.trim() !== expected) {
      throw new SolutionMarkerError(
        where,
        lineNumber,
        `a marker must be "${expected}" on a line of its own, got "${line.trim()}"`,
      );
    }
    if (begins) {
      if (openedAt !== null) {
        throw new SolutionMarkerError(where, lineNumber, `BEGIN SOLUTION inside the region opened on line ${openedAt}`);
      }
      openedAt = lineNumber;
      const indent = /^\s*/.exec(line)![0];
      out.push(...codeStub(exerciseId).map((stub) => indent + stub));
    } else {
      if (openedAt === null)
        throw new SolutionMarkerError(where, lineNumber, "END SOLUTION without a BEGIN SOLUTION before it");
      openedAt = null;
      regions += 1;
    }
  });
  if (openedAt !== null)
    throw new SolutionMarkerError(where, openedAt, "BEGIN SOLUTION is never closed by END SOLUTION");
  return { source: out.join("\n"), regions };
}

/** The student copy of one notebook (a new object; `nb` is not changed). */
export function studentNotebook(nb: Notebook, file: string): Notebook {
  const cells = nb.cells.map((cell, index): NotebookCell => {
    const where: CellLocation = { file, cell: index, id: cell.id };
    const copy: NotebookCell = JSON.parse(JSON.stringify(cell));
    if (copy.cell_type === "code") {
      copy.outputs = [];
      copy.execution_count = null;
    }
    const text = cellSource(cell);
    const isSolution = cell.metadata.nbgrader?.solution === true;
    if (!isSolution) {
      if (/BEGIN SOLUTION|END SOLUTION/.test(text)) {
        const line = text.split("\n").findIndex((l) => /BEGIN SOLUTION|END SOLUTION/.test(l)) + 1;
        throw new SolutionMarkerError(
          where,
          line,
          "solution markers in a cell whose metadata does not mark it nbgrader.solution",
        );
      }
      return copy;
    }
    if (cell.cell_type !== "code") throw new SolutionMarkerError(where, null, "solution cells must be code cells");
    const stripped = stripSolutions(text, exerciseIdOf(cell.metadata.nbgrader!.grade_id, where), where);
    if (stripped.regions === 0) {
      throw new SolutionMarkerError(where, null, `a solution cell needs a ${BEGIN_SOLUTION} … ${END_SOLUTION} region`);
    }
    copy.source = sourceLines(stripped.source);
    return copy;
  });
  return { ...nb, cells };
}

/** The notebooks of `dir`, sorted. */
export function listNotebooks(dir = NOTEBOOK_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort();
}

/**
 * Writes the student copy of every notebook of `from` into `to`, with a `src` link beside them, and returns
 * the paths written. Every notebook is converted before any is written, so an error leaves `to` as it was.
 */
export function writeStudentVersions(from = NOTEBOOK_DIR, to = STUDENT_DIR): string[] {
  const copies = listNotebooks(from).map((file) => {
    const nb = JSON.parse(fs.readFileSync(path.join(from, file), "utf8")) as Notebook;
    return { file, nb: studentNotebook(nb, path.relative(PROJECT_ROOT, path.join(from, file))) };
  });
  fs.mkdirSync(to, { recursive: true });
  linkSource(to);
  return copies.map(({ file, nb }) => {
    const target = path.join(to, file);
    // nbformat's layout: one-space indent, a final newline.
    fs.writeFileSync(target, JSON.stringify(nb, null, 1) + "\n");
    return target;
  });
}

/** `dir/src` → the project's src/, so that `import … from "./src/index"` works in the copies. */
function linkSource(dir: string): void {
  const link = path.join(dir, "src");
  const target = path.relative(dir, path.join(PROJECT_ROOT, "src"));
  if (fs.existsSync(link)) return;
  fs.rmSync(link, { force: true }); // a dangling link left by a moved checkout
  // "junction" makes a directory link without administrator rights on Windows; elsewhere it is ignored.
  fs.symlinkSync(target, link, "junction");
}

function main(): void {
  try {
    const written = writeStudentVersions();
    for (const file of written) console.log(`wrote ${path.relative(PROJECT_ROOT, file)}`);
    console.log(
      `${written.length} student notebooks in ${path.relative(PROJECT_ROOT, STUDENT_DIR)}/ (solutions replaced)`,
    );
  } catch (error) {
    console.error(`student-version: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

if (require.main === module) main();
