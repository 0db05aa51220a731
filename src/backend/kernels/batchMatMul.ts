// A faster `BatchMatMul` for tfjs's wasm backend: every product goes through XNNPack's fast path.
//
// The wasm kernel (tfjs-backend-wasm 4.22, batch_mat_mul_impl.cc) calls XNNPack only for one plain
// product (batch 1, no transpose flags); everything else falls to a scalar triple loop that runs at
// ~1.7 GFLOP/s against XNNPack's ~20. tfjs's matMul gradient always passes transpose flags, and
// attention multiplies batches of [T, d] matrices, so without this wrapper a Transformer's training
// step spent most of its time in that loop. The wrapper:
//   1. transposes a flagged operand explicitly (one cheap copy) instead of passing the flag;
//   2. splits a batched product into per-matrix products on views into the operands' memory (no
//      copies), each of which takes the XNNPack path;
//   3. for a single product C = A·B, may compute Cᵀ = Bᵀ·Aᵀ instead: XNNPack repacks its right-hand
//      operand on every call (training never multiplies by the same tensor twice), so packing the
//      smaller operand and transposing the other can be cheaper (the weight gradient xᵀ·dy of an
//      output layer over a large catalogue: dy is [N, items]).

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type KernelFunc = tf.KernelConfig["kernelFunc"];

/** Which of the wrapper's three rewrites are on (all by default; off gives tfjs's own kernel). */
export interface FastBatchMatMulOptions {
  /** Transpose flagged operands explicitly. */
  transposeExplicitly?: boolean;
  /** Run a batched product as one XNNPack product per matrix, on views. */
  splitBatches?: boolean;
  /** For one product, compute (Bᵀ·Aᵀ)ᵀ where that moves less memory. */
  chooseOrientation?: boolean;
}

/** Marks the wrapper, so that registering twice never wraps the wrapper, and keeps what it wraps. */
const ORIGINAL = Symbol("recsys-ts BatchMatMul: the wrapped kernel");

// The raw entry point of the wasm module, as tfjs's own kernel binds it (cwrap of "BatchMatMul").
type RawBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: number, transposeB: number, outId: number,
) => void;

/** The tensor bookkeeping of BackendWasm that the views need (not part of its typed API). */
interface WasmInternals {
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number }; delete(dataId: tf.DataId): void };
  wasm: { cwrap(name: string, ret: null, args: string[]): RawBatchMatMul; tfjs: { disposeData(id: number): void } };
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/**
 * A BatchMatMul kernel for the wasm backend built on `original` (tfjs's kernel) and `transpose`
 * (its Transpose kernel); see the header for what it changes. Results equal tfjs's up to float32
 * summation order.
 */
