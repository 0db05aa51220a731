// Where data sets live on disk and how they get there: each public data set has a folder in a data
// directory (option `dataDir`, else $RECSYS_DATA_DIR, else a per-user cache); a missing folder or
// file is downloaded once from the publisher, checked against a pinned sha256, and written with
// temp files and renames so that an interrupted or corrupt download never leaves a file behind.
//
// Checksums are verified when bytes arrive from the network, not on every load: a file in the
// data directory was put there either by a verified download or by the user, and the data
// directory may be read-only (a shared copy), so there is nowhere to keep "already verified"
// markers. `verify: true` hashes the files found against the table below (about 0.1 s for ml-1m).

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { errorText, fileError } from "./delimited";

/**
 * A data set that is neither in the data directory nor downloadable right now (offline, downloads
 * off, publisher unreachable). Callers that have a fallback catch this one; a damaged or malformed
 * file is a different error and is never silently replaced.
 */
export class DatasetUnavailableError extends Error {
  constructor(
    readonly dataset: string,
    message: string,
  ) {
    super(message);
    this.name = "DatasetUnavailableError";
  }
}

/** The public data sets this library can load by name. */
export type DatasetName = "ml-100k" | "ml-1m" | "ml-latest-small" | "goodbooks-10k";

export const DATASET_NAMES: readonly DatasetName[] = ["ml-100k", "ml-1m", "ml-latest-small", "goodbooks-10k"];

/** The values a data set's ratings can take: `min`..`max`, and on a grid of `step` from `min` when given. */
export interface RatingScale {
  min: number;
  max: number;
  /** Ratings are min + k·step (1 for whole stars, 0.5 for half stars); default: any value in range. */
  step?: number;
}

/**
 * What to do when the same (user, item) pair appears on more than one row: "error" (the default)
 * names the file and both lines; "keepLast" keeps the last row; "mean" keeps one row, at the last
 * one's place and with its timestamp, rated the mean of the rows.
 */
export type DuplicatePolicy = "error" | "keepLast" | "mean";

/** Options of the loaders of public data sets. */
export interface DatasetLoadOptions extends ResolveOptions {
  /**
   * Check each file's row count against the published one (default true), so that a cut or
   * emptied copy is an error rather than a smaller data set. Turn off to load a subset of your own.
   */
  checkRowCounts?: boolean;
  /** Repeated (user, item) rows; default "error" (the published files have none). */
  duplicates?: DuplicatePolicy;
}

/** One logical file of a data set. */
export interface DatasetFile {
  /** Paths relative to the data set's folder, tried in order (plain, compressed, partial copies). */
  paths: string[];
  /** Whether loading can go on without it. */
  optional?: boolean;
}

/** Where a data set comes from and what it holds. */
export interface DatasetSource {
  /** The folder name in the data directory ("ml-100k"). */
  name: string;
  /** The official zip archive. */
  url: string;
  /** sha256 of the archive, hex. */
  sha256: string;
  /** Logical files by key ("ratings" → ratings.dat …). */
  files: Record<string, DatasetFile>;
  /** sha256 of individual files by relative path, where known; used by `verify: true`. */
  checksums: Record<string, string>;
  /** Data rows (header and blank lines not counted) of files by relative path, checked on every load. */
  rows?: Record<string, number>;
  /** The scale of the ratings, checked row by row. */
  ratingScale?: RatingScale;
  /** The terms in a line, shown when downloading. */
  terms: string;
}

/*
 * Archive sha256 values are those pinned by TensorFlow Datasets (url_checksums/movielens.txt) for
 * the GroupLens archives and by Ludwig (datasets/configs/goodbooks_books.yaml) for goodbooks-10k.
 * Per-file values are the ones recorded and cross-checked in the shared copy's PROVENANCE.md.
 * ml-latest-small is a "development" data set that GroupLens may replace; the pin is the
 * 2018-09-26 release, and a newer release fails the check instead of silently changing results.
 */
