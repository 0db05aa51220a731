// Microsoft Recommenders' top-10 benchmark on MovieLens 100K (examples/06_benchmarks/movielens.ipynb),
// run with the course's models: `npm run reproduce -- ms-recommenders-ml100k`.
//
// The protocol: each user's interactions split 75/25 at random (stratifiedSplit, seed 42, Microsoft's
// python_stratified_split), every test interaction relevant, the top 10 ranked over every item the user
// has not trained on; nDCG@10, precision@10, recall@10 and MAP@10 with Microsoft's MAP, which divides by
// the user's number of relevant items (mapNormalization "numRelevant"). Each model's row is printed beside
// the published row of the algorithm it stands for (src/eval/published.ts), and `seconds` is the wall
// time of fitting the model that is scored (a choice made on validation is timed apart, `selectionSeconds`).
//
// No setting is chosen on the test split. Every choice made here is made on one validation split of the
// training part (stratifiedSplit(train, 0.75, seed 1): 25% of each user's training interactions held out):
// EASE's λ and EDLAE dropout p (twelve closed-form fits), and the weights of the hybrid of EASE, Mult-VAE
// and LightGCN (each part fitted on the validation split's training part, then refitted on the whole
// training part). LightGCN's and Mult-VAE's own settings are the ones `npx tsx bench/deepModels.ts --tune`
// chose on a validation split of the training part (stratifiedSplit(train, 0.8, seed 7)): the learning
// rate (and Mult-VAE's batch and anneal length) from a grid, the epochs as the best validation epoch; the
// model is then trained afresh on the whole training part for those epochs. Those runs take many minutes;
// this command replays their choice. BPR-MF appears twice: notebook 02's batched recipe (Adam), and the
// published row's own training, Cornac's per-triple LearnBPR with Microsoft's settings. The other models
// use notebook 02's and 04's recipes.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { NegativeSampler } from "../../src/data/samplers";
import { stratifiedSplit } from "../../src/data/splitters";
import { MS_RECOMMENDERS_ML100K_TOP10 } from "../../src/eval/published";
import { evaluateRanking } from "../../src/eval/ranking";
import { ItemScorer } from "../../src/eval/scorers";
import { PopularityRecommender } from "../../src/models/baselines";
import { BprMf, bprBatches } from "../../src/models/bpr";
import { Ease } from "../../src/models/ease";
import { WeightedHybrid } from "../../src/models/hybrid";
import { LightGcn } from "../../src/models/lightGcn";
import { MatrixFactorization } from "../../src/models/matrixFactorization";
import { MultVae, multVaeBatches } from "../../src/models/multVae";
import { NeuralCF } from "../../src/models/ncf";
import { Sar } from "../../src/models/sar";
import { fitWals } from "../../src/models/wals";
import { fitImplicitFeedback } from "../../src/train/implicitFeedback";
import { CORNAC_BPR, learnBpr } from "../../src/train/learnBpr";
import { fitRatingSgd } from "../../src/train/ratingSgd";
import { klAnnealing } from "../../src/train/schedules";
import { EpochLogs, fit, TrainingCallback } from "../../src/train/trainer";

/** A scored model, disposed when it holds tfjs variables. */
export type MsModel = ItemScorer & { dispose?(): void };

/** One row of the table, as `--json` prints it. */
export interface MsRecord {
  model: string;
  ndcg10: number;
  precision10: number;
  recall10: number;
  map10: number;
  /** Wall seconds to fit the scored model. */
  seconds: number;
  /** Wall seconds spent choosing a setting on validation before that (EASE's λ); 0 when none. */
  selectionSeconds: number;
  /** The settings the model ran with. */
  settings: Record<string, unknown>;
  /** The algorithm of Microsoft's table this row stands beside, and its published numbers; null when none. */
  published: string | null;
  publishedNdcg10: number | null;
}

/** What a recipe returns: the fitted model, its settings, and any time spent choosing them. */
export interface Fitted {
  model: MsModel;
  settings: Record<string, unknown>;
  selectionSeconds?: number;
}

