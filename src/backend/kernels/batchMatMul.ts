// A faster `BatchMatMul` for tfjs's wasm backend: every product takes a fast path, XNNPack's or our
// SIMD gemm's (simd.wat).
//
// The wasm kernel (tfjs-backend-wasm 4.22, batch_mat_mul_impl.cc) calls XNNPack only for one plain
// product (batch 1, no transpose flags); everything else falls to a scalar triple loop that runs at
// ~1.7 GFLOP/s against XNNPack's ~20. tfjs's matMul gradient always passes transpose flags, and
// attention multiplies batches of [T, d] matrices, so without this wrapper a Transformer's training
// step spent most of its time in that loop. What an XNNPack product costs besides its arithmetic
// (measured, one thread): it packs its right-hand operand on every call, ~4 ns an element (the packed
// operator is cached on the operand's tensor id, and training never multiplies by the same tensor
// twice), which is as much as the arithmetic when the left operand has ~50 rows; it takes no strided
// operand, so a flagged one is transposed first (1-2 ns an element in output order); and it does not
// block the contraction, so with K in the thousands its panels fall out of cache. The wrapper:
//   1. runs every product on the SIMD gemm where its FMA build runs (the default: 30-48 GFLOP/s a core
//      on this course's shapes, on every core (kernelPool.ts), against XNNPack's 20-40), else (the plain
//      build, RECSYS_SIMD_FMA=0) a product whose left operand is transposed (a weight gradient Xᵀ·dY)
//      or short (fewer than SIMD_GEMM_MAX_ROWS rows, e.g. a head's attention weights): the gemm reads A
//      in place through strides, needs no packing and blocks the contraction;
//   2. otherwise (a tall plain product, where XNNPack's packing is amortised and the two kernels run
//      at about the same rate) transposes a flagged right operand explicitly, for XNNPack. The gemm,
//      which reads B by rows, needs that transpose too (Q·Kᵀ's K, an output layer's tied embedding):
//      simd.wat's transpose moves 4×4 blocks by shuffles where tfjs's moves one float at a time;
//   3. splits a batched product into per-matrix XNNPack products on views into the operands' memory
//      (no copies), calling the module's entry point directly with ids and shapes on the heap (tfjs's
//      per-call tensor bookkeeping was a large share of a small product); a right operand shared by
//      the whole batch makes one tall product, packed once;
//   4. for a single product C = A·B, may compute Cᵀ = Bᵀ·Aᵀ instead, so that the smaller operand is
//      the one packed (the weight gradient xᵀ·dy of an output layer over a large catalogue).

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { kernelPool, kernelThreads, type PooledProduct } from "./kernelPool";
import { isSharedMemory, simdKernelsFor, simdSupported, simdVariant, wasmMemoryOf, type SimdKernels } from "./simd";
import { markWrapper, wrappedKernel, type KernelFunc } from "./wrappedKernel";

/** Which of the wrapper's rewrites are on (all by default; off gives tfjs's own kernel). */
export interface FastBatchMatMulOptions {
  /** Transpose flagged operands explicitly. */
  transposeExplicitly?: boolean;
  /** Run a batched product as one XNNPack product per matrix, on views. */
  splitBatches?: boolean;
  /** For one product, compute (Bᵀ·Aᵀ)ᵀ where that moves less memory. */
  chooseOrientation?: boolean;
  /**
   * Run transposed-left and short products on the SIMD gemm, and explicit transposes on its 4×4-block
   * transpose (where WebAssembly SIMD runs).
   */
  simdGemm?: boolean;
}

/**
 * With the plain gemm, left operands with fewer rows than this (after merging a batch that shares its
 * right operand) go to the SIMD gemm: measured on this course's shapes, XNNPack's per-call packing
 * makes it slower up to ~250 rows, and on taller products the two run at about the same rate (20-26
 * GFLOP/s), so those stay on XNNPack, as they did before the FMA build (whose numbers RECSYS_SIMD_FMA=0
 * reproduces). The FMA gemm takes every product.
 */
export const SIMD_GEMM_MAX_ROWS = 256;

/**
 * Products of at least this many FLOPs (2·m·n·k over the batch) run on the worker pool when more than
 * one thread is set (kernelPool.ts): below it, waking a worker (tens of µs) costs about what the second
 * core saves (measured on 2 cores: 2 MFLOP products took longer on 2 threads, 8 MFLOP ones less).
 */
export const POOLED_GEMM_MIN_FLOPS = 4e6;

