// Cost against quality on MovieLens 100K (notebook 08's compute-cost section):
//
//   RECSYS_DATA_DIR=/path/to/datasets npx tsx bench/cost.ts [--json] [--cpu-clock] [--sasrec-epochs 8]
//                                         [--bert4rec-epochs 0] [--ann-items 100000] [--latency-users 200]
//
// 1. The course's models on one split, leave-one-out by time (notebook 07's protocol: each user's last
//    interaction is the test item, the model trains on the rest): parameters, weight bytes, training
//    seconds, p50/p95 milliseconds to answer one user's top-10 (seen items excluded), and NDCG@10 under
//    full ranking (every unseen item a candidate). Budgets are small so that everything runs in about
//    five minutes on one core; `npm run reproduce -- sequential-ml100k` trains the sequential models on
//    the full budget (SASRec, 40 epochs: NDCG@10 0.104).
// 2. Int8: each model's weights stored as per-row int8 (factor models score from int8 tables; NCF and
//    SASRec run on int8 round trips of their matrices), bytes and NDCG@10 against float32.
// 3. Retrieval: the two-tower model's item vectors in an HNSW index (usearch) against exact search,
//    recall@10 and single-query queries per second for several efSearch, on ML-100k's 1,682 items and on
//    a synthetic catalogue of `--ann-items` unit vectors drawn from the Gaussian fitted to them
//    (`gaussianVectorsLike`: the geometry of trained embeddings at the scale where an index pays),
//    queried with the real users' vectors. Also NDCG@10 when the two-tower's top 10 comes from the index.
//
// Timings are wall clock, or with --cpu-clock this process's CPU time, which on a shared machine is
// closer to what an idle core would take (wasm is single-threaded; usearch runs on one thread here).
// Training reports both. Quality numbers are deterministic for a backend.

import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/backend";
import { Rng } from "../src/backend/random";
import { Interactions } from "../src/data/interactions";
import { loadMovieLens100K } from "../src/data/movielens";
import { NegativeSampler } from "../src/data/samplers";
import { UserSequences } from "../src/data/sequences";
import { leaveOneOutSplit } from "../src/data/splitters";
import { latencyPerUser, summarizeWeights, timed, WeightSource } from "../src/eval/cost";
import { evaluateRanking, ItemScorer } from "../src/eval/protocols";
import {
  ApproximateIndex,
  ExactIndex,
  annRecall,
  gaussianVectorsLike,
  queriesPerSecond,
  tableRows,
  vectorTable,
  VectorTable,
} from "../src/eval/retrieval";
import { groupByUser } from "../src/eval/scorers";
import { PopularityRecommender } from "../src/models/baselines";
import { Bert4Rec } from "../src/models/bert4rec";
import { BprMf, bprBatches } from "../src/models/bpr";
import { ItemKnnRecommender } from "../src/models/itemKnn";
import { MatrixFactorization } from "../src/models/matrixFactorization";
import { NeuralCF } from "../src/models/ncf";
import { SasRec } from "../src/models/sasrec";
import { TwoTower } from "../src/models/twoTower";
import { fitWals } from "../src/models/wals";
import type { NamedWeight } from "../src/nn/layeredModel";
import { quantizeFactorModel, withInt8Weights, FactorModel } from "../src/nn/quantization";
import { fitImplicitFeedback } from "../src/train/implicitFeedback";
import { fitRatingSgd } from "../src/train/ratingSgd";
import { trainSequentialRecommender } from "../src/train/sequentialTraining";
import { fit } from "../src/train/trainer";

const args = process.argv.slice(2);
const json = args.includes("--json");
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const SASREC_EPOCHS = option("--sasrec-epochs", 8);
const BERT4REC_EPOCHS = option("--bert4rec-epochs", 0);
const ANN_ITEMS = option("--ann-items", 100000);
const LATENCY_USERS = option("--latency-users", 200);
// CPU time is steadier than wall time on a shared machine (the wasm backend and the index run on one thread).
const CLOCK = args.includes("--cpu-clock") ? ("cpu" as const) : ("wall" as const);
const K = 10;
const progress = "silent" as const;

