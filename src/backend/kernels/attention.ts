// Multi-head scaled dot-product attention as one wasm kernel each way (simd.wat's `attention` and
// `attention_grad`), for `packedHeadsAttention` in src/nn/multiHeadAttention.ts.
//
// Composed from tfjs ops, a layer's attention is a dozen kernels forward and about twenty backward over
// [B, H, T, T] tensors: the head split and merge (transposes), the scores' product, the mask, the softmax,
// dropout, the weighted sum, and each one's gradient. On BERT pretraining's short sequences (T = 48,
// d = 32) each product is too small to run fast on its own and the rest is passes over memory. Here
// each (sequence, head) pair is one unit of work, its scores kept in cache from the product through
// the softmax to the next product, its heads read where the projections wrote them ([B, T, H·d]).
// Pairs are split among the kernel pool's threads; a pair's result does not depend on which thread
// computes it, so any thread count gives the same bits. Registered for the wasm backend only.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { checkDropoutRate, dropThreshold } from "./dropout";
import { float32Input, KernelArgs } from "./kernelArgs";
import { runRowKernel, type PooledRows } from "./kernelPool";
import { heapOffset, requireSimdKernels, wasmMemoryOf } from "./simd";

/**
 * Inputs q [B, T_q, H·d_k], k [B, T_k, H·d_k], v [B, T_k, H·d_v] (float32) and optionally mask [B, T_k]
 * (float32, 1 = attend, 0 = blocked); attrs `AttentionAttrs`. Outputs the heads' outputs [B, T_q, H·d_v]
 * and the attention weights [B, H, T_q, T_k] (before dropout).
 */
export const ATTENTION = "RecsysAttention";
/**
 * Self-attention from one projection's output: input qkv [B, T, H·(2·d_k + d_v)], Q, K and V side by
 * side (as nanoGPT's c_attn), each H heads wide; attrs with `keyDim`. Otherwise as ATTENTION: one
 * product makes all three projections, and no copy splits them apart.
 */
export const SELF_ATTENTION = "RecsysSelfAttention";
/**
 * Inputs q, k, v (or qkv), probs (the weights output), dy (the gradient of the heads' output) and
 * optionally dprobs (of the weights); attrs as the forward kernel's. Outputs dq, dk, dv (or dqkv).
 */
export const ATTENTION_GRAD = "RecsysAttentionGrad";

/** How the heads attend. */
export interface AttentionAttrs {
  /** H, the heads packed in the last axis. */
  numHeads: number;
  /** d_k, needed to find K and V in a packed qkv (SELF_ATTENTION); ignored otherwise. */
  keyDim?: number;
  /** The scores' scale, 1/√d_k. */
  scale: number;
  /** Query i may not attend to keys j > i. */
  causal: boolean;
  /** Dropout on the weights (0: none) and its mask's keys, as `dropUnits` takes them on [B, H, T_q, T_k]. */
  rate: number;
  key1: number;
  key2: number;
}

/** Fields of the job descriptor that simd.wat reads (int32 slots; see the comment above `attention`). */
const FIELDS = 27;

interface Dims {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  dk: number;
  dv: number;
}

/** Where Q, K and V lie: each a tensor, the column its heads start at, and the floats between its rows. */
interface Operand {
  tensor: tf.TensorInfo;
  column: number;
  ld: number;
}

interface Layout {
  dims: Dims;
  q: Operand;
  k: Operand;
  v: Operand;
  /** Q, K and V are one tensor qkv. */
  packed: boolean;
}

function layoutOf(where: string, inputs: tf.NamedTensorInfoMap, attrs: AttentionAttrs): Layout {
  const heads = attrs.numHeads;
  let layout: Layout;
  if (inputs.qkv !== undefined) {
    const qkv = float32Input(where, "qkv", inputs.qkv, 3);
    const [batch, length, width] = qkv.shape;
    const dk = attrs.keyDim ?? 0;
    const dv = width / heads - 2 * dk;
    if (qkv.shape.length !== 3 || !(heads > 0 && dk > 0 && Number.isInteger(dv) && dv > 0)) {
      throw new Error(
        `${where}: expected qkv [B, T, H·(2·d_k + d_v)] with H = ${heads}, d_k = ${attrs.keyDim}, got [${qkv.shape}]`,
      );
    }
    const operand = (column: number): Operand => ({ tensor: qkv, column, ld: width });
    layout = {
      dims: { batch, heads, tq: length, tk: length, dk, dv },
      q: operand(0),
      k: operand(heads * dk),
      v: operand(2 * heads * dk),
      packed: true,
    };
  } else {
    const q = float32Input(where, "q", inputs.q, 3);
    const k = float32Input(where, "k", inputs.k, 3);
    const v = float32Input(where, "v", inputs.v, 3);
    const [batch, tq, qWidth] = q.shape;
    const [kBatch, tk, kWidth] = k.shape;
    const [vBatch, vLength, vWidth] = v.shape;
    const fits =
      q.shape.length === 3 &&
      k.shape.length === 3 &&
      v.shape.length === 3 &&
      Number.isInteger(heads) &&
      heads > 0 &&
      kBatch === batch &&
      vBatch === batch &&
      vLength === tk &&
      kWidth === qWidth &&
      qWidth % heads === 0 &&
      vWidth % heads === 0;
    if (!fits) {
      throw new Error(
        `${where}: expected q [B, T_q, H·d_k], k [B, T_k, H·d_k], v [B, T_k, H·d_v] with H = ${heads}, ` +
          `got [${q.shape}], [${k.shape}], [${v.shape}]`,
      );
    }
    layout = {
      dims: { batch, heads, tq, tk, dk: qWidth / heads, dv: vWidth / heads },
      q: { tensor: q, column: 0, ld: qWidth },
      k: { tensor: k, column: 0, ld: kWidth },
      v: { tensor: v, column: 0, ld: vWidth },
      packed: false,
    };
  }
  const mask = inputs.mask;
  if (mask !== undefined) {
    float32Input(where, "mask", mask);
    const { batch, tk } = layout.dims;
    if (!tf.util.arraysEqual(mask.shape, [batch, tk]))
      throw new Error(`${where}: mask must be [B, T_k] = [${batch}, ${tk}], got [${mask.shape}]`);
  }
  return layout;
}

