// Training-engine benchmark: how close a training step comes to the backend's own matmul speed.
//
//   npx tsx bench/engine.ts [--json] [--before] [--profile] [--steps 6] [--threads 1,2] [--fma off,on] [--gemm]
//                           [--only toy,t100,t200,bert-pretrain,bert4rec-train,sasrec-train,mf]
//
// For the backend initBackend picks (RECSYS_BACKEND overrides), it prints for each workload the ms
// per training step (Adam), the achieved model GFLOP/s, the process's plain 512×512 matmul rate on
// XNNPack (one thread, tfjs's stock kernel, measured after every step; around the MF epoch) and their
// ratio, which is robust to a busy machine because both are measured together (medians over the
// steps). `--before` runs the step as it was before the engine work: tfjs's stock wasm kernels (plus the UnsortedSegmentSum that training needs, and
// BatchMatMul's flagged operands transposed explicitly, without which the stock kernel takes a scalar
// loop), ops composed where recsys-ts has fused kernels, softmax cross-entropy through a one-hot
// matrix, and, for BERT4Rec, every position projected to the catalogue with the loss masked
// afterwards. `--profile` adds the kernels that take the most time in one step.
//
// `--threads` (the SIMD kernels' threads, default: RECSYS_THREADS, else the cores) and `--fma` (the
// gemm's multiply-adds fused by relaxed SIMD, or not; default: the process's setting, FMA unless
// RECSYS_SIMD_FMA=0) each take a list: every combination is timed on the same model, the steps
// interleaved, and reported on its own line (fields `threads` and `simd`). `--gemm` first times the
// SIMD gemm alone on the products that dominate the steps.
//
// FLOP count (analytic, multiply and add counted as 2): a dense map with P weights applied to n rows
// costs 2·P·n forward. Per encoder layer and token: attention projections 4·D², feed-forward 2·D·d_ff;
// attention scores and weighted sum 4·B·T²·D per layer; the catalogue projection D·C per scored row.
// Embedding gathers, layer norms, softmax and the optimizer are not counted (they are O(params) or
// O(B·T·D) per step). Backward ≈ 2× forward, so a step is 3× the forward count.

import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm"; // registers the stock wasm kernels now, for the snapshot below
import { describeBackend, initBackend } from "../src/backend/backend";
import { registerFastBatchMatMul } from "../src/backend/kernels/batchMatMul";
import { kernelThreads, setKernelThreads } from "../src/backend/kernels/kernelPool";
import { setSimdVariant, simdVariant, type SimdVariant } from "../src/backend/kernels/simd";
import { Rng } from "../src/backend/random";
import { loadMovieLens100K } from "../src/data/movielens";
import { MatrixFactorization } from "../src/models/matrixFactorization";
import { BertForPretraining } from "../src/models/bert";
import { maskTokens, PretrainingBatch } from "../src/data/bertPretraining";
import { AdamW, clipByGlobalNorm } from "../src/train/optimizers";
import { LearnedPositionEmbedding } from "../src/nn/positionEmbedding";
import { TransformerEncoder } from "../src/nn/transformerEncoder";
import { gatherPositions, softmaxCrossEntropyFromLabels } from "../src/train/losses";
import { fitRatingSgd } from "../src/train/ratingSgd";
import { bert4recBatches, sasrecBatches, SequenceBatch, UserSequences } from "../src/data/sequences";
import { Bert4Rec } from "../src/models/bert4rec";
import { SasRec } from "../src/models/sasrec";
import type { SequentialTransformer } from "../src/nn/sequentialTransformer";

interface Result {
  workload: string;
  backend: string;
  mode: "before" | "after";
  msPerStep: number;
  modelGflops: number;
  matmulGflops: number;
  ratio: number;
  gflopPerStep: number;
  peakRssMb: number;
  /** Input tokens (B·T, padding included) per second, for the BERT pretraining workload. */
  tokensPerSecond?: number;
  /** Threads of the SIMD kernels (kernelPool.ts). */
  threads: number;
  /** The SIMD gemm's build: "fma" (relaxed SIMD's fused multiply-add) or "plain". */
  simd: SimdVariant;
}