function log(line: string): void {
  if (!json) console.log(line);
}

function emit(record: Record<string, unknown>): void {
  if (json) console.log(JSON.stringify(record));
}

// ---------------------------------------------------------------------------------------------
// 1. The models
// ---------------------------------------------------------------------------------------------

interface Trained {
  name: string;
  /** What is trained, in a few words (the budget). */
  budget: string;
  scorer: ItemScorer;
  weights: WeightSource;
  /** How to measure it at int8, if it has float weights. */
  int8?: "factors" | "simulated";
  dispose?: () => void;
}

type Builder = (train: Interactions, sequences: UserSequences) => Promise<Omit<Trained, "name">>;

/** The course's models with the configurations of notebooks 02, 04 and 07, on small budgets. */
const MODELS: Array<[string, Builder]> = [
  [
    "popularity",
    async (train) => {
      const model = new PopularityRecommender().fit(train);
      return { budget: "counts", scorer: model, weights: [model.popularity] };
    },
  ],
  [
    "item-kNN",
    async (train) => {
      // k = 50 is what notebook 07's validation picks on ML-100k; the graph is what it stores.
      const model = new ItemKnnRecommender({ neighbours: 50 }).fit(train);
      const graph = model.similarityGraph;
      return { budget: "k = 50", scorer: model, weights: [graph.offsets, graph.items, graph.similarities] };
    },
  ],
  [
    "SVD (MF)",
    async (train) => {
      // Surprise's SVD, trained on the ratings (notebook 02): 100 factors, 20 epochs.
      const model = new MatrixFactorization(train, { seed: 42 });
      await fitRatingSgd(model, { seed: 42, progress });
      return { budget: "20 epochs", scorer: model, weights: model, int8: "factors", dispose: () => model.dispose() };
    },
  ],
  [
    "BPR-MF",
    async (train) => {
      const model = new BprMf(train.numUsers, train.numItems, { seed: 42 });
      const sampler = new NegativeSampler(train);
      const rng = new Rng(42);
      const optimizer = tf.train.adam(0.01);
      await fit(model, {
        optimizer,
        epochs: 20,
        progress,
        batches: () => bprBatches(train, sampler, { batchSize: 1024, rng }),
      });
      optimizer.dispose();
      return { budget: "20 epochs", scorer: model, weights: model, int8: "factors", dispose: () => model.dispose() };
    },
  ],
  [
    "WALS",
    async (train) => {
      const model = fitWals(train, { seed: 42 });
      return {
        budget: "10 iterations",
        scorer: model,
        weights: [model.userFactors, model.itemFactors],
        int8: "factors",
      };
    },
  ],
  [
    "NeuMF (NCF)",
    async (train) => {
      const model = new NeuralCF(train, { variant: "neumf", factors: 8, mlpLayers: [64, 32, 16, 8], seed: 25 });
      await fitImplicitFeedback(model, { epochs: 6, batchSize: 1024, learningRate: 0.002, seed: 26, progress });
      return { budget: "6 epochs", scorer: model, weights: model, int8: "simulated", dispose: () => model.dispose() };
    },
  ],
  [
    "two-tower",
    async (train) => {
      const model = new TwoTower(train, {
        embeddingDim: 32,
        hiddenUnits: [64],
        outputDim: 32,
        temperature: 0.1,
        seed: 31,
      });
      await fitImplicitFeedback(model, { epochs: 6, batchSize: 512, learningRate: 0.005, seed: 32, progress });
      return { budget: "6 epochs", scorer: model, weights: model, int8: "factors", dispose: () => model.dispose() };
    },
  ],
  [
    "SASRec",
    async (train, sequences) => {
      const model = new SasRec(
        { numItems: train.numItems, maxLength: 100, numHeads: 1, dropout: 0.2, seed: 2 },
        sequences,
      );
      await trainSequentialRecommender(model, sequences, { epochs: SASREC_EPOCHS, seed: 13, progress });
      return {
        budget: `${SASREC_EPOCHS} epochs`,
        scorer: model,
        weights: model,
        int8: "simulated",
        dispose: () => model.dispose(),
      };
    },
  ],
  [
    "BERT4Rec",
    async (train, sequences) => {
      const model = new Bert4Rec({ numItems: train.numItems, maxLength: 100, dropout: 0.3, seed: 1 }, sequences);
      await trainSequentialRecommender(model, sequences, { epochs: BERT4REC_EPOCHS, seed: 11, progress });
      return {
        budget: `${BERT4REC_EPOCHS} Cloze epoch${BERT4REC_EPOCHS === 1 ? "" : "s"}`,
        scorer: model,
        weights: model,
        int8: "simulated",
        dispose: () => model.dispose(),
      };
    },
  ],
];