/** The Emscripten module's exports this file calls: raw entry points that take heap pointers. */
interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  _register_tensor(id: number, size: number, offset: number): void;
  _dispose_data(id: number): void;
  _BatchMatMul(
    aId: number,
    aShape: number,
    aRank: number,
    bId: number,
    bShape: number,
    bRank: number,
    transposeA: number,
    transposeB: number,
    outId: number,
  ): void;
  _Transpose(
    xId: number,
    xShape: number,
    rank: number,
    dtype: number,
    outId: number,
    perm: number,
    permRank: number,
  ): void;
}

/** The tensor bookkeeping of BackendWasm that the views need (not part of its typed API). */
interface WasmInternals {
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  wasm: WasmModule;
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * Products and transposes on raw heap memory for the length of one kernel call: tensors are
 * registered with the module by id only (no tfjs bookkeeping), and shapes are passed in one small
 * heap block. `dispose` frees it.
 */
class HeapOps {
  private readonly wasm: WasmModule;
  private readonly params: number; // 8 int32s: two shapes, or a shape and a permutation

  constructor(private readonly backend: WasmInternals) {
    this.wasm = backend.wasm;
    this.params = this.wasm._malloc(8 * 4);
  }

  /** Heap offset of a float32 tensor's data. */
  offsetOf(x: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(x.dataId).memoryOffset;
  }

  /** A tensor id for `size` floats at `offset`; XNNPack caches an operator packed from it on the id. */
  view(offset: number, size: number): number {
    const id = this.backend.dataIdNextNumber++;
    this.wasm._register_tensor(id, size, offset);
    return id;
  }

  /** Forgets a view (and the operator cached on it); the memory stays with its owner. */
  forget(id: number): void {
    this.wasm._dispose_data(id);
  }

  /** out [m, n] = a [m, k] · b [k, n] on XNNPack, all three given as view ids. */
  multiply(aId: number, bId: number, outId: number, m: number, k: number, n: number): void {
    this.setParams(0, 1, m, k, 1, k, n);
    this.wasm._BatchMatMul(aId, this.params, 3, bId, this.params + 12, 3, 0, 0, outId);
  }

  /**
   * out [batch, cols, rows] = the transpose of each matrix of x [batch, rows, cols] (view ids). Passed
   * to the module as [batch, rows, 1, cols] with perm [0, 2, 3, 1], which its Transpose runs as a loop
   * in output order (strided reads, sequential writes): 1-2 ns an element where the plain 2-D loop
   * (strided writes) takes up to 7 once the rows no longer fit in cache.
   */
  transpose(xId: number, outId: number, batch: number, rows: number, cols: number): void {
    this.setParams(0, batch, rows, 1, cols, 0, 2, 3, 1);
    this.wasm._Transpose(xId, this.params, 4, 0 /* float32 */, outId, this.params + 16, 4);
  }

  dispose(): void {
    this.wasm._free(this.params);
  }

  private setParams(start: number, ...values: number[]): void {
    new Int32Array(this.wasm.HEAPU8.buffer, this.params, 8).set(values, start);
  }
}

/**
 * A BatchMatMul kernel for the wasm backend built on `original` (tfjs's kernel); see the header for
 * what it changes. Results equal tfjs's up to float32 summation order.
 */
export function fastBatchMatMul(original: KernelFunc, options: FastBatchMatMulOptions = {}): KernelFunc {
  const transposeExplicitly = options.transposeExplicitly ?? true;
  const splitBatches = options.splitBatches ?? true;
  const chooseOrientation = options.chooseOrientation ?? true;
  const useSimdGemm = options.simdGemm ?? true;

  const wrapped: KernelFunc = (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const data = backend as unknown as WasmInternals;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
    const empty = tf.util.sizeFromShape(a.shape) === 0 || tf.util.sizeFromShape(b.shape) === 0;
    if (!transposeExplicitly || empty || a.dtype !== "float32" || b.dtype !== "float32") return original(args);

    // Swaps the last two axes: [..., m, n] -> [..., n, m]; the caller disposes the copy.
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const [r, c] = [rows(x), cols(x)];
      const copy = backend.makeOutput([...x.shape.slice(0, -2), c, r], "float32");
      const size = tf.util.sizeFromShape(x.shape);
      const simd = useSimdGemm ? simdKernelsFor(backend) : undefined;
      if (simd !== undefined) {
        simd.transpose(heap.offsetOf(x), heap.offsetOf(copy), size / (r * c), r, c);
        return copy;
      }
      const [from, to] = [heap.view(heap.offsetOf(x), size), heap.view(heap.offsetOf(copy), size)];
      heap.transpose(from, to, size / (r * c), r, c);
      heap.forget(from);
      heap.forget(to);
      return copy;
    };
    const temporaries: tf.TensorInfo[] = [];
    const plain = (x: tf.TensorInfo, flagged: boolean) => {
      if (!flagged) return x;
      const copy = swapLast(x);
      temporaries.push(copy);
      return copy;
    };
    const rows = (x: tf.TensorInfo) => x.shape[x.shape.length - 2];
    const cols = (x: tf.TensorInfo) => x.shape[x.shape.length - 1];
    const batchOf = (x: tf.TensorInfo) => tf.util.sizeFromShape(x.shape.slice(0, -2));
    const outShapeOf = (m: number, n: number) => [
      ...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2),
      m,
      n,
    ];