export const DATASET_SOURCES: Readonly<Record<DatasetName, DatasetSource>> = {
  "ml-100k": {
    name: "ml-100k",
    url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    sha256: "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    files: {
      ratings: { paths: ["u.data"] },
      items: { paths: ["u.item"] },
      users: { paths: ["u.user"] },
    },
    checksums: {
      "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
      "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
      "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    },
    rows: { "u.data": 100000, "u.item": 1682, "u.user": 943 },
    ratingScale: { min: 1, max: 5, step: 1 },
    terms: "GroupLens terms: research use only, no redistribution; cite Harper & Konstan 2015",
  },
  "ml-1m": {
    name: "ml-1m",
    url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
    sha256: "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
    files: {
      // The last path is the partial copy (users 1..2999) kept in the course's shared data folder.
      ratings: { paths: ["ratings.dat", "ratings.dat.gz", "subset-users-1-2999/ratings.dat.gz"] },
      items: { paths: ["movies.dat"] },
      users: { paths: ["users.dat"] },
    },
    checksums: {
      "ratings.dat": "506d64ca44484487c11dc2d9a28de5c54948213e6b96285e298afe28d6ea4e0f",
      "movies.dat": "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9",
      "users.dat": "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3",
      "subset-users-1-2999/ratings.dat.gz": "2fedcf5405373a49df4041e3d3fe1e8db9eacf2c77c209ae1f686ea06b7a16d9",
    },
    rows: {
      "ratings.dat": 1000209,
      "ratings.dat.gz": 1000209,
      "subset-users-1-2999/ratings.dat.gz": 487650,
      "movies.dat": 3883,
      "users.dat": 6040,
    },
    ratingScale: { min: 1, max: 5, step: 1 },
    terms: "GroupLens terms: research use only, no redistribution; cite Harper & Konstan 2015",
  },
  "ml-latest-small": {
    name: "ml-latest-small",
    url: "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
    sha256: "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
    files: {
      ratings: { paths: ["ratings.csv"] },
      items: { paths: ["movies.csv"] },
      tags: { paths: ["tags.csv"], optional: true },
    },
    checksums: {
      "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
      "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
      "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    },
    rows: { "ratings.csv": 100836, "movies.csv": 9742, "tags.csv": 3683 },
    ratingScale: { min: 0.5, max: 5, step: 0.5 },
    terms: "GroupLens terms: research use only, non-commercial; cite Harper & Konstan 2015",
  },
  "goodbooks-10k": {
    name: "goodbooks-10k",
    url: "https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip",
    sha256: "261b97b56db61f3fb2ce5aadbb13704d30179fcc986c17ace665a0af9ed00731",
    files: {
      ratings: { paths: ["ratings.csv", "ratings.csv.zip"] },
      // The publisher's 99-row sample; in the repository, not in the release archive.
      sampleRatings: { paths: ["samples/ratings.csv"] },
      items: { paths: ["books.csv"] },
      tags: { paths: ["tags.csv"] },
      bookTags: { paths: ["book_tags.csv", "book_tags.csv.zip"] },
    },
    checksums: {
      "books.csv": "4d21d0e0433128657c752e3a3d0405ac0ec11675d6c70c64cb0abf4ab1acb76a",
      "tags.csv": "87f316957564fa21c316a4f50afc87f07906f478f990eec027aaca00c536c449",
      "book_tags.csv": "8ff2f0659be9ddbe10bf47ba33b5b69024f893f017ac665236f15bc97d862950",
      "book_tags.csv.zip": "16f0e8478ab91e82e701d9e5a936dc51c241cc1b1e5654c2daa5c9451a900c9d",
      "samples/ratings.csv": "c2eba4a10c1a5d2b70b3a61136460eed5f6e963d3c56be6e22b6378fb410b331",
    },
    // ratings.csv: the publisher's quick_look.ipynb counts 5,976,479 rows.
    rows: {
      "ratings.csv": 5976479,
      "ratings.csv.zip": 5976479,
      "samples/ratings.csv": 99,
      "books.csv": 10000,
      "tags.csv": 34252,
      "book_tags.csv": 999912,
      "book_tags.csv.zip": 999912,
    },
    ratingScale: { min: 1, max: 5, step: 1 },
    terms: "CC BY-SA 4.0, goodbooks-10k by Zygmunt Zając (https://github.com/zygmuntz/goodbooks-10k)",
  },
};

export interface ResolveOptions {
  /** The data directory; default $RECSYS_DATA_DIR, else ~/.cache/recsys-ts ($XDG_CACHE_HOME honoured). */
  dataDir?: string;
  /** Download missing files from the publisher (default true). */
  download?: boolean;
  /** Hash the files found against the known sha256 values and throw on a mismatch (default false). */
  verify?: boolean;
  /** Give up a download after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Where progress messages go (default: stderr); pass `() => {}` for silence. */
  log?: (message: string) => void;
}

export interface ResolvedDataset {
  name: string;
  /** The data set's folder. */
  dir: string;
  /** Absolute path of each file found, by key; optional files that are absent are left out. */
  files: Record<string, string>;
}

/** The data directory that `options` select: `dataDir`, else $RECSYS_DATA_DIR, else the per-user cache. */
export function dataDirectory(options: { dataDir?: string } = {}): string {
  if (options.dataDir) return path.resolve(options.dataDir);
  const fromEnv = process.env.RECSYS_DATA_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "recsys-ts");
}

