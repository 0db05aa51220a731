// Federated averaging (FedAvg; McMahan, Moore, Ramage, Hampson and Agüera y Arcas, "Communication-Efficient
// Learning of Deep Networks from Decentralized Data", AISTATS 2017, Algorithm 1) for biased matrix factorisation,
// as a simulation: every user is a client, the way federated collaborative filtering splits MF (Ammad-ud-din et al.
// 2019, "Federated Collaborative Filtering for Privacy-Preserving Personalized Recommendation System").
//
// A client keeps its ratings and its own parameters p_u and b_u on the device; they never leave it. The server
// holds the item parameters θ = (q_i, b_i for every item). Each round t:
//   1. the server samples K clients (without replacement) and sends them θ_t;
//   2. client k runs E local epochs of SGD over its n_k ratings from θ_t (factorTables.ts's per-rating gradient of
//      ½ℓ, in local batches of B ratings, step γ·Σ over the batch: B = 1 is Surprise's SGD), updating its own p_u,
//      b_u and a copy of the item rows it rated, and sends back only Δ_k = θ_k − θ_t (non-zero on those rows);
//   3. the server applies the weighted mean, θ_{t+1} = θ_t + η_s · Σ_k n_k Δ_k / Σ_k n_k.
// η_s = 1 is FedAvg as published (Reddi et al., "Adaptive Federated Optimization", ICLR 2021, call η_s the server
// learning rate). With MF the weighted mean runs over all K clients for every item row, though most of them did not
// rate that item: a row moves by its raters' deltas times their share n_k / Σ n of the round's ratings, a small part
// of a centralised step, so FedAvg on sparse clients learns item factors slowly. A server rate η_s > 1 makes up for
// it, at the risk of overfitting sooner (bench/privacy.ts compares η_s = 1 and 10 with centralised SGD).
//
// What FedAvg protects and what it does not: raw ratings stay on the device, but the deltas are a function of them
// (Δ_k is non-zero exactly on the items the client rated, which reveals them unless secure aggregation hides
// individual Δ_k), and there is no formal guarantee without DP noise on the aggregate (DP-FedAvg, McMahan et al.
// 2018, would clip each Δ_k and add Gaussian noise: user-level DP, accounted with rdpAccountant.ts for clients sampled
// with probability q = K / users).
// μ and the rating scale are public constants, as in dpSgd.ts.

import { Rng } from "../backend/random";
import { checkNonNegative, checkPositive, checkPositiveInteger, checkSeed } from "../checks";
import { GroupedRows } from "../data/csr";
import { Interactions } from "../data/interactions";
import { ratingRange } from "../data/stats";
import { rowsByUser } from "../data/userIndex";
import { evaluateRatings } from "../eval/ratings";
import { BiasedMfModel, BiasedMfTables, createFactorTables, ratingGradient } from "./factorTables";

// ---------------------------------------------------------------------------------------------
// One round
// ---------------------------------------------------------------------------------------------

/** The settings of one FedAvg round. */
export interface FedAvgRoundOptions {
  /** E, local passes over a client's ratings. */
  localEpochs: number;
  /** B, ratings per local step (Infinity: one step per local epoch on all the client's ratings). */
  localBatchSize: number;
  /** γ: a local step moves the parameters by −γ · Σ_batch ∇½ℓ. */
  learningRate: number;
  /** λ of the per-rating penalty. */
  regularization: number;
  /** η_s, the server's step on the weighted mean of the deltas. */
  serverLearningRate: number;
}

/**
 * One FedAvg round (steps 2–3 of the header) with the given `clients`, updating `tables` in place: each client's
 * user row locally, the item rows by the server's weighted mean of the clients' deltas. `byUser` groups the rows of
 * `data` by user; `rng` shuffles each client's ratings every local epoch. Returns the ratings the round used.
 */
export function fedAvgRound(
  tables: BiasedMfTables,
  data: Interactions,
  byUser: GroupedRows,
  clients: ArrayLike<number>,
  options: FedAvgRoundOptions,
  rng: Rng,
): number {
  const { factors: d, numItems } = tables;
  const sums: ServerSums = {
    itemFactors: new Float64Array(numItems * d),
    itemBias: new Float64Array(numItems),
    slotOf: new Int32Array(numItems).fill(-1),
  };
  let totalWeight = 0;
  for (let c = 0; c < clients.length; c++) {
    const u = clients[c];
    const start = byUser.offsets[u];
    const count = byUser.offsets[u + 1] - start;
    if (count === 0) continue;
    clientUpdate(tables, data, u, byUser.rows.slice(start, start + count), options, rng, sums);
    totalWeight += count;
  }
  if (totalWeight > 0) {
    const step = options.serverLearningRate / totalWeight;
    for (let j = 0; j < sums.itemFactors.length; j++) tables.itemFactors[j] += step * sums.itemFactors[j];
    for (let i = 0; i < numItems; i++) tables.itemBias[i] += step * sums.itemBias[i];
  }
  return totalWeight;
}