/** One combination of the engine's settings that the steps are timed under. */
interface EngineConfig {
  threads: number;
  simd: SimdVariant;
}

/** A step's timing under one configuration. */
interface Timing extends EngineConfig {
  ms: number;
  matmul: number;
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const before = args.includes("--before");
const profile = args.includes("--profile");
const stepsIndex = args.indexOf("--steps");
const steps = stepsIndex >= 0 ? Number(args[stepsIndex + 1]) : 6;
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const listOption = (name: string): string[] | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1].split(",") : undefined;
};
const gemmOnly = args.includes("--gemm");
/** The workloads to run (`--only`, a comma list of these keys); default all. */
const WORKLOADS = ["toy", "t100", "t200", "bert-pretrain", "bert4rec-train", "sasrec-train", "mf"] as const;
const only = listOption("--only");
for (const key of only ?? []) {
  if (!(WORKLOADS as readonly string[]).includes(key))
    throw new Error(`--only takes ${WORKLOADS.join(", ")}; got '${key}'`);
}
const runs = (key: (typeof WORKLOADS)[number]) => only === undefined || only.includes(key);

/** Every combination of --threads and --fma (each defaulting to the engine's current setting). */
function engineConfigs(): EngineConfig[] {
  const threads = (listOption("--threads") ?? [String(kernelThreads())]).map(Number);
  const variants = (listOption("--fma") ?? [simdVariant() === "fma" ? "on" : "off"]).map((v): SimdVariant => {
    if (v !== "on" && v !== "off") throw new Error(`--fma takes on and/or off, got '${v}'`);
    return v === "on" ? "fma" : "plain";
  });
  return threads.flatMap((t) => variants.map((simd) => ({ threads: t, simd })));
}

let configs: EngineConfig[] = [];

function useConfig(config: EngineConfig): void {
  setKernelThreads(config.threads);
  setSimdVariant(config.simd);
}

// The stock wasm kernels, captured at startup before initBackend adds recsys-ts's (for --before).
const stockWasmKernels = new Map(tf.getKernelsForBackend("wasm").map((k) => [k.kernelName, k]));

