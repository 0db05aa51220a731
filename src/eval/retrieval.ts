// Retrieval at scale: the K items whose vectors have the largest inner product with a query vector,
// found exactly (every item scored, the library's top-K heap) or approximately with an HNSW graph
// (Malkov and Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical
// Navigable Small World graphs", TPAMI 2020), and the two compared: recall of the approximate lists
// against the exact ones, and queries per second.
//
// Inner product, not cosine. A factor model scores s(u, i) = uᵀv_i, and the norm of v_i is part of the
// score (it tends to grow with an item's popularity in MF and BPR-MF), so the model's own ranking is the
// maximum-inner-product ranking; cosine would re-rank. The two-tower model normalises both towers
// (s = uᵀv/τ with ‖u‖ = ‖v‖ = 1), so there inner product and cosine rank alike, and inner product is
// simply the model's score; one metric covers both kinds of model. HNSW's graph search assumes a
// metric and inner product is not one, but on embeddings like these it reaches high recall anyway
// (measured in bench/cost.ts); an exact reduction to Euclidean search exists (Bachrach et al., RecSys
// 2014: append √(M² − ‖v‖²) to each item) if it ever does not.
//
// The HNSW index comes from usearch (npm "usearch", Unum, Apache-2.0), chosen because its npm tarball
// ships prebuilt binaries for linux-x64, linux-arm64 and macOS: `npm ci` installs it on a clean
// machine that reaches only the npm registry, with no compiler and no download of Node's headers.
// hnswlib-node (the reference hnswlib) compiles with node-gyp on install, which needs a C++ toolchain
// and Node's headers (fetched from nodejs.org when the Node build lacks them); a pure-JS HNSW would
// install anywhere but would measure JavaScript, not what an index costs. usearch 2.25.3 is pinned as
// the last release that supports Node 20 (2.26 requires Node 22). It is loaded lazily, on the first
// index built, so the rest of the library works where the native addon does not load.
//
// usearch's parameters under their HNSW names: M = connectivity (graph neighbours per node),
// efConstruction = expansion_add (candidate list while inserting), efSearch = expansion_search
// (candidate list while searching: recall and cost rise with it). usearch fixes efSearch when an index
// is created; `withEfSearch` re-opens the same graph with another one (a save and load, no rebuild).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkChoice, checkInteger, checkPositive, checkPositiveInteger, checkSeed } from "../checks";
import { TopKSelector } from "../data/topK";
import { TopKRecommendations } from "./recommendTopK";

type Usearch = typeof import("usearch");

// ---------------------------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------------------------

/** Row-major vectors: row r is values[r·dim … (r + 1)·dim). */
export interface VectorTable {
  readonly values: Float32Array;
  readonly dim: number;
}

/** Rows of `table` (vectors.values.length / dim). */
export function tableRows(table: VectorTable): number {
  return table.values.length / table.dim;
}

/**
 * A checked `VectorTable` from a row-major array and its width, or from a [rows, dim] tensor (read, not
 * disposed: the caller owns it). E.g. a two-tower model's item vectors:
 * `vectorTable(model.itemVectors(tf.range(0, model.numItems, 1, "int32")))`.
 */
export function vectorTable(values: Float32Array | tf.Tensor2D, dim?: number): VectorTable {
  if (values instanceof tf.Tensor) {
    if (values.rank !== 2) throw new Error(`vectorTable: the tensor must be [rows, dim], got shape [${values.shape}]`);
    if (dim !== undefined && dim !== values.shape[1])
      throw new Error(`vectorTable: dim ${dim} does not match the tensor's width ${values.shape[1]}`);
    return { values: Float32Array.from(values.dataSync()), dim: values.shape[1] };
  }
  return checkTable("vectorTable", "values", { values, dim: dim as number });
}