/** The server's running sums Σ n_k Δ_k, and a scratch map from item to a client's local slot (−1: none). */
interface ServerSums {
  itemFactors: Float64Array;
  itemBias: Float64Array;
  slotOf: Int32Array;
}

/**
 * Client u's part of a round: E local epochs over its ratings at `rows` (shuffled each epoch), updating its user row
 * of `tables` for good and the item rows it rated only for the duration; adds n_u·Δ_u to `sums`, then puts θ_t back
 * on those item rows, so that every client of the round starts from the same θ_t.
 */
function clientUpdate(
  tables: BiasedMfTables,
  data: Interactions,
  u: number,
  rows: Int32Array,
  options: FedAvgRoundOptions,
  rng: Rng,
  sums: ServerSums,
): void {
  const { factors: d, itemFactors, itemBias, userFactors, userBias } = tables;
  const { localEpochs, learningRate: gamma, regularization } = options;
  const { slotOf } = sums;
  const count = rows.length;
  // The client's items, each given a slot in its local buffers (ratings repeated on an item share the slot).
  const items = new Int32Array(count);
  let m = 0;
  for (let k = 0; k < count; k++) {
    const i = data.items[rows[k]];
    if (slotOf[i] < 0) {
      slotOf[i] = m;
      items[m++] = i;
    }
  }
  const saved = new Float64Array(m * d);
  const savedBias = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    const i = items[s];
    for (let f = 0; f < d; f++) saved[s * d + f] = itemFactors[i * d + f];
    savedBias[s] = itemBias[i];
  }
  const g = new Float64Array(2 * d + 2);
  const gradUser = new Float64Array(d);
  const gradItems = new Float64Array(m * d);
  const gradItemBias = new Float64Array(m);
  const batchSize = Math.min(options.localBatchSize, count);
  const touched = new Int32Array(batchSize); // the batch's slots: a step costs O(B·D), not O(n_u·D)
  for (let epoch = 0; epoch < localEpochs; epoch++) {
    rng.shuffle(rows);
    for (let b = 0; b < count; b += batchSize) {
      const end = Math.min(b + batchSize, count);
      gradUser.fill(0);
      let gradUserBias = 0;
      for (let k = b; k < end; k++) {
        const row = rows[k];
        const s = slotOf[data.items[row]];
        ratingGradient(tables, u, data.items[row], data.ratings[row], regularization, g);
        for (let f = 0; f < d; f++) {
          gradUser[f] += g[f];
          gradItems[s * d + f] += g[d + f];
        }
        gradUserBias += g[2 * d];
        gradItemBias[s] += g[2 * d + 1];
        touched[k - b] = s;
      }
      // Every gradient of the batch was taken at the same point; now the step.
      for (let f = 0; f < d; f++) userFactors[u * d + f] -= gamma * gradUser[f];
      userBias[u] -= gamma * gradUserBias;
      for (let t = 0; t < end - b; t++) {
        const s = touched[t];
        const i = items[s];
        for (let f = 0; f < d; f++) {
          itemFactors[i * d + f] -= gamma * gradItems[s * d + f];
          gradItems[s * d + f] = 0; // a slot listed twice then steps by 0 the second time
        }
        itemBias[i] -= gamma * gradItemBias[s];
        gradItemBias[s] = 0;
      }
    }
  }
  // n_u·Δ_u into the server's sums; θ_t back on the client's item rows.
  for (let s = 0; s < m; s++) {
    const i = items[s];
    for (let f = 0; f < d; f++) {
      sums.itemFactors[i * d + f] += count * (itemFactors[i * d + f] - saved[s * d + f]);
      itemFactors[i * d + f] = saved[s * d + f];
    }
    sums.itemBias[i] += count * (itemBias[i] - savedBias[s]);
    itemBias[i] = savedBias[s];
    slotOf[i] = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

export interface FedAvgConfig {
  /** Default 100. */
  rounds?: number;
  /** K, clients sampled per round. Default 100 (about a tenth of ML-100k's users). */
  clientsPerRound?: number;
  /** E. Default 5. */
  localEpochs?: number;
  /** B. Default 1 (per-rating SGD on the device, as Surprise). */
  localBatchSize?: number;
  /** γ per rating. Default 0.01. */
  learningRate?: number;
  /** η_s. Default 1 (FedAvg as published; see the header). */
  serverLearningRate?: number;
  /** D. Default 16. */
  factors?: number;
  /** λ. Default 0.02. */
  regularization?: number;
  /** Default 0.1. */
  initStd?: number;
  /** Public; default the lowest and highest training rating. */
  ratingScale?: readonly [number, number];
  /** μ, public; default the midpoint of the rating scale. */
  globalMean?: number;
  seed: number;
  /** Held-out ratings: when given, each round's history entry has their RMSE. */
  test?: Interactions;
  /** Called after each round. */
  onRound?: (round: FedAvgRoundLog, model: BiasedMfModel) => void;
}

export interface FedAvgRoundLog {
  /** 1, 2, … */
  round: number;
  clients: number;
  /** Ratings the round's clients trained on. */
  ratings: number;
  /** RMSE on `config.test` after the round, when a test set was given. */
  testRmse?: number;
}

export interface FedAvgResult {
  /** The server's item tables with every client's user row (each client would predict on its own device). */
  model: BiasedMfModel;
  history: FedAvgRoundLog[];
}

/** Simulates FedAvg training of biased MF on `train`, one client per user (see the header). */
export function trainFedAvg(train: Interactions, config: FedAvgConfig): FedAvgResult {
  const caller = "trainFedAvg";
  if (train.length === 0) throw new Error(`${caller}: the training data '${train.name}' is empty`);
  const rng = new Rng(checkSeed(caller, config.seed));
  const rounds = checkPositiveInteger(caller, "rounds", config.rounds ?? 100);
  const clientsPerRound = checkPositiveInteger(caller, "clientsPerRound", config.clientsPerRound ?? 100);
  const localBatchSize = config.localBatchSize ?? 1;
  if (!(localBatchSize === Infinity || (Number.isInteger(localBatchSize) && localBatchSize >= 1))) {
    throw new Error(`${caller}: localBatchSize must be a positive integer or Infinity, got ${localBatchSize}`);
  }
  const options: FedAvgRoundOptions = {
    localEpochs: checkPositiveInteger(caller, "localEpochs", config.localEpochs ?? 5),
    localBatchSize,
    learningRate: checkPositive(caller, "learningRate", config.learningRate ?? 0.01),
    regularization: checkNonNegative(caller, "regularization", config.regularization ?? 0.02),
    serverLearningRate: checkPositive(caller, "serverLearningRate", config.serverLearningRate ?? 1),
  };
  const factors = checkPositiveInteger(caller, "factors", config.factors ?? 16);
  const initStd = checkNonNegative(caller, "initStd", config.initStd ?? 0.1);
  const ratingScale = config.ratingScale ?? ratingRange(train);
  const globalMean = config.globalMean ?? (ratingScale[0] + ratingScale[1]) / 2;

  const tables = createFactorTables(train.numUsers, train.numItems, { factors, globalMean, initStd, rng: rng.fork() });
  const model = new BiasedMfModel(tables, ratingScale);
  const byUser = rowsByUser(train);
  const eligible: number[] = [];
  for (let u = 0; u < train.numUsers; u++) if (byUser.offsets[u + 1] > byUser.offsets[u]) eligible.push(u);
  const pool = Int32Array.from(eligible);
  const k = Math.min(clientsPerRound, pool.length);
  const sampler = rng.fork();
  const local = rng.fork();
  const history: FedAvgRoundLog[] = [];
  for (let round = 1; round <= rounds; round++) {
    // K clients without replacement: the first K places of a partial Fisher–Yates shuffle.
    for (let j = 0; j < k; j++) {
      const other = j + sampler.int(pool.length - j);
      const tmp = pool[j];
      pool[j] = pool[other];
      pool[other] = tmp;
    }
    const ratings = fedAvgRound(tables, train, byUser, pool.subarray(0, k), options, local);
    const log: FedAvgRoundLog = { round, clients: k, ratings };
    if (config.test) log.testRmse = evaluateRatings(model, config.test).rmse;
    history.push(log);
    config.onRound?.(log, model);
  }
  return { model, history };
}
