// `npm run reproduce -- <experiment> [--json] [--folds N]`: runs a published benchmark's full protocol
// and prints our numbers beside the published ones. Experiments:
//   surprise-ml100k   5-fold RMSE/MAE of the Surprise benchmark's ten algorithms on MovieLens 100K
//   bert-pretrain     notebook 06's two BERT pretraining runs (book text, user histories) on the full budget:
//                     wall time, held-out MLM and NSP accuracies, tokens/s; checkpoints and vocab.txt files go
//                     to build/checkpoints/bert-pretrain-{books,users}
//   sequential-ml100k notebook 07's next-item comparison on the full budget: popularity, item-kNN, BPR-MF, a
//   sequential-ml1m   Markov chain, BERT4Rec and SASRec, leave-one-out by time, HR@10 and NDCG@10 under full
//                     ranking and 100 uniform / popularity negatives
//   ms-recommenders-ml100k  Microsoft Recommenders' top-10 table on MovieLens 100K (75/25 per user, seed 42):
//                     popularity, SAR, EASE, BPR-MF, WALS, SVD, NeuMF, LightGCN and Mult-VAE, nDCG@10,
//                     precision@10, recall@10, MAP@10 and fit seconds beside the published rows
//                     (scripts/lib/msRecommenders.ts; `--models sar,ease` runs some of them)
// Data comes from RECSYS_DATA_DIR or the download cache.

import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../src/backend/backend";
import { Rng } from "../src/backend/random";
import {
  behaviourDocuments,
  catalogueDocuments,
  holdOutDocuments,
  itemTokenizer,
  pretrainingBatches,
  TextPair,
} from "../src/data/bertPretraining";
import { loadGoodbooksCatalogue } from "../src/data/goodbooks";
import { mostFrequentTokenBaseline } from "../src/eval/pretraining";
import { WordPieceTokenizer } from "../src/text/wordpiece";
import { pretrainBert, tokenizerMasking } from "../src/train/bertPretraining";
import { Interactions } from "../src/data/interactions";
import { loadMovieLens100K, loadMovieLens1M } from "../src/data/movielens";
import { crossValidateRatings, FoldModel } from "../src/eval/crossValidation";
import { SURPRISE_ML100K, SURPRISE_ML100K_MORE } from "../src/eval/published";
import { KNNBaseline, KNNBasic, KNNWithMeans } from "../src/models/knn";
import { BaselineOnly, NormalPredictor } from "../src/models/ratingBaselines";
import { SlopeOne } from "../src/models/slopeOne";
import { NMF } from "../src/models/nmf";
import { CoClustering } from "../src/models/coClustering";
import { MatrixFactorization } from "../src/models/matrixFactorization";
import { Svdpp } from "../src/models/svdpp";
import { fitRatingSgd } from "../src/train/ratingSgd";
import * as tf from "@tensorflow/tfjs";
import { leaveOneOutSplit } from "../src/data/splitters";
import { NegativeSampler } from "../src/data/samplers";
import { UserSequences } from "../src/data/sequences";
import { compareProtocols, evaluateRanking, ItemScorer } from "../src/eval/protocols";
import { PopularityRecommender } from "../src/models/baselines";
import { ItemKnnRecommender } from "../src/models/itemKnn";
import { MarkovChainRecommender } from "../src/models/markovChain";
import { BprMf, bprBatches } from "../src/models/bpr";
import { Bert4Rec } from "../src/models/bert4rec";
import { SasRec } from "../src/models/sasrec";
import { trainSequentialRecommender } from "../src/train/sequentialTraining";
import { fit } from "../src/train/trainer";
import { parseMsArgs, runMsComparison } from "./lib/msRecommenders";

