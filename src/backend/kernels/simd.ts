// The SIMD kernels of simd.wat, instantiated on the memory of a tfjs wasm backend so that they read
// and write tensors in place. Their JavaScript signatures take byte offsets, as tfjs's own wasm
// kernels do; `heapOffset` gives a tensor's.
//
// Two builds of the module (scripts/build-simd-kernels.ts): "plain", and "fma", whose gemm, and the
// polynomials of exp and erf, multiply and add with relaxed SIMD's f32x4.relaxed_madd (one rounding
// instead of two, one instruction where the CPU has FMA). Node 20 compiles relaxed SIMD only behind
// --experimental-wasm-relaxed-simd, which is set here at run time before the FMA build is validated;
// newer engines have it on. The variant
// in use is `simdVariant()`: "fma" where the engine runs it, unless RECSYS_SIMD_FMA=0 or
// `setSimdVariant("plain")` asks for the plain build.

import * as v8 from "node:v8";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  SIMD_KERNELS_BASE64,
  SIMD_KERNELS_FMA_BASE64,
  SIMD_KERNELS_SHARED_BASE64,
  SIMD_KERNELS_SHARED_FMA_BASE64,
} from "./simdBinary";

/** The exports of simd.wat (pointers are byte offsets, sizes count float32s). */
export interface SimdKernels {
  /** y = GELU(x) over n floats. */
  gelu(x: number, y: number, n: number): void;
  /** dx = GELU'(x)·dy over n floats. */
  gelu_grad(x: number, dy: number, dx: number, n: number): void;
  /**
   * y = x·scale where the counter-based hash of the index (first + i for element i) is ≥ threshold
   * (unsigned), else 0.
   */
  dropout(
    x: number,
    y: number,
    n: number,
    key1: number,
    key2: number,
    threshold: number,
    scale: number,
    first: number,
  ): void;
  /**
   * Adds rows row0.. (src at row row0) into float64 column sums at acc, `cols` of them per block of
   * `block` rows, a block's zeroed at its first row.
   */
  column_sum_rows(src: number, rows: number, cols: number, acc: number, row0: number, block: number): void;
  /** dst[c] = the sum over `blocks` blocks of column sums at acc (cols float64s each), rounded once. */
  column_sums_finish(acc: number, blocks: number, cols: number, dst: number): void;
  /** probs = softmax over each row of z [rows, cols]. */
  softmax(z: number, rows: number, cols: number, probs: number): void;
  /** dz = y ⊙ (dy − Σ_c dy_c·y_c) per row, y the softmax's output. */
  softmax_grad(y: number, dy: number, rows: number, cols: number, dz: number): void;
  /** Per-row softmax probabilities and cross-entropy against int32 labels. */
  softmax_cross_entropy(z: number, labels: number, rows: number, cols: number, losses: number, probs: number): void;
  /** dz = dLoss·(p − onehot(labels)). */
  softmax_cross_entropy_grad(
    probs: number,
    labels: number,
    dLosses: number,
    rows: number,
    cols: number,
    dz: number,
  ): void;
  /**
   * c [m, n] = A·b: A(i, p) at a + 4·(i·rowStride + p·colStride) with rowStride or colStride 1 (A
   * row- or column-major), b [k, n] and c row-major with rows of ldb and ldc floats. Writes nothing
   * when k = 0.
   */
  gemm(
    a: number,
    rowStride: number,
    colStride: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
  ): void;
  /**
   * One epoch of Surprise's SVD SGD over the `n` rows listed at `rows` (see simd.wat): float64 tables
   * p, q, bu, bi (biases used when `biased` ≠ 0), int32 users and items, float32 ratings. Returns the
   * sum of the per-rating losses.
   */
  svd_sgd_epoch(
    p: number,
    q: number,
    bu: number,
    bi: number,
    biased: number,
    users: number,
    items: number,
    ratings: number,
    rows: number,
    n: number,
    d: number,
    mean: number,
    reg: number,
    lr: number,
  ): number;
  /**
   * One AdamW update of n parameters: θ, m, v and the gradient g in, θ', m', v' out (see simd.wat
   * for the formula and its float32 rounding).
   */
  adamw(
    theta: number,
    m: number,
    v: number,
    g: number,
    thetaOut: number,
    mOut: number,
    vOut: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    sqrtCorrection2: number,
    epsilon: number,
    decay: number,
    stepSize: number,
  ): void;
  /** y = each of `count` consecutive matrices [rows, cols] at x transposed to [cols, rows]. */
  transpose(x: number, y: number, count: number, rows: number, cols: number): void;
  /** Σ x² over n floats, in float64. */
  sum_of_squares(x: number, n: number): number;
  /** out [segments, cols] = Σ of x's rows [rows, cols] by their int32 ids (others dropped). */
  segment_sum(x: number, ids: number, rows: number, cols: number, out: number, segments: number): void;
  /**
   * Multi-head attention over pairs [first, first + count) of (sequence, head), forward or backward,
   * as the int32 descriptor at `desc` describes it (see simd.wat and attention.ts).
   */
  attention(desc: number, first: number, count: number): void;
  attention_grad(desc: number, first: number, count: number): void;
  /** y [outer, b, a, inner] = x [outer, a, b, inner]. */
  swap_axes(x: number, y: number, outer: number, a: number, b: number, inner: number): void;
  /** y = γ ⊙ (x − μ)/√(σ² + ε) + β over the rows of x [rows, cols]. */
  layer_norm(x: number, gamma: number, beta: number, rows: number, cols: number, epsilon: number, y: number): void;
  /**
   * dx for rows row0.. of x, and [dγ; dβ] added up as column_sum_rows does (2·cols float64s per block of
   * `block` rows at acc), for column_sums_finish.
   */
  layer_norm_grad(
    x: number,
    gamma: number,
    dy: number,
    rows: number,
    cols: number,
    epsilon: number,
    dx: number,
    acc: number,
    row0: number,
    block: number,
  ): void;
}

