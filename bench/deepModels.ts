// LightGCN and Mult-VAE on Microsoft Recommenders' MovieLens 100K protocol, beside their published table:
// where their settings are chosen. `npm run reproduce -- ms-recommenders-ml100k` replays the choice.
//
//   RECSYS_DATA_DIR=/work/shared/datasets npx tsx bench/deepModels.ts [--model lightgcn|multvae]
//     [--tune] [--epochs N] [--json]
//
// The protocol (Microsoft Recommenders' benchmark, examples/06_benchmarks): each user's interactions split
// 75/25 at random (stratifiedSplit, seed 42), every test interaction relevant, top-10 over all items the
// user has not trained on, nDCG@10, precision@10, recall@10 and MAP@10. Their MAP divides by the number of
// relevant items (mapNormalization "numRelevant"); the library's default MAP, which divides by
// min(10, |R|), is printed beside it.
//
// Hyper-parameters are chosen on a validation split carved from the training data, never from the test
// interactions: stratifiedSplit(train, 0.8, seed 7) puts 20% of each user's training interactions aside.
//   1. (--tune) each setting of the recipe's grid (scripts/lib/msRecommenders.ts: the learning rate; for
//      Mult-VAE also the batch and how fast β anneals) is trained on the inner 80% and scored on the 20%
//      (nDCG@10) every few epochs, stopping after `patience` evaluations without improvement; the setting
//      with the best evaluation wins, and that evaluation's epoch is the number of epochs.
//   2. The model is trained afresh on the whole training split for that many epochs, timed, and scored
//      on the test split.
// Without --tune, the setting and epochs recorded in the recipe (`chosen`, what --tune chose) are used;
// `--epochs N` overrides the epochs. Times are wall-clock seconds on the CPU backend initBackend picks
// (wasm here); the plain-matmul rate measured in the same process (GFLOP/s, as bench/engine.ts does)
// tells how busy the machine was.

import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../src/backend/backend";
import { Interactions } from "../src/data/interactions";
import { loadMovieLens100K } from "../src/data/movielens";
import { stratifiedSplit } from "../src/data/splitters";
import { MS_RECOMMENDERS_ML100K_TOP10 } from "../src/eval/published";
import { evaluateRanking } from "../src/eval/ranking";
import { ItemScorer } from "../src/eval/scorers";
import { TrainingCallback } from "../src/train/trainer";
import { DeepRecipe, DeepSetting, LIGHT_GCN, MULT_VAE } from "../scripts/lib/msRecommenders";

type Model = ItemScorer & { dispose(): void };

// Each entry runs its own bench, so that the model's type stays with its build and train.
const MODELS: Record<string, () => Promise<void>> = {
  lightgcn: () => runBench(LIGHT_GCN),
  multvae: () => runBench(MULT_VAE),
};