/** How each Surprise algorithm is fitted here, with Surprise's default hyper-parameters. */
const SURPRISE_ALGORITHMS: Record<string, (train: Interactions, fold: number) => FoldModel | Promise<FoldModel>> = {
  NormalPredictor: (train, fold) => new NormalPredictor({ seed: fold }).fit(train),
  BaselineOnly: (train) => new BaselineOnly().fit(train),
  KNNBasic: (train) => new KNNBasic().fit(train),
  KNNWithMeans: (train) => new KNNWithMeans().fit(train),
  KNNBaseline: (train) => new KNNBaseline().fit(train),
  SlopeOne: (train) => new SlopeOne().fit(train),
  NMF: (train, fold) => new NMF({ seed: fold }).fit(train),
  CoClustering: (train, fold) => new CoClustering({ seed: fold }).fit(train),
  SVD: async (train, fold) => {
    const model = new MatrixFactorization(train, { seed: fold });
    // Batch size 1: Surprise's own per-rating SGD, in its order (the fused float64 epoch).
    await fitRatingSgd(model, { seed: fold, batchSize: 1, label: "SVD" });
    return model;
  },
  "SVD++": async (train, fold) => {
    const model = new Svdpp(train, { seed: fold });
    await fitRatingSgd(model, { seed: fold, batchSize: 1, label: "SVD++" });
    return model;
  },
};

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function surpriseMl100k(args: string[]): Promise<void> {
  const json = args.includes("--json");
  const folds = Number(option(args, "--folds") ?? 5);
  const only = option(args, "--algorithms")?.split(",");
  const backend = await initBackend();
  const data = await loadMovieLens100K();
  if (!json) {
    console.log(`Surprise benchmark, MovieLens 100K, ${folds}-fold cross-validation, ${backend.name} backend`);
    console.log(
      `${"algorithm".padEnd(16)}${"RMSE".padStart(8)}${"MAE".padStart(8)}${"published".padStart(18)}${"ΔRMSE".padStart(9)}${"seconds".padStart(9)}`,
    );
  }
  for (const published of [...SURPRISE_ML100K, ...SURPRISE_ML100K_MORE]) {
    if (only && !only.includes(published.algorithm)) continue;
    const result = await crossValidateRatings(data, SURPRISE_ALGORITHMS[published.algorithm], { folds, seed: 0 });
    const row = {
      algorithm: published.algorithm,
      rmse: Number(result.rmse.toFixed(4)),
      mae: Number(result.mae.toFixed(4)),
      publishedRmse: published.rmse,
      publishedMae: published.mae,
      seconds: Number(result.seconds.toFixed(1)),
    };
    if (json) {
      console.log(JSON.stringify(row));
    } else {
      const delta = row.rmse - row.publishedRmse;
      console.log(
        `${row.algorithm.padEnd(16)}${row.rmse.toFixed(4).padStart(8)}${row.mae.toFixed(4).padStart(8)}` +
          `${`${row.publishedRmse.toFixed(3)} / ${row.publishedMae.toFixed(3)}`.padStart(18)}` +
          `${(delta >= 0 ? "+" : "") + delta.toFixed(4)}`.padStart(9) +
          `${row.seconds.toFixed(1)}`.padStart(9),
      );
    }
  }
}

/** One pretraining run of notebook 06 on the full budget: its row of results, and its checkpoint on disk. */
async function pretrainingRow(
  corpus: string,
  documents: TextPair[],
  tokenizer: WordPieceTokenizer,
  options: {
    epochs: number;
    maxLength: number;
    split: { fraction: number; seed: number };
    dir: string;
    json: boolean;
    describe: (id: number) => string;
  },
): Promise<Record<string, unknown>> {
  const { train, heldOut } = holdOutDocuments(documents, options.split);
  fs.mkdirSync(path.dirname(options.dir), { recursive: true });
  tokenizer.saveVocabFile(`${options.dir}.vocab.txt`);
  const batchSize = 64;
  const result = await pretrainBert({ train, heldOut }, tokenizer, {
    model: { hiddenSize: 64, numLayers: 2, numHeads: 2, dropout: 0.1 },
    maxLength: options.maxLength,
    batchSize,
    epochs: options.epochs,
    peakLearningRate: 3e-3,
    seed: 1,
    checkpointDir: options.dir,
    progress: options.json ? "silent" : undefined,
    label: corpus,
  });
  const baseline = mostFrequentTokenBaseline(
    pretrainingBatches(
      train,
      tokenizer,
      { batchSize, maxLength: options.maxLength, masking: tokenizerMasking(tokenizer) },
      new Rng(99),
    ),
    result.heldOutBatches,
  );
  result.model.dispose();
  return {
    experiment: "bert-pretrain",
    corpus,
    epochs: options.epochs,
    resumedEpochs: result.resumedEpochs,
    seconds: Number(result.seconds.toFixed(1)),
    tokensPerSecond: Math.round(result.tokensPerSecond),
    mlmAccuracy: Number(result.evaluation.maskedLmAccuracy.toFixed(4)),
    mlmBaselineAccuracy: Number(baseline.accuracy.toFixed(4)),
    mostFrequentToken: options.describe(baseline.tokenId),
    nspAccuracy: Number(result.evaluation.nextSentenceAccuracy.toFixed(4)),
    checkpoint: options.dir,
  };
}

