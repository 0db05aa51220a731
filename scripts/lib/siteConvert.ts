// Notebook → HTML with Jupyter's own converter, nbconvert, and a template of ours (scripts/site/templates/).
//
// Why nbconvert: it is already a dependency of the course (setup installs it with Jupyter: Debian's 6.5.3 in CI,
// pip's 7.x elsewhere), it is the reference renderer of Jupyter's output formats (ANSI streams, HTML tables,
// text/html figures, markdown with math left for MathJax) and its JupyterLab template gives pages that look like
// the notebook in JupyterLab. The npm alternatives (notebookjs, ipynb2html) reimplement those rules with markdown
// and highlighting libraries of their own choosing, so a notebook would render differently on the site than in
// Jupyter. The template is one small file that extends JupyterLab's and drops its CDN scripts (see there).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./jupyter";

export const TEMPLATE_DIR = path.join(PROJECT_ROOT, "scripts", "site", "templates");
export const TEMPLATE_NAME = "recsys-site";

const CSS_MARK = "<!-- recsys-site:css -->";
const CELLS_MARK = "<!-- recsys-site:cells -->";

export interface ConvertedNotebook {
  /** The CSS the cells need (JupyterLab's, and pygments' for highlighted code), the same for every notebook. */
  css: string;
  /** The cells' HTML. */
  cells: string;
}

/** The version of nbconvert that `python` runs, e.g. "6.5.3". */
export function nbconvertVersion(python: string): string {
  const probe = spawnSync(python, ["-c", "import nbconvert; print(nbconvert.__version__)"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`${python} cannot import nbconvert: ${probe.stderr.trim()}`);
  return probe.stdout.trim();
}

/** Splits what our template writes into CSS and cells; `file` names the output in errors. */
export function splitConverted(html: string, file: string): ConvertedNotebook {
  const cssAt = html.indexOf(CSS_MARK);
  const cellsAt = html.indexOf(CELLS_MARK);
  if (cssAt < 0 || cellsAt < cssAt) {
    throw new Error(`${file}: nbconvert's output lacks the markers of the ${TEMPLATE_NAME} template (was it used?)`);
  }
  const styles = [...html.slice(cssAt + CSS_MARK.length, cellsAt).matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)];
  return { css: styles.map((m) => m[1].trim()).join("\n\n"), cells: html.slice(cellsAt + CELLS_MARK.length).trim() };
}

/**
 * Converts notebooks (paths) with one nbconvert process, writing `<name>.html` into `outDir`, and returns each
 * notebook's CSS and cells by name (file name without `.ipynb`).
 */
export function convertNotebooks(python: string, notebooks: string[], outDir: string): Map<string, ConvertedNotebook> {
  fs.mkdirSync(outDir, { recursive: true });
  const run = spawnSync(
    python,
    [
      "-m",
      "nbconvert",
      "--to",
      "html",
      `--TemplateExporter.extra_template_basedirs=${TEMPLATE_DIR}`,
      "--template",
      TEMPLATE_NAME,
      "--output-dir",
      outDir,
      ...notebooks,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) {
    throw new Error(`nbconvert failed (exit ${run.status}) on ${notebooks.join(", ")}:\n${run.stderr.slice(-4000)}`);
  }
  const converted = new Map<string, ConvertedNotebook>();
  for (const notebook of notebooks) {
    const name = path.basename(notebook, ".ipynb");
    const file = path.join(outDir, `${name}.html`);
    if (!fs.existsSync(file))
      throw new Error(`nbconvert wrote no ${file} for ${notebook}:\n${run.stderr.slice(-4000)}`);
    converted.set(name, splitConverted(fs.readFileSync(file, "utf8"), file));
  }
  return converted;
}