function checkTable(caller: string, field: string, table: VectorTable): VectorTable {
  checkPositiveInteger(caller, `${field}.dim`, table.dim);
  if (!(table.values instanceof Float32Array))
    throw new Error(`${caller}: ${field}.values must be a Float32Array (row-major vectors)`);
  if (table.values.length % table.dim !== 0)
    throw new Error(`${caller}: ${field} has ${table.values.length} values, not a multiple of dim ${table.dim}`);
  return table;
}

function checkSameDim(caller: string, queries: VectorTable, dim: number): void {
  checkTable(caller, "queries", queries);
  if (queries.dim !== dim) throw new Error(`${caller}: queries have dim ${queries.dim} but the items have ${dim}`);
}

/** Query indices 0..n−1: the `users` of the returned lists. */
function rowIds(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, r) => r);
}

export interface GaussianVectorsConfig {
  seed: number;
  /** Scale each vector to unit length, as a two-tower model's vectors are. Default true. */
  normalize?: boolean;
}

/**
 * `count` vectors drawn from the Gaussian fitted to `like`'s rows (their mean and covariance), for
 * scaling experiments past the size of a real catalogue: a catalogue of 100,000 items that has the
 * geometry of trained embeddings (a few dominant directions), which is what decides how well a graph
 * index works. Isotropic random vectors would be much harder for any index than real embeddings.
 */
export function gaussianVectorsLike(like: VectorTable, count: number, config: GaussianVectorsConfig): VectorTable {
  const caller = "gaussianVectorsLike";
  checkTable(caller, "like", like);
  checkInteger(caller, "count", count, 0);
  const d = like.dim;
  const n = tableRows(like);
  if (n < 2) throw new Error(`${caller}: need at least 2 rows to estimate a covariance, got ${n}`);
  const rng = new Rng(checkSeed(caller, config.seed));
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += like.values[r * d + c] / n;
  const cov = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < d; a++) {
      const xa = like.values[r * d + a] - mean[a];
      for (let b = 0; b <= a; b++) cov[a * d + b] += (xa * (like.values[r * d + b] - mean[b])) / (n - 1);
    }
  }
  // Cholesky factor L (Σ = LLᵀ, lower triangle), with a little jitter: Σ of fewer rows than dimensions,
  // or of collinear ones, is only semi-definite.
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  const jitter = 1e-9 * (trace / d) + 1e-30;
  const lower = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let diagonal = cov[j * d + j] + jitter;
    for (let k = 0; k < j; k++) diagonal -= lower[j * d + k] ** 2;
    lower[j * d + j] = Math.sqrt(Math.max(diagonal, jitter));
    for (let i = j + 1; i < d; i++) {
      let x = cov[i * d + j];
      for (let k = 0; k < j; k++) x -= lower[i * d + k] * lower[j * d + k];
      lower[i * d + j] = x / lower[j * d + j];
    }
  }
  const normalize = config.normalize ?? true;
  const out = new Float32Array(count * d);
  const z = new Float64Array(d);
  const x = new Float64Array(d);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < d; c++) z[c] = rng.normal();
    let norm = 0;
    for (let a = 0; a < d; a++) {
      let value = mean[a];
      for (let k = 0; k <= a; k++) value += lower[a * d + k] * z[k];
      x[a] = value;
      norm += value * value;
    }
    const scale = normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
    for (let a = 0; a < d; a++) out[r * d + a] = x[a] * scale;
  }
  return { values: out, dim: d };
}

// ---------------------------------------------------------------------------------------------
// Exact search
// ---------------------------------------------------------------------------------------------

export interface ExactIndexConfig {
  /** Queries scored per matrix product. Default 256. */
  batchSize?: number;
}

/**
 * Exact maximum-inner-product search: every item scored by one matrix product per batch of queries
 * (tfjs, so the fastest backend does it), then the top K of each row with the library's heap. The
 * item matrix stays on the backend between searches; call `dispose()` when done.
 */
export class ExactIndex {
  readonly size: number;
  readonly dim: number;
  private readonly batchSize: number;
  private items: tf.Tensor2D | null; // [dim, size]

