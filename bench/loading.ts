// Streaming load benchmark: writes an ML-20M-shaped ratings.csv (20,000,263 rows by default:
// userId,movieId,rating,timestamp for 138,493 users and 26,744 of 27,278 movies, half-star ratings,
// sorted by user then movie, as GroupLens ships it) to a temp folder, loads it in a fresh child
// process per loader, and reports rows/s and peak RSS against the bytes of the final columns
// (20 per row: user and item Int32, rating Float32, timestamp Float64). Target: peak below 1.5×.
//
//   npx tsx bench/loading.ts [--rows 20000263] [--json] [--src DIR]
//
// The ML-20M layout is read by the MovieLens CSV loader (pointed at the temp folder, row counts
// unchecked) and by loadInteractionsCsv (same file with a generic header). `--src DIR` loads with
// another checkout's src/ (say, main's) to compare. The baseline is the child's RSS after imports.

import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../src/backend/random";

const ML20M = {
  rows: 20_000_263,
  users: 138_493,
  movies: 27_278,
  maxMovieId: 131_262,
  firstTime: 789_652_009,
  lastTime: 1_427_784_002,
};
const MB = 2 ** 20;

interface Result {
  loader: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  columnsMB: number;
  baselineRssMB: number;
  peakRssMB: number;
  /** Peak RSS over the final columns' bytes. */
  peakOverColumns: number;
}

/** Writes movies.csv, and `rows` ratings both as ratings.csv (ML-20M's header) and generic.csv (loadInteractionsCsv's). */
function generate(dir: string, rows: number, seed = 20): void {
  const rng = new Rng(seed);
  const movieIds = Array.from(
    { length: ML20M.movies },
    (_, j) => 1 + Math.floor((j * ML20M.maxMovieId) / ML20M.movies),
  );
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "movies.csv"),
    "movieId,title,genres\n" + movieIds.map((id) => `${id},Movie ${id} (2000),Drama`).join("\n") + "\n",
  );
  const ml = fs.openSync(path.join(dir, "ratings.csv"), "w");
  const generic = fs.openSync(path.join(dir, "generic.csv"), "w");
  fs.writeSync(ml, "userId,movieId,rating,timestamp\n");
  fs.writeSync(generic, "user,item,rating,timestamp\n");
  let text = "";
  const flush = (): void => {
    fs.writeSync(ml, text);
    fs.writeSync(generic, text);
    text = "";
  };
  const users = Math.min(ML20M.users, rows);
  for (let u = 0; u < users; u++) {
    // Rows per user spread evenly; distinct movies in increasing id, by random gaps.
    const count = Math.floor((rows * (u + 1)) / users) - Math.floor((rows * u) / users);
    const meanGap = ML20M.movies / count;
    let j = -1;
    for (let c = 0; c < count; c++) {
      const room = ML20M.movies - 1 - j - (count - c);
      j += 1 + Math.min(room, rng.int(Math.max(1, Math.floor(2 * meanGap))));
      const rating = (1 + rng.int(10)) / 2;
      const time = ML20M.firstTime + rng.int(ML20M.lastTime - ML20M.firstTime);
      text += `${u + 1},${movieIds[j]},${rating},${time}\n`;
    }
    if (text.length > 1 << 22) flush();
  }
  flush();
  fs.closeSync(ml);
  fs.closeSync(generic);
}

/** In the child: load with `loader` from the src/ at `src`, and measure. */
async function measure(loader: string, dir: string, src: string): Promise<Result> {
  const movielens = await import(path.join(src, "data/movielens"));
  const csv = await import(path.join(src, "data/csv"));
  const baseline = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  let rows: number;
  if (loader === "loadMovieLensLatestSmall") {
    const data = await movielens.loadMovieLensLatestSmall({
      dataDir: dir,
      download: false,
      checkRowCounts: false,
      log: () => undefined,
    });
    rows = data.length;
  } else {
    const data = csv.loadInteractionsCsv(path.join(dir, "ml-latest-small", "generic.csv"));
    rows = data.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const columns = rows * 20;
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    loader,
    rows,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecond: Math.round(rows / seconds),
    columnsMB: Math.round(columns / MB),
    baselineRssMB: Math.round(baseline / MB),
    peakRssMB: Math.round(peak / MB),
    peakOverColumns: Math.round((peak / columns) * 100) / 100,
  };
}

function inChild(loader: string, dir: string, src: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ["--child", loader, dir, src], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let result: Result | undefined;
    child.on("message", (m: Result) => (result = m));
    child.on("error", reject);
    child.on("exit", (code) => (result ? resolve(result) : reject(new Error(`${loader}: child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf("--child");
  if (childAt >= 0) {
    const [loader, dir, src] = args.slice(childAt + 1);
    process.send!(await measure(loader, dir, src));
    return;
  }
  const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const rows = Number(option("--rows") ?? ML20M.rows);
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`--rows must be a positive integer, got ${option("--rows")}`);
  const src = path.resolve(option("--src") ?? path.join(__dirname, "../src"));
  const json = args.includes("--json");
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-bench-"));
  try {
    const dir = path.join(root, "ml-latest-small");
    const t0 = Date.now();
    generate(dir, rows);
    const ratings = path.join(dir, "ratings.csv");
    const size = fs.statSync(ratings).size;
    if (!json) {
      console.log(
        `streaming load, ${rows.toLocaleString("en-US")} ML-20M-shaped rows, ratings.csv ${Math.round(size / MB)} MB (written in ${((Date.now() - t0) / 1000).toFixed(1)} s), src ${src}, Node ${process.version}`,
      );
      console.log(
        "loader".padEnd(26) +
          "rows".padStart(12) +
          "s".padStart(8) +
          "rows/s".padStart(12) +
          "columns MB".padStart(12) +
          "base MB".padStart(9) +
          "peak MB".padStart(9) +
          "peak/columns".padStart(14),
      );
    }
    for (const loader of ["loadMovieLensLatestSmall", "loadInteractionsCsv"]) {
      const r = await inChild(loader, root, src);
      if (json) console.log(JSON.stringify({ benchmark: "loading", fileMB: Math.round(size / MB), ...r }));
      else {
        console.log(
          r.loader.padEnd(26) +
            r.rows.toLocaleString("en-US").padStart(12) +
            r.seconds.toFixed(2).padStart(8) +
            r.rowsPerSecond.toLocaleString("en-US").padStart(12) +
            String(r.columnsMB).padStart(12) +
            String(r.baselineRssMB).padStart(9) +
            String(r.peakRssMB).padStart(9) +
            `${r.peakOverColumns.toFixed(2)}×`.padStart(14),
        );
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