const round = (digits: number, x: number) => Number(x.toFixed(digits));

function ndcgAt10(scorer: ItemScorer, train: Interactions, test: Interactions): number {
  return evaluateRanking(scorer, { train, test, k: K, metrics: ["ndcg"] }).metrics[`ndcg@${K}`];
}

function kib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

// ---------------------------------------------------------------------------------------------
// 3. Retrieval with an index, as an ItemScorer (for NDCG@10 of index-served lists)
// ---------------------------------------------------------------------------------------------

/**
 * Scores only the items an index returns for the user's vector (their inner products), −∞ elsewhere,
 * asking for K plus the user's seen items so that K unseen ones remain after exclusion.
 */
function indexScorer(
  search: (queries: VectorTable, k: number) => { itemsOf(r: number): Int32Array; scoresOf(r: number): Float32Array },
  users: VectorTable,
  numItems: number,
  seen: Interactions,
): ItemScorer {
  const seenRows = groupByUser(seen);
  return {
    numItems,
    scoreItems(batch: Int32Array): Float32Array {
      const out = new Float32Array(batch.length * numItems).fill(-Infinity);
      for (let b = 0; b < batch.length; b++) {
        const u = batch[b];
        const query = { values: users.values.subarray(u * users.dim, (u + 1) * users.dim), dim: users.dim };
        const wanted = Math.min(numItems, K + seenRows.offsets[u + 1] - seenRows.offsets[u]);
        const found = search(query, wanted);
        const items = found.itemsOf(0);
        const scores = found.scoresOf(0);
        for (let j = 0; j < items.length; j++) out[b * numItems + items[j]] = scores[j];
      }
      return out;
    },
  };
}

