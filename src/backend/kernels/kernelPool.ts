// Both cores for the SIMD kernels: a small pool of worker threads running simd.wat on tfjs's own heap.
//
// tfjs's wasm backend runs its kernels on one thread in Node (its threaded build starts its pthreads
// from blob: URLs, which Node's worker_threads refuse: ERR_WORKER_PATH, tfjs issue #3830). recsys-ts
// loads that backend with its memory declared shared (../sharedWasmMemory.ts), so workers instantiate
// simd.wat on the very memory the tensors live in, and a job is split in units that the calling
// thread and the workers claim one at a time, each reading its inputs and writing its outputs in
// place. Nothing is copied. Two kinds of job:
//   - a gemm: a product's output (or, for a batch, its matrices) in blocks, cut across the dimension
//     that costs least to repeat: each block of rows reads all of B, each block of columns all of A,
//     so rows when B is the smaller operand (m ≥ n), columns otherwise. Blocks are whole 6-row and
//     8-column register tiles, so every element of C is computed by the same tile with the same
//     instructions in the same order whatever the split;
//   - rows: one call of a kernel that works row by row (GELU, dropout, softmax, ...) in blocks of rows.
// Results are bitwise identical for any thread count. The workers sleep in Atomics.wait between jobs
// (after checking for the next one for ~0.1 ms) and do not keep the process alive.
//
// Threads: RECSYS_THREADS, else `setKernelThreads`, else the cores available (os.availableParallelism);
// 1 runs every job inline, as does a heap that is not shared (a backend started elsewhere).

import * as os from "node:os";
import { Worker } from "node:worker_threads";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  compiledSimdModule,
  isSharedMemory,
  simdSupported,
  simdVariant,
  wasmMemoryOf,
  type SimdKernels,
  type SimdVariant,
} from "./simd";

/** The environment variable that sets the kernels' thread count, e.g. `RECSYS_THREADS=1`. */
export const THREADS_ENV_VAR = "RECSYS_THREADS";

let configuredThreads: number | undefined;

/** The kernels' thread count: RECSYS_THREADS, else what `setKernelThreads` set, else the cores available. */
export function kernelThreads(): number {
  const fromEnv = process.env[THREADS_ENV_VAR];
  if (fromEnv !== undefined) {
    const threads = Number(fromEnv);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`${THREADS_ENV_VAR} must be a positive integer, got '${fromEnv}'`);
    }
    return threads;
  }
  return configuredThreads ?? os.availableParallelism();
}

/** Sets the kernels' thread count (RECSYS_THREADS, when set, still wins); 1 runs every job inline. */
export function setKernelThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`setKernelThreads: threads must be a positive integer, got ${threads}`);
  }
  configuredThreads = threads;
}

/** Byte addresses in the shared memory of one product's A, B and C. */
export interface PooledProduct {
  a: number;
  b: number;
  c: number;
}

/**
 * A batch of products C_t = A_t·B_t with one shape, in the pool's memory: A(i, p) at
 * a + 4·(i·rowStride + p·colStride), B [k, n] and C [m, n] row-major (ldb = ldc = n).
 */
export interface PooledGemm {
  products: PooledProduct[];
  rowStride: number;
  colStride: number;
  m: number;
  n: number;
  k: number;
}

/** The kernels of simd.wat that work row by row, which a rows job can split. */
export const ROW_KERNELS = [
  "gelu",
  "gelu_grad",
  "dropout",
  "softmax",
  "softmax_grad",
  "softmax_cross_entropy",
  "softmax_cross_entropy_grad",
  "layer_norm",
  "layer_norm_grad",
  "column_sum_rows",
  "adamw",
  "attention",
  "attention_grad",
] as const;
export type RowKernel = (typeof ROW_KERNELS)[number];

/**
 * One call of a row-wise kernel, `kernels[kernel](...args)`, that threads may split into blocks of
 * rows: a block starting at row r gets each argument plus r·perRow[i] (bytes for a pointer, 1 for an
 * element index, 0 for a setting) and its own row count in argument `count`. Blocks are multiples of
 * `rowAlign` rows. Each row's result must depend on that row alone, so that any split gives the same
 * bits.
 */
export interface PooledRows {
  kernel: RowKernel;
  args: number[];
  perRow: number[];
  count: number;
  rows: number;
  rowAlign: number;
}

