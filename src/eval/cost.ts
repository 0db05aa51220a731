// What a model costs to keep and to serve, beside what it scores: its parameters and their bytes, and
// the latency of one user's top-K list. Training time is the caller's to measure (`timed` below), since
// only the caller knows where training starts and ends (negative sampling, evaluation callbacks).
//
// Parameters are what the model stores to score, whatever kind of model it is: the tfjs variables of a
// trained model, and for the models fitted without gradients the arrays they keep (WALS's factor tables,
// item-kNN's pruned similarity graph, popularity's counts). Bytes are those of the stored dtypes; the
// process's RSS is not used, as the wasm backend's heap grows but never shrinks and would misattribute.
//
// Latency is measured the way a service answers: one user per call of `recommendTopK` (score every item,
// drop the seen ones, keep the top K with the heap), so it includes the scorer's per-call overhead
// (tensor creation, a forward pass) that batch evaluation amortises; the seen items are looked up,
// not re-indexed, per request. Wall-clock time by default, CPU time on request (steadier on a shared
// machine): for benchmarks and notebooks, never for test assertions.

import * as tf from "@tensorflow/tfjs";
import { checkChoice, checkInteger } from "../checks";
import { Interactions } from "../data/interactions";
import type { NamedWeight } from "../nn/layeredModel";
import { recommendTopK } from "./recommendTopK";
import { ItemScorer, toUserArray } from "./scorers";

// ---------------------------------------------------------------------------------------------
// Parameters and bytes
// ---------------------------------------------------------------------------------------------

type StoredArray =
  Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/**
 * Where the weights of a model are found: `namedWeights()` (every tfjs model of the library),
 * `trainableVariables()`, or a list of the tensors and arrays it stores (models fitted without
 * gradients: `[wals.userFactors, wals.itemFactors]`).
 */
export type WeightSource =
  { namedWeights(): NamedWeight[] } | { trainableVariables(): tf.Variable[] } | ReadonlyArray<tf.Tensor | StoredArray>;

export interface WeightSummary {
  /** Numbers stored (scalars of every weight). */
  parameters: number;
  /** Their bytes in the stored dtypes (float32 and int32: 4, int8: 1, float64: 8). */
  bytes: number;
  /** Distinct tensors or arrays. */
  tensors: number;
}

const TF_DTYPE_BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Parameters, bytes and tensors of a model's weights; a weight listed twice (shared) counts once. */
export function summarizeWeights(source: WeightSource): WeightSummary {
  const items = weightList(source);
  const seen = new Set<unknown>();
  const summary: WeightSummary = { parameters: 0, bytes: 0, tensors: 0 };
  for (const item of items) {
    const key = item instanceof tf.Tensor ? item.id : item;
    if (seen.has(key)) continue;
    seen.add(key);
    summary.tensors++;
    if (item instanceof tf.Tensor) {
      const bytes = TF_DTYPE_BYTES[item.dtype];
      if (bytes === undefined) throw new Error(`summarizeWeights: a weight has dtype ${item.dtype}, not a number`);
      summary.parameters += item.size;
      summary.bytes += bytes * item.size;
    } else {
      summary.parameters += item.length;
      summary.bytes += item.byteLength;
    }
  }
  return summary;
}

/** The number of scalars the model stores (see `summarizeWeights`). */
export function countParameters(source: WeightSource): number {
  return summarizeWeights(source).parameters;
}

/** The bytes of the model's weights in their stored dtypes (see `summarizeWeights`). */
export function weightBytes(source: WeightSource): number {
  return summarizeWeights(source).bytes;
}