function retrievalTable(
  label: string,
  items: VectorTable,
  queries: VectorTable,
  efs: number[],
  config: { M: number; efConstruction: number },
): void {
  const exactIndex = new ExactIndex(items);
  const exact = exactIndex.search(queries, K);
  const exactQps = queriesPerSecond((q) => exactIndex.search(q, K), queries, { minSeconds: 1, clock: CLOCK });
  const built = timedSync(() => ApproximateIndex.build(items, { ...config, efSearch: efs[0] }));
  const bytes = built.result.serializedBytes();
  log(
    `\n${label}: ${tableRows(items)} items × ${items.dim}, ${tableRows(queries)} queries; HNSW M = ${config.M}, ` +
      `efConstruction = ${config.efConstruction}, built in ${built.seconds.toFixed(1)} s, ${kib(bytes)} ` +
      `(the vectors alone: ${kib(items.values.byteLength)})`,
  );
  log(`  ${"search".padEnd(16)} ${"recall@10".padStart(9)} ${"queries/s".padStart(10)} ${"speed-up".padStart(8)}`);
  log(
    `  ${"exact".padEnd(16)} ${"1.000".padStart(9)} ${exactQps.queriesPerSecond.toFixed(0).padStart(10)} ${"1.0×".padStart(8)}`,
  );
  emit({
    section: "retrieval",
    catalogue: label,
    items: tableRows(items),
    dim: items.dim,
    search: "exact",
    recall10: 1,
    qps: round(0, exactQps.queriesPerSecond),
  });
  for (const ef of efs) {
    const index = ef === efs[0] ? built.result : built.result.withEfSearch(ef);
    const recall = annRecall(index.search(queries, K), exact);
    const qps = queriesPerSecond((q) => index.search(q, K), queries, { minSeconds: 1, clock: CLOCK });
    const speedUp = qps.queriesPerSecond / exactQps.queriesPerSecond;
    log(
      `  ${`HNSW ef = ${ef}`.padEnd(16)} ${recall.toFixed(3).padStart(9)} ${qps.queriesPerSecond.toFixed(0).padStart(10)} ${`${speedUp.toFixed(1)}×`.padStart(8)}`,
    );
    emit({
      section: "retrieval",
      catalogue: label,
      items: tableRows(items),
      dim: items.dim,
      search: `hnsw-ef${ef}`,
      M: config.M,
      efConstruction: config.efConstruction,
      efSearch: ef,
      buildSeconds: round(2, built.seconds),
      indexBytes: bytes,
      recall10: round(4, recall),
      qps: round(0, qps.queriesPerSecond),
    });
  }
  exactIndex.dispose();
}

