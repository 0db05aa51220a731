// `npm run site`: the course as a static website in build/site/, built from the executed notebooks.
//
//   npm run site                       build (executing first any notebook without a current executed copy)
//   npm run site -- --no-execute       build from build/executed/ as it is; fail if a notebook has no copy there
//   npm run site -- --serve [--port N] build, then serve it on http://127.0.0.1:N/ (8000 unless told)
//
// What it makes: index.html (the README's introduction and curriculum: what each notebook teaches, its seed
// section and how long it ran), demo.html (notebook 07's SASRec and a Markov chain recommending in the browser
// with TensorFlow.js as the reader picks books: scripts/lib/siteDemo.ts), one page per notebook (<name>.html: cells, outputs and interactive Plotly figures,
// previous / next / contents), notebooks/<name>.ipynb (the executed notebook, to download) and assets/ (JupyterLab's
// cell CSS from nbconvert, plotly.js once for all pages, MathJax 3, the site's CSS). Every reference is a relative
// path to a file inside build/site/: it works offline, from file://, and from any folder of any static host.
//
// The conversion is Jupyter's nbconvert with a template of ours; scripts/lib/siteConvert.ts says why.
//
// Notebooks are executed when their executed copy is missing or its code differs from the notebook (the same
// runner as `npm test`, scripts/run_notebook.py), so the site never shows outputs of code it does not show:
// after `npm test` nothing runs again and the build takes seconds. `--no-execute` (used by the browser test, which
// must not spend half an hour executing) fails instead, saying to run `npm test`.

import * as path from "node:path";
import { buildSite, SITE_DIR } from "./lib/siteBuild";
import { formatBytes } from "./lib/sitePages";
import { serveDirectory } from "./lib/staticServer";

interface Args {
  execute: boolean;
  serve: boolean;
  port: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { execute: true, serve: false, port: 8000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-execute") args.execute = false;
    else if (arg === "--serve") args.serve = true;
    else if (arg === "--port" || arg.startsWith("--port=")) {
      const value = arg.includes("=") ? arg.split("=")[1] : argv[++i];
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port needs a port number, got ${value}`);
      args.port = port;
    } else {
      throw new Error(`unknown argument ${arg} (known: --no-execute, --serve, --port N)`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const result = await buildSite({ execute: args.execute });
  const figures = result.pages.reduce((sum, page) => sum + page.figures, 0);
  console.log(
    `Built ${path.relative(process.cwd(), result.outDir) || "."}/ in ${result.seconds.toFixed(1)} s: ` +
      `${result.pages.length} notebook pages and the index, ${figures} figures, ${result.files} files, ` +
      `${formatBytes(result.bytes)}${result.executed.length ? ` (executed ${result.executed.join(", ")})` : ""}; ` +
      `the demo ${formatBytes(result.demoBytes)}, its models ${result.demoTrained ? "trained now" : "from build/site-demo/"}.`,
  );
  console.log(`Open file://${path.join(SITE_DIR, "index.html")}`);
  if (!args.serve) return;
  const server = await serveDirectory(result.outDir, args.port);
  console.log(`Serving ${result.outDir} at ${server.url} (Ctrl+C stops).`);
}

main().catch((error: Error) => {
  console.error(`npm run site failed: ${error.message}`);
  process.exit(1);
});
