// Both cores for the SIMD gemm: a small pool of worker threads over one shared WebAssembly memory.
//
// tfjs's wasm backend runs single-threaded in Node (its threaded build loads its pthread workers from
// blob: URLs, which Node's worker_threads refuse: ERR_WORKER_PATH, tfjs issue #3830), and its memory
// is not shared. So a product large enough to pay for it is copied into a shared memory (A, B: O(mk +
// kn) against O(mnk) arithmetic), its output (or, for a batch, its matrices) is split in blocks
// that the calling thread and the workers claim one at a time, each running the same gemm of simd.wat
// on the shared memory, and C is copied back. A product is cut across the dimension that costs
// least to repeat: each block of rows reads all of B, each block of columns all of A, so rows when
// B is the smaller operand (m ≥ n), columns otherwise. Blocks are whole 6-row and 8-column register
// tiles, so every element of C is computed by the same tile with the same instructions in the same
// order whatever the split: results are bitwise identical for any thread count. The workers sleep in
// Atomics.wait between products and do not keep the process alive.
//
// Threads: RECSYS_THREADS, else `setGemmThreads`, else 1, which runs every product inline. One by
// default because the copies and the wake-ups cost more than the second core saves on most of the
// course's products: on 2 cores, products under ~50 MFLOP took 20-40% longer on 2 threads (1024×64×32:
// 246 → 334 µs), five Transformer steps took 3-18% less time and one 12% more (bench/engine.ts
// --threads 1,2), and notebook 04 as a whole took 537 s on 2 threads against 472 s on 1.
// RECSYS_THREADS=2 pays for long runs of large products (a 2048×256×256 product: 15.2 → 8.9 ms).

import { Worker } from "node:worker_threads";
import { sharedMemoryModuleBytes, simdSupported, simdVariant, type SimdKernels, type SimdVariant } from "./simd";

/** The environment variable that sets the gemm's thread count, e.g. `RECSYS_THREADS=1`. */
export const THREADS_ENV_VAR = "RECSYS_THREADS";

let configuredThreads: number | undefined;

/** The gemm's thread count: RECSYS_THREADS, else what `setGemmThreads` set, else 1 (see the header). */
export function gemmThreads(): number {
  const fromEnv = process.env[THREADS_ENV_VAR];
  if (fromEnv !== undefined) {
    const threads = Number(fromEnv);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`${THREADS_ENV_VAR} must be a positive integer, got '${fromEnv}'`);
    }
    return threads;
  }
  return configuredThreads ?? 1;
}

/** Sets the gemm's thread count (RECSYS_THREADS, when set, still wins); 1 runs every product inline. */
export function setGemmThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`setGemmThreads: threads must be a positive integer, got ${threads}`);
  }
  configuredThreads = threads;
}

/** Where one product's operands lie in the source memory, as byte offsets from the regions' starts. */
export interface PooledProduct {
  a: number;
  b: number;
  c: number;
}

/**
 * A batch of products C_t = A_t·B_t with one shape: A(i, p) at a + 4·(i·rowStride + p·colStride),
 * B [k, n] and C [m, n] row-major (ldb = ldc = n). The operands are inside three regions of `heap`
 * (A's, B's, C's), copied in whole.
 */
export interface PooledGemm {
  heap: Uint8Array;
  aRegion: { offset: number; bytes: number };
  bRegion: { offset: number; bytes: number };
  cRegion: { offset: number; bytes: number };
  products: PooledProduct[];
  rowStride: number;
  colStride: number;
  m: number;
  n: number;
  k: number;
}