export interface Recipe {
  /** The name on the command line (`--models`). */
  key: string;
  /** The row's name. */
  name: string;
  /** The key of MS_RECOMMENDERS_ML100K_TOP10 it stands beside. */
  published?: string;
  fit(train: Interactions): Promise<Fitted> | Fitted;
}

// ---------------------------------------------------------------------------------------------
// LightGCN and Mult-VAE: what bench/deepModels.ts tunes, and the settings its --tune chose
// ---------------------------------------------------------------------------------------------

/** What the deep models' tuning chooses among. */
export interface DeepSetting {
  learningRate: number;
  /** Mult-VAE: users per batch. */
  batchSize?: number;
  /** Mult-VAE: the epochs over which β rises to its cap. */
  annealEpochs?: number;
}

export interface DeepRecipe<M extends MsModel & { dispose(): void }> {
  name: string;
  published: string;
  /** Settings tried by bench/deepModels.ts --tune. */
  grid: DeepSetting[];
  /** The setting --tune chose, and the epochs of its best validation score. */
  chosen: DeepSetting & { epochs: number };
  /** The most epochs a validation run trains. */
  maxEpochs: number;
  /** Validation nDCG@10 is computed every this many epochs. */
  evalEvery: number;
  /** Evaluations without improvement before a validation run stops. */
  patience: number;
  build(train: Interactions): M;
  /** Trains `model` for `epochs` on the data it was built on; `callbacks` may score it. */
  train(model: M, epochs: number, setting: DeepSetting, callbacks: TrainingCallback[]): Promise<EpochLogs[]>;
}

// LightGCN: the paper's model (D = 64, K = 3, λ = 1e-4). Every step propagates the whole graph, so large
// batches make an epoch cheap: 2048 triples a step (the paper's batch) with a larger learning rate than the
// paper's 0.001, which needs hundreds of epochs.
export const LIGHT_GCN: DeepRecipe<LightGcn> = {
  name: "LightGCN",
  published: "LightGCN",
  grid: [{ learningRate: 0.003 }, { learningRate: 0.01 }, { learningRate: 0.03 }],
  // --tune, validation nDCG@10 (best epoch): 0.2407 (35) at 0.01; 0.2394 (60, the last) at 0.003; 0.2265 (10)
  // at 0.03. EASE scores 0.2425 on the same validation split.
  chosen: { learningRate: 0.01, epochs: 35 },
  maxEpochs: 60,
  evalEvery: 5,
  patience: 2,
  build: (train) => new LightGcn(train, { factors: 64, layers: 3, regularization: 1e-4, seed: 1 }),
  train: (model, epochs, { learningRate }, callbacks) =>
    fitImplicitFeedback(model, { epochs, batchSize: 2048, learningRate, seed: 2, callbacks, progress: "silent" }),
};

// Mult-VAE: the paper's model ([I → 600 → 200], dropout 0.5, β capped at 0.2, Adam). The paper's batch of
// 500 users gives ML-100K's 943 users two steps an epoch, so the batch is tuned too. β rises linearly to
// its cap over `annealEpochs` epochs (total_anneal_steps = annealEpochs · steps per epoch / 0.2): in the
// paper the cap was reached after 86% of training, but 943 users for 2M weights overfit much sooner.
const MULT_VAE_CAP = 0.2;
export const MULT_VAE: DeepRecipe<MultVae> = {
  name: "Mult-VAE",
  published: "BiVAE",
  grid: [
    { learningRate: 0.001, batchSize: 500, annealEpochs: 60 },
    { learningRate: 0.001, batchSize: 100, annealEpochs: 20 },
    { learningRate: 0.001, batchSize: 100, annealEpochs: 100 },
    { learningRate: 0.003, batchSize: 100, annealEpochs: 20 },
  ],
  // --tune, validation nDCG@10 (best epoch): 0.2471 (100) for this one; batches of 100 users: 0.2450 (30)
  // annealing over 20 epochs, 0.2413 (20) over 100, 0.2208 (10) at learning rate 0.003. EASE scores 0.2425
  // on the same validation split.
  chosen: { learningRate: 0.001, batchSize: 500, annealEpochs: 60, epochs: 100 },
  maxEpochs: 200,
  evalEvery: 10,
  patience: 3,
  build: (train) => new MultVae(train, { hiddenUnits: [600], latentDim: 200, dropout: 0.5, seed: 1 }),
  async train(model, epochs, { learningRate, batchSize = 500, annealEpochs = 20 }, callbacks) {
    const stepsPerEpoch = Math.ceil(model.trainingUsers.length / batchSize);
    const beta = klAnnealing({
      cap: MULT_VAE_CAP,
      totalSteps: Math.round((annealEpochs * stepsPerEpoch) / MULT_VAE_CAP),
    });
    const rng = new Rng(2);
    const optimizer = tf.train.adam(learningRate);
    try {
      return await fit(model, {
        optimizer,
        epochs,
        batches: (epoch) => multVaeBatches(model.trainingUsers, epoch, { batchSize, rng, beta }),
        callbacks,
        progress: "silent",
      });
    } finally {
      optimizer.dispose();
    }
  },
};