function sourceOf(dataset: DatasetName | DatasetSource): DatasetSource {
  if (typeof dataset !== "string") return dataset;
  const source = (DATASET_SOURCES as Record<string, DatasetSource | undefined>)[dataset];
  if (!source) throw new Error(`unknown data set '${dataset}' (known: ${DATASET_NAMES.join(", ")})`);
  return source;
}

function findFiles(
  source: DatasetSource,
  dir: string,
  keys: readonly string[],
): { found: Record<string, string>; missing: string[] } {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const key of keys) {
    const file = source.files[key];
    if (!file) throw new Error(`data set '${source.name}' has no file '${key}'`);
    const hit = file.paths.map((p) => path.join(dir, p)).find(exists);
    if (hit) found[key] = hit;
    else if (!file.optional) missing.push(key);
  }
  return { found, missing };
}

/** Whether `file` exists. Only absence is false: a folder this user may not read is an error naming it, not "missing". */
function exists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw fileError(file, e);
  }
}

/**
 * Finds a data set's files in the data directory, downloading the publisher's archive first when a
 * needed file is missing. `files` names the keys the caller needs (default: every non-optional
 * file); optional files are returned when present.
 */
export async function resolveDataset(
  dataset: DatasetName | DatasetSource,
  options: ResolveOptions & { files?: readonly string[] } = {},
): Promise<ResolvedDataset> {
  const source = sourceOf(dataset);
  const root = dataDirectory(options);
  const dir = path.join(root, source.name);
  const keys = options.files ?? Object.keys(source.files).filter((k) => !source.files[k].optional);
  const optionalKeys = Object.keys(source.files).filter((k) => source.files[k].optional && !keys.includes(k));
  let { found, missing } = findFiles(source, dir, [...keys, ...optionalKeys]);
  if (missing.length > 0) {
    const wanted = missing.map((k) => source.files[k].paths[0]).join(", ");
    if (options.download === false) {
      throw new DatasetUnavailableError(
        source.name,
        `${source.name}: ${wanted} not found in ${dir} (downloads are off); ` +
          `set RECSYS_DATA_DIR to a folder holding ${source.name}/, or allow downloading from ${source.url}`,
      );
    }
    await downloadDataset(source, dir, options);
    ({ found, missing } = findFiles(source, dir, [...keys, ...optionalKeys]));
    if (missing.length > 0) {
      throw new Error(
        `${source.name}: the archive from ${source.url} holds no ${missing.map((k) => source.files[k].paths[0]).join(", ")}`,
      );
    }
  }
  if (options.verify) verifyFiles(source, dir, Object.values(found));
  return { name: source.name, dir, files: found };
}