    const heap = new HeapOps(data);
    try {
      const batchA = batchOf(a);
      const batchB = batchOf(b);
      const [m, k] = transposeA ? [cols(a), rows(a)] : [rows(a), cols(a)];
      const n = transposeB ? rows(b) : cols(b);
      const variant = simdVariant();
      const simd = useSimdGemm ? simdKernelsFor(backend, variant) : undefined;
      const tallRows = batchB === 1 && !transposeA ? batchA * m : m;
      if (simd !== undefined && (variant === "fma" || transposeA || tallRows < SIMD_GEMM_MAX_ROWS)) {
        return simdProduct(backend, heap, simd, a, plain(b, transposeB), transposeA);
      }
      if (chooseOrientation && batchA === 1 && batchB === 1) {
        // Elements moved: XNNPack's packing of its right operand counts twice (strided, with padding).
        const direct = 2 * k * n + (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
        const swapped = 2 * k * m + (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n;
        if (swapped < direct) {
          // Cᵀ = op(B)ᵀ·op(A)ᵀ, where op(B)ᵀ is b itself when b is flagged, and likewise for a.
          const left = plain(b, !transposeB);
          const right = plain(a, !transposeA);
          const productT = original({
            inputs: { a: left, b: right },
            backend,
            attrs: { ...attrs, transposeA: false, transposeB: false },
          }) as tf.TensorInfo;
          temporaries.push(productT);
          const product = swapLast(productT);
          return { ...product, shape: outShapeOf(m, n) };
        }
      }
      const left = plain(a, transposeA);
      const right = plain(b, transposeB);
      if (!splitBatches || (batchA === 1 && batchB === 1)) {
        return original({
          inputs: { a: left, b: right },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      }
      return splitProduct(backend, heap, left, right);
    } finally {
      for (const t of temporaries) data.disposeData(t.dataId);
      heap.dispose();
    }
  };
  return markWrapper(wrapped, original);
}

/**
 * The batched product of plain operands a [..., m, k] and b [..., k, n] (leading axes broadcast), one
 * XNNPack product per output matrix, reading and writing through views into the tensors' memory.
 * Where every output matrix uses the same b, the batch is one product [batch·m, k]·[k, n].
 */
function splitProduct(backend: BackendWasm, heap: HeapOps, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], "float32");
  const batch = tf.util.sizeFromShape(outer);
  // Output matrix t's operand in x: its coordinates along the broadcast axes, 0 where x has size 1.
  const baseA = heap.offsetOf(a);
  const baseB = heap.offsetOf(b);
  const baseOut = heap.offsetOf(out);
  if (batchOfShape(b.shape) === 1 && batchOfShape(a.shape) === batch) {
    // One right operand for the whole batch: a's matrices are consecutive rows of one product.
    const [viewA, viewB, viewOut] = [
      heap.view(baseA, batch * m * k),
      heap.view(baseB, k * n),
      heap.view(baseOut, batch * m * n),
    ];
    heap.multiply(viewA, viewB, viewOut, batch * m, k, n);
    for (const id of [viewA, viewB, viewOut]) heap.forget(id);
    return out;
  }
  const indexA = batchIndex(a.shape, outer);
  const indexB = batchIndex(b.shape, outer);
  // A view of b is kept while consecutive matrices share it, so that XNNPack packs it once.
  let viewB = 0;
  let sourceB = -1;
  for (let t = 0; t < batch; t++) {
    const viewA = heap.view(baseA + 4 * indexA(t) * m * k, m * k);
    const viewOut = heap.view(baseOut + 4 * t * m * n, m * n);
    if (indexB(t) !== sourceB) {
      if (viewB !== 0) heap.forget(viewB);
      sourceB = indexB(t);
      viewB = heap.view(baseB + 4 * sourceB * k * n, k * n);
    }
    heap.multiply(viewA, viewB, viewOut, m, k, n);
    heap.forget(viewA);
    heap.forget(viewOut);
  }
  if (viewB !== 0) heap.forget(viewB);
  return out;
}

const batchOfShape = (shape: number[]) => tf.util.sizeFromShape(shape.slice(0, -2));

/**
 * For output matrix t of a batch broadcast to `outer`, the index of the matrix of an operand with
 * `shape` (its coordinates along the broadcast axes, 0 where it has size 1).
 */
function batchIndex(shape: number[], outer: number[]): (t: number) => number {
  const lead = shape.slice(0, -2);
  if (tf.util.sizeFromShape(lead) === 1) return () => 0;
  if (lead.length === outer.length && lead.every((size, axis) => size === outer[axis])) return (t) => t;
  const outStrides = [...tf.util.computeStrides(outer), 1];
  const padded = [...new Array<number>(outer.length - lead.length).fill(1), ...lead];
  const strides = [...tf.util.computeStrides(padded), 1];
  return (t) => {
    let index = 0;
    for (let axis = 0; axis < outer.length; axis++) {
      const coordinate = Math.floor(t / outStrides[axis]) % outer[axis];
      if (padded[axis] !== 1) index += coordinate * strides[axis];
    }
    return index;
  };
}

/**
 * The batched product op(a)·b on the SIMD gemm, for a [..., m, k] (or [..., k, m] with transposeA,
 * read through strides) and b [..., k, n] (leading axes broadcast). A batch that shares one b and
 * needs no transpose of a is a single product [batch·m, k]·[k, n].
 */
function simdProduct(
  backend: BackendWasm,
  heap: HeapOps,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
): tf.TensorInfo {
  const [ra, ca] = a.shape.slice(-2);
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const n = b.shape[b.shape.length - 1];
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], "float32");
  const [baseA, baseB, baseOut] = [heap.offsetOf(a), heap.offsetOf(b), heap.offsetOf(out)];
  const batch = tf.util.sizeFromShape(outer);
  const [rowStride, colStride] = transposeA ? [1, m] : [k, 1];
  // Byte offsets of each product's operands from the tensors' starts.
  let products: PooledProduct[];
  let rows = m;
  if (!transposeA && batchOfShape(b.shape) === 1 && batchOfShape(a.shape) === batch) {
    products = [{ a: 0, b: 0, c: 0 }];
    rows = batch * m;
  } else {
    const [indexA, indexB] = [batchIndex(a.shape, outer), batchIndex(b.shape, outer)];
    products = Array.from({ length: batch }, (_, t) => ({
      a: 4 * indexA(t) * m * k,
      b: 4 * indexB(t) * k * n,
      c: 4 * t * m * n,
    }));
  }
  const memory = wasmMemoryOf(backend);
  const pool = memory && 2 * batch * m * n * k >= POOLED_GEMM_MIN_FLOPS ? kernelPool(memory) : undefined;
  if (pool) {
    pool.gemm({
      products: products.map((p) => ({ a: baseA + p.a, b: baseB + p.b, c: baseOut + p.c })),
      rowStride,
      colStride,
      m: rows,
      n,
      k,
    });
    return out;
  }
  for (const p of products) simd.gemm(baseA + p.a, rowStride, colStride, baseB + p.b, n, baseOut + p.c, n, rows, n, k);
  return out;
}

