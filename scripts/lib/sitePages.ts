// The site's HTML around nbconvert's cells: one shell for every page (header, the course's contents, local
// scripts and styles only), the index with the curriculum, and the notebook pages with previous / next links.
// Every URL is relative, so the site works from file:// and from any folder of any static host.

export interface SitePage {
  /** The notebook's name, e.g. `00-environment-and-data`; its page is `<name>.html`. */
  name: string;
  /** From its first heading, e.g. "00 · Environment and data". */
  title: string;
  teaches: string;
  seedSection: string;
  /** Seconds the executed copy took to run, or null when it recorded no timings. */
  seconds: number | null;
  /** When it ran (ISO), or null. */
  ranAt: string | null;
  /** The data set its results line names (`dataset` or `corpus`), and the backend it ran on. */
  dataset: string | null;
  backend: string | null;
  figures: number;
}

export interface SiteInfo {
  /** Paragraphs (inline markdown) introducing the course, from the README. */
  intro: string[];
  nbconvert: string;
  builtAt: string;
}

export const ASSETS = "assets/";
export const DOWNLOADS = "notebooks/";

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The inline markdown the README's prose and curriculum use: `code`, **strong**, *emphasis* and [links](url),
 * escaped first so that nothing else becomes HTML.
 */
export function inlineMarkdown(text: string): string {
  const codes: string[] = [];
  // Code spans first, held aside, so that `*` or `[` inside them stays literal.
  let html = escapeHtml(text).replace(/`([^`]+)`/g, (_m, code: string) => {
    codes.push(`<code>${code}</code>`);
    return `\uE000${codes.length - 1}\uE001`;
  });
  html = html
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\*)/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
  return html.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => codes[Number(i)]);
}

/** "45 s", "7 min", "1 h 5 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 59.5) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "1.4 MB", for the build's summary. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

function pageFile(name: string): string {
  return `${name}.html`;
}

function runSummary(page: SitePage): string {
  const parts: string[] = [];
  if (page.seconds !== null) parts.push(`ran in ${formatDuration(page.seconds)}`);
  if (page.dataset) parts.push(`on ${page.dataset}`);
  if (page.backend) parts.push(`(${page.backend} backend)`);
  if (page.ranAt) parts.push(`on ${page.ranAt.slice(0, 10)}`);
  return parts.join(" ");
}

export interface ShellOptions {
  title: string;
  pages: SitePage[];
  /** The page shown, to mark it in the contents (a notebook's name, or DEMO_PAGE); null on the index. */
  current: string | null;
  main: string;
  info: SiteInfo;
  /** Scripts (site-relative) loaded at the end of the body, in order. */
  scripts?: string[];
}

/** The demo page's name: demo.html (see siteDemo.ts). */
export const DEMO_PAGE = "demo";

/** The page around every page's content: header, contents sidebar, local styles and scripts, footer. */
export function shell(options: ShellOptions): string {
  const contents = options.pages
    .map((page) => {
      const current = page.name === options.current ? ' aria-current="page"' : "";
      return `<li><a href="${pageFile(page.name)}"${current}>${escapeHtml(page.title)}</a></li>`;
    })
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${ASSETS}notebook.css">
<link rel="stylesheet" href="${ASSETS}site.css">
<script src="${ASSETS}mathjax-config.js"></script>
<script defer src="${ASSETS}mathjax/tex-svg-full.js" id="MathJax-script"></script>
</head>
<body data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="site-header">
<a class="site-name" href="index.html">recsys-ts</a>
<span class="site-tagline">Recommender systems in TypeScript notebooks</span>
</header>
<div class="site-layout">
<nav class="site-contents" aria-label="Contents">
<h2><a href="index.html">Contents</a></h2>
<ol>
${contents}
</ol>
<p class="site-demo-link"><a href="${pageFile(DEMO_PAGE)}"${options.current === DEMO_PAGE ? ' aria-current="page"' : ""}>Demo: recommendations in your browser</a></p>
</nav>
<div class="site-main">
${options.main}
</div>
</div>
<footer class="site-footer">
Built ${escapeHtml(options.info.builtAt.slice(0, 10))} from the executed notebooks with Jupyter nbconvert
${escapeHtml(options.info.nbconvert)}. Figures: plotly.js; math: MathJax. Everything is served from this site.
</footer>
${(options.scripts ?? []).map((src) => `<script src="${src}"></script>`).join("\n")}
</body>
</html>
`;
}

