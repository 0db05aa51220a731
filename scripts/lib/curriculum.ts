// The course's curriculum, read from the README's "## Curriculum" table, so that the site's index says what the
// README says without a second copy to keep in step.

import * as fs from "node:fs";

export interface CurriculumEntry {
  /** The notebook's name without `.ipynb`, e.g. `00-environment-and-data`. */
  notebook: string;
  /** What it teaches, as written in the README (inline markdown). */
  teaches: string;
  /** The sections of the source text it covers. */
  seedSection: string;
  status: string;
}

/** Splits one markdown table row into its cells (no escaped pipes in the curriculum). */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((cell) => cell.trim());
}

/** Parses the table under `## Curriculum` in README text; `source` names the file in errors. */
export function parseCurriculum(readme: string, source = "README.md"): CurriculumEntry[] {
  const lines = readme.split("\n");
  const heading = lines.findIndex((line) => /^##\s+Curriculum\s*$/.test(line));
  if (heading < 0) throw new Error(`${source}: no "## Curriculum" section`);
  const start = lines.findIndex((line, i) => i > heading && line.trim().startsWith("|"));
  if (start < 0) throw new Error(`${source}: the Curriculum section has no table`);
  const header = cells(lines[start]).map((h) => h.toLowerCase());
  const column = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0)
      throw new Error(`${source}: the curriculum table has no "${name}" column (it has: ${header.join(", ")})`);
    return index;
  };
  const [notebookCol, teachesCol, seedCol, statusCol] = [
    column("notebook"),
    column("what it teaches"),
    column("seed section"),
    column("status"),
  ];
  const entries: CurriculumEntry[] = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith("|"); i++) {
    const row = cells(lines[i]);
    entries.push({
      notebook: row[notebookCol].replace(/`/g, "").replace(/\.ipynb$/, ""),
      teaches: row[teachesCol],
      seedSection: row[seedCol],
      status: row[statusCol],
    });
  }
  if (entries.length === 0) throw new Error(`${source}: the curriculum table has no rows`);
  return entries;
}

export function readCurriculum(readmePath: string): CurriculumEntry[] {
  return parseCurriculum(fs.readFileSync(readmePath, "utf8"), readmePath);
}