/** A deep recipe's model trained on `train` for its chosen epochs. */
async function fitDeep<M extends MsModel & { dispose(): void }>(
  recipe: DeepRecipe<M>,
  train: Interactions,
): Promise<M> {
  const { epochs, ...setting } = recipe.chosen;
  const model = recipe.build(train);
  await recipe.train(model, epochs, setting, []);
  return model;
}

/** A deep recipe with its chosen setting, as a row of the table. */
function deepRow<M extends MsModel & { dispose(): void }>(key: string, recipe: DeepRecipe<M>): Recipe {
  return {
    key,
    name: recipe.name,
    published: recipe.published,
    fit: async (train) => ({ model: await fitDeep(recipe, train), settings: { ...recipe.chosen } }),
  };
}

// ---------------------------------------------------------------------------------------------
// Every model of the table
// ---------------------------------------------------------------------------------------------

/** EASE's candidate λ (notebook 02's grid) and EDLAE dropout p, scored on a validation split of the training part. */
export const EASE_LAMBDAS = [100, 250, 500, 1000];
export const EASE_DROPOUTS = [0, 0.25, 0.5];

/** The validation split every choice of this table is made on: 25% of each user's training interactions. */
const validationSplit = (train: Interactions) => stratifiedSplit(train, { ratio: 0.75, seed: 1 });