/** Puts tfjs's stock wasm kernels back in place of recsys-ts's (see the header for the exceptions). */
function useStockWasmKernels(): void {
  for (const kernel of tf.getKernelsForBackend("wasm")) {
    const stock = stockWasmKernels.get(kernel.kernelName);
    if (stock?.kernelFunc === kernel.kernelFunc || kernel.kernelName === tf.UnsortedSegmentSum) continue;
    tf.unregisterKernel(kernel.kernelName, "wasm");
    if (stock === undefined) continue;
    tf.registerKernel(stock);
    // The backend ran the setup (binding the module's function) only for the kernels in place at its start.
    stock.setupFunc?.(tf.backend());
  }
  registerFastBatchMatMul({ splitBatches: false, chooseOrientation: false, simdGemm: false });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Best-of-`repeats` time of a 512×512 product on XNNPack, as GFLOP/s: tfjs's stock BatchMatMul called
 * directly, since recsys-ts's wrapper sends every product to its own gemm where the FMA build runs.
 */
function matmulGflops(repeats = 5): number {
  const stock = stockWasmKernels.get(tf.BatchMatMul)!.kernelFunc;
  const backend = tf.backend();
  const [a, b] = [tf.randomNormal([512, 512], 0, 1, "float32", 1), tf.randomNormal([512, 512], 0, 1, "float32", 2)];
  let best = Infinity;
  for (let r = 0; r <= repeats; r++) {
    const start = performance.now();
    const c = stock({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    if (r > 0) best = Math.min(best, performance.now() - start);
    backend.disposeData(c.dataId);
  }
  tf.dispose([a, b]);
  return (2 * 512 ** 3) / best / 1e6;
}

/**
 * For each configuration, two warm-up calls of `step`, then the median ms of `steps` timed calls and
 * the median matmul rate measured right after each (medians: a garbage collection or a neighbour's
 * burst moves a mean). The configurations take turns step by step, so that a busy machine slows them alike.
 */
function timeSteps(step: () => void): Timing[] {
  const times = configs.map(() => [] as number[]);
  const rates = configs.map(() => [] as number[]);
  configs.forEach((config) => {
    useConfig(config);
    step();
    step();
  });
  for (let i = 0; i < steps; i++) {
    configs.forEach((config, c) => {
      useConfig(config);
      const start = performance.now();
      step();
      times[c].push(performance.now() - start);
      rates[c].push(matmulGflops(2));
    });
  }
  return configs.map((config, c) => ({ ...config, ms: median(times[c]), matmul: median(rates[c]) }));
}

/**
 * The SIMD gemm alone, in GFLOP/s, on the products that dominate the bench's steps, under every
 * configuration (taking turns): a weight gradient Xᵀ·dY, a plain and a short product, and a batch of
 * attention products. Run through tf.matMul (the wrapper routes them to the SIMD gemm, pooled when
 * threads > 1), so the copies into shared memory are counted.
 */
function gemmRates(): Array<{ product: string; gflops: number } & EngineConfig> {
  const products: Array<[string, number[], number[], boolean]> = [
    ["Xᵀ·dY [6400,64]ᵀ·[6400,256]", [6400, 64], [6400, 256], true],
    ["Xᵀ·dY [6400,256]ᵀ·[6400,64]", [6400, 256], [6400, 64], true],
    ["short [128,64]·[64,1700]", [128, 64], [64, 1700], false],
    ["attention [128,100,32]·[128,32,100]", [128, 100, 32], [128, 32, 100], false],
  ];
  const rows: Array<{ product: string; gflops: number } & EngineConfig> = [];
  for (const [name, aShape, bShape, transposeA] of products) {
    const [a, b] = [tf.randomNormal(aShape, 0, 1, "float32", 1), tf.randomNormal(bShape, 0, 1, "float32", 2)];
    const k = transposeA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
    const m = transposeA ? aShape[aShape.length - 1] : aShape[aShape.length - 2];
    const outSize = (tf.util.sizeFromShape(aShape) / (m * k)) * m * bShape[bShape.length - 1];
    const flops = 2 * outSize * k;
    const times = configs.map(() => [] as number[]);
    for (let r = 0; r < 2 + 2 * steps; r++) {
      configs.forEach((config, c) => {
        useConfig(config);
        const start = performance.now();
        const product = tf.matMul(a, b, transposeA, false);
        product.dataSync(); // (not returned from a tidy, which would walk the array for tensors)
        product.dispose();
        if (r >= 2) times[c].push(performance.now() - start);
      });
    }
    configs.forEach((config, c) => rows.push({ product: name, ...config, gflops: flops / median(times[c]) / 1e6 }));
    tf.dispose([a, b]);
  }
  return rows;
}

interface TransformerShape {
  name: string;
  batch: number;
  length: number;
  width: number;
  heads: number;
  layers: number;
  items: number;
  /** Fraction of positions masked and scored (BERT4Rec); 1 = every position scored. */
  maskProbability: number;
}

/** Forward FLOPs of one step (see the header); `scored` = rows projected to the catalogue. */
function transformerForwardFlops(s: TransformerShape, scored: number): number {
  const tokens = s.batch * s.length;
  const d = s.width;
  const perLayer = 2 * (4 * d * d + 2 * d * 4 * d) * tokens + 4 * s.batch * s.length ** 2 * d;
  return s.layers * perLayer + 2 * d * s.items * scored;
}

/**
 * A Transformer training step built from the library's layers. Returns the median ms per step, the
 * FLOPs of a step, and the median matmul rate measured right after each step (so that each step is
 * compared with the machine's speed at that moment: on a shared machine it drifts within a run).
 */
async function transformerStep(s: TransformerShape): Promise<{ timings: Timing[]; flops: number; profile?: string }> {
  const rng = new Rng(7);
  const { batch: B, length: T, width: D, items: C } = s;
  const initial = [tf.randomNormal([C, D], 0, 0.02, "float32", 1), tf.zeros([C])];
  const embeddings = tf.variable(initial[0]); // tied with the output
  const outputBias = tf.variable(initial[1]);
  tf.dispose(initial);
  const positions = new LearnedPositionEmbedding({ maxLength: T, seed: 2 });
  const encoder = new TransformerEncoder({
    numLayers: s.layers,
    numHeads: s.heads,
    hiddenDim: 4 * D,
    dropout: 0.1,
    seed: 3,
  });
  tf.tidy(() => void encoder.apply(positions.apply(tf.zeros([B, T, D]))));
  const variables = [
    embeddings,
    outputBias,
    ...[...positions.trainableWeights, ...encoder.trainableWeights].map((w) => w.read() as tf.Variable),
  ];
  const trainable = variables.filter((v) => v instanceof tf.Variable) as tf.Variable[];

  const ids = tf.tensor2d(
    Int32Array.from({ length: B * T }, () => 1 + rng.int(C - 1)),
    [B, T],
    "int32",
  );
  // Scored positions: every one, or each with probability maskProbability (BERT4Rec's masking).
  const scoredList: number[] = [];
  for (let p = 0; p < B * T; p++) if (s.maskProbability >= 1 || rng.next() < s.maskProbability) scoredList.push(p);
  const scored = Int32Array.from(scoredList);
  const targets = Int32Array.from({ length: B * T }, () => rng.int(C)); // the item behind each position
  const labelsEverywhere = tf.tensor1d(targets, "int32");
  const labels = tf.tensor1d(
    Int32Array.from(scored, (p) => targets[p]),
    "int32",
  );
  const maskValues = new Float32Array(B * T); // 1 on scored positions: the --before loss weights
  for (const p of scored) maskValues[p] = 1;
  const weights = tf.tensor1d(maskValues);
  const scoredTensor = tf.tensor1d(scored, "int32");

  const optimizer = tf.train.adam(1e-3);
  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      const x = tf.gather(embeddings, ids); // [B, T, D]
      const hidden = encoder.apply(positions.apply(x), { training: true }) as tf.Tensor3D; // [B, T, D]
      if (before) {
        // All positions projected; one-hot targets; the mask weights the loss.
        const logits = tf.add(tf.matMul(tf.reshape(hidden, [B * T, D]), embeddings, false, true), outputBias);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labelsEverywhere, C), logits, weights) as tf.Scalar;
      }
      const rows =
        s.maskProbability >= 1
          ? (tf.reshape(hidden, [B * T, D]) as tf.Tensor2D)
          : gatherPositions(hidden, scoredTensor); // [P, D]
      const logits = tf.add(tf.matMul(rows, embeddings, false, true), outputBias) as tf.Tensor2D; // [P, C]
      return tf.mean(softmaxCrossEntropyFromLabels(logits, s.maskProbability >= 1 ? labelsEverywhere : labels));
    });
  const step = () => {
    const value = optimizer.minimize(loss, true, trainable)!;
    value.dataSync();
    value.dispose();
  };
  const timings = timeSteps(step);
  let profileText: string | undefined;
  if (profile) profileText = await kernelProfile(step);
  tf.dispose([embeddings, outputBias, ids, labels, weights, scoredTensor, labelsEverywhere]);
  optimizer.dispose();
  encoder.dispose();
  positions.dispose();
  return {
    timings,
    flops: 3 * transformerForwardFlops(s, s.maskProbability >= 1 ? B * T : scored.length),
    profile: profileText,
  };
}