// The control block shared with the workers (int32 slots).
const GENERATION = 0; // bumped to start a job
const NEXT = 1; // the job's generation (mod 2¹²) in the top 12 bits, the next unclaimed unit below
const FINISHED = 2; // units finished
const QUIT = 3;
const ROW_STRIDE = 4;
const COL_STRIDE = 5;
const M = 6;
const N = 7;
const K = 8;
const ROW_BLOCK = 9; // rows per unit of work
const BLOCKS = 10; // units per product
const UNITS = 11;
const TABLE = 12; // byte offset of the [a, b, c] address triples, one per product
const COL_BLOCK = 13; // columns per unit of work
const COL_BLOCKS = 14; // column blocks per product (units per product = row blocks × this)
const CONTROL_SLOTS = 16;

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
  memory: { buffer: ArrayBuffer },
  control: Int32Array,
  generation: number,
): void {
  const tag = generation & 0xfff;
  for (;;) {
    const next = Atomics.load(control, 1);
    // Another job's counter (this thread woke late), or every unit claimed.
    if (next >>> 20 !== tag || (next & 0xfffff) >= control[11]) return;
    if (Atomics.compareExchange(control, 1, next, next + 1) !== next) continue;
    // The unit is ours, and the job cannot end before it is finished: its parameters are stable.
    const unit = next & 0xfffff;
    const [rowStride, colStride, m, n, k] = [control[4], control[5], control[6], control[7], control[8]];
    const [rowBlock, blocks, table, colBlock, colBlocks] = [
      control[9],
      control[10],
      control[12],
      control[13],
      control[14],
    ];
    const product = Math.floor(unit / blocks);
    const block = unit - product * blocks;
    const row0 = Math.floor(block / colBlocks) * rowBlock;
    const col0 = (block % colBlocks) * colBlock;
    const at = (table >> 2) + 3 * product;
    const addresses = new Int32Array(memory.buffer, 0, at + 3);
    kernels.gemm(
      addresses[at] + 4 * row0 * rowStride,
      rowStride,
      colStride,
      addresses[at + 1] + 4 * col0,
      n,
      addresses[at + 2] + 4 * (row0 * n + col0),
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
const { module, memory, controlBuffer } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const control = new Int32Array(controlBuffer);
const claimUnits = ${claimUnits.toString()};
let generation = 0;
for (;;) {
  Atomics.wait(control, ${GENERATION}, generation);
  generation = Atomics.load(control, ${GENERATION});
  if (control[${QUIT}] !== 0) break;
  claimUnits(kernels, memory, control, generation);
}
`;

/** The WebAssembly API calls used here (the project compiles without the DOM typings that declare it). */
interface SharedMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const PAGE = 65536;

const sharedModules: Partial<Record<SimdVariant, object>> = {};

/** `threads` − 1 workers and the calling thread running products of `variant`'s gemm on one shared memory. */
export class GemmPool {
  private readonly memory: SharedMemory;
  private readonly kernels: SimdKernels;
  private readonly control: Int32Array;
  private readonly workers: Worker[];
  private disposed = false;

  constructor(
    readonly threads: number,
    readonly variant: SimdVariant,
  ) {
    // One compiled module per variant for the process, so that V8's tier-up to optimised code (which
    // the workers share with the calling thread) happens once.
    const module = (sharedModules[variant] ??= new wasmApi.Module(sharedMemoryModuleBytes(variant)));
    this.memory = new wasmApi.Memory({ initial: 16, maximum: 65536, shared: true });
    this.kernels = new wasmApi.Instance(module, { env: { memory: this.memory, log: Math.log } })
      .exports as unknown as SimdKernels;
    const controlBuffer = new SharedArrayBuffer(4 * CONTROL_SLOTS);
    this.control = new Int32Array(controlBuffer);
    this.workers = Array.from({ length: threads - 1 }, () => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, controlBuffer },
      });
      worker.unref(); // an idle pool does not keep the process alive
      return worker;
    });
  }

  /** Runs `job` split between the threads; C's region of `job.heap` receives the products. */
  gemm(job: PooledGemm): void {
    if (this.disposed) throw new Error("GemmPool.gemm: the pool is disposed");
    const { heap, aRegion, bRegion, cRegion, products, m } = job;
    const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
    const aAt = 0;
    const bAt = align(aRegion.bytes);
    const cAt = bAt + align(bRegion.bytes);
    const tableAt = cAt + align(cRegion.bytes);
    const end = tableAt + 12 * products.length;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    const shared = new Uint8Array(this.memory.buffer);
    shared.set(heap.subarray(aRegion.offset, aRegion.offset + aRegion.bytes), aAt);
    shared.set(heap.subarray(bRegion.offset, bRegion.offset + bRegion.bytes), bAt);
    const table = new Int32Array(this.memory.buffer, tableAt, 3 * products.length);
    products.forEach((p, t) => table.set([aAt + p.a, bAt + p.b, cAt + p.c], 3 * t));

    // Units of work: whole products when there are enough to go round, else blocks of rows or columns
    // (see the header), about four per thread so that a slow thread is made up for.
    const perProduct = Math.ceil((4 * this.threads) / products.length);
    const { n } = job;
    const byRows = perProduct === 1 || m >= n;
    const tiles = (size: number, tile: number) => Math.max(tile, Math.ceil(Math.ceil(size / perProduct) / tile) * tile);
    const rowBlock = byRows ? tiles(m, 6) : m;
    const colBlock = byRows ? n : tiles(n, 8);
    const colBlocks = Math.ceil(n / colBlock);
    const blocks = Math.ceil(m / rowBlock) * colBlocks;
    const c = this.control;
    c[ROW_STRIDE] = job.rowStride;
    c[COL_STRIDE] = job.colStride;
    c[M] = m;
    c[N] = job.n;
    c[K] = job.k;
    c[ROW_BLOCK] = rowBlock;
    c[COL_BLOCK] = colBlock;
    c[COL_BLOCKS] = colBlocks;
    c[BLOCKS] = blocks;
    c[UNITS] = blocks * products.length;
    c[TABLE] = tableAt;
    Atomics.store(c, FINISHED, 0);
    const generation = (c[GENERATION] + 1) | 0;
    Atomics.store(c, NEXT, (generation & 0xfff) << 20);
    Atomics.store(c, GENERATION, generation);
    Atomics.notify(c, GENERATION);
    claimUnits(this.kernels, this.memory, c, generation);
    const units = c[UNITS];
    for (let finished = Atomics.load(c, FINISHED); finished < units; finished = Atomics.load(c, FINISHED)) {
      Atomics.wait(c, FINISHED, finished);
    }
    heap.set(new Uint8Array(this.memory.buffer, cAt, cRegion.bytes), cRegion.offset);
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
}

// The process's pools, one per thread count and variant, kept (idle workers cost nothing but memory)
// so that switching settings back and forth, as the benchmark does, starts no new workers.
const pools = new Map<string, GemmPool>();

/**
 * The process's pool for `gemmThreads()` threads and the current SIMD variant, or undefined when one
 * thread is asked for or the engine lacks SIMD.
 */
export function gemmPool(): GemmPool | undefined {
  const threads = gemmThreads();
  if (threads <= 1 || !simdSupported) return undefined;
  const variant = simdVariant();
  const key = `${threads} ${variant}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new GemmPool(threads, variant);
    pools.set(key, pool);
  }
  return pool;
}
