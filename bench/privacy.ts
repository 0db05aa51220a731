// Privacy benchmark (notebook 08's privacy section, at a larger budget): on MovieLens 100K, 90/10 random split
// (seed 42), how much rating prediction and ranking cost at each privacy level, and what a membership-inference
// attack sees.
//
//   RECSYS_DATA_DIR=/path/to/datasets npx tsx bench/privacy.ts [--json]
//
// 1. Plain MF: the library's MatrixFactorization at Surprise's defaults (100 factors, 20 epochs).
// 2. DP-SGD (src/privacy/dpSgd.ts) at one schedule, with the noise multiplier σ that reaches ε ≈ 0.5, 1, 2, 4, 8 at
//    δ = 1e-5 (rdpAccountant.ts), and without noise (ε = ∞, still clipped): RMSE, NDCG@10 (full ranking, training
//    items excluded) and the loss-threshold attack's AUC (training ratings vs the test ratings of the same users).
// 3. The attack on an overfitted MF (100 factors, no regularisation, twice the rate) and on the regularised one of 1.
// 4. FedAvg (src/privacy/federated.ts): test RMSE per round beside centralised SGD's per epoch.
// With --json, one JSON object per result line.

import { initBackend } from "../src/backend/backend";
import { loadMovieLens100K } from "../src/data/movielens";
import { randomSplit } from "../src/data/splitters";
import { Interactions } from "../src/data/interactions";
import { evaluateRanking } from "../src/eval/ranking";
import { evaluateRatings } from "../src/eval/ratings";
import { ItemScorer, RatingPredictor } from "../src/eval/scorers";
import { MatrixFactorization } from "../src/models/matrixFactorization";
import { fitRatingSgd } from "../src/train/ratingSgd";
import { dpSgdSchedule, trainDpSgd, type DpSgdConfig } from "../src/privacy/dpSgd";
import { lossThresholdAttack } from "../src/privacy/membershipInference";
import { noiseMultiplierForEpsilon } from "../src/privacy/rdpAccountant";
import { trainFedAvg, type FedAvgConfig } from "../src/privacy/federated";

const JSON_OUTPUT = process.argv.includes("--json");
const DELTA = 1e-5;
const SPLIT_SEED = 42;

/** DP-SGD's schedule for every ε (trainDpSgd's defaults): 20 epochs in lots of 10,000 (q ≈ 0.11, 180 steps). */
const DP_SGD: Omit<DpSgdConfig, "noiseMultiplier"> = {
  factors: 8,
  epochs: 20,
  lotSize: 10000,
  learningRate: 50,
  clipNorm: 0.5,
  regularization: 0.02,
  seed: 1,
};
const TARGET_EPSILONS = [0.5, 1, 2, 4, 8];

/** FedAvg: 100 rounds of 100 clients (a tenth of the users), 5 local epochs of per-rating SGD. */
const FED_AVG: Omit<FedAvgConfig, "serverLearningRate"> = {
  rounds: 100,
  clientsPerRound: 100,
  localEpochs: 5,
  learningRate: 0.01,
  factors: 16,
  seed: 1,
};

function emit(record: Record<string, unknown>, line: string): void {
  console.log(JSON_OUTPUT ? JSON.stringify(record) : line);
}

function seconds(start: number): number {
  return (Date.now() - start) / 1000;
}