/** The kernels of one step by total time, top 12 (a custom-gradient scope also counts its kernels). */
async function kernelProfile(step: () => void): Promise<string> {
  const info = await tf.profile(() => step());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.calls++;
    byKernel.set(k.name, entry);
    if (k.name !== "unnamed scope") total += Number(k.kernelTimeMs);
  }
  const lines = [...byKernel.entries()]
    .sort((x, y) => y[1].ms - x[1].ms)
    .slice(0, 12)
    .map(
      ([name, e]) => `    ${name.padEnd(38)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls`,
    );
  return [`    kernels total ${total.toFixed(0)} ms (${info.kernels.length} kernel calls)`, ...lines].join("\n");
}

/**
 * One BERT pretraining step at notebook 06's shape (B64 T48 D64 H2 L2, a 3,000-token vocabulary, 15% of
 * the tokens masked, MLM + NSP), with AdamW and global-norm clipping as `pretrainBert` runs it.
 */
async function bertPretrainingStep(): Promise<{ timings: Timing[]; flops: number; tokens: number }> {
  const [B, T, V, D, L] = [64, 48, 3000, 64, 2];
  const rng = new Rng(11);
  const model = new BertForPretraining({
    vocabSize: V,
    hiddenSize: D,
    numLayers: L,
    numHeads: 2,
    maxPositions: T,
    seed: 1,
  });
  const batch = (): PretrainingBatch => {
    const tokenIds = new Int32Array(B * T);
    const tokenTypeIds = new Int32Array(B * T);
    const attentionMask = new Int32Array(B * T).fill(1);
    const positions: number[] = [];
    const labels: number[] = [];
    for (let b = 0; b < B; b++) {
      const ids = Array.from({ length: T }, (_, t) =>
        t === 0 ? 2 : t === T / 2 || t === T - 1 ? 3 : 5 + rng.int(V - 5),
      );
      const masked = maskTokens(
        ids,
        ids.map((id) => id >= 5),
        { maskId: 4, vocabSize: V, firstRandomId: 5 },
        rng,
      );
      tokenIds.set(masked.tokenIds, b * T);
      for (let t = T / 2 + 1; t < T; t++) tokenTypeIds[b * T + t] = 1;
      masked.positions.forEach((t, j) => {
        positions.push(b * T + t);
        labels.push(masked.labels[j]);
      });
    }
    return {
      batchSize: B,
      length: T,
      tokenIds,
      tokenTypeIds,
      attentionMask,
      maskedPositions: Int32Array.from(positions),
      maskedLabels: Int32Array.from(labels),
      isNext: Int32Array.from({ length: B }, () => rng.int(2)),
    };
  };
  const fixed = batch();
  const optimizer = new AdamW({ learningRate: 1e-3 });
  const variables = model.trainableVariables();
  const step = () => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(fixed, true), variables);
      const clipped = clipByGlobalNorm(grads, 1);
      optimizer.applyGradients(clipped.grads);
      value.dataSync();
    });
  };
  const timings = timeSteps(step);
  optimizer.dispose();
  model.dispose();
  const shape: TransformerShape = {
    name: "",
    batch: B,
    length: T,
    width: D,
    heads: 2,
    layers: L,
    items: V,
    maskProbability: 0.15,
  };
  // The encoder, the MLM projection of the masked rows (FLOP model of the header), and the MLM transform.
  const flops =
    3 * (transformerForwardFlops(shape, fixed.maskedPositions.length) + 2 * D * D * fixed.maskedPositions.length);
  return { timings, flops, tokens: B * T };
}

