// Data loading benchmark: time and memory to load each data set found in the data directory
// ($RECSYS_DATA_DIR, else ~/.cache/recsys-ts; nothing is downloaded).
//
//   npx tsx bench/dataLoading.ts [--json] [--repeat 3]
//
// Each data set is loaded in a child process of its own, so that memory figures are not mixed up:
// `ms` is the fastest of `repeat` loads (the first one includes warm-up), `rssMB` and `heapUsedMB`
// are measured right after the last load, and `peakRssMB` is the process's peak resident memory.
// With --json, one JSON object per line.

import { fork } from "node:child_process";
import { dataDirectory } from "../src/data/cache";
import { loadMovieLens100K, loadMovieLens1M, loadMovieLensLatestSmall } from "../src/data/movielens";
import { loadGoodbooksCatalogue } from "../src/data/goodbooks";

interface Result {
  dataset: string;
  rows: number;
  users: number;
  items: number;
  ms: number;
  rssMB: number;
  heapUsedMB: number;
  peakRssMB: number;
}

/** What each benchmark loads, and its size as (rows, users, items). */
const CASES: Record<string, () => Promise<[string, number, number, number]>> = {
  "ml-1m": async () => {
    const d = await loadMovieLens1M({ download: false });
    return [d.name, d.length, d.numUsers, d.numItems];
  },
  "ml-latest-small": async () => {
    const d = await loadMovieLensLatestSmall({ download: false });
    return [d.name, d.length, d.numUsers, d.numItems];
  },
  "ml-100k": async () => {
    const d = await loadMovieLens100K({ download: false });
    return [d.name, d.length, d.numUsers, d.numItems];
  },
  // 1M rows of book_tags.csv (zipped) plus books.csv: the goodbooks item text.
  "goodbooks-10k catalogue": async () => {
    const c = await loadGoodbooksCatalogue({ download: false });
    return [`${c.name} catalogue`, c.ids.length, 0, c.ids.length];
  },
};

const MB = 1024 * 1024;

async function runOne(name: string, repeat: number): Promise<Result> {
  let best = Infinity;
  let size: [string, number, number, number] = ["", 0, 0, 0];
  for (let r = 0; r < repeat; r++) {
    const start = process.hrtime.bigint();
    size = await CASES[name]();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  const memory = process.memoryUsage();
  return {
    dataset: size[0],
    rows: size[1],
    users: size[2],
    items: size[3],
    ms: Math.round(best),
    rssMB: Math.round(memory.rss / MB),
    heapUsedMB: Math.round(memory.heapUsed / MB),
    peakRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
  };
}

function inChild(name: string, repeat: number): Promise<Result | string> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ["--child", name, "--repeat", String(repeat)], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let message: Result | string | undefined;
    let stderr = "";
    child.on("message", (m: Result | string) => (message = m));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      message !== undefined ? resolve(message) : reject(new Error(`${name}: child exited with ${code}\n${stderr}`)),
    );
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const repeatAt = args.indexOf("--repeat");
  const repeat = repeatAt >= 0 ? Math.max(1, Number(args[repeatAt + 1])) : 3;
  const childAt = args.indexOf("--child");
  if (childAt >= 0) {
    const name = args[childAt + 1];
    try {
      process.send!(await runOne(name, repeat));
    } catch (e) {
      process.send!(`skipped: ${(e as Error).message.split("\n")[0]}`);
    }
    return;
  }
  const json = args.includes("--json");
  if (!json) {
    console.log(`data loading, ${dataDirectory()}, Node ${process.version}, best of ${repeat}`);
    console.log(
      "dataset".padEnd(36) +
        "rows".padStart(10) +
        "users".padStart(8) +
        "items".padStart(8) +
        "ms".padStart(8) +
        "rss MB".padStart(8) +
        "heap MB".padStart(9) +
        "peak MB".padStart(9),
    );
  }
  for (const name of Object.keys(CASES)) {
    const result = await inChild(name, repeat);
    if (typeof result === "string") {
      console.log(json ? JSON.stringify({ dataset: name, skipped: result }) : `${name.padEnd(36)}${result}`);
    } else if (json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(
        result.dataset.padEnd(36) +
          String(result.rows).padStart(10) +
          String(result.users).padStart(8) +
          String(result.items).padStart(8) +
          String(result.ms).padStart(8) +
          String(result.rssMB).padStart(8) +
          String(result.heapUsedMB).padStart(9) +
          String(result.peakRssMB).padStart(9),
      );
    }
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