  constructor(items: VectorTable, config: ExactIndexConfig = {}) {
    checkTable("ExactIndex", "items", items);
    this.dim = items.dim;
    this.size = tableRows(items);
    this.batchSize = checkPositiveInteger("ExactIndex", "batchSize", config.batchSize ?? 256);
    // Stored as Vᵀ [dim, size]: q·Vᵀ with a transposed operand is 15× slower for one query on wasm
    // (2.5 against 39 ms at 100,000 × 32).
    this.items = tf.tidy(() => tf.transpose(tf.tensor2d(items.values, [this.size, this.dim])));
  }

  /** Each query's min(k, size) best items, best first (ties: lower item index); row r is query r. */
  search(queries: VectorTable, k: number): TopKRecommendations {
    checkPositiveInteger("ExactIndex.search", "k", k);
    checkSameDim("ExactIndex.search", queries, this.dim);
    const items = this.items;
    if (items === null) throw new Error("ExactIndex.search: the index was disposed");
    const n = tableRows(queries);
    const out = emptyLists(n, k);
    const selector = new TopKSelector(k);
    for (let start = 0; start < n; start += this.batchSize) {
      const rows = Math.min(this.batchSize, n - start);
      const block = queries.values.subarray(start * this.dim, (start + rows) * this.dim);
      const scores = tf.tidy(() => tf.matMul(tf.tensor2d(block, [rows, this.dim]), items)); // [rows, I]
      const data = scores.dataSync();
      scores.dispose();
      for (let r = 0; r < rows; r++) {
        const row = start + r;
        out.counts[row] = selector.select(data, r * this.size, this.size, null, out.items, out.scores, row * k, row);
      }
    }
    return out;
  }

  dispose(): void {
    this.items?.dispose();
    this.items = null;
  }
}

/** The exact top-K items of each query by inner product: an `ExactIndex` built, searched and disposed. */
export function exactTopK(queries: VectorTable, items: VectorTable, k: number): TopKRecommendations {
  const index = new ExactIndex(items);
  try {
    return index.search(queries, k);
  } finally {
    index.dispose();
  }
}

function emptyLists(n: number, k: number): TopKRecommendations {
  return new TopKRecommendations(
    rowIds(n),
    k,
    new Int32Array(n * k).fill(-1),
    new Float32Array(n * k).fill(NaN),
    new Int32Array(n),
  );
}

// ---------------------------------------------------------------------------------------------
// Approximate search (HNSW)
// ---------------------------------------------------------------------------------------------

export interface ApproximateIndexConfig {
  /** M, graph neighbours per node (usearch's connectivity). Default 16. */
  M?: number;
  /** efConstruction, the candidate list kept while inserting. Default 128. */
  efConstruction?: number;
  /** efSearch, the candidate list kept while searching. Default 64. */
  efSearch?: number;
  /**
   * Threads for building and searching. Default 1: one thread builds the same graph on every run (its
   * level draws use a fixed seed), and single-threaded queries per second compare fairly with the
   * single-threaded exact search. 0 lets usearch use every core.
   */
  threads?: number;
}

/**
 * An HNSW index over item vectors for approximate maximum-inner-product search (see the file header).
 * Holds native memory, released when the object is garbage-collected.
 */
export class ApproximateIndex {
  readonly size: number;
  readonly dim: number;
  readonly config: Readonly<Required<ApproximateIndexConfig>>;

  private constructor(
    private readonly index: import("usearch").Index,
    size: number,
    dim: number,
    config: Required<ApproximateIndexConfig>,
  ) {
    this.size = size;
    this.dim = dim;
    this.config = Object.freeze({ ...config });
  }