// The control block shared with the workers (int32 slots), then a job's table.
const GENERATION = 0; // bumped to start a job
const NEXT = 1; // the job's generation (mod 2¹²) in the top 12 bits, the next unclaimed unit below
const FINISHED = 2; // units finished
const QUIT = 3;
const ROW_STRIDE = 4;
const COL_STRIDE = 5;
// A gemm job's shape; a rows job's rows, the index of its count argument and its number of arguments.
const M = 6;
const N = 7;
const K = 8;
const ROW_BLOCK = 9; // rows per unit of work
const BLOCKS = 10; // units per product
const UNITS = 11;
const KIND = 12; // GEMM_JOB or ROWS_JOB
const COL_BLOCK = 13; // columns per unit of work
const COL_BLOCKS = 14; // column blocks per product (units per product = row blocks × this)
const KERNEL = 15; // a rows job's kernel, as an index into ROW_KERNELS
const TABLE = 16; // a gemm job's [a, b, c] address triples, one per product
// A rows job's arguments and their increments per row, as float64s (MAX_ARGS each) over the table's start.
const MAX_ARGS = 16;
const ARGS_F64 = TABLE / 2;
const PER_ROW_F64 = ARGS_F64 + MAX_ARGS;
const GEMM_JOB = 0;
const ROWS_JOB = 1;
/** Products per job: a longer batch runs as several jobs. */
const MAX_PRODUCTS = 1024;
/**
 * Checks of the control block (~5 ns each, so ~0.1 ms) before a thread that waits sleeps in
 * Atomics.wait: a training step's products often come back to back (a gradient's dX and dW), and a
 * worker still awake takes the next one at once, where waking one costs 15-130 µs on a VM. Measured
 * on BERT and BERT4Rec training steps: 2-4% faster, the same with 10 or 100 times as many checks.
 */
const SPIN_ITERATIONS = 20000;
/**
 * Units a job is cut into per thread, so that a thread the OS or the hypervisor holds up is made up
 * for by the others: a job ends when its last unit does. Measured on BERT and BERT4Rec training steps
 * (steps alternating in one process): 16 took 1-4% less time than 4, and the calling thread's wait
 * for the last unit went from 1.5-4 to 1.3-1.7 ms a BERT step.
 */
const UNITS_PER_THREAD = 16;

/**
 * Claims and runs units of job `generation` (described by `control`) on `kernels` until none is left
 * or the job is no longer current. Units are claimed one at a time from a shared counter, so a thread
 * that the OS leaves waiting (the machine is shared) holds up at most the unit it is running, and
 * each unit, a block of rows and columns of one product, is computed whole by whichever thread
 * claimed it. The same function runs in the workers (its source is shipped to them): it uses nothing
 * from outside.
 */
function claimUnits(
  kernels: SimdKernels,
  control: Int32Array,
  generation: number,
  rowKernels: readonly string[],
): void {
  const tag = generation & 0xfff;
  const numbers = new Float64Array(control.buffer);
  for (;;) {
    const next = Atomics.load(control, 1);
    // Another job's counter (this thread woke late), or every unit claimed.
    if (next >>> 20 !== tag || (next & 0xfffff) >= control[11]) return;
    if (Atomics.compareExchange(control, 1, next, next + 1) !== next) continue;
    // The unit is ours, and the job cannot end before it is finished: its parameters are stable.
    const unit = next & 0xfffff;
    if (control[12] === 1) {
      // A block of rows of a row-wise kernel: each argument moved on by its increment per row.
      const [rows, count, argCount, rowBlock] = [control[6], control[7], control[8], control[9]];
      const row0 = unit * rowBlock;
      const args: number[] = [];
      for (let i = 0; i < argCount; i++) args.push(numbers[8 + i] + numbers[24 + i] * row0);
      args[count] = Math.min(rowBlock, rows - row0);
      (kernels as unknown as Record<string, (...values: number[]) => void>)[rowKernels[control[15]]](...args);
      if (Atomics.add(control, 2, 1) + 1 === control[11]) Atomics.notify(control, 2);
      continue;
    }
    const [rowStride, colStride, m, n, k] = [control[4], control[5], control[6], control[7], control[8]];
    const [rowBlock, blocks, colBlock, colBlocks] = [control[9], control[10], control[13], control[14]];
    const product = Math.floor(unit / blocks);
    const block = unit - product * blocks;
    const row0 = Math.floor(block / colBlocks) * rowBlock;
    const col0 = (block % colBlocks) * colBlock;
    const at = 16 + 3 * product;
    kernels.gemm(
      control[at] + 4 * row0 * rowStride,
      rowStride,
      colStride,
      control[at + 1] + 4 * col0,
      n,
      control[at + 2] + 4 * (row0 * n + col0),
      n,
      Math.min(rowBlock, m - row0),
      Math.min(colBlock, n - col0),
      k,
    );
    if (Atomics.add(control, 2, 1) + 1 === control[11]) Atomics.notify(control, 2);
  }
}