/**
 * One training step of notebook 07's BERT4Rec or SASRec, the library's models as they train there: B64 T100
 * D64, 2 layers, full softmax over MovieLens 100K's 1,682 items, AdamW. The windows are full (no padding),
 * drawn at random: the cost of a step does not depend on which items they hold. Also returns the steps of
 * an ML-100k epoch (one window per user, plus one per 50 further items of a long history).
 */
async function sequentialTrainingStep(
  kind: "bert4rec" | "sasrec",
): Promise<{ timings: Timing[]; flops: number; tokens: number; epochSteps: number }> {
  const [B, T, D, N, L] = [64, 100, 64, 1682, 2];
  const rng = new Rng(5);
  const sequences = UserSequences.fromArrays(
    N,
    Array.from({ length: B }, () => Array.from({ length: T + 1 }, () => rng.int(N))),
  );
  const model: SequentialTransformer<SequenceBatch> =
    kind === "bert4rec"
      ? new Bert4Rec({ numItems: N, maxLength: T, hiddenSize: D, numLayers: L, numHeads: 2, seed: 1 }, sequences)
      : (new SasRec(
          { numItems: N, maxLength: T, hiddenSize: D, numLayers: L, numHeads: 1, seed: 1 },
          sequences,
        ) as unknown as SequentialTransformer<SequenceBatch>);
  const common = { maxLength: T, itemOffset: model.architecture.itemOffset, batchSize: B, seed: 3 };
  const [batch]: SequenceBatch[] =
    kind === "bert4rec"
      ? bert4recBatches(sequences, { ...common, maskProbability: 0.2 }, 0)
      : sasrecBatches(sequences, common, 0);
  const optimizer = new AdamW({ learningRate: 1e-3, weightDecay: 0 });
  const variables = model.trainableVariables();
  const step = () => {
    const loss = optimizer.minimize(() => model.loss(batch, true), true, variables);
    loss?.dataSync();
    loss?.dispose();
  };
  const timings = timeSteps(step);
  optimizer.dispose();
  model.dispose();
  const shape: TransformerShape = {
    name: kind,
    batch: B,
    length: T,
    width: D,
    heads: 2,
    layers: L,
    items: N,
    maskProbability: 0.2,
  };
  // ML-100k's 943 training histories, cut into windows 50 items apart as notebook 07 trains them: 1,879 windows.
  const epochSteps = Math.ceil(1879 / B);
  return { timings, flops: 3 * transformerForwardFlops(shape, batch.positions.length), tokens: B * T, epochSteps };
}