/** The parts of BackendWasm the kernels need that its typings leave out. */
interface WasmInternals {
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  wasm: { asm?: { memory?: { buffer: ArrayBufferLike } } };
}

/** The WebAssembly API calls used here (the project compiles without the DOM typings that declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** The two builds of simd.wat: "fma" differs only in its gemm's multiply-adds (see the header). */
export type SimdVariant = "plain" | "fma";

/** The environment variable that forces the gemm's variant: 1 (FMA, an error where unsupported) or 0 (plain). */
export const SIMD_FMA_ENV_VAR = "RECSYS_SIMD_FMA";

const BYTES: Record<SimdVariant, Uint8Array> = {
  plain: Uint8Array.from(Buffer.from(SIMD_KERNELS_BASE64, "base64")),
  fma: Uint8Array.from(Buffer.from(SIMD_KERNELS_FMA_BASE64, "base64")),
};

const SHARED_BYTES: Record<SimdVariant, Uint8Array> = {
  plain: Uint8Array.from(Buffer.from(SIMD_KERNELS_SHARED_BASE64, "base64")),
  fma: Uint8Array.from(Buffer.from(SIMD_KERNELS_SHARED_FMA_BASE64, "base64")),
};

/** Whether this JavaScript engine runs WebAssembly SIMD (every Node ≥ 16 does). */
export const simdSupported: boolean = wasmApi.validate(BYTES.plain);

let fmaChecked: boolean | undefined;

/**
 * Whether this engine runs the FMA build: relaxed SIMD, switched on first where Node needs the flag.
 * (Where the CPU has no FMA, V8 runs relaxed_madd as a multiply and an add: correct, no faster.)
 */
export function fmaSupported(): boolean {
  if (fmaChecked === undefined) {
    if (simdSupported && !wasmApi.validate(BYTES.fma)) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    fmaChecked = simdSupported && wasmApi.validate(BYTES.fma);
  }
  return fmaChecked;
}

/** An error unless this engine compiles `variant` (fmaSupported() first sets the flag Node 20 needs). */
function assertRunnable(variant: SimdVariant): void {
  if (variant === "fma" && !fmaSupported()) {
    throw new Error(
      "the FMA gemm: this JavaScript engine does not run WebAssembly relaxed SIMD (Node ≥ 20 and Chromium ≥ 114 " +
        'do); the plain build runs everywhere (setSimdVariant("plain") or RECSYS_SIMD_FMA=0)',
    );
  }
}

let chosenVariant: SimdVariant | undefined;

/**
 * The variant the kernels run: RECSYS_SIMD_FMA=1|0 when set, else the one `setSimdVariant` chose, else
 * "fma" where the engine runs relaxed SIMD (Node ≥ 20, Chromium ≥ 114), "plain" elsewhere. FMA rounds
 * each multiply-add once instead of twice, so a seeded run's numbers differ from the plain build's in
 * the last digits and a long training run ends elsewhere (within the notebooks' tolerances); set
 * RECSYS_SIMD_FMA=0 to reproduce the plain build's.
 */