// The worker: instantiates the module on the shared memory, then helps with each job.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, controlBuffer, rowKernels } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const control = new Int32Array(controlBuffer);
const claimUnits = ${claimUnits.toString()};
let generation = 0;
for (;;) {
  for (let i = ${SPIN_ITERATIONS}; i > 0 && Atomics.load(control, ${GENERATION}) === generation; i--);
  Atomics.wait(control, ${GENERATION}, generation);
  generation = Atomics.load(control, ${GENERATION});
  if (control[${QUIT}] !== 0) break;
  claimUnits(kernels, control, generation, rowKernels);
}
`;

/** A WebAssembly memory (the project compiles without the DOM typings that declare the API). */
export interface WasmMemory {
  buffer: ArrayBufferLike;
}
interface WebAssemblyApi {
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * `threads` − 1 workers and the calling thread running the jobs of simd.wat in `variant` (gemm and rows
 * jobs) on one shared memory.
 */
export class KernelPool {
  private readonly kernels: SimdKernels;
  private readonly control: Int32Array;
  private readonly workers: Worker[];
  private disposed = false;

  constructor(
    readonly memory: WasmMemory,
    readonly threads: number,
    readonly variant: SimdVariant,
  ) {
    if (!isSharedMemory(memory))
      throw new Error("KernelPool: the memory is not shared (see backend/sharedWasmMemory.ts)");
    const module = compiledSimdModule(variant, true);
    this.kernels = new wasmApi.Instance(module, { env: { memory, log: Math.log } }).exports as unknown as SimdKernels;
    const controlBuffer = new SharedArrayBuffer(4 * (TABLE + 3 * MAX_PRODUCTS));
    this.control = new Int32Array(controlBuffer);
    this.workers = Array.from({ length: threads - 1 }, () => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, controlBuffer, rowKernels: ROW_KERNELS },
      });
      worker.unref(); // an idle pool does not keep the process alive
      return worker;
    });
  }

  /** Runs `job` split between the threads, writing the products' C in place. */
  gemm(job: PooledGemm): void {
    if (this.disposed) throw new Error("KernelPool.gemm: the pool is disposed");
    for (let from = 0; from < job.products.length; from += MAX_PRODUCTS) {
      this.runGemm({ ...job, products: job.products.slice(from, from + MAX_PRODUCTS) });
    }
  }

  /** Stops the workers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, QUIT, 1);
    Atomics.add(this.control, GENERATION, 1);
    Atomics.notify(this.control, GENERATION);
    for (const worker of this.workers) void worker.terminate();
  }

  /** One gemm job of at most MAX_PRODUCTS products. */
  private runGemm({ products, m, n, k, rowStride, colStride }: PooledGemm): void {
    const c = this.control;
    products.forEach((p, t) => c.set([p.a, p.b, p.c], TABLE + 3 * t));
    // Units of work: whole products when there are enough to go round, else blocks of rows or columns
    // (see the header), UNITS_PER_THREAD per thread.
    const perProduct = Math.ceil((UNITS_PER_THREAD * this.threads) / products.length);
    const byRows = perProduct === 1 || m >= n;
    const tiles = (size: number, tile: number) => Math.max(tile, Math.ceil(Math.ceil(size / perProduct) / tile) * tile);
    const rowBlock = byRows ? tiles(m, 6) : m;
    const colBlock = byRows ? n : tiles(n, 8);
    const colBlocks = Math.ceil(n / colBlock);
    const blocks = Math.ceil(m / rowBlock) * colBlocks;
    c[ROW_STRIDE] = rowStride;
    c[COL_STRIDE] = colStride;
    c[M] = m;
    c[N] = n;
    c[K] = k;
    c[ROW_BLOCK] = rowBlock;
    c[COL_BLOCK] = colBlock;
    c[COL_BLOCKS] = colBlocks;
    c[BLOCKS] = blocks;
    c[UNITS] = blocks * products.length;
    c[KIND] = GEMM_JOB;
    this.start();
  }

  /** Runs `job` split between the threads (see PooledRows). */
  rows(job: PooledRows): void {
    if (this.disposed) throw new Error("KernelPool.rows: the pool is disposed");
    const { kernel, args, perRow, count, rows, rowAlign } = job;
    if (args.length !== perRow.length || args.length > MAX_ARGS || !(count >= 0 && count < args.length)) {
      throw new Error(
        `KernelPool.rows(${kernel}): ${args.length} arguments, ${perRow.length} increments, count ${count}`,
      );
    }
    if (rows === 0) return;
    const c = this.control;
    const numbers = new Float64Array(c.buffer);
    numbers.set(args, ARGS_F64);
    numbers.set(perRow, PER_ROW_F64);
    const rowBlock = Math.max(rowAlign, Math.ceil(rows / (UNITS_PER_THREAD * this.threads) / rowAlign) * rowAlign);
    c[KIND] = ROWS_JOB;
    c[KERNEL] = ROW_KERNELS.indexOf(kernel);
    c[M] = rows;
    c[N] = count;
    c[K] = args.length;
    c[ROW_BLOCK] = rowBlock;
    c[UNITS] = Math.ceil(rows / rowBlock);
    this.start();
  }

  /** Starts the job described in the control block, takes part in it, and returns when it is done. */
  private start(): void {
    const c = this.control;
    Atomics.store(c, FINISHED, 0);
    const generation = (c[GENERATION] + 1) | 0;
    Atomics.store(c, NEXT, (generation & 0xfff) << 20);
    Atomics.store(c, GENERATION, generation);
    Atomics.notify(c, GENERATION);
    claimUnits(this.kernels, c, generation, ROW_KERNELS);
    const units = c[UNITS];
    for (let i = SPIN_ITERATIONS; i > 0 && Atomics.load(c, FINISHED) < units; i--);
    for (let finished = Atomics.load(c, FINISHED); finished < units; finished = Atomics.load(c, FINISHED)) {
      Atomics.wait(c, FINISHED, finished);
    }
  }
}

// The process's pools, per memory, thread count and variant, kept (idle workers cost nothing but
// memory) so that switching settings back and forth, as the benchmark does, starts no new workers.
const pools = new WeakMap<WasmMemory, Map<string, KernelPool>>();

/**
 * The process's pool on `memory` for `kernelThreads()` threads and the current SIMD variant, or
 * undefined when one thread is asked for, the engine lacks SIMD or the memory is not shared.
 */
export function kernelPool(memory: WasmMemory): KernelPool | undefined {
  const threads = kernelThreads();
  if (threads <= 1 || !simdSupported || !isSharedMemory(memory)) return undefined;
  const variant = simdVariant();
  const key = `${threads} ${variant}`;
  let byKey = pools.get(memory);
  if (byKey === undefined) pools.set(memory, (byKey = new Map()));
  let pool = byKey.get(key);
  if (pool === undefined) {
    pool = new KernelPool(memory, threads, variant);
    byKey.set(key, pool);
  }
  return pool;
}

/**
 * Rows jobs touching fewer floats than this run in the calling thread: waking a worker costs tens of
 * µs, what GELU takes for ~10,000 floats.
 */
export const POOLED_ROWS_MIN_FLOATS = 65536;

/**
 * Runs a row-wise kernel on `backend`'s heap: split among the pool's threads when its rows hold at
 * least POOLED_ROWS_MIN_FLOATS floats (`floatsPerRow` each), else in this thread on `kernels`.
 */
export function runRowKernel(backend: BackendWasm, kernels: SimdKernels, job: PooledRows, floatsPerRow: number): void {
  const memory = wasmMemoryOf(backend);
  const large = job.rows * floatsPerRow >= POOLED_ROWS_MIN_FLOATS;
  const pool = memory !== undefined && large ? kernelPool(memory) : undefined;
  if (pool !== undefined) pool.rows(job);
  else (kernels as unknown as Record<RowKernel, (...values: number[]) => void>)[job.kernel](...job.args);
}