export function fastBatchMatMul(original: KernelFunc, transpose: KernelFunc, options: FastBatchMatMulOptions = {}): KernelFunc {
  const transposeExplicitly = options.transposeExplicitly ?? true;
  const splitBatches = options.splitBatches ?? true;
  const chooseOrientation = options.chooseOrientation ?? true;
  let raw: RawBatchMatMul | null = null; // bound on first use, to the module of the backend that runs it

  const wrapped: KernelFunc = (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const data = backend as unknown as WasmInternals & { disposeData(dataId: tf.DataId): boolean };
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
    if (!transposeExplicitly || a.dtype !== "float32" || b.dtype !== "float32") return original(args);

    // Swaps the last two axes: [..., m, n] -> [..., n, m]; the caller disposes the copy.
    const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
      const perm = x.shape.map((_, axis) => axis);
      const rank = perm.length;
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
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

    try {
      const batchA = batchOf(a);
      const batchB = batchOf(b);
      if (batchA === 1 && batchB === 1) {
        const [m, k] = transposeA ? [cols(a), rows(a)] : [rows(a), cols(a)];
        const n = transposeB ? rows(b) : cols(b);
        // Elements moved: XNNPack's packing of its right operand counts twice (strided, with padding).
        const direct = 2 * k * n + (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
        const swapped = 2 * k * m + (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n;
        if (chooseOrientation && swapped < direct) {
          // Cᵀ = op(B)ᵀ·op(A)ᵀ, where op(B)ᵀ is b itself when b is flagged, and likewise for a.
          const left = plain(b, !transposeB);
          const right = plain(a, !transposeA);
          const productT = original({ inputs: { a: left, b: right }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo;
          temporaries.push(productT);
          const product = swapLast(productT);
          const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), m, n];
          return { ...product, shape: outShape };
        }
      }
      const left = plain(a, transposeA);
      const right = plain(b, transposeB);
      const plainAttrs = { ...attrs, transposeA: false, transposeB: false };
      if (!splitBatches || (batchA === 1 && batchB === 1)) {
        return original({ inputs: { a: left, b: right }, backend, attrs: plainAttrs });
      }
      raw ??= data.wasm.cwrap(tf.BatchMatMul, null, ["number", "array", "number", "number", "array", "number", "number", "number", "number"]);
      return splitProduct(backend, data, raw, left, right);
    } finally {
      for (const t of temporaries) data.disposeData(t.dataId);
    }
  };
  (wrapped as unknown as Record<symbol, KernelFunc>)[ORIGINAL] = original;
  return wrapped;
}

/**
 * The batched product of plain operands a [..., m, k] and b [..., k, n] (leading axes broadcast), one
 * XNNPack product per output matrix, reading and writing through views into the tensors' memory.
 */
function splitProduct(backend: BackendWasm, data: WasmInternals, raw: RawBatchMatMul, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], "float32");
  const batch = tf.util.sizeFromShape(outer);
  // Output matrix t's operand in x: its coordinates along the broadcast axes, 0 where x has size 1.
  const outStrides = [...tf.util.computeStrides(outer), 1];
  const sourceIndex = (x: tf.TensorInfo): ((t: number) => number) => {
    const lead = x.shape.slice(0, -2);
    if (tf.util.sizeFromShape(lead) === 1) return () => 0;
    if (lead.length === outer.length && lead.every((size, axis) => size === outer[axis])) return (t) => t;
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
  };
  const indexA = sourceIndex(a);
  const indexB = sourceIndex(b);
  const baseA = data.dataIdMap.get(a.dataId).memoryOffset;
  const baseB = data.dataIdMap.get(b.dataId).memoryOffset;
  const baseOut = data.dataIdMap.get(out.dataId).memoryOffset;
  const [shapeA, shapeB] = [shapeBytes([1, m, k]), shapeBytes([1, k, n])];
  const view = (shape: number[], offset: number) => backend.makeOutput(shape, "float32", offset);
  const release = (v: tf.TensorInfo) => {
    // Forget the view without freeing: the memory belongs to the tensor it looks into. Disposing
    // its id also deletes the XNNPack operator cached on it.
    data.wasm.tfjs.disposeData(data.dataIdMap.get(v.dataId).id);
    data.dataIdMap.delete(v.dataId);
  };
  for (let t = 0; t < batch; t++) {
    const viewA = view([1, m, k], baseA + 4 * indexA(t) * m * k);
    const viewB = view([1, k, n], baseB + 4 * indexB(t) * k * n);
    const viewOut = view([1, m, n], baseOut + 4 * t * m * n);
    const id = (v: tf.TensorInfo) => data.dataIdMap.get(v.dataId).id;
    raw(id(viewA), shapeA, 3, id(viewB), shapeB, 3, 0, 0, id(viewOut));
    release(viewA);
    release(viewB);
    release(viewOut);
  }
  return out;
}

/** The kernel `fastBatchMatMul` wraps, or undefined when `kernel` is not such a wrapper. */
export function wrappedBatchMatMul(kernel: KernelFunc): KernelFunc | undefined {
  return (kernel as unknown as Record<symbol, KernelFunc | undefined>)[ORIGINAL];
}

/**
 * Replaces the wasm backend's BatchMatMul with `fastBatchMatMul(tfjs's kernel, ..., options)`. Calling
 * it again replaces the wrapper (never wraps it), e.g. with other options for a before/after benchmark.
 */
export function registerFastBatchMatMul(options: FastBatchMatMulOptions = {}): void {
  const current = tf.getKernel(tf.BatchMatMul, "wasm");
  const transpose = tf.getKernel(tf.Transpose, "wasm");
  if (current === undefined || transpose === undefined) return;
  const original = wrappedBatchMatMul(current.kernelFunc) ?? current.kernelFunc;
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel({ ...current, kernelFunc: fastBatchMatMul(original, transpose.kernelFunc, options) });
}