export function simdVariant(): SimdVariant {
  if (chosenVariant === undefined) {
    const forced = process.env[SIMD_FMA_ENV_VAR];
    if (forced !== undefined && forced !== "0" && forced !== "1") {
      throw new Error(`${SIMD_FMA_ENV_VAR} must be 1 (FMA) or 0 (plain multiply and add), got '${forced}'`);
    }
    chosenVariant = forced === "1" || (forced !== "0" && fmaSupported()) ? "fma" : "plain";
  }
  if (chosenVariant === "fma" && !fmaSupported()) {
    throw new Error(`${SIMD_FMA_ENV_VAR}=1, but this JavaScript engine does not run WebAssembly relaxed SIMD`);
  }
  return chosenVariant;
}

/** Makes later kernel look-ups use `variant` (e.g. to measure both); an error where FMA is unsupported. */
export function setSimdVariant(variant: SimdVariant): void {
  if (variant === "fma" && !fmaSupported()) {
    throw new Error("setSimdVariant: this JavaScript engine does not run WebAssembly relaxed SIMD");
  }
  chosenVariant = variant;
}

// Compiled once per variant and kind of memory; one instance per wasm memory and variant (a backend's
// lifetime): instantiating costs ~1 ms, a kernel call ~1 µs.
const modules: Partial<Record<string, object>> = {};
const instances: Record<SimdVariant, WeakMap<object, SimdKernels>> = { plain: new WeakMap(), fma: new WeakMap() };

/** Whether a wasm memory is shared (tfjs's heap is, see backend/sharedWasmMemory.ts). */
export function isSharedMemory(memory: { buffer: ArrayBufferLike }): boolean {
  return typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * The compiled module in `variant` for a plain or a shared memory (a module imports one kind or the
 * other; the code is the same). One per process, so that V8's tier-up to optimised code happens
 * once, and the kernel pool's workers share it.
 */
export function compiledSimdModule(variant: SimdVariant, shared: boolean): object {
  assertRunnable(variant);
  return (modules[`${variant} ${shared}`] ??= new wasmApi.Module((shared ? SHARED_BYTES : BYTES)[variant]));
}

function instantiate(memory: { buffer: ArrayBufferLike }, variant: SimdVariant): SimdKernels {
  const module = compiledSimdModule(variant, isSharedMemory(memory));
  return new wasmApi.Instance(module, { env: { memory, log: Math.log } }).exports as unknown as SimdKernels;
}

/** The memory of a tfjs wasm backend (its heap), or undefined where the module does not export it. */
export function wasmMemoryOf(backend: BackendWasm): { buffer: ArrayBufferLike } | undefined {
  const memory = (backend as unknown as WasmInternals).wasm.asm?.memory;
  return memory instanceof wasmApi.Memory ? memory : undefined;
}

/**
 * The kernels bound to `backend`'s memory, in `variant` (default `simdVariant()`), or undefined when
 * SIMD or the memory is unavailable.
 */
export function simdKernelsFor(backend: BackendWasm, variant: SimdVariant = simdVariant()): SimdKernels | undefined {
  const memory = wasmMemoryOf(backend);
  if (!simdSupported || memory === undefined) return undefined;
  let kernels = instances[variant].get(memory);
  if (kernels === undefined) {
    kernels = instantiate(memory, variant);
    instances[variant].set(memory, kernels);
  }
  return kernels;
}

/**
 * The kernels on a fresh memory of their own, of at least `bytes` bytes (from offset 0), for work that
 * keeps its data in wasm memory outside any tfjs backend; undefined when SIMD is unavailable.
 */
export function simdKernelsOnOwnMemory(bytes: number): { kernels: SimdKernels; buffer: ArrayBuffer } | undefined {
  if (!simdSupported) return undefined;
  const memory = new wasmApi.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  return { kernels: instantiate(memory, "plain"), buffer: memory.buffer };
}

/** `simdKernelsFor(backend)`, or an error naming the kernel `where` that needed them. */
export function requireSimdKernels(backend: BackendWasm, where: string): SimdKernels {
  const kernels = simdKernelsFor(backend);
  if (kernels === undefined) throw new Error(`${where}: WebAssembly SIMD is unavailable in this JavaScript engine`);
  return kernels;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function heapOffset(backend: BackendWasm, tensor: tf.TensorInfo): number {
  return (backend as unknown as WasmInternals).dataIdMap.get(tensor.dataId).memoryOffset;
}
