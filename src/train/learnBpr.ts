// LearnBPR, the paper's own training loop for BPR-MF (Rendle et al., UAI 2009, fig. 4), as Cornac runs
// it (cornac/models/bpr/recom_bpr.pyx, the BPR row of Microsoft Recommenders' table): plain SGD, one
// triple at a time.
//
//   repeat |S| times per epoch:
//     draw a training pair (u, i) uniformly with replacement, and an item j uniformly;
//     if u has j, skip the draw (it is no negative);
//     x̂_uij = b_i − b_j + p_uᵀ(q_i − q_j),   z = 1 − σ(x̂_uij) = 1 / (1 + e^{x̂_uij})
//     p_u ← p_u + α (z (q_i − q_j) − λ p_u)
//     q_i ← q_i + α (z p_u − λ q_i)        (with p_u from before this step)
//     q_j ← q_j + α (−z p_u − λ q_j)
//     b_i ← b_i + α (z − λ b_i),   b_j ← b_j + α (−z − λ b_j)
//
// Each line is a step up the gradient of ln σ(x̂_uij) − (λ/2)‖Θ_uij‖² for the parameters the triple
// touches. Batched training (`fit` with Adam over `bprBatches`) averages hundreds of triples per step
// instead; this loop is what the published BPR numbers were trained with, and a tight per-triple loop
// over typed arrays is also much faster than a batched tfjs step on a CPU. It trains a `BprMf` in
// place (its λ is the model's `regularization`).

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkPositive, checkPositiveInteger } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { BprMf } from "../models/bpr";
import { createProgress, ProgressMode } from "./progress";

/**
 * Microsoft Recommenders' settings for Cornac's BPR on MovieLens (their benchmark's `bpr_params`): k = 200
 * factors, 200 epochs, α = 0.01, λ = 0.001, and the spread of Cornac's initial factors, U(−0.5, 0.5)/k, as
 * the standard deviation 1/(k√12) of `BprMf`'s normal initialisation.
 */
export const CORNAC_BPR = {
  factors: 200,
  epochs: 200,
  learningRate: 0.01,
  regularization: 0.001,
  initStd: 1 / (200 * Math.sqrt(12)),
} as const;

export interface LearnBprConfig {
  epochs: number;
  /** α. Cornac's default is 0.001; Microsoft's benchmark uses 0.01. */
  learningRate: number;
  /** Seeds the draws. */
  seed: number;
  progress?: ProgressMode;
  label?: string;
}

/** What one epoch did: the share of drawn triples already ranked right before their step, and the skips. */
export interface LearnBprEpoch {
  epoch: number;
  /** Triples with x̂_uij > 0 (z < ½) before their update, over the triples not skipped. */
  correct: number;
  /** Draws skipped because u has j. */
  skipped: number;
}

/** The parameters LearnBPR updates, as flat row-major arrays ([U × D], [I × D], [I] or null). */
export interface BprArrays {
  userFactors: Float32Array;
  itemFactors: Float32Array;
  itemBias: Float32Array | null;
  factors: number;
}

/**
 * One LearnBPR step on the triple (u, i, j) (see the header), in place. Returns z = 1 − σ(x̂_uij),
 * computed before the update.
 */
export function learnBprStep(
  params: BprArrays,
  u: number,
  i: number,
  j: number,
  learningRate: number,
  regularization: number,
): number {
  const { userFactors: p, itemFactors: q, itemBias: b, factors: d } = params;
  const pu = u * d;
  const qi = i * d;
  const qj = j * d;
  let score = b === null ? 0 : b[i] - b[j];
  for (let f = 0; f < d; f++) score += p[pu + f] * (q[qi + f] - q[qj + f]);
  const z = 1 / (1 + Math.exp(score));
  for (let f = 0; f < d; f++) {
    const userF = p[pu + f];
    const itemI = q[qi + f];
    const itemJ = q[qj + f];
    p[pu + f] = userF + learningRate * (z * (itemI - itemJ) - regularization * userF);
    q[qi + f] = itemI + learningRate * (z * userF - regularization * itemI);
    q[qj + f] = itemJ + learningRate * (-z * userF - regularization * itemJ);
  }
  if (b !== null) {
    b[i] += learningRate * (z - regularization * b[i]);
    b[j] += learningRate * (-z - regularization * b[j]);
  }
  return z;
}

/** True when `item` is among the ascending `indices[from .. to − 1]`. */
function hasItem(indices: Int32Array, from: number, to: number, item: number): boolean {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = indices[mid];
    if (at === item) return true;
    if (at < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Trains `model` on `train` with LearnBPR for `config.epochs` epochs of |train| draws each, in place,
 * and returns each epoch's record. The model's variables are read once, trained as typed arrays, and
 * written back at the end.
 */
export async function learnBpr(model: BprMf, train: Interactions, config: LearnBprConfig): Promise<LearnBprEpoch[]> {
  const caller = "learnBpr";
  const epochs = checkPositiveInteger(caller, "epochs", config.epochs);
  const learningRate = checkPositive(caller, "learningRate", config.learningRate);
  if (train.numUsers !== model.numUsers || train.numItems !== model.numItems) {
    throw new Error(
      `${caller}: the model is ${model.numUsers} users × ${model.numItems} items, ` +
        `the data '${train.name}' ${train.numUsers} × ${train.numItems}`,
    );
  }
  if (train.length === 0) throw new Error(`${caller}: the data '${train.name}' has no interactions`);
  const { userFactors, itemFactors, itemBias } = model.params;
  const params: BprArrays = {
    userFactors: userFactors.dataSync().slice() as Float32Array,
    itemFactors: itemFactors.dataSync().slice() as Float32Array,
    itemBias: itemBias ? (itemBias.dataSync().slice() as Float32Array) : null,
    factors: model.factors,
  };
  const owned = CsrMatrix.fromTriples(train.numUsers, train.numItems, train.users, train.items).dedupe("first");
  const rng = new Rng(config.seed);
  const n = train.length;
  const progress = createProgress({ total: epochs, label: config.label ?? "LearnBPR", mode: config.progress });
  const log: LearnBprEpoch[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let correct = 0;
    let skipped = 0;
    for (let s = 0; s < n; s++) {
      const row = rng.int(n);
      const u = train.users[row];
      const j = rng.int(train.numItems);
      if (hasItem(owned.indices, owned.offsets[u], owned.offsets[u + 1], j)) {
        skipped++;
        continue;
      }
      if (learnBprStep(params, u, train.items[row], j, learningRate, model.regularization) < 0.5) correct++;
    }
    const record = { epoch, correct: correct / Math.max(1, n - skipped), skipped };
    log.push(record);
    progress.tick(1, { correct: record.correct });
    // Lets a notebook's front end redraw the progress line between epochs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  progress.done();
  tf.tidy(() => {
    userFactors.assign(tf.tensor2d(params.userFactors, userFactors.shape));
    itemFactors.assign(tf.tensor2d(params.itemFactors, itemFactors.shape));
    if (itemBias && params.itemBias) itemBias.assign(tf.tensor1d(params.itemBias));
  });
  return log;
}