/**
 * Notebook 06's two pretraining runs (same corpora, splits, tokenizers and models) on the full budget:
 * `--epochs` (default 12) each; `--corpus books|users|both` (default both).
 */
async function bertPretrain(args: string[]): Promise<void> {
  const json = args.includes("--json");
  const epochs = Number(option(args, "--epochs") ?? 12);
  const corpus = option(args, "--corpus") ?? "both";
  if (!["books", "users", "both"].includes(corpus))
    throw new Error(`bert-pretrain: --corpus must be books, users or both, got ${corpus}`);
  const backend = await initBackend();
  const rows: Array<Record<string, unknown>> = [];
  if (corpus !== "users") {
    const catalogue = await loadGoodbooksCatalogue();
    const documents = catalogueDocuments(catalogue, { maxTags: 6 });
    const split = { fraction: 0.1, seed: 6 };
    const texts = holdOutDocuments(documents, split).train.flatMap((doc) => [doc.a, doc.b]);
    const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: 3000, minFrequency: 2, scoring: "frequency" });
    rows.push(
      await pretrainingRow(`${catalogue.name} (title ↔ tags)`, documents, tokenizer, {
        epochs,
        maxLength: 48,
        split,
        dir: path.resolve("build", "checkpoints", "bert-pretrain-books"),
        json,
        describe: (id) => tokenizer.idToToken(id),
      }),
    );
  }
  if (corpus !== "books") {
    const interactions = await loadMovieLens1M();
    const documents = behaviourDocuments(interactions, { halfLength: 20 });
    const tokenizer = itemTokenizer(interactions.numItems);
    rows.push(
      await pretrainingRow(`${interactions.name} (history ↔ continuation)`, documents, tokenizer, {
        epochs,
        maxLength: 43,
        split: { fraction: 0.1, seed: 7 },
        dir: path.resolve("build", "checkpoints", "bert-pretrain-users"),
        json,
        describe: (id) =>
          interactions.itemInfo.titles?.[Number(tokenizer.idToToken(id).slice(4))] ?? tokenizer.idToToken(id),
      }),
    );
  }
  for (const row of rows) {
    const full = { backend: backend.name, ...row };
    console.log(
      json
        ? JSON.stringify(full)
        : Object.entries(full)
            .map(([k, v]) => `${k.padEnd(20)} ${v}`)
            .join("\n") + "\n",
    );
  }
}

const round = (digits: number, x: number) => Number(x.toFixed(digits));

/** The sequential comparison of notebook 07 on the full budget: four baselines, BERT4Rec and SASRec, three protocols. */
/**
 * Notebook 07's next-item comparison on the full budget: four baselines, BERT4Rec and SASRec, leave-one-out
 * by time, three protocols. The validation items pick item-kNN's k; then every model is fitted on the
 * training and validation rows and tested on each user's last item.
 */