/** Writes the descriptor (after every allocation: the heap may have grown) and runs `kernel` over the pairs. */
function run(
  backend: BackendWasm,
  kernel: "attention" | "attention_grad",
  where: string,
  dims: Dims,
  fields: number[],
  floats: Array<[number, number]>,
  descriptor: tf.TensorInfo,
): void {
  const simd = requireSimdKernels(backend, where);
  const at = heapOffset(backend, descriptor);
  const buffer = wasmMemoryOf(backend)!.buffer;
  new Int32Array(buffer, at, FIELDS).set(fields);
  for (const [field, value] of floats) new Float32Array(buffer, at + 4 * field, 1)[0] = value;
  const pairs = dims.batch * dims.heads;
  const job: PooledRows = { kernel, args: [at, 0, pairs], perRow: [0, 1, 0], count: 2, rows: pairs, rowAlign: 1 };
  runRowKernel(backend, simd, job, dims.tq * dims.tk);
}

/** The fields both directions share: q, k, v (0-2), the sizes and dropout (7-17) and the rows' strides (24-26). */
function commonFields(
  backend: BackendWasm,
  layout: Layout,
  attrs: AttentionAttrs,
): { fields: number[]; floats: Array<[number, number]> } {
  checkDropoutRate(ATTENTION, attrs.rate);
  const { dims } = layout;
  const fields = new Array<number>(FIELDS).fill(0);
  [layout.q, layout.k, layout.v].forEach((operand, i) => {
    fields[i] = heapOffset(backend, operand.tensor) + 4 * operand.column;
    fields[24 + i] = operand.ld;
  });
  fields[7] = dims.heads;
  fields[8] = dims.tq;
  fields[9] = dims.tk;
  fields[10] = dims.dk;
  fields[11] = dims.dv;
  fields[12] = attrs.causal ? 1 : 0;
  fields[13] = attrs.key1 | 0;
  fields[14] = attrs.key2 | 0;
  fields[15] = dropThreshold(attrs.rate) | 0;
  return {
    fields,
    floats: [
      [16, 1 / (1 - attrs.rate)],
      [17, attrs.scale],
    ],
  };
}

function fillZeros(backend: BackendWasm, ...tensors: tf.TensorInfo[]): void {
  const buffer = wasmMemoryOf(backend)!.buffer;
  for (const t of tensors) new Float32Array(buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape)).fill(0);
}

const pointer = (backend: BackendWasm, t: tf.TensorInfo | undefined) => (t === undefined ? 0 : heapOffset(backend, t));

function forward(where: string, args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as AttentionAttrs;
  const layout = layoutOf(where, args.inputs, attrs);
  const { batch, heads, tq, tk, dk, dv } = layout.dims;
  const out = backend.makeOutput([batch, tq, heads * dv], "float32");
  const probs = backend.makeOutput([batch, heads, tq, tk], "float32");
  const temporaries = [backend.makeOutput([batch * heads * dk * tk], "float32")]; // each pair's K_hᵀ
  if (attrs.rate > 0) temporaries.push(backend.makeOutput([batch * heads * tq * tk], "float32")); // dropout(P)
  const descriptor = backend.makeOutput([FIELDS], "int32");
  try {
    const { fields, floats } = commonFields(backend, layout, attrs);
    fields[3] = pointer(backend, args.inputs.mask);
    fields[4] = pointer(backend, probs);
    fields[5] = pointer(backend, temporaries[1] ?? probs);
    fields[6] = pointer(backend, temporaries[0]);
    fields[18] = pointer(backend, out);
    if (batch * heads * tq * tk > 0) run(backend, "attention", where, layout.dims, fields, floats, descriptor);
    else fillZeros(backend, out); // attention over no key: an empty sum
  } finally {
    for (const t of [...temporaries, descriptor]) backend.disposeData(t.dataId);
  }
  return [out, probs];
}

export function attentionWasm(args: KernelArgs): tf.TensorInfo[] {
  return forward(ATTENTION, args);
}