function weightList(source: WeightSource): ReadonlyArray<tf.Tensor | StoredArray> {
  if (Array.isArray(source)) {
    source.forEach((item, k) => {
      if (!(item instanceof tf.Tensor || ArrayBuffer.isView(item)))
        throw new Error(`summarizeWeights: weights[${k}] is neither a tensor nor a typed array`);
    });
    return source as ReadonlyArray<tf.Tensor | StoredArray>;
  }
  if ("namedWeights" in source && typeof source.namedWeights === "function")
    return source.namedWeights().map((w) => w.variable);
  if ("trainableVariables" in source && typeof source.trainableVariables === "function")
    return source.trainableVariables();
  throw new Error(
    "summarizeWeights: pass a model with namedWeights() or trainableVariables(), or a list of its tensors and arrays",
  );
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

export interface Timed<T> {
  result: T;
  /** Wall-clock seconds. */
  seconds: number;
  /**
   * CPU seconds of this process (user + system, every thread). On a busy machine wall time includes
   * waiting for a core; single-threaded work (the wasm backend) then reads better in CPU time.
   */
  cpuSeconds: number;
}

/** Runs `run` and returns its result with the wall-clock and CPU seconds it took (e.g. a model's training). */
export async function timed<T>(run: () => T | Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await run();
  return { result, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

export interface LatencyOptions {
  /** Length of each top-K list. */
  k: number;
  /** Items each user interacted with here are excluded, as in serving (usually the training data). */
  excludeSeen?: Interactions;
  /** Untimed requests first, so JIT compilation and first-call kernel set-up are not measured. Default 5. */
  warmUp?: number;
  /**
   * "wall" (default): elapsed time, what a user waits for on an otherwise idle machine. "cpu": this
   * process's CPU time (see `Timed.cpuSeconds`), steadier on a shared machine, but it counts every
   * thread, so it over-reads a multi-threaded backend.
   */
  clock?: "wall" | "cpu";
}

export interface LatencyReport {
  /** Requests timed: one per user. */
  users: number;
  k: number;
  clock: "wall" | "cpu";
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  maxMs: number;
}

/**
 * Milliseconds to produce one user's top-K list with `recommendTopK`, one user per request, over
 * `users` (see the file header); median, 95th percentile, mean and maximum.
 */
export function latencyPerUser(scorer: ItemScorer, users: ArrayLike<number>, options: LatencyOptions): LatencyReport {
  const caller = "latencyPerUser";
  const list = toUserArray(caller, users);
  if (list.length === 0) throw new Error(`${caller}: no users to time`);
  const k = checkInteger(caller, "k", options.k, 1);
  const warmUp = checkInteger(caller, "warmUp", options.warmUp ?? 5, 0);
  const clock = checkChoice(caller, "clock", options.clock ?? "wall", ["wall", "cpu"] as const);
  const now = clock === "wall" ? () => performance.now() : () => cpuMs(process.cpuUsage());
  // recommendTopK indexes `excludeSeen` by user on every call, O(its length): handing it the whole
  // training log would time that indexing (about as long as scoring ML-100k), not the model. A service
  // holds the seen items already indexed; each request gets its user's own rows, cut before the timer.
  const rowsOf = options.excludeSeen === undefined ? null : rowsByUser(options.excludeSeen);
  const request = (position: number): (() => void) => {
    const user = list.subarray(position, position + 1);
    const seen = rowsOf === null ? undefined : options.excludeSeen!.select(rowsOf.get(user[0]) ?? []);
    return () => recommendTopK(scorer, user, { k, excludeSeen: seen, batchSize: 1 });
  };
  for (let w = 0; w < warmUp; w++) request(w % list.length)();
  const times = new Float64Array(list.length);
  for (let u = 0; u < list.length; u++) {
    const run = request(u);
    const started = now();
    run();
    times[u] = now() - started;
  }
  times.sort();
  return {
    users: list.length,
    k,
    clock,
    p50Ms: quantile(times, 0.5),
    p95Ms: quantile(times, 0.95),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    maxMs: times[times.length - 1],
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** The row numbers of each user's interactions. */
function rowsByUser(data: Interactions): Map<number, number[]> {
  const rows = new Map<number, number[]>();
  for (let r = 0; r < data.length; r++) {
    const list = rows.get(data.users[r]);
    if (list) list.push(r);
    else rows.set(data.users[r], [r]);
  }
  return rows;
}

/** The q-quantile of ascending `sorted` values, interpolating linearly between ranks (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error("quantile: no values");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}