/** nDCG@10 of `model` with `train`'s items excluded and `test`'s relevant. */
function validationNdcg(model: ItemScorer, train: Interactions, test: Interactions): number {
  return evaluateRanking(model, { train, test, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
}

/** The EASE setting (λ, p) of the grid with the best validation nDCG@10, and that score. */
function chooseEase(inner: { train: Interactions; test: Interactions }): {
  lambda: number;
  dropout: number;
  ndcg: number;
} {
  const scored = EASE_LAMBDAS.flatMap((lambda) =>
    EASE_DROPOUTS.map((dropout) => ({
      lambda,
      dropout,
      ndcg: validationNdcg(new Ease({ regularization: lambda, dropout }).fit(inner.train), inner.train, inner.test),
    })),
  );
  return scored.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
}

/** The hybrid's candidate weights (EASE, Mult-VAE, LightGCN): every point of the simplex in steps of 0.1. */
export const HYBRID_WEIGHTS: ReadonlyArray<readonly [number, number, number]> = Array.from({ length: 11 }, (_, a) =>
  Array.from({ length: 11 - a }, (_, b) => [a / 10, b / 10, (10 - a - b) / 10] as const),
).flat();

/**
 * The weighted hybrid of notebook 03 over the three strongest models of the table, EASE, Mult-VAE and
 * LightGCN, each z-scored per user: three views of the same matrix (a linear item-item model, a
 * nonlinear one of the user's whole row, and propagation over the graph) that err on different users.
 * EASE's setting and the weights are chosen on the validation split, with every part fitted on its
 * training part; the parts are then refitted on the whole training part.
 */
async function easeVaeGcnHybrid(train: Interactions): Promise<Fitted> {
  const started = performance.now();
  const inner = validationSplit(train);
  const ease = chooseEase(inner);
  const parts = async (data: Interactions) => ({
    ease: new Ease({ regularization: ease.lambda, dropout: ease.dropout }).fit(data),
    vae: await fitDeep(MULT_VAE, data),
    gcn: await fitDeep(LIGHT_GCN, data),
  });
  const hybridOf = (p: Awaited<ReturnType<typeof parts>>, [we, wv, wg]: readonly [number, number, number]) =>
    new WeightedHybrid({
      components: [
        { scorer: p.ease, weight: we, name: "EASE" },
        { scorer: p.vae, weight: wv, name: "Mult-VAE" },
        { scorer: p.gcn, weight: wg, name: "LightGCN" },
      ],
    });
  const onValidation = await parts(inner.train);
  const scored = HYBRID_WEIGHTS.map((weights) => ({
    weights,
    ndcg: validationNdcg(hybridOf(onValidation, weights), inner.train, inner.test),
  }));
  onValidation.vae.dispose();
  onValidation.gcn.dispose();
  const best = scored.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  const selectionSeconds = (performance.now() - started) / 1000;
  const fitted = await parts(train);
  const hybrid = hybridOf(fitted, best.weights);
  const model: MsModel = {
    numItems: hybrid.numItems,
    numUsers: hybrid.numUsers,
    scoreItems: (users) => hybrid.scoreItems(users),
    dispose() {
      fitted.vae.dispose();
      fitted.gcn.dispose();
    },
  };
  const [easeWeight, vaeWeight, gcnWeight] = best.weights;
  return {
    model,
    settings: {
      lambda: ease.lambda,
      dropout: ease.dropout,
      weights: { EASE: easeWeight, "Mult-VAE": vaeWeight, LightGCN: gcnWeight },
      validationNdcg10: Number(best.ndcg.toFixed(4)),
    },
    selectionSeconds,
  };
}

/** NeuMF with pretraining, notebook 04's recipe: GMF and MLP 12 epochs each, then NeuMF from both for 3. */
async function neumfPretrained(train: Interactions): Promise<Fitted> {
  const gmf = new NeuralCF(train, { variant: "gmf", factors: 8, seed: 21 });
  await fitImplicitFeedback(gmf, { epochs: 12, batchSize: 1024, learningRate: 0.01, seed: 22, progress: "silent" });
  const mlp = new NeuralCF(train, { variant: "mlp", mlpLayers: [64, 32, 16, 8], seed: 23 });
  await fitImplicitFeedback(mlp, { epochs: 12, batchSize: 1024, learningRate: 0.01, seed: 24, progress: "silent" });
  const model = new NeuralCF(train, {
    variant: "neumf",
    factors: 8,
    mlpLayers: [64, 32, 16, 8],
    seed: 27,
    pretrained: { gmf, mlp, alpha: 0.5 },
  });
  gmf.dispose();
  mlp.dispose();
  await fitImplicitFeedback(model, { epochs: 3, batchSize: 1024, learningRate: 0.001, seed: 28, progress: "silent" });
  return { model, settings: { factors: 8, mlpLayers: [64, 32, 16, 8], pretrainEpochs: 12, epochs: 3 } };
}

export const RECIPES: readonly Recipe[] = [
  {
    key: "popularity",
    name: "popularity",
    fit: (train) => ({ model: new PopularityRecommender().fit(train), settings: {} }),
  },
  {
    key: "sar",
    name: "SAR",
    published: "SAR",
    // The benchmark's settings: Jaccard similarity, 30-day half-life time decay.
    fit: (train) => {
      const settings = { similarity: "jaccard", timeDecay: true, halfLifeDays: 30 } as const;
      return { model: new Sar(settings).fit(train), settings };
    },
  },
  {
    key: "ease",
    name: "EASE",
    // λ and EDLAE's dropout p chosen on validation (twelve closed-form fits), then refitted on the whole training part.
    fit: (train) => {
      const started = performance.now();
      const best = chooseEase(validationSplit(train));
      const selectionSeconds = (performance.now() - started) / 1000;
      return {
        model: new Ease({ regularization: best.lambda, dropout: best.dropout }).fit(train),
        settings: { lambda: best.lambda, dropout: best.dropout, validationNdcg10: Number(best.ndcg.toFixed(4)) },
        selectionSeconds,
      };
    },
  },
  {
    key: "bpr",
    name: "BPR-MF",
    published: "BPR",
    // Notebook 02's recipe: 64 factors, Adam at 0.01, 20 epochs of 1024 triples a step.
    async fit(train) {
      const model = new BprMf(train.numUsers, train.numItems, { seed: 42 });
      const sampler = new NegativeSampler(train);
      const rng = new Rng(42);
      const optimizer = tf.train.adam(0.01);
      await fit(model, {
        optimizer,
        epochs: 20,
        progress: "silent",
        batches: () => bprBatches(train, sampler, { batchSize: 1024, rng }),
      });
      optimizer.dispose();
      return { model, settings: { factors: model.factors, learningRate: 0.01, epochs: 20, batchSize: 1024 } };
    },
  },
  {
    key: "bpr-learnbpr",
    name: "BPR-MF (LearnBPR)",
    published: "BPR",
    // The published row's own training: Cornac's per-triple SGD with Microsoft's settings (CORNAC_BPR), here
    // with train/learnBpr.ts.
    async fit(train) {
      const { factors, epochs, learningRate, regularization, initStd } = CORNAC_BPR;
      const model = new BprMf(train.numUsers, train.numItems, { factors, regularization, initStd, seed: 42 });
      await learnBpr(model, train, { epochs, learningRate, seed: 42, progress: "silent" });
      const settings = { factors, epochs, learningRate, regularization };
      return { model, settings };
    },
  },
  {
    key: "wals",
    name: "WALS",
    // Implicit ALS (Hu, Koren and Volinsky 2008) with the library's defaults (64 factors, λ 100, α 40, 10
    // iterations). Microsoft's ALS row is Spark's explicit ALS on the ratings, another algorithm.
    fit: (train) => ({
      model: fitWals(train, { seed: 42 }),
      settings: { factors: 64, regularization: 100, alpha: 40 },
    }),
  },
  {
    key: "svd",
    name: "SVD",
    published: "SVD",
    // Surprise's SVD fitted to the ratings and ranked by predicted rating, as Microsoft's SVD row is.
    async fit(train) {
      const model = new MatrixFactorization(train, { seed: 42 });
      await fitRatingSgd(model, { seed: 42, progress: "silent" });
      return { model, settings: { surpriseDefaults: true } };
    },
  },
  { key: "neumf", name: "NeuMF (pretrained)", published: "NCF", fit: neumfPretrained },
  deepRow("lightgcn", LIGHT_GCN),
  deepRow("multvae", MULT_VAE),
  { key: "hybrid", name: "EASE+VAE+LightGCN", fit: easeVaeGcnHybrid },
];

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

export interface MsOptions {
  json: boolean;
  /** Recipe keys, in table order. */
  models: string[];
  /** The seed of the 75/25 split: 42, Microsoft's, by default; another cuts the same data differently. */
  splitSeed: number;
}

/** `[--json] [--models popularity,sar,...] [--split-seed N]`; every model on the seed-42 split by default. */
export function parseMsArgs(args: string[]): MsOptions {
  const known = new Set(["--json", "--models", "--split-seed"]);
  for (let k = 0; k < args.length; k++) {
    if (!args[k].startsWith("--")) continue;
    if (!known.has(args[k])) throw new Error(`ms-recommenders-ml100k: unknown option ${args[k]}`);
    if (args[k] === "--models" || args[k] === "--split-seed") k++;
  }
  const seedAt = args.indexOf("--split-seed");
  const splitSeed = seedAt >= 0 ? Number(args[seedAt + 1]) : 42;
  if (!Number.isInteger(splitSeed) || splitSeed < 0)
    throw new Error(`ms-recommenders-ml100k: --split-seed needs an integer >= 0, got '${args[seedAt + 1]}'`);
  const at = args.indexOf("--models");
  const keys = RECIPES.map((r) => r.key);
  let models = keys;
  if (at >= 0) {
    const value = args[at + 1];
    if (value === undefined || value.startsWith("--"))
      throw new Error(`ms-recommenders-ml100k: --models needs a comma-separated list of ${keys.join(", ")}`);
    const asked = value.split(",").filter((m) => m !== "");
    const unknown = asked.filter((m) => !keys.includes(m));
    if (unknown.length > 0 || asked.length === 0)
      throw new Error(
        `ms-recommenders-ml100k: unknown model ${unknown.join(", ") || "(none)"}; models: ${keys.join(", ")}`,
      );
    models = keys.filter((m) => asked.includes(m));
  }
  return { json: args.includes("--json"), models, splitSeed };
}

const round4 = (x: number) => Number(x.toFixed(4));

/** Fits each chosen model on the 75% part of `data`, scores it on the 25%, and emits its row as it ends. */
export async function runMsComparison(
  data: Interactions,
  options: MsOptions,
  emit: (line: string) => void,
): Promise<MsRecord[]> {
  const { train, test } = stratifiedSplit(data, { ratio: 0.75, seed: options.splitSeed });
  const columns = ["nDCG@10", "P@10", "R@10", "MAP@10", "seconds"];
  if (!options.json) {
    emit(
      `Microsoft Recommenders' top-10 protocol, ${data.name}: stratified 75/25 per user (seed ${options.splitSeed}), train ${train.length}, ` +
        `test ${test.length}; seen items excluded; MAP divided by the relevant items`,
    );
    emit(`${"model".padEnd(20)}${columns.map((c) => c.padStart(9)).join("")}   published (Microsoft Recommenders)`);
  }
  const records: MsRecord[] = [];
  for (const recipe of RECIPES.filter((r) => options.models.includes(r.key))) {
    const started = performance.now();
    const fitted = await recipe.fit(train);
    const selectionSeconds = fitted.selectionSeconds ?? 0;
    const seconds = (performance.now() - started) / 1000 - selectionSeconds;
    const { metrics } = evaluateRanking(fitted.model, {
      train,
      test,
      k: 10,
      metrics: ["ndcg", "precision", "recall", "map"],
      mapNormalization: "numRelevant",
    });
    fitted.model.dispose?.();
    const published = recipe.published === undefined ? undefined : MS_RECOMMENDERS_ML100K_TOP10[recipe.published];
    const record: MsRecord = {
      model: recipe.name,
      ndcg10: round4(metrics["ndcg@10"]),
      precision10: round4(metrics["precision@10"]),
      recall10: round4(metrics["recall@10"]),
      map10: round4(metrics["map@10"]),
      seconds: Number(seconds.toFixed(1)),
      selectionSeconds: Number(selectionSeconds.toFixed(1)),
      settings: fitted.settings,
      published: published === undefined ? null : recipe.published!,
      publishedNdcg10: published === undefined ? null : published.ndcg,
    };
    records.push(record);
    if (options.json) {
      emit(JSON.stringify(record));
      continue;
    }
    const cells = [record.ndcg10, record.precision10, record.recall10, record.map10].map((x) => x.toFixed(4));
    cells.push(record.seconds.toFixed(1));
    const beside =
      published === undefined
        ? ""
        : `${recipe.published} ${[published.ndcg, published.precision, published.recall, published.map].map((x) => x.toFixed(4)).join(" ")}`;
    emit(`${record.model.padEnd(20)}${cells.map((c) => c.padStart(9)).join("")}   ${beside}`);
  }
  if (!options.json) {
    const settings = records.map((r) => `${r.model} ${JSON.stringify(r.settings)}`).join("; ");
    emit(`published columns: nDCG@10 P@10 R@10 MAP@10. Settings: ${settings}`);
  }
  return records;
}
