// `npm run reproduce -- <experiment> [--json] [--folds N]`: runs a published benchmark's full protocol
// and prints our numbers beside the published ones. Experiments:
//   surprise-ml100k   5-fold RMSE/MAE of the Surprise benchmark's algorithms on MovieLens 100K
//   bert-pretrain     notebook 06's two BERT pretraining runs (book text, user histories) on the full budget:
//                     wall time, held-out MLM and NSP accuracies, tokens/s; checkpoints and vocab.txt files go
//                     to build/checkpoints/bert-pretrain-{books,users}
// Data comes from RECSYS_DATA_DIR or the download cache.

import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../src/backend/backend";
import { Rng } from "../src/backend/random";
import { behaviourDocuments, catalogueDocuments, holdOutDocuments, itemTokenizer, pretrainingBatches, TextPair } from "../src/data/bertPretraining";
import { loadGoodbooksCatalogue } from "../src/data/goodbooks";
import { mostFrequentTokenBaseline } from "../src/eval/pretraining";
import { WordPieceTokenizer } from "../src/text/wordpiece";
import { pretrainBert, tokenizerMasking } from "../src/train/bertPretraining";
import { Interactions } from "../src/data/interactions";
import { loadMovieLens100K, loadMovieLens1M } from "../src/data/movielens";
import { crossValidateRatings, FoldModel } from "../src/eval/crossValidation";
import { SURPRISE_ML100K } from "../src/eval/published";
import { KNNBaseline, KNNBasic, KNNWithMeans } from "../src/models/knn";
import { BaselineOnly, NormalPredictor } from "../src/models/ratingBaselines";
import { SlopeOne } from "../src/models/slopeOne";
import { MatrixFactorization } from "../src/models/matrixFactorization";
import { Svdpp } from "../src/models/svdpp";
import { fitRatingSgd } from "../src/train/ratingSgd";

/** How each Surprise algorithm is fitted here, with Surprise's default hyper-parameters. */
const SURPRISE_ALGORITHMS: Record<string, (train: Interactions, fold: number) => FoldModel | Promise<FoldModel>> = {
  NormalPredictor: (train, fold) => new NormalPredictor({ seed: fold }).fit(train),
  BaselineOnly: (train) => new BaselineOnly().fit(train),
  KNNBasic: (train) => new KNNBasic().fit(train),
  KNNWithMeans: (train) => new KNNWithMeans().fit(train),
  KNNBaseline: (train) => new KNNBaseline().fit(train),
  SlopeOne: (train) => new SlopeOne().fit(train),
  SVD: async (train, fold) => {
    const model = new MatrixFactorization(train, { seed: fold });
    await fitRatingSgd(model, { seed: fold, label: "SVD" });
    return model;
  },
  "SVD++": async (train, fold) => {
    const model = new Svdpp(train, { seed: fold });
    await fitRatingSgd(model, { seed: fold, label: "SVD++" });
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
    console.log(`${"algorithm".padEnd(16)}${"RMSE".padStart(8)}${"MAE".padStart(8)}${"published".padStart(18)}${"ΔRMSE".padStart(9)}${"seconds".padStart(9)}`);
  }
  for (const published of SURPRISE_ML100K) {
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
          `${(delta >= 0 ? "+" : "") + delta.toFixed(4)}`.padStart(9) + `${row.seconds.toFixed(1)}`.padStart(9),
      );
    }
  }
}

