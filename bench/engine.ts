// Training-engine benchmark: how close a training step comes to the backend's own matmul speed.
//
//   npx tsx bench/engine.ts [--json] [--before] [--profile] [--steps 6]
//
// For the backend initBackend picks (RECSYS_BACKEND overrides), it prints for each workload the ms
// per training step (Adam), the achieved model GFLOP/s, the process's plain 512×512 matmul rate
// (XNNPack's, measured after every step; around the MF epoch) and their ratio, which is robust to a
// busy machine because both are measured together (medians over the steps). `--before` runs the step as it was before the
// engine work: tfjs's stock wasm kernels (plus the UnsortedSegmentSum that training needs, and
// BatchMatMul's flagged operands transposed explicitly, without which the stock kernel takes a scalar
// loop), ops composed where recsys-ts has fused kernels, softmax cross-entropy through a one-hot
// matrix, and, for BERT4Rec, every position projected to the catalogue with the loss masked
// afterwards. `--profile` adds the kernels that take the most time in one step.
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
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const before = args.includes("--before");
const profile = args.includes("--profile");
const stepsIndex = args.indexOf("--steps");
const steps = stepsIndex >= 0 ? Number(args[stepsIndex + 1]) : 6;
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

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

/** Best-of-`repeats` time of a 512×512 product, as GFLOP/s (a tall plain product: XNNPack's own rate). */
function matmulGflops(repeats = 5): number {
  const [a, b] = [tf.randomNormal([512, 512], 0, 1, "float32", 1), tf.randomNormal([512, 512], 0, 1, "float32", 2)];
  let best = Infinity;
  for (let r = 0; r <= repeats; r++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    if (r > 0) best = Math.min(best, performance.now() - start);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * 512 ** 3) / best / 1e6;
}

/**
 * Two warm-up calls of `step`, then the median ms of `steps` timed calls and the median matmul rate
 * measured right after each (medians: a garbage collection or a neighbour's burst moves a mean).
 */
function timeSteps(step: () => void): { ms: number; matmul: number } {
  step();
  step();
  const times: number[] = [];
  const rates: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
    rates.push(matmulGflops(2));
  }
  return { ms: median(times), matmul: median(rates) };
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
async function transformerStep(
  s: TransformerShape,
): Promise<{ ms: number; flops: number; matmul: number; profile?: string }> {
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
  const { ms, matmul } = timeSteps(step);
  let profileText: string | undefined;
  if (profile) profileText = await kernelProfile(step);
  tf.dispose([embeddings, outputBias, ids, labels, weights, scoredTensor, labelsEverywhere]);
  optimizer.dispose();
  encoder.dispose();
  positions.dispose();
  return {
    ms,
    flops: 3 * transformerForwardFlops(s, s.maskProbability >= 1 ? B * T : scored.length),
    matmul,
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
async function bertPretrainingStep(): Promise<{ ms: number; flops: number; matmul: number; tokens: number }> {
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
  const { ms, matmul } = timeSteps(step);
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
  return { ms, flops, matmul, tokens: B * T };
}

/**
 * One training step of notebook 07's BERT4Rec or SASRec, the library's models as they train there: B64 T100
 * D64, 2 layers, full softmax over MovieLens 100K's 1,682 items, AdamW. The windows are full (no padding),
 * drawn at random: the cost of a step does not depend on which items they hold. Also returns the steps of
 * an ML-100k epoch (one window per user, plus one per 50 further items of a long history).
 */
async function sequentialTrainingStep(
  kind: "bert4rec" | "sasrec",
): Promise<{ ms: number; flops: number; matmul: number; tokens: number; epochSteps: number }> {
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
  const { ms, matmul } = timeSteps(step);
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
  return { ms, flops: 3 * transformerForwardFlops(shape, batch.positions.length), matmul, tokens: B * T, epochSteps };
}

/** One epoch of biased MF (Surprise's SVD settings) on MovieLens 100K, if the data set is found. */
async function matrixFactorizationEpoch(): Promise<{ ms: number; flops: number; steps: number } | undefined> {
  let data;
  try {
    data = await loadMovieLens100K({ download: false });
  } catch {
    return undefined;
  }
  const model = new MatrixFactorization(data, { factors: 100, seed: 1 });
  const start = performance.now();
  const logs = await fitRatingSgd(model, { epochs: 1, seed: 1, progress: "silent" });
  const ms = performance.now() - start;
  const batchSize = model.sgdDefaults.batchSize;
  const stepsRun = Math.floor(data.length / batchSize);
  // Per rating: the dot product and the bias terms forward (2·(D + 2)), ×3 for the step.
  const flops = 3 * 2 * (model.factors + 2) * stepsRun * batchSize;
  void logs;
  (model as unknown as { dispose?: () => void }).dispose?.();
  return { ms: ms / stepsRun, flops, steps: stepsRun };
}

async function main(): Promise<void> {
  const info = await initBackend();
  if (before && info.name === "wasm") useStockWasmKernels();
  const mode = before ? "before" : "after";
  if (!json) console.log(`${describeBackend(info)}; ${mode}`);

  const report = (
    workload: string,
    ms: number,
    flops: number,
    matmul: number,
    extra?: string,
    tokensPerStep?: number,
  ) => {
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
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(
        `  ${workload.padEnd(44)} ${result.msPerStep.toFixed(1).padStart(8)} ms/step  ${result.gflopPerStep.toFixed(2)} GFLOP  ` +
          `${result.modelGflops.toFixed(2).padStart(6)} GFLOP/s  matmul ${result.matmulGflops.toFixed(1)}  ratio ${result.ratio.toFixed(2)}  peak RSS ${result.peakRssMb} MB` +
          (result.tokensPerSecond === undefined ? "" : `  ${result.tokensPerSecond} tokens/s`),
      );
      if (extra) console.log(extra);
    }
  };

  const workloads: TransformerShape[] = [
    {
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
  for (const shape of workloads) {
    const { ms, flops, matmul, profile: text } = await transformerStep(shape);
    report(shape.name, ms, flops, matmul, text);
  }
  const bert = await bertPretrainingStep();
  report(
    "bert-pretrain B64 T48 D64 H2 L2, vocab 3000, MLM 15% + NSP, AdamW, clip 1",
    bert.ms,
    bert.flops,
    bert.matmul,
    undefined,
    bert.tokens,
  );
  for (const kind of ["bert4rec", "sasrec"] as const) {
    const seq = await sequentialTrainingStep(kind);
    const shapeName =
      kind === "bert4rec"
        ? "B64 T100 D64 H2 L2, 1682 items, Cloze ρ=0.2"
        : "B64 T100 D64 H1 L2, 1682 items, every next item";
    report(
      `${kind}-train ${shapeName}, full softmax, AdamW`,
      seq.ms,
      seq.flops,
      seq.matmul,
      json
        ? undefined
        : `    an ML-100k epoch (${seq.epochSteps} steps): ${((seq.ms * seq.epochSteps) / 1000).toFixed(1)} s`,
      seq.tokens,
    );
  }
  const matmulBefore = matmulGflops();
  const mf = await matrixFactorizationEpoch();
  if (mf === undefined) {
    if (!json) console.log("  biased MF epoch: skipped (MovieLens 100K not found; set RECSYS_DATA_DIR)");
  } else {
    report(
      `biased MF ml-100k, D100, batch 4096 (${mf.steps} steps/epoch)`,
      mf.ms,
      mf.flops,
      (matmulBefore + matmulGflops()) / 2,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