/** Seconds on the bench's clock. */
function timedSync<T>(run: () => T): { result: T; seconds: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = run();
  const used = process.cpuUsage(cpu);
  return { result, seconds: CLOCK === "cpu" ? (used.user + used.system) / 1e6 : (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const began = performance.now();
  const backend = await initBackend();
  const data = await loadMovieLens100K();
  const { train, test } = leaveOneOutSplit(data, { validation: false });
  const sequences = UserSequences.from(train);
  const testUsers = Int32Array.from(new Set(test.users));
  const rng = new Rng(2024);
  rng.shuffle(testUsers);
  const latencyUsers = testUsers.subarray(0, Math.min(LATENCY_USERS, testUsers.length));
  log(
    `cost vs quality, ${data.name} (${data.numUsers} users, ${data.numItems} items), leave-one-out by time, ` +
      `${backend.name} backend; latency over ${latencyUsers.length} users, one request each, top-${K} without seen ` +
      `items; ${CLOCK === "cpu" ? "CPU time" : "wall time"}`,
  );

  // 1 and 2: every model, float32 then int8.
  const header =
    `${"model".padEnd(13)} ${"budget".padEnd(15)} ${"params".padStart(9)} ${"weights".padStart(10)} ` +
    `${"train s".padStart(7)} ${"CPU s".padStart(6)} ${"p50 ms".padStart(7)} ${"p95 ms".padStart(7)} ${"NDCG@10".padStart(8)} ` +
    `${"int8 weights".padStart(12)} ${"int8 NDCG".padStart(9)}`;
  log(`\n${header}`);
  let twoTower: TwoTower | null = null;
  for (const [name, build] of MODELS) {
    if (name === "BERT4Rec" && BERT4REC_EPOCHS === 0) continue;
    if (name === "SASRec" && SASREC_EPOCHS === 0) continue;
    const { result: trained, seconds, cpuSeconds } = await timed(() => build(train, sequences));
    const weights = summarizeWeights(trained.weights);
    const latency = latencyPerUser(trained.scorer, latencyUsers, { k: K, excludeSeen: train, clock: CLOCK });
    const ndcg = ndcgAt10(trained.scorer, train, test);
    let int8: { bytes: number; ndcg: number } | null = null;
    if (trained.int8 === "factors") {
      const quantized = quantizeFactorModel(trained.scorer as unknown as FactorModel);
      int8 = { bytes: quantized.weightBytes(), ndcg: ndcgAt10(quantized, train, test) };
    } else if (trained.int8 === "simulated") {
      const report = await withInt8Weights(trained.weights as { namedWeights(): NamedWeight[] }, () =>
        ndcgAt10(trained.scorer, train, test),
      );
      int8 = { bytes: report.int8Bytes, ndcg: report.result };
    }
    log(
      `${name.padEnd(13)} ${trained.budget.padEnd(15)} ${weights.parameters.toLocaleString("en").padStart(9)} ` +
        `${kib(weights.bytes).padStart(10)} ${seconds.toFixed(1).padStart(7)} ${cpuSeconds.toFixed(1).padStart(6)} ${latency.p50Ms.toFixed(2).padStart(7)} ` +
        `${latency.p95Ms.toFixed(2).padStart(7)} ${ndcg.toFixed(4).padStart(8)} ` +
        `${(int8 ? kib(int8.bytes) : "–").padStart(12)} ${(int8 ? int8.ndcg.toFixed(4) : "–").padStart(9)}`,
    );
    emit({
      section: "models",
      dataset: data.name,
      backend: backend.name,
      model: name,
      budget: trained.budget,
      parameters: weights.parameters,
      weightBytes: weights.bytes,
      trainSeconds: round(2, seconds),
      trainCpuSeconds: round(2, cpuSeconds),
      clock: CLOCK,
      p50Ms: round(3, latency.p50Ms),
      p95Ms: round(3, latency.p95Ms),
      ndcg10: round(4, ndcg),
      int8Bytes: int8?.bytes ?? null,
      int8Ndcg10: int8 ? round(4, int8.ndcg) : null,
    });
    if (trained.scorer instanceof TwoTower) twoTower = trained.scorer;
    else trained.dispose?.();
  }
  if (twoTower === null) throw new Error("bench/cost: the two-tower model was not trained");

  // 3: the two-tower model's vectors in an index.
  const [userVectors, itemVectors] = tf.tidy(() => [
    twoTower!.userVectors(tf.range(0, data.numUsers, 1, "int32") as tf.Tensor1D),
    twoTower!.itemVectors(tf.range(0, data.numItems, 1, "int32") as tf.Tensor1D),
  ]);
  const users = vectorTable(userVectors);
  const items = vectorTable(itemVectors);
  tf.dispose([userVectors, itemVectors]);
  const hnsw = { M: 16, efConstruction: 128 };
  retrievalTable(`${data.name} two-tower items`, items, users, [10, 20, 40, 80], hnsw);

  // NDCG@10 when the lists come from the index (scores are uᵀv; dividing by τ would not change the order).
  const served = [10, 40].map((ef) => {
    const index = ApproximateIndex.build(items, { ...hnsw, efSearch: ef });
    const scorer = indexScorer((q, k) => index.search(q, k), users, data.numItems, train);
    return { ef, ndcg: ndcgAt10(scorer, train, test) };
  });
  const exactNdcg = ndcgAt10(twoTower, train, test);
  log(
    `  NDCG@10 of the two-tower's lists: exact ${exactNdcg.toFixed(4)}, ` +
      served.map((s) => `HNSW ef = ${s.ef} ${s.ndcg.toFixed(4)}`).join(", "),
  );
  emit({
    section: "retrieval-ndcg",
    exact: round(4, exactNdcg),
    ...Object.fromEntries(served.map((s) => [`hnswEf${s.ef}`, round(4, s.ndcg)])),
  });
  twoTower.dispose();

  if (ANN_ITEMS > 0) {
    const synthetic = gaussianVectorsLike(items, ANN_ITEMS, { seed: 99 });
    const queries = { values: users.values.subarray(0, 500 * users.dim), dim: users.dim };
    retrievalTable(`synthetic, Gaussian like the two-tower items`, synthetic, queries, [10, 40, 160], hnsw);
  }
  const cpu = process.cpuUsage();
  log(
    `\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU s`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