/** Previous / contents / next, and the notebook's download link. */
function pager(pages: SitePage[], index: number, where: "top" | "bottom"): string {
  const previous = pages[index - 1];
  const next = pages[index + 1];
  const link = (page: SitePage | undefined, rel: "prev" | "next", arrow: string) =>
    page
      ? `<a class="site-${rel}" rel="${rel}" href="${pageFile(page.name)}">${rel === "prev" ? `${arrow} ` : ""}${escapeHtml(page.title)}${rel === "next" ? ` ${arrow}` : ""}</a>`
      : `<span class="site-${rel}"></span>`;
  return `<nav class="site-pager site-pager-${where}" aria-label="Previous and next notebooks">
${link(previous, "prev", "←")}
<a class="site-up" href="index.html">Contents</a>
${link(next, "next", "→")}
</nav>`;
}

export function notebookPage(pages: SitePage[], index: number, cells: string, info: SiteInfo): string {
  const page = pages[index];
  const summary = runSummary(page);
  const main = `${pager(pages, index, "top")}
<p class="site-run">
<a class="site-download" href="${DOWNLOADS}${page.name}.ipynb" download>Download ${escapeHtml(page.name)}.ipynb</a>
${summary ? `<span>Executed notebook: ${escapeHtml(summary)}.</span>` : ""}
</p>
<main class="jp-Notebook site-notebook">
${cells}
</main>
${pager(pages, index, "bottom")}`;
  return shell({ title: `${page.title} · recsys-ts`, pages, current: page.name, main, info });
}

export function indexPage(pages: SitePage[], info: SiteInfo): string {
  const rows = pages
    .map(
      (page) => `<tr>
<td><a href="${pageFile(page.name)}">${escapeHtml(page.title)}</a></td>
<td>${inlineMarkdown(page.teaches)}</td>
<td>${escapeHtml(page.seedSection)}</td>
<td>${page.seconds === null ? "–" : escapeHtml(formatDuration(page.seconds))}${
        page.dataset ? `<br><span class="site-dataset">${escapeHtml(page.dataset)}</span>` : ""
      }</td>
<td><a href="${DOWNLOADS}${page.name}.ipynb" download>.ipynb</a></td>
</tr>`,
    )
    .join("\n");
  const main = `<main class="site-index">
<h1>Recommender systems, from collaborative filtering to BERT, in TypeScript</h1>
${info.intro.map((p) => `<p>${inlineMarkdown(p)}</p>`).join("\n")}
<h2 id="curriculum">Curriculum</h2>
<p>Each page is a notebook as the course's tests executed it, with its outputs and interactive figures.
<em>Seed section</em> is the section of the source text the notebook covers; <em>run time</em> is how long that
execution took, top to bottom, and on which data set.</p>
<table class="site-curriculum">
<thead><tr><th>notebook</th><th>what it teaches</th><th>seed section</th><th>run time</th><th>download</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2 id="demo">Try it in your browser</h2>
<p>The <a href="${pageFile(DEMO_PAGE)}">demo</a> runs notebook 07's SASRec and a Markov chain in this page with
TensorFlow.js: pick a few books and see what each recommends next, and which of your picks SASRec attended to.</p>
<h2 id="run-it">Run it yourself</h2>
<p>With Node.js 20 and Python 3: <code>npm ci &amp;&amp; npm run course</code> opens the notebooks in Jupyter with the
TypeScript kernel; <code>npm test</code> executes every notebook and checks its results.</p>
</main>`;
  return shell({ title: "recsys-ts: recommender systems in TypeScript", pages, current: null, main, info });
}