async function sequential(dataset: "ml-100k" | "ml-1m", args: string[]): Promise<void> {
  const json = args.includes("--json");
  const b4rEpochs = Number(option(args, "--bert4rec-epochs") ?? 120);
  const lastItemEpochs = Number(option(args, "--last-item-epochs") ?? 10);
  // Longer training needs stronger regularisation: at dropout 0.1, 180 epochs scored no better than 30.
  const b4rDropout = Number(option(args, "--bert4rec-dropout") ?? 0.3);
  const sasrecEpochs = Number(option(args, "--sasrec-epochs") ?? 40);
  const backend = await initBackend();
  const data = dataset === "ml-100k" ? await loadMovieLens100K() : await loadMovieLens1M();
  const heldOut = leaveOneOutSplit(data, { validation: false });
  const development = leaveOneOutSplit(heldOut.train, { validation: false });
  const sequences = UserSequences.from(heldOut.train);
  const progress = json ? ("silent" as const) : undefined;
  if (!json)
    console.log(
      `sequential recommendation, ${data.name} (${data.numUsers} users, ${data.numItems} items), leave-one-out by time, ${backend.name} backend`,
    );
  const rows: Array<{ model: string; epochs: number; seconds: number; scorer: ItemScorer }> = [];
  const timed = async (model: string, epochs: number, build: () => ItemScorer | Promise<ItemScorer>) => {
    const started = performance.now();
    const scorer = await build();
    rows.push({ model, epochs, seconds: (performance.now() - started) / 1000, scorer });
  };
  await timed("popularity", 0, () => new PopularityRecommender().fit(heldOut.train));
  await timed("item-kNN", 0, () => {
    const validationNdcg = (k: number) =>
      evaluateRanking(new ItemKnnRecommender({ neighbours: k }).fit(development.train), {
        train: development.train,
        test: development.test,
        k: 10,
        metrics: ["ndcg"],
      }).metrics["ndcg@10"];
    const scored = [20, 50, 100, 200].map((k) => ({ k, ndcg: validationNdcg(k) }));
    return new ItemKnnRecommender({ neighbours: scored.reduce((a, b) => (b.ndcg > a.ndcg ? b : a)).k }).fit(
      heldOut.train,
    );
  });
  await timed("BPR-MF", 20, async () => {
    const bpr = new BprMf(data.numUsers, data.numItems, { seed: 42 });
    const sampler = new NegativeSampler(heldOut.train);
    const rng = new Rng(42);
    const optimizer = tf.train.adam(0.01);
    await fit(bpr, {
      optimizer,
      epochs: 20,
      progress,
      label: "BPR-MF",
      batches: () => bprBatches(heldOut.train, sampler, { batchSize: 1024, rng }),
    });
    optimizer.dispose();
    return bpr;
  });
  await timed("Markov chain", 0, () => new MarkovChainRecommender().fit(heldOut.train));
  await timed("BERT4Rec", b4rEpochs + lastItemEpochs, async () => {
    const model = new Bert4Rec({ numItems: data.numItems, maxLength: 100, dropout: b4rDropout, seed: 1 }, sequences);
    await trainSequentialRecommender(model, sequences, {
      epochs: b4rEpochs,
      seed: 11,
      progress,
      label: "BERT4Rec (Cloze)",
    });
    await trainSequentialRecommender(model, sequences, {
      epochs: lastItemEpochs,
      learningRate: 5e-4,
      masking: "lastItem",
      seed: 12,
      progress,
      label: "BERT4Rec (last item)",
    });
    return model;
  });
  await timed("SASRec", sasrecEpochs, async () => {
    const model = new SasRec(
      { numItems: data.numItems, maxLength: 100, numHeads: 1, dropout: 0.2, seed: 2 },
      sequences,
    );
    await trainSequentialRecommender(model, sequences, { epochs: sasrecEpochs, seed: 13, progress, label: "SASRec" });
    return model;
  });
  const protocols = ["full", "uniform-100", "popularity-100"];
  for (const row of rows) {
    const reports = compareProtocols(row.scorer, {
      train: heldOut.train,
      test: heldOut.test,
      k: 10,
      metrics: ["hr", "ndcg"],
      sampled: [
        { negatives: 100, strategy: "uniform", seed: 2024 },
        { negatives: 100, strategy: "popularity", seed: 2024 },
      ],
    });
    reports.forEach((report, p) => {
      const result = {
        model: row.model,
        protocol: protocols[p],
        hr10: round(4, report.metrics["hr@10"]),
        ndcg10: round(4, report.metrics["ndcg@10"]),
        epochs: row.epochs,
        seconds: round(1, row.seconds),
      };
      console.log(
        json
          ? JSON.stringify({ dataset: data.name, backend: backend.name, ...result })
          : `${row.model.padEnd(14)} ${protocols[p].padEnd(15)} HR@10 ${result.hr10.toFixed(4)}  NDCG@10 ${result.ndcg10.toFixed(4)}  ${row.epochs} epochs  ${result.seconds} s`,
      );
    });
  }
}

/** Microsoft Recommenders' top-10 table on MovieLens 100K (see scripts/lib/msRecommenders.ts). */
async function msRecommendersMl100k(args: string[]): Promise<void> {
  const options = parseMsArgs(args);
  const backend = await initBackend();
  if (!options.json) console.log(`${backend.name} backend`);
  await runMsComparison(await loadMovieLens100K(), options, (line) => console.log(line));
}

const EXPERIMENTS: Record<string, (args: string[]) => Promise<void>> = {
  "surprise-ml100k": surpriseMl100k,
  "bert-pretrain": bertPretrain,
  "sequential-ml100k": (args) => sequential("ml-100k", args),
  "sequential-ml1m": (args) => sequential("ml-1m", args),
  "ms-recommenders-ml100k": msRecommendersMl100k,
};

const [experiment, ...rest] = process.argv.slice(2);
const run = EXPERIMENTS[experiment];
if (!run) {
  console.error(
    `usage: npm run reproduce -- <experiment> [--json]; experiments: ${Object.keys(EXPERIMENTS).join(", ")}`,
  );
  process.exit(2);
}
run(rest).catch((error) => {
  console.error(error);
  process.exit(1);
});