/** sha256 of a byte array, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** Checks each file against the source's known sha256 (files without one are skipped). */
export function verifyFiles(source: DatasetSource, dir: string, files: readonly string[]): void {
  for (const file of files) {
    const rel = path.relative(dir, file).split(path.sep).join("/");
    const expected = source.checksums[rel];
    if (expected === undefined) continue;
    let actual: string;
    try {
      actual = sha256Hex(fs.readFileSync(file));
    } catch (e) {
      throw fileError(file, e);
    }
    if (actual !== expected) {
      throw new Error(
        `${file}: sha256 ${actual} does not match the published ${expected}; delete it to download it again`,
      );
    }
  }
}

/**
 * Downloads `source`'s archive, checks its sha256 and extracts it into `dir` (the archive's single
 * top folder, if any, stripped). Every file is written to a temp name first and renamed into place
 * only after the whole archive has been checked and written.
 */
export async function downloadDataset(source: DatasetSource, dir: string, options: ResolveOptions = {}): Promise<void> {
  const log = options.log ?? ((message: string) => console.error(message));
  const hint = `set RECSYS_DATA_DIR to a folder holding ${source.name}/`;
  log(`Downloading ${source.name} from ${source.url} (${source.terms}) ...`);
  let archive: Uint8Array;
  try {
    const response = await fetch(source.url, { signal: AbortSignal.timeout(options.timeoutMs ?? 600_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    archive = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new DatasetUnavailableError(
      source.name,
      `could not download ${source.name} from ${source.url}: ${errorText(e)}; ${hint}`,
    );
  }
  const actual = sha256Hex(archive);
  if (actual !== source.sha256) {
    throw new Error(
      `${source.name}: the archive from ${source.url} has sha256 ${actual}, expected ${source.sha256}; ` +
        `nothing was written (a damaged download, or the publisher replaced the file); ${hint}`,
    );
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(archive);
  } catch (e) {
    throw new Error(`${source.name}: the archive from ${source.url} is not a readable zip (${errorText(e)})`);
  }
  const entries = archiveEntries(members, source.name);
  const tag = `.part-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  const written: Array<[string, string]> = [];
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const [rel, bytes] of entries) {
      const target = path.join(dir, rel);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      written.push([target + tag, target]);
      fs.writeFileSync(target + tag, bytes);
    }
    for (const [temp, target] of written) fs.renameSync(temp, target);
  } catch (e) {
    throw new Error(
      `could not write ${source.name} into ${dir}: ${errorText(e)}; ${hint}, or set it to a writable folder`,
    );
  } finally {
    for (const [temp] of written) fs.rmSync(temp, { force: true });
  }
  log(`${source.name}: ${entries.length} files in ${dir}`);
}

/** The archive's files as [relative path, bytes], without folders, __MACOSX and a common top folder. */
function archiveEntries(members: Record<string, Uint8Array>, name: string): Array<[string, Uint8Array]> {
  const files = Object.keys(members).filter((m) => !m.endsWith("/") && !m.startsWith("__MACOSX/"));
  const top = files.length > 0 && files[0].includes("/") ? files[0].slice(0, files[0].indexOf("/") + 1) : "";
  const strip = top !== "" && files.every((m) => m.startsWith(top)) ? top.length : 0;
  return files.map((m): [string, Uint8Array] => {
    const rel = m.slice(strip);
    if (rel.split("/").some((part) => part === ".." || part === "") || path.isAbsolute(rel)) {
      throw new Error(`${name}: the archive has an unsafe member path '${m}'`);
    }
    return [rel, members[m]];
  });
}