/** The kernel `fastBatchMatMul` wraps, or undefined when `kernel` is not such a wrapper. */
export function wrappedBatchMatMul(kernel: KernelFunc): KernelFunc | undefined {
  return wrappedKernel(kernel);
}

/**
 * Replaces the wasm backend's BatchMatMul with `fastBatchMatMul(tfjs's kernel, options)`. Calling
 * it again replaces the wrapper (never wraps it), e.g. with other options for a before/after benchmark.
 */
export function registerFastBatchMatMul(options: FastBatchMatMulOptions = {}): void {
  const current = tf.getKernel(tf.BatchMatMul, "wasm");
  if (current === undefined) return;
  const original = wrappedBatchMatMul(current.kernelFunc) ?? current.kernelFunc;
  const kernelFunc = fastBatchMatMul(original, options); // throws on bad options, before unregistering
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel({ ...current, kernelFunc });
}

/** One line on how the wasm backend's matrix products run with the current settings (for a notebook). */
export function describeMatrixProducts(): string {
  if (!simdSupported) return "matrix products: XNNPACK (this engine lacks WebAssembly SIMD)";
  // The kernel pool's workers need tfjs's heap shared, as initBackend starts it (backend/sharedWasmMemory.ts).
  const memory = tf.getBackend() === "wasm" ? wasmMemoryOf(tf.backend() as BackendWasm) : undefined;
  const threads = memory !== undefined && isSharedMemory(memory) ? kernelThreads() : 1;
  const on = `on ${threads} thread${threads === 1 ? "" : "s"}`;
  return simdVariant() === "fma"
    ? `matrix products: recsys-ts's WebAssembly SIMD gemm with fused multiply-add, ${on}`
    : `matrix products: recsys-ts's WebAssembly SIMD gemm (plain multiply and add) ${on} for transposed and short operands, XNNPACK for the rest`;
}