/**
 * One epoch of biased MF (Surprise's SVD settings) on MovieLens 100K, if the data set is found: ms per
 * step of `batchSize` ratings (a whole epoch for 1, Surprise's per-rating SGD run by the fused epoch).
 */
async function matrixFactorizationEpoch(
  batchSize: number,
): Promise<{ ms: number; flops: number; steps: number } | undefined> {
  let data;
  try {
    data = await loadMovieLens100K({ download: false });
  } catch {
    return undefined;
  }
  const model = new MatrixFactorization(data, { factors: 100, seed: 1 });
  const start = performance.now();
  await fitRatingSgd(model, { epochs: 1, seed: 1, batchSize, progress: "silent" });
  const ms = performance.now() - start;
  const stepsRun = batchSize === 1 ? 1 : Math.floor(data.length / batchSize);
  const ratings = batchSize === 1 ? data.length : stepsRun * batchSize;
  // Per rating: the dot product and the bias terms forward (2·(D + 2)), ×3 for the step.
  const flops = 3 * 2 * (model.factors + 2) * ratings;
  model.dispose();
  return { ms: ms / stepsRun, flops, steps: stepsRun };
}

async function main(): Promise<void> {
  const info = await initBackend();
  if (before && info.name === "wasm") useStockWasmKernels();
  const mode = before ? "before" : "after";
  configs = engineConfigs();
  if (!json) {
    const settings = configs.map((c) => `${c.threads} thread${c.threads === 1 ? "" : "s"}, ${c.simd} gemm`);
    console.log(`${describeBackend(info)}; ${mode}; SIMD gemm: ${settings.join(" | ")}`);
  }
  if (gemmOnly) {
    for (const row of gemmRates()) {
      const gflops = Math.round(row.gflops * 100) / 100;
      if (json) console.log(JSON.stringify({ gemm: row.product, threads: row.threads, simd: row.simd, gflops }));
      else
        console.log(
          `  gemm ${row.product.padEnd(38)} ${row.threads}t ${row.simd.padEnd(5)} ${gflops.toFixed(2).padStart(7)} GFLOP/s`,
        );
    }
  }

  const report = (workload: string, timing: Timing, flops: number, extra?: string, tokensPerStep?: number) => {
    const { ms, matmul } = timing;
    const modelGflops = flops / ms / 1e6;
    const result: Result = {
      workload,
      backend: info.name,
      mode,
      msPerStep: Math.round(ms * 10) / 10,
      modelGflops: Math.round(modelGflops * 100) / 100,
      matmulGflops: Math.round(matmul * 100) / 100,
      ratio: Math.round((modelGflops / matmul) * 1000) / 1000,
      gflopPerStep: Math.round(flops / 1e6) / 1000,
      peakRssMb: peakRssMb(),
      ...(tokensPerStep === undefined ? {} : { tokensPerSecond: Math.round(tokensPerStep / (ms / 1000)) }),
      threads: timing.threads,
      simd: timing.simd,
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(
        `  ${workload.padEnd(44)} ${result.msPerStep.toFixed(1).padStart(8)} ms/step  ${result.gflopPerStep.toFixed(2)} GFLOP  ` +
          `${result.modelGflops.toFixed(2).padStart(6)} GFLOP/s  matmul ${result.matmulGflops.toFixed(1)}  ratio ${result.ratio.toFixed(2)}  peak RSS ${result.peakRssMb} MB` +
          (result.tokensPerSecond === undefined ? "" : `  ${result.tokensPerSecond} tokens/s`) +
          (configs.length > 1 ? `  [${timing.threads}t ${timing.simd}]` : ""),
      );
      if (extra) console.log(extra);
    }
  };

  const workloads: Array<TransformerShape & { key: (typeof WORKLOADS)[number] }> = [
    {
      key: "toy",
      name: "toy transformer B64 T50 D64 H4 L2, 1700 items, full softmax",
      batch: 64,
      length: 50,
      width: 64,
      heads: 4,
      layers: 2,
      items: 1700,
      maskProbability: 1,
    },
    {
      key: "t100",
      name: "BERT4Rec ml-100k B64 T100 D64 H2 L2, 1684 items, p=0.2",
      batch: 64,
      length: 100,
      width: 64,
      heads: 2,
      layers: 2,
      items: 1684,
      maskProbability: 0.2,
    },
    {
      key: "t200",
      name: "BERT4Rec ml-100k B64 T200 D64 H2 L2, 1684 items, p=0.2",
      batch: 64,
      length: 200,
      width: 64,
      heads: 2,
      layers: 2,
      items: 1684,
      maskProbability: 0.2,
    },
  ];
  for (const shape of workloads.filter((w) => runs(w.key))) {
    const { timings, flops, profile: text } = await transformerStep(shape);
    timings.forEach((timing, c) => report(shape.name, timing, flops, c === timings.length - 1 ? text : undefined));
  }
  const bert = runs("bert-pretrain") ? await bertPretrainingStep() : { timings: [], flops: 0, tokens: 0 };
  for (const timing of bert.timings) {
    report(
      "bert-pretrain B64 T48 D64 H2 L2, vocab 3000, MLM 15% + NSP, AdamW, clip 1",
      timing,
      bert.flops,
      undefined,
      bert.tokens,
    );
  }
  for (const kind of (["bert4rec", "sasrec"] as const).filter((k) => runs(`${k}-train`))) {
    const seq = await sequentialTrainingStep(kind);
    const shapeName =
      kind === "bert4rec"
        ? "B64 T100 D64 H2 L2, 1682 items, Cloze ρ=0.2"
        : "B64 T100 D64 H1 L2, 1682 items, every next item";
    for (const timing of seq.timings) {
      report(
        `${kind}-train ${shapeName}, full softmax, AdamW`,
        timing,
        seq.flops,
        json
          ? undefined
          : `    an ML-100k epoch (${seq.epochSteps} steps): ${((timing.ms * seq.epochSteps) / 1000).toFixed(1)} s`,
        seq.tokens,
      );
    }
  }
  for (const batchSize of runs("mf") ? [4096, 1] : []) {
    const matmulBefore = matmulGflops();
    const mf = await matrixFactorizationEpoch(batchSize);
    if (mf === undefined) {
      if (!json) console.log("  biased MF epoch: skipped (MovieLens 100K not found; set RECSYS_DATA_DIR)");
      break;
    }
    const timing = { ms: mf.ms, matmul: (matmulBefore + matmulGflops()) / 2, threads: 1, simd: simdVariant() };
    report(
      batchSize === 1
        ? `biased MF ml-100k, D100, Surprise's per-rating SGD, fused (ms per epoch)`
        : `biased MF ml-100k, D100, batch ${batchSize} (${mf.steps} steps/epoch)`,
      timing,
      mf.flops,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
