// The classical rating models against Surprise's published MovieLens 100K table: 5-fold
// cross-validated RMSE and MAE of NormalPredictor, BaselineOnly, KNNBasic, KNNWithMeans,
// KNNBaseline and SlopeOne with Surprise's default hyper-parameters, plus fit and predict times.
// Surprise's numbers (README, `examples/benchmark.py`: `KFold(random_state=0)`, default parameters)
// come from different folds, so agreement within about ±0.01 RMSE is what to expect.
//
//   npx tsx bench/classicalModels.ts [--json] [--folds 5] [--seed 0] [--models KNNBasic,SlopeOne]
//
// Reads ml-100k from $RECSYS_DATA_DIR (else ~/.cache/recsys-ts); nothing is downloaded.

import { loadMovieLens100K } from "../src/data/movielens";
import { kFoldSplit } from "../src/data/splitters";
import { RatingPredictor, evaluateRatings } from "../src/eval/protocols";
import { Interactions } from "../src/data/interactions";
import { BaselineOnly, NormalPredictor } from "../src/models/ratingBaselines";
import { KNNBaseline, KNNBasic, KNNWithMeans } from "../src/models/knn";
import { SlopeOne } from "../src/models/slopeOne";

interface FittableModel extends RatingPredictor {
  fit(train: Interactions): unknown;
}

/** Each model with Surprise's defaults, and Surprise's 5-fold ml-100k RMSE / MAE (README table). */
const MODELS: Record<string, { make: (fold: number) => FittableModel; surprise: [number, number] }> = {
  NormalPredictor: { make: (fold) => new NormalPredictor({ seed: fold }), surprise: [1.518, 1.219] },
  BaselineOnly: { make: () => new BaselineOnly(), surprise: [0.944, 0.748] },
  KNNBasic: { make: () => new KNNBasic(), surprise: [0.98, 0.774] },
  KNNWithMeans: { make: () => new KNNWithMeans(), surprise: [0.951, 0.749] },
  KNNBaseline: { make: () => new KNNBaseline(), surprise: [0.931, 0.733] },
  SlopeOne: { make: () => new SlopeOne(), surprise: [0.946, 0.743] },
};

interface Row {
  model: string;
  rmse: number;
  mae: number;
  surpriseRmse: number;
  surpriseMae: number;
  fitMs: number;
  predictMs: number;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const folds = Number(option(args, "--folds") ?? 5);
  const seed = Number(option(args, "--seed") ?? 0);
  const names = option(args, "--models")?.split(",") ?? Object.keys(MODELS);
  for (const name of names) if (!(name in MODELS)) throw new Error(`unknown model '${name}'; models: ${Object.keys(MODELS).join(", ")}`);

  let data: Interactions;
  try {
    data = await loadMovieLens100K({ download: false, log: () => undefined });
  } catch (e) {
    console.log(`classical models: skipped, ml-100k not found (${(e as Error).message.split("\n")[0]})`);
    return;
  }
  const splits = kFoldSplit(data, { k: folds, seed });
  if (!json) {
    console.log(`classical rating models, ml-100k, ${folds}-fold CV (seed ${seed}), Node ${process.version}; times are per fold`);
    console.log("model".padEnd(16) + "RMSE".padStart(8) + "MAE".padStart(8) + "Surprise".padStart(16) + "ΔRMSE".padStart(8) + "fit ms".padStart(9) + "predict ms".padStart(12));
  }
  for (const name of names) {
    let rmse = 0;
    let mae = 0;
    let fitMs = 0;
    let predictMs = 0;
    splits.forEach((split, fold) => {
      const model = MODELS[name].make(fold);
      const start = performance.now();
      model.fit(split.train);
      const fitted = performance.now();
      const report = evaluateRatings(model, split.test);
      predictMs += performance.now() - fitted;
      fitMs += fitted - start;
      rmse += report.rmse;
      mae += report.mae;
    });
    const [surpriseRmse, surpriseMae] = MODELS[name].surprise;
    const row: Row = {
      model: name,
      rmse: rmse / folds,
      mae: mae / folds,
      surpriseRmse,
      surpriseMae,
      fitMs: Math.round(fitMs / folds),
      predictMs: Math.round(predictMs / folds),
    };
    if (json) {
      console.log(JSON.stringify({ benchmark: "classicalModels", ...row }));
    } else {
      console.log(
        name.padEnd(16) +
          row.rmse.toFixed(4).padStart(8) +
          row.mae.toFixed(4).padStart(8) +
          `${surpriseRmse.toFixed(3)}/${surpriseMae.toFixed(3)}`.padStart(16) +
          (row.rmse - surpriseRmse).toFixed(4).padStart(8) +
          String(row.fitMs).padStart(9) +
          String(row.predictMs).padStart(12),
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
