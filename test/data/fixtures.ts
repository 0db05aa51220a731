// Helpers for the data tests: temp folders with hand-written files, and the shared real data sets
// (RECSYS_DATA_DIR, else ../shared/datasets beside the repository), which tests skip when absent.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A fresh temp folder; removed by `removeTempDir`. */
export function makeTempDir(prefix = "recsys-data-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes `content` (text as UTF-8 unless given as bytes) at `dir/rel`, creating folders. Returns the path. */
export function writeFile(dir: string, rel: string, content: string | Uint8Array): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** Every file under `dir`, relative, sorted ([] when `dir` does not exist). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** The folder holding the shared real data sets, or undefined when there is none. */
export function sharedDataDir(): string | undefined {
  const candidates = [process.env.RECSYS_DATA_DIR, path.resolve(__dirname, "../../../shared/datasets")];
  return candidates.find((dir): dir is string => !!dir && fs.existsSync(dir));
}

/** The shared copy of data set `name`, or undefined (the test should then skip). */
export function sharedDataset(name: string): string | undefined {
  const root = sharedDataDir();
  return root && fs.existsSync(path.join(root, name)) ? root : undefined;
}

export const quiet = (): void => undefined;