export function selfAttentionWasm(args: KernelArgs): tf.TensorInfo[] {
  if (args.inputs.qkv === undefined) throw new Error(`${SELF_ATTENTION}: input qkv is required`);
  return forward(SELF_ATTENTION, args);
}

export function attentionGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as AttentionAttrs;
  const layout = layoutOf(ATTENTION_GRAD, args.inputs, attrs);
  const { batch, heads, tq, tk, dv } = layout.dims;
  const probs = float32Input(ATTENTION_GRAD, "probs", args.inputs.probs);
  const dy = float32Input(ATTENTION_GRAD, "dy", args.inputs.dy);
  const dprobs = args.inputs.dprobs;
  const expect = (name: string, t: tf.TensorInfo, shape: number[]) => {
    if (!tf.util.arraysEqual(t.shape, shape))
      throw new Error(`${ATTENTION_GRAD}: ${name} must be [${shape}], got [${t.shape}]`);
  };
  expect("probs", probs, [batch, heads, tq, tk]);
  expect("dy", dy, [batch, tq, heads * dv]);
  if (dprobs !== undefined) expect("dprobs", float32Input(ATTENTION_GRAD, "dprobs", dprobs), [batch, heads, tq, tk]);
  // The gradients in the inputs' layout: one dqkv, or dq, dk and dv.
  const grads = (layout.packed ? [layout.q] : [layout.q, layout.k, layout.v]).map((o) =>
    backend.makeOutput(o.tensor.shape, "float32"),
  );
  const gradientOf = (i: number) => (layout.packed ? grads[0] : grads[i]);
  const temporaries = [
    backend.makeOutput([batch * heads * dv * tk], "float32"), // each pair's V_hᵀ
    backend.makeOutput([batch * heads * tq * tk], "float32"), // the scores' gradients
  ];
  if (attrs.rate > 0) temporaries.push(backend.makeOutput([batch * heads * tq * tk], "float32")); // dropout(P)
  const descriptor = backend.makeOutput([FIELDS], "int32");
  try {
    const { fields, floats } = commonFields(backend, layout, attrs);
    fields[4] = pointer(backend, probs);
    fields[5] = pointer(backend, temporaries[2] ?? probs);
    fields[6] = pointer(backend, temporaries[0]);
    fields[18] = pointer(backend, dy);
    fields[19] = pointer(backend, dprobs);
    fields[20] = pointer(backend, temporaries[1]);
    [layout.q, layout.k, layout.v].forEach((operand, i) => {
      fields[21 + i] = pointer(backend, gradientOf(i)) + 4 * operand.column;
    });
    if (batch * heads * tq * tk > 0)
      run(backend, "attention_grad", ATTENTION_GRAD, layout.dims, fields, floats, descriptor);
    else fillZeros(backend, ...grads); // products over no query or no key
  } finally {
    for (const t of [...temporaries, descriptor]) backend.disposeData(t.dataId);
  }
  return grads;
}

export const attentionWasmConfigs: readonly tf.KernelConfig[] = [
  { kernelName: ATTENTION, backendName: "wasm", kernelFunc: attentionWasm as unknown as tf.KernelConfig["kernelFunc"] },
  {
    kernelName: SELF_ATTENTION,
    backendName: "wasm",
    kernelFunc: selfAttentionWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
  {
    kernelName: ATTENTION_GRAD,
    backendName: "wasm",
    kernelFunc: attentionGradWasm as unknown as tf.KernelConfig["kernelFunc"],
  },
];

/** The gradient kernel's result for the forward kernel's saved inputs (q, k, v or qkv) and weights. */
function attentionGradients(
  inputs: tf.NamedTensorMap,
  dys: tf.Tensor | tf.Tensor[],
  attrs: tf.NamedAttrMap,
): tf.Tensor[] {
  const [dy, dprobs] = dys as tf.Tensor[];
  return tf
    .engine()
    .runKernel(ATTENTION_GRAD, { ...inputs, dy, ...(dprobs == null ? {} : { dprobs }) }, attrs) as tf.Tensor[];
}

/**
 * The gradient w.r.t. q, k and v from the saved weights, all three from one kernel call; the mask is a
 * constant (its gradient is zero). tfjs passes zeros as dprobs when the weights are not used further.
 */
export const attentionGradConfig: tf.GradConfig = {
  kernelName: ATTENTION,
  inputsToSave: ["q", "k", "v"],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [q, k, v, probs] = saved;
    const [dq, dk, dv] = attentionGradients({ q, k, v, probs }, dys, attrs);
    return { q: () => dq, k: () => dk, v: () => dv, mask: () => tf.zeros([q.shape[0], k.shape[1] as number]) };
  },
};

/** SELF_ATTENTION's gradient: dqkv in qkv's layout, from one kernel call. */
export const selfAttentionGradConfig: tf.GradConfig = {
  kernelName: SELF_ATTENTION,
  inputsToSave: ["qkv"],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const [qkv, probs] = saved;
    const [dqkv] = attentionGradients({ qkv, probs }, dys, attrs);
    return { qkv: () => dqkv, mask: () => tf.zeros(qkv.shape.slice(0, 2)) };
  },
};