function ndcgAt10(model: ItemScorer, train: Interactions, test: Interactions): number {
  return evaluateRanking(model, { train, test, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
}

function attackAuc(model: RatingPredictor, train: Interactions, test: Interactions): number {
  return lossThresholdAttack(model, train, test).auc;
}

async function main(): Promise<void> {
  await initBackend();
  const data = await loadMovieLens100K({ download: false, log: () => undefined });
  const { train, test } = randomSplit(data, { ratio: 0.9, seed: SPLIT_SEED });
  if (!JSON_OUTPUT) {
    console.log(`ml-100k: ${train.length} training and ${test.length} test ratings (random 90/10, seed ${SPLIT_SEED})`);
  }

  // 1 and 3: the library's MF, regularised (Surprise's defaults) and overfitted.
  const mfRuns: [string, ConstructorParameters<typeof MatrixFactorization>[1], number, number][] = [
    ["regularised (100 factors, λ 0.02, 20 epochs at γ 0.005)", { seed: 1 }, 20, 0.005],
    ["overfitted (100 factors, λ 0, 20 epochs at γ 0.02)", { factors: 100, regularization: 0, seed: 1 }, 20, 0.02],
  ];
  if (!JSON_OUTPUT) console.log("\nPlain MF (library MatrixFactorization, Surprise's SGD)");
  for (const [label, config, epochs, learningRate] of mfRuns) {
    const start = Date.now();
    const model = new MatrixFactorization(train, config);
    await fitRatingSgd(model, { epochs, learningRate, seed: 1, progress: "silent" });
    const rmse = evaluateRatings(model, test).rmse;
    const trainRmse = evaluateRatings(model, train).rmse;
    const ndcg = ndcgAt10(model, train, test);
    const attack = lossThresholdAttack(model, train, test);
    emit(
      {
        section: "mf",
        model: label,
        rmse,
        trainRmse,
        ndcg10: ndcg,
        attackAuc: attack.auc,
        advantage: attack.advantage,
        seconds: seconds(start),
      },
      `  ${label.padEnd(58)} RMSE ${rmse.toFixed(4)} (train ${trainRmse.toFixed(4)})  NDCG@10 ${ndcg.toFixed(4)}  ` +
        `attack AUC ${attack.auc.toFixed(4)} (advantage ${attack.advantage.toFixed(3)})  ${seconds(start).toFixed(1)} s`,
    );
    model.dispose();
  }

  // 2: DP-SGD across ε.
  const schedule = dpSgdSchedule(train.length, DP_SGD);
  if (!JSON_OUTPUT) {
    console.log(
      `\nDP-SGD (rating-level DP, δ = ${DELTA}): ${DP_SGD.factors} factors, ${DP_SGD.epochs} epochs, lots of ` +
        `${DP_SGD.lotSize} (q = ${schedule.samplingRate.toFixed(4)}, ${schedule.steps} steps), C = ${DP_SGD.clipNorm}, ` +
        `η = ${DP_SGD.learningRate}`,
    );
  }
  const runs: [number, number][] = TARGET_EPSILONS.map((target) => [
    target,
    noiseMultiplierForEpsilon({
      targetEpsilon: target,
      delta: DELTA,
      samplingRate: schedule.samplingRate,
      steps: schedule.steps,
      epsilonTolerance: 0.005 * target,
    }),
  ]);
  runs.push([Infinity, 0]);
  for (const [target, sigma] of runs) {
    const start = Date.now();
    const model = trainDpSgd(train, { ...DP_SGD, noiseMultiplier: sigma });
    const { epsilon } = model.privacySpent(DELTA);
    const rmse = evaluateRatings(model, test).rmse;
    const ndcg = ndcgAt10(model, train, test);
    const auc = attackAuc(model, train, test);
    emit(
      {
        section: "dpsgd",
        targetEpsilon: target,
        epsilon,
        noiseMultiplier: sigma,
        rmse,
        ndcg10: ndcg,
        attackAuc: auc,
        seconds: seconds(start),
      },
      `  ε ${Number.isFinite(epsilon) ? epsilon.toFixed(3).padStart(6) : "     ∞"}  σ ${sigma.toFixed(3).padStart(6)}  ` +
        `RMSE ${rmse.toFixed(4)}  NDCG@10 ${ndcg.toFixed(4)}  attack AUC ${auc.toFixed(4)}  ${seconds(start).toFixed(1)} s`,
    );
  }

  // 4: FedAvg per round against centralised SGD per epoch.
  if (!JSON_OUTPUT) {
    console.log(
      `\nFedAvg: ${FED_AVG.clientsPerRound} clients per round, ${FED_AVG.localEpochs} local epochs, ` +
        `γ ${FED_AVG.learningRate}, ${FED_AVG.factors} factors; test RMSE every 10 rounds`,
    );
  }
  for (const serverLearningRate of [1, 10]) {
    const start = Date.now();
    const { history } = trainFedAvg(train, { ...FED_AVG, serverLearningRate, test });
    const curve = history.filter((h) => h.round % 10 === 0).map((h) => h.testRmse!);
    emit(
      {
        section: "fedavg",
        serverLearningRate,
        rounds: history.length,
        testRmse: history.map((h) => h.testRmse),
        seconds: seconds(start),
      },
      `  η_s = ${String(serverLearningRate).padEnd(3)} ${curve.map((r) => r.toFixed(4)).join(" ")}  ` +
        `(${seconds(start).toFixed(1)} s)`,
    );
  }
  // Centralised: the library's MF with the same factors, per-rating rate and λ, test RMSE after each epoch.
  const start = Date.now();
  const central = new MatrixFactorization(train, { factors: FED_AVG.factors, seed: 1 });
  const centralCurve: number[] = [];
  await fitRatingSgd(central, {
    epochs: 20,
    learningRate: FED_AVG.learningRate,
    seed: 1,
    progress: "silent",
    callbacks: [{ onEpochEnd: () => void centralCurve.push(evaluateRatings(central, test).rmse) }],
  });
  central.dispose();
  emit(
    { section: "centralised", epochs: centralCurve.length, testRmse: centralCurve, seconds: seconds(start) },
    `  centralised, per epoch (20): ${centralCurve.map((r) => r.toFixed(4)).join(" ")}  (${seconds(start).toFixed(1)} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