// ---------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const json = args.includes("--json");
const tune = args.includes("--tune");
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const fixedEpochs = option("--epochs") === undefined ? undefined : Number(option("--epochs"));
const chosen = option("--model");
if (chosen !== undefined && !(chosen in MODELS)) {
  throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}, got ${chosen}`);
}
if (fixedEpochs !== undefined && !(Number.isInteger(fixedEpochs) && fixedEpochs > 0)) {
  throw new Error(`--epochs must be a positive integer, got ${option("--epochs")}`);
}
const log = (line: string) => {
  if (!json) console.log(line);
};

/** GFLOP/s of a plain 512×512 matmul in this process now: how busy the machine is. */
function matmulRate(): number {
  const a = tf.randomNormal([512, 512], 0, 1, "float32", 1);
  const run = () => tf.matMul(a, a).dispose();
  run();
  const started = performance.now();
  for (let r = 0; r < 5; r++) run();
  const ms = (performance.now() - started) / 5;
  a.dispose();
  return (2 * 512 ** 3) / ms / 1e6;
}

/** Validation nDCG@10 every `evalEvery` epochs, with the best epoch and early stopping. */
function validationCallback(
  model: ItemScorer,
  train: Interactions,
  validation: Interactions,
  recipe: DeepRecipe<Model>,
  label: string,
): TrainingCallback & { best: { epoch: number; ndcg: number } } {
  const best = { epoch: 0, ndcg: -Infinity };
  let stale = 0;
  return {
    best,
    onEpochEnd(logs) {
      if (logs.epoch % recipe.evalEvery !== 0) return;
      const ndcg = evaluateRanking(model, { train, test: validation, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
      log(
        `  ${label} epoch ${logs.epoch}: loss ${logs.loss.toFixed(4)}, ${logs.seconds.toFixed(1)} s/epoch, validation nDCG@10 ${ndcg.toFixed(4)}`,
      );
      if (ndcg > best.ndcg) {
        best.epoch = logs.epoch;
        best.ndcg = ndcg;
        stale = 0;
        return { "val_ndcg@10": ndcg };
      }
      stale += 1;
      return stale >= recipe.patience ? "stop" : { "val_ndcg@10": ndcg };
    },
  };
}

let splits: { train: Interactions; test: Interactions; inner: { train: Interactions; test: Interactions } };

async function main(): Promise<void> {
  const backend = await initBackend();
  const data = await loadMovieLens100K();
  const { train, test } = stratifiedSplit(data, { ratio: 0.75, seed: 42 });
  const inner = stratifiedSplit(train, { ratio: 0.8, seed: 7 });
  splits = { train, test, inner };
  log(
    `${describeBackend(backend)}; ${data.numUsers} users, ${data.numItems} items; train ${train.length}, test ${test.length}`,
  );
  log(`validation: ${inner.train.length} of the training interactions, ${inner.test.length} set aside`);
  for (const run of chosen === undefined ? Object.values(MODELS) : [MODELS[chosen]]) await run();
}

async function runBench<M extends Model>(recipe: DeepRecipe<M>): Promise<void> {
  const { train, test, inner } = splits;
  const { epochs: chosenEpochs, ...chosenSetting } = recipe.chosen;
  let setting: DeepSetting = chosenSetting;
  let epochs = fixedEpochs ?? chosenEpochs;
  const selectionStarted = performance.now();
  if (tune) {
    let bestNdcg = -Infinity;
    for (const candidate of recipe.grid) {
      log(`${recipe.name}: validation run, ${JSON.stringify(candidate)}`);
      const model = recipe.build(inner.train);
      const callback = validationCallback(model, inner.train, inner.test, recipe, recipe.name);
      await recipe.train(model, recipe.maxEpochs, candidate, [callback]);
      model.dispose();
      log(`  best: epoch ${callback.best.epoch}, validation nDCG@10 ${callback.best.ndcg.toFixed(4)}`);
      if (callback.best.ndcg > bestNdcg) {
        bestNdcg = callback.best.ndcg;
        setting = candidate;
        if (fixedEpochs === undefined) epochs = callback.best.epoch;
      }
    }
    log(`${recipe.name}: chosen on validation ${JSON.stringify({ ...setting, epochs })}`);
  }
  const selection = (performance.now() - selectionStarted) / 1000;

  const rateBefore = matmulRate();
  const model = recipe.build(train);
  const started = performance.now();
  const history = await recipe.train(model, epochs, setting, []);
  const seconds = (performance.now() - started) / 1000;
  const rateAfter = matmulRate();
  const report = evaluateRanking(model, {
    train,
    test,
    k: 10,
    metrics: ["ndcg", "precision", "recall", "map"],
    mapNormalization: "numRelevant",
  });
  const mapMinK = evaluateRanking(model, { train, test, k: 10, metrics: ["map"] }).metrics["map@10"];
  model.dispose();
  const m = report.metrics;
  const published = MS_RECOMMENDERS_ML100K_TOP10[recipe.published];
  const result = {
    model: recipe.name,
    ...setting,
    epochs,
    trainSeconds: +seconds.toFixed(1),
    secondsPerEpoch: +(history.reduce((s, l) => s + l.seconds, 0) / history.length).toFixed(2),
    selectionSeconds: +selection.toFixed(1),
    matmulGflops: +((rateBefore + rateAfter) / 2).toFixed(1),
    ndcg10: +m["ndcg@10"].toFixed(4),
    precision10: +m["precision@10"].toFixed(4),
    recall10: +m["recall@10"].toFixed(4),
    map10: +m["map@10"].toFixed(4),
    map10MinK: +mapMinK.toFixed(4),
    published: recipe.published,
    publishedNdcg10: published.ndcg,
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  log(
    `${recipe.name}: ${JSON.stringify(setting)}, ${epochs} epochs in ${result.trainSeconds} s ` +
      `(${result.secondsPerEpoch} s/epoch; matmul ${result.matmulGflops} GFLOP/s meanwhile); choosing them took ${result.selectionSeconds} s`,
  );
  console.table([
    {
      model: `${recipe.name} (ours)`,
      "nDCG@10": result.ndcg10,
      "precision@10": result.precision10,
      "recall@10": result.recall10,
      "MAP@10": result.map10,
      "MAP@10 (min(k,|R|))": result.map10MinK,
    },
    {
      model: `${recipe.published} (Microsoft Recommenders)`,
      "nDCG@10": published.ndcg,
      "precision@10": published.precision,
      "recall@10": published.recall,
      "MAP@10": published.map,
    },
  ]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
