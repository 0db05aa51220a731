// The pieces of `npm run site` that need no browser: the README's curriculum, what the site reads from an executed
// notebook, plotly.js moved into one shared file, the inline markdown of the index, our nbconvert template (run by
// the installed nbconvert on a small notebook) and the static server. The built site itself is tested in Chromium
// by test/site/site.test.ts (`npm run test:site`).

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { parseCurriculum, readCurriculum } from "../../scripts/lib/curriculum";
import {
  countFormulas,
  figureCount,
  notebookTitle,
  parseNotebook,
  PLOTLY_MIME,
  resultsLine,
  runSeconds,
  sharePlotlyBundles,
  staleReason,
  type NotebookCell,
  type NotebookJson,
  type SharedScripts,
} from "../../scripts/lib/executedNotebook";
import { findJupyterPython, PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { listNotebooks, type RunReport } from "../../scripts/lib/notebookRunner";
import { ensureExecuted, linkNotebookPages, readmeIntro } from "../../scripts/lib/siteBuild";
import { convertNotebooks, splitConverted } from "../../scripts/lib/siteConvert";
import { formatDuration, inlineMarkdown } from "../../scripts/lib/sitePages";
import { freePort, resolveRequestPath, serveDirectory } from "../../scripts/lib/staticServer";
import { figureMimeBundle, plotlyBundleScript } from "../../src/viz/plotly";

function notebook(cells: NotebookCell[]): NotebookJson {
  return { cells, metadata: {}, nbformat: 4, nbformat_minor: 5 };
}

function code(source: string, outputs: NotebookCell["outputs"] = [], execution?: Record<string, string>): NotebookCell {
  return { cell_type: "code", source, execution_count: null, metadata: execution ? { execution } : {}, outputs };
}

function markdown(source: string): NotebookCell {
  return { cell_type: "markdown", source, metadata: {} };
}

const FAKE_BUNDLE = "(function(){var Plotly={newPlot:function(){}};\nwindow.Plotly = Plotly;\nreturn Plotly;})()";
const figure = { data: [{ type: "bar" as const, x: [1, 2], y: [3, 4] }], layout: { title: { text: "toy" } } };

function figureOutput(id: string, withBundle: boolean) {
  return {
    output_type: "display_data",
    metadata: {},
    data: figureMimeBundle(figure, id, withBundle ? plotlyBundleScript(FAKE_BUNDLE) : ""),
  };
}

describe("npm run site: the curriculum from the README", () => {
  it("has a row for every notebook, with what it teaches and its seed section", () => {
    const rows = new Map(readCurriculum(path.join(PROJECT_ROOT, "README.md")).map((row) => [row.notebook, row]));
    for (const file of listNotebooks()) {
      const row = rows.get(file.replace(/\.ipynb$/, ""));
      assert.ok(row, `README.md's curriculum has no row for ${file}`);
      assert.ok(row.teaches.length > 20 && row.seedSection.length > 0, `${file}: ${JSON.stringify(row)}`);
    }
  });

  it("reads columns by their names and names the file when the table is not there", () => {
    const table = "# x\n\n## Curriculum\n\n| status | notebook | seed section | what it teaches |\n|---|---|---|---|\n";
    assert.deepEqual(parseCurriculum(`${table}| available | \`01-a\` | 1.1 | TF-IDF, \`BM25\` |\n`), [
      { notebook: "01-a", teaches: "TF-IDF, `BM25`", seedSection: "1.1", status: "available" },
    ]);
    assert.throws(() => parseCurriculum("# x\n", "R.md"), /R\.md: no "## Curriculum" section/);
    assert.throws(
      () => parseCurriculum("## Curriculum\n\n| notebook | status |\n|---|---|\n| a | b |\n", "R.md"),
      /R\.md: the curriculum table has no "what it teaches" column/,
    );
  });

  it("takes the README's introduction from the paragraphs before its first section", () => {
    assert.deepEqual(readmeIntro("# T\n\nOne\nline.\n\nTwo [a](b).\n\n## Next\n\nno"), ["One line.", "Two [a](b)."]);
  });
});

describe("npm run site: what it reads from an executed notebook", () => {
  const timed = (busy: string, idle: string) => ({ "iopub.status.busy": busy, "iopub.status.idle": idle });

  it("a copy is stale when its code cells differ from the notebook's, not when only markdown does", () => {
    const ran = notebook([markdown("# A"), code("let x = 1;"), code("x")]);
    assert.equal(staleReason(ran, notebook([markdown("# A, fixed"), code("let x = 1;"), code("x")])), null);
    assert.equal(staleReason(ran, notebook([code("let x = 2;"), code("x")])), "code cell 1 has changed since it ran");
    assert.match(staleReason(ran, notebook([code("let x = 1;")])) ?? "", /ran 2 code cells, the notebook now has 1/);
  });

  it("run time from nbclient's cell timings, title from the first heading, results from the last line", () => {
    const nb = notebook([
      markdown("Intro\n\n# 05 · Attention *and* `code`\n"),
      code("a", [], timed("2026-01-01T10:00:00.000Z", "2026-01-01T10:00:02.000Z")),
      code(
        "b",
        [{ output_type: "stream", name: "stdout", text: ["log line\n", '{"dataset":"ml-100k","backend":"wasm"}\n'] }],
        timed("2026-01-01T10:01:00.000Z", "2026-01-01T10:07:30.500Z"),
      ),
    ]);
    assert.equal(runSeconds(nb), 450.5);
    assert.equal(notebookTitle(nb, "x"), "05 · Attention and code");
    assert.deepEqual(resultsLine(nb), { dataset: "ml-100k", backend: "wasm" });
    assert.equal(runSeconds(notebook([code("a")])), null, "no timings recorded");
    assert.equal(notebookTitle(notebook([code("a")]), "fallback"), "fallback");
  });

  it("counts figures by the Plotly MIME type, and formulas as MathJax finds them", () => {
    const nb = notebook([code("show", [figureOutput("f1", true), figureOutput("f2", false)]), code("x")]);
    assert.equal(figureCount(nb), 2);
    assert.equal(countFormulas("$a$ and $$b$$, `$not$`, \\$5 and \\$6, $c\nd$\n\n$$\ne\n$$"), 4);
    assert.equal(countFormulas("$a\n\nb$"), 0, "inline math does not cross a blank line");
    assert.throws(() => parseNotebook("{", "x.ipynb"), /x\.ipynb is not valid JSON/);
    assert.throws(() => parseNotebook('{"cells": []}', "x.ipynb"), /x\.ipynb is not an nbformat 4 notebook/);
  });
});

describe("npm run site: executing what has no current executed copy", () => {
  let dir: string;
  const write = (folder: string, file: string, nb: NotebookJson) => {
    fs.mkdirSync(path.join(dir, folder), { recursive: true });
    fs.writeFileSync(path.join(dir, folder, file), JSON.stringify(nb));
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-exec-"));
    for (const name of ["a", "b", "c"]) write("notebooks", `${name}.ipynb`, notebook([code(`let ${name} = 1;`)]));
    write("executed", "a.ipynb", notebook([code("let a = 1;")])); // current
    write("executed", "b.ipynb", notebook([code("let b = 0;")])); // code changed since; c: never executed
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function setup(reports: Record<string, Partial<RunReport>> = {}) {
    const ran: string[] = [];
    return {
      ran,
      setup: {
        notebookDir: path.join(dir, "notebooks"),
        executedDir: path.join(dir, "executed"),
        run: async (file: string): Promise<RunReport> => {
          ran.push(file);
          return { ok: true, seconds: 1, executed: path.join(dir, "executed", file), ...reports[file] };
        },
      },
    };
  }
  const files = ["a.ipynb", "b.ipynb", "c.ipynb"];

  it("runs the missing and the changed notebooks, not the current one", async () => {
    const { ran, setup: s } = setup();
    const lines: string[] = [];
    const result = await ensureExecuted(files, true, s, (line) => lines.push(line));
    assert.deepEqual(ran, ["c.ipynb", "b.ipynb"]);
    assert.deepEqual(result, { executed: ["c.ipynb", "b.ipynb"], stale: [] });
    assert.match(
      lines.join("\n"),
      /Executing c\.ipynb \(no executed copy\)[\s\S]*Executing b\.ipynb \(code cell 1 has changed/,
    );
  });

  it("stops at a notebook that fails, with its failing cell", async () => {
    const failed = {
      ok: false,
      failedCell: { index: 3, source: "boom()", ename: "Error", evalue: "boom", stderr: "" },
    };
    const { setup: s } = setup({ "c.ipynb": failed });
    await assert.rejects(
      ensureExecuted(files, true, s, () => {}),
      /c\.ipynb: cell 3 failed with Error: boom[\s\S]*boom\(\)/,
    );
  });

  it("without executing: fails naming the missing notebooks and saying to run npm test; warns about changed ones", async () => {
    const { ran, setup: s } = setup();
    await assert.rejects(
      ensureExecuted(files, false, s, () => {}),
      /no executed copy of c\.ipynb in .*: run npm test/,
    );
    fs.copyFileSync(path.join(dir, "notebooks", "c.ipynb"), path.join(dir, "executed", "c.ipynb"));
    const lines: string[] = [];
    const result = await ensureExecuted(files, false, s, (line) => lines.push(line));
    assert.deepEqual(result, { executed: [], stale: ["b.ipynb"] });
    assert.match(lines.join("\n"), /warning: .*b\.ipynb is not the notebook as it is now \(code cell 1 has changed/);
    assert.deepEqual(ran, []);
  });
});

describe("npm run site: plotly.js shared by every page", () => {
  it("moves the inlined bundle into one file per content, keeps each figure's own script, leaves the input alone", () => {
    const first = notebook([code("a", [figureOutput("f1", true)]), code("b", [figureOutput("f2", false)])]);
    const second = notebook([code("c", [figureOutput("g1", true)])]);
    const before = JSON.stringify(first);
    const shared: SharedScripts = { files: new Map() };
    const out = sharePlotlyBundles(first, shared, "assets/");
    sharePlotlyBundles(second, shared, "assets/");
    assert.equal(JSON.stringify(first), before, "the executed notebook is not modified");
    assert.equal(shared.files.size, 1, "the same bundle is one file");
    const [[name, source]] = [...shared.files];
    assert.match(name, /^plotly-[0-9a-f]{12}\.js$/);
    assert.equal(source, FAKE_BUNDLE);
    const html = String(out.cells[0].outputs![0].data!["text/html"]);
    assert.ok(html.startsWith(`<script type="text/javascript" src="assets/${name}"></script><div id="f1"`), html);
    assert.ok(!html.includes("window.Plotly = Plotly"));
    assert.match(html, /window\.Plotly\.newPlot\("f1"/, "the figure's drawing script stays");
    assert.deepEqual(out.cells[1].outputs, first.cells[1].outputs, "figures without the bundle are untouched");
    assert.ok(PLOTLY_MIME in out.cells[0].outputs![0].data!);
  });
});

describe("npm run site: the index's text and links", () => {
  it("inline markdown: escaped first, then code, strong, emphasis and links", () => {
    assert.equal(
      inlineMarkdown("**a** *b* `x*y<z` [t](https://e.org) <i> & softmax(QKᵀ/√d_k)V"),
      '<strong>a</strong> <em>b</em> <code>x*y&lt;z</code> <a href="https://e.org">t</a> &lt;i&gt; &amp; softmax(QKᵀ/√d_k)V',
    );
  });

  it("durations, and links between notebooks pointing at their pages", () => {
    assert.deepEqual([0.2, 45, 59.4, 62, 450, 3900].map(formatDuration), [
      "1 s",
      "45 s",
      "59 s",
      "1 min",
      "8 min",
      "1 h 5 min",
    ]);
    const names = new Set(["05-attention"]);
    assert.equal(
      linkNotebookPages('<a href="05-attention.ipynb#x">a</a> <a href="other.ipynb">b</a>', names),
      '<a href="05-attention.html#x">a</a> <a href="other.ipynb">b</a>',
    );
  });
});

describe("npm run site: our nbconvert template", function () {
  this.timeout(180_000);

  it("renders cells, markdown math left for MathJax and figures' HTML, with no page around them and nothing from a CDN", function () {
    const python = findJupyterPython();
    if (!python) throw new Error("no Python with Jupyter (nbconvert) was found: run npm run setup");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-site-"));
    try {
      const file = path.join(dir, "toy.ipynb");
      const nb = notebook([
        markdown("# Toy\n\nInline $x_i^\\top y$ and\n\n$$\\frac{a}{b}$$"),
        code('console.log("hi")', [{ output_type: "stream", name: "stdout", text: "hi\n" }]),
        code("plot", [figureOutput("toy-1", false)]),
      ]);
      fs.writeFileSync(file, JSON.stringify(nb));
      const converted = convertNotebooks(python, [file], path.join(dir, "out")).get("toy");
      assert.ok(converted);
      assert.match(converted.css, /\.jp-Cell/, "JupyterLab's cell CSS");
      assert.match(converted.css, /\.highlight/, "pygments' CSS for code");
      assert.doesNotMatch(converted.cells, /<html|<head|<body/i, "cells only: the site makes the page");
      assert.match(converted.cells, /\$x_i\^\\top y\$/, "inline math kept for MathJax");
      assert.match(converted.cells, /\$\$\\frac\{a\}\{b\}\$\$/, "display math kept for MathJax");
      // (nbconvert 7 reorders attributes.)
      assert.match(converted.cells, /<div [^>]*id="toy-1"[^>]*>/, "the figure's HTML");
      assert.match(converted.cells, /window\.Plotly\.newPlot\("toy-1"/, "the figure's script");
      assert.match(converted.cells, />hi\n?<\/pre>/, "the stream output");
      assert.doesNotMatch(converted.cells + converted.css, /<(script|link)[^>]+(src|href)="(https?:)?\/\//);
      assert.doesNotMatch(converted.css, /@import|url\((["']?)(https?:)?\/\//);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the file when the template's markers are missing", () => {
    assert.throws(
      () => splitConverted("<html></html>", "out/x.html"),
      /out\/x\.html: nbconvert's output lacks the markers/,
    );
  });
});

describe("npm run site: the static server", () => {
  it("maps request paths inside the site only", () => {
    const root = path.resolve("/srv/site");
    assert.equal(resolveRequestPath(root, "/a%20b.html?x=1#y"), path.join(root, "a b.html"));
    assert.equal(resolveRequestPath(root, "/../../etc/passwd"), path.join(root, "etc/passwd"));
    assert.equal(resolveRequestPath(root, "/%2e%2e/%2e%2e/etc/passwd"), path.join(root, "etc/passwd"));
    assert.equal(resolveRequestPath(root, "/%E0%A4%A"), null, "malformed escapes");
    assert.equal(resolveRequestPath(root, "/a%00b"), null);
  });

  it("serves files with their types on 127.0.0.1, a folder's index.html, and 404 for the rest", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-serve-"));
    fs.writeFileSync(path.join(dir, "index.html"), "<p>home</p>");
    fs.mkdirSync(path.join(dir, "assets"));
    fs.writeFileSync(path.join(dir, "assets", "a.js"), "1");
    const server = await serveDirectory(dir, 0);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const home = await fetch(server.url);
      assert.equal(home.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(await home.text(), "<p>home</p>");
      const script = await fetch(new URL("assets/a.js", server.url));
      assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal((await fetch(new URL("missing.html", server.url))).status, 404);
      // A raw request: fetch would normalise the dots away before sending.
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: server.port, path: "/../../../etc/passwd" }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
      assert.equal(status, 404);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("freePort gives a port on 127.0.0.1 that a server can then take", async () => {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
    const server = await serveDirectory(os.tmpdir(), port);
    try {
      assert.equal(server.port, port);
    } finally {
      await server.close();
    }
  });
});