  /** Builds the graph over `items`; item r gets key r. */
  static build(items: VectorTable, config: ApproximateIndexConfig = {}): ApproximateIndex {
    const caller = "ApproximateIndex.build";
    checkTable(caller, "items", items);
    const resolved = resolveConfig(caller, config);
    const size = tableRows(items);
    if (size === 0) throw new Error(`${caller}: no items to index`);
    const index = newIndex(items.dim, resolved);
    const keys = new BigUint64Array(size);
    for (let r = 0; r < size; r++) keys[r] = BigInt(r);
    index.add(keys, items.values, resolved.threads);
    return new ApproximateIndex(index, size, items.dim, resolved);
  }

  /**
   * Each query's approximate top-min(k, size) items, best first, with their inner products; row r is
   * query r. A row may hold fewer than k items when the graph search finds fewer (counts says).
   */
  search(queries: VectorTable, k: number): TopKRecommendations {
    const caller = "ApproximateIndex.search";
    checkPositiveInteger(caller, "k", k);
    checkSameDim(caller, queries, this.dim);
    const n = tableRows(queries);
    const out = emptyLists(n, k);
    if (n === 0) return out;
    const wanted = Math.min(k, this.size);
    // usearch answers one query with Matches (its own hits only) and several with BatchMatches
    // (k slots per query, `counts` of them filled).
    const matches = this.index.search(queries.values, wanted, this.config.threads) as
      import("usearch").Matches | import("usearch").BatchMatches;
    const counts = "counts" in matches ? matches.counts : [BigInt(matches.keys.length)];
    for (let r = 0; r < n; r++) {
      const count = Math.min(Number(counts[r]), wanted);
      out.counts[r] = count;
      for (let j = 0; j < count; j++) {
        out.items[r * k + j] = Number(matches.keys[r * wanted + j]);
        out.scores[r * k + j] = 1 - matches.distances[r * wanted + j]; // usearch's "ip" distance is 1 − uᵀv
      }
    }
    return out;
  }

  /** The same graph searched with another efSearch (re-opened from a temporary file; no rebuild). */
  withEfSearch(efSearch: number): ApproximateIndex {
    const config = { ...this.config, efSearch };
    const resolved = resolveConfig("ApproximateIndex.withEfSearch", config);
    const copy = newIndex(this.dim, resolved);
    withTemporaryFile((file) => {
      this.index.save(file);
      copy.load(file);
    });
    return new ApproximateIndex(copy, this.size, this.dim, resolved);
  }

  /** Bytes of the index as saved: the vectors plus the graph (what serving it needs in memory). */
  serializedBytes(): number {
    let bytes = 0;
    withTemporaryFile((file) => {
      this.index.save(file);
      bytes = fs.statSync(file).size;
    });
    return bytes;
  }
}

function resolveConfig(caller: string, config: ApproximateIndexConfig): Required<ApproximateIndexConfig> {
  return {
    M: checkInteger(caller, "M", config.M ?? 16, 2),
    efConstruction: checkPositiveInteger(caller, "efConstruction", config.efConstruction ?? 128),
    efSearch: checkPositiveInteger(caller, "efSearch", config.efSearch ?? 64),
    threads: checkInteger(caller, "threads", config.threads ?? 1, 0),
  };
}

/** usearch, loaded on first use (Node's require cache keeps it), so importing the library loads no native addon. */
function loadUsearch(): Usearch {
  try {
    return require("usearch") as Usearch;
  } catch (error) {
    throw new Error(
      `ApproximateIndex: the usearch native addon did not load on ${process.platform}-${process.arch} ` +
        `(prebuilt for linux-x64, linux-arm64 and macOS; elsewhere npm must compile it): ${String(error)}`,
    );
  }
}

function newIndex(dim: number, config: Required<ApproximateIndexConfig>): import("usearch").Index {
  const usearch = loadUsearch();
  return new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.IP,
    quantization: usearch.ScalarKind.F32,
    connectivity: config.M,
    expansion_add: config.efConstruction,
    expansion_search: config.efSearch,
    multi: false,
  });
}