/** One pretraining run of notebook 06 on the full budget: its row of results, and its checkpoint on disk. */
async function pretrainingRow(
  corpus: string,
  documents: TextPair[],
  tokenizer: WordPieceTokenizer,
  options: { epochs: number; maxLength: number; split: { fraction: number; seed: number }; dir: string; json: boolean; describe: (id: number) => string },
): Promise<Record<string, unknown>> {
  const { train, heldOut } = holdOutDocuments(documents, options.split);
  fs.mkdirSync(path.dirname(options.dir), { recursive: true });
  tokenizer.saveVocabFile(`${options.dir}.vocab.txt`);
  const batchSize = 64;
  const result = await pretrainBert({ train, heldOut }, tokenizer, {
    model: { hiddenSize: 64, numLayers: 2, numHeads: 2, dropout: 0.1 }, maxLength: options.maxLength, batchSize, epochs: options.epochs,
    peakLearningRate: 3e-3, seed: 1, checkpointDir: options.dir, progress: options.json ? "silent" : undefined, label: corpus,
  });
  const baseline = mostFrequentTokenBaseline(
    pretrainingBatches(train, tokenizer, { batchSize, maxLength: options.maxLength, masking: tokenizerMasking(tokenizer) }, new Rng(99)),
    result.heldOutBatches,
  );
  result.model.dispose();
  return {
    experiment: "bert-pretrain", corpus, epochs: options.epochs, resumedEpochs: result.resumedEpochs,
    seconds: Number(result.seconds.toFixed(1)), tokensPerSecond: Math.round(result.tokensPerSecond),
    mlmAccuracy: Number(result.evaluation.maskedLmAccuracy.toFixed(4)), mlmBaselineAccuracy: Number(baseline.accuracy.toFixed(4)),
    mostFrequentToken: options.describe(baseline.tokenId),
    nspAccuracy: Number(result.evaluation.nextSentenceAccuracy.toFixed(4)), checkpoint: options.dir,
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
  if (!["books", "users", "both"].includes(corpus)) throw new Error(`bert-pretrain: --corpus must be books, users or both, got ${corpus}`);
  const backend = await initBackend();
  const rows: Array<Record<string, unknown>> = [];
  if (corpus !== "users") {
    const catalogue = await loadGoodbooksCatalogue();
    const documents = catalogueDocuments(catalogue, { maxTags: 6 });
    const split = { fraction: 0.1, seed: 6 };
    const texts = holdOutDocuments(documents, split).train.flatMap((doc) => [doc.a, doc.b]);
    const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: 3000, minFrequency: 2, scoring: "frequency" });
    rows.push(await pretrainingRow(`${catalogue.name} (title ↔ tags)`, documents, tokenizer, {
      epochs, maxLength: 48, split, dir: path.resolve("build", "checkpoints", "bert-pretrain-books"), json, describe: (id) => tokenizer.idToToken(id),
    }));
  }
  if (corpus !== "books") {
    const interactions = await loadMovieLens1M();
    const documents = behaviourDocuments(interactions, { halfLength: 20 });
    const tokenizer = itemTokenizer(interactions.numItems);
    rows.push(await pretrainingRow(`${interactions.name} (history ↔ continuation)`, documents, tokenizer, {
      epochs, maxLength: 43, split: { fraction: 0.1, seed: 7 }, dir: path.resolve("build", "checkpoints", "bert-pretrain-users"), json,
      describe: (id) => interactions.itemInfo.titles?.[Number(tokenizer.idToToken(id).slice(4))] ?? tokenizer.idToToken(id),
    }));
  }
  for (const row of rows) {
    const full = { backend: backend.name, ...row };
    console.log(json ? JSON.stringify(full) : Object.entries(full).map(([k, v]) => `${k.padEnd(20)} ${v}`).join("\n") + "\n");
  }
}

const EXPERIMENTS: Record<string, (args: string[]) => Promise<void>> = {
  "surprise-ml100k": surpriseMl100k,
  "bert-pretrain": bertPretrain,
};

const [experiment, ...rest] = process.argv.slice(2);
const run = EXPERIMENTS[experiment];
if (!run) {
  console.error(`usage: npm run reproduce -- <experiment> [--json]; experiments: ${Object.keys(EXPERIMENTS).join(", ")}`);
  process.exit(2);
}
run(rest).catch((error) => {
  console.error(error);
  process.exit(1);
});