function withTemporaryFile(use: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-hnsw-"));
  try {
    use(path.join(dir, "index.usearch"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing the two
// ---------------------------------------------------------------------------------------------

/**
 * Recall@K of approximate lists against exact ones: the mean over queries of |approx ∩ exact| / |exact|,
 * each list cut at `k` (default: the exact lists' K). 1 means the index found every true neighbour.
 * Exact ties at the K-th score can make a correct approximate list look like a miss; with real-valued
 * embeddings they are rare. (Named for what it measures; `recallAtK` in metrics.ts is the ranking metric.)
 */
export function annRecall(approximate: TopKRecommendations, exact: TopKRecommendations, k?: number): number {
  const cut = checkPositiveInteger("annRecall", "k", k ?? exact.k);
  if (approximate.length !== exact.length)
    throw new Error(`annRecall: ${approximate.length} approximate lists but ${exact.length} exact ones`);
  let sum = 0;
  let counted = 0;
  for (let r = 0; r < exact.length; r++) {
    const truth = exact.itemsOf(r).subarray(0, cut);
    if (truth.length === 0) continue;
    const found = new Set(approximate.itemsOf(r).subarray(0, cut));
    let hits = 0;
    for (const item of truth) if (found.has(item)) hits++;
    sum += hits / truth.length;
    counted++;
  }
  return counted === 0 ? NaN : sum / counted;
}

export interface ThroughputOptions {
  /** Queries per call of `search`: 1 measures one request at a time, larger values batch. Default 1. */
  batchSize?: number;
  /** Keep cycling through the queries until this much time has passed. Default 1 s. */
  minSeconds?: number;
  /** Untimed calls first (JIT, backend kernels). Default 2. */
  warmUp?: number;
  /**
   * "wall" (default): elapsed time. "cpu": this process's CPU time, steadier on a shared machine; it counts
   * every thread, so use it with single-threaded searches (`threads: 1`, the wasm backend).
   */
  clock?: "wall" | "cpu";
}

export interface ThroughputReport {
  queriesPerSecond: number;
  /** Queries answered in the timed part. */
  queries: number;
  seconds: number;
  batchSize: number;
  clock: "wall" | "cpu";
}

/**
 * Queries per second of `search` (e.g. `(q) => index.search(q, 10)`) over `queries`, sent `batchSize`
 * at a time, on this thread. A measurement for benchmarks and notebooks, never for test assertions.
 */
export function queriesPerSecond(
  search: (queries: VectorTable) => unknown,
  queries: VectorTable,
  options: ThroughputOptions = {},
): ThroughputReport {
  const caller = "queriesPerSecond";
  checkTable(caller, "queries", queries);
  const batchSize = checkPositiveInteger(caller, "batchSize", options.batchSize ?? 1);
  const minSeconds = checkPositive(caller, "minSeconds", options.minSeconds ?? 1);
  const warmUp = checkInteger(caller, "warmUp", options.warmUp ?? 2, 0);
  const clock = checkChoice(caller, "clock", options.clock ?? "wall", ["wall", "cpu"] as const);
  const seconds =
    clock === "wall"
      ? () => performance.now() / 1000
      : () => {
          const used = process.cpuUsage();
          return (used.user + used.system) / 1e6;
        };
  const n = tableRows(queries);
  if (n === 0) throw new Error(`${caller}: no queries`);
  const dim = queries.dim;
  const batchAt = (start: number): VectorTable => ({
    values: queries.values.subarray(start * dim, Math.min(start + batchSize, n) * dim),
    dim,
  });
  let start = 0;
  const next = (): number => {
    const batch = batchAt(start);
    search(batch);
    const answered = tableRows(batch);
    start = start + batchSize >= n ? 0 : start + batchSize;
    return answered;
  };
  for (let w = 0; w < warmUp; w++) next();
  start = 0;
  let answered = 0;
  const began = seconds();
  let elapsed = 0;
  do {
    answered += next();
    elapsed = seconds() - began;
  } while (elapsed < minSeconds);
  return { queriesPerSecond: answered / elapsed, queries: answered, seconds: elapsed, batchSize, clock };
}
