// A right answer for every registered exercise (the notebooks' reference solutions, written again here:
// the notebook test runs the notebooks' own and asserts they pass), and wrong ones, each with what its
// failure message must say. The mapped types make a new exercise without a reference a compile error.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import type { AnswerOf, ExerciseId } from "../../src/exercises/registry";
import { gelu, geluTanh } from "../../src/nn/feedForward";
import { causalMask, paddingMask, scaledDotProductAttention } from "../../src/nn/attention";
import { normalizeScoreRows } from "../../src/models/hybrid";
import type { MfTerm } from "../../src/exercises/nb02";
import { nextSentencePairs } from "../../src/data/bertPretraining";
import type { SparseTerms } from "../../src/exercises/nb01";
import { quantizeInt8 } from "../../src/nn/quantization";
import { clipGradient } from "../../src/privacy/dpSgd";
import { bprLoss, softmaxCrossEntropyFromLabels } from "../../src/train/losses";
import { gaussianKl, multinomialLogLikelihood } from "../../src/models/multVae";
import type { NeumfPair } from "../../src/exercises/nb04";

export const REFERENCES: { [Id in ExerciseId]: AnswerOf<Id> } = {
  "00.1": (seed, n, k) => Array.from(new Rng(seed).permutation(n).subarray(0, k)),
  "00.2": (data, users, items) => {
    const inUsers = new Set(users);
    const inItems = new Set(items);
    let observed = 0;
    for (let k = 0; k < data.length; k++) if (inUsers.has(data.users[k]) && inItems.has(data.items[k])) observed++;
    return observed / (inUsers.size * inItems.size);
  },
  "00.3": (counts) => {
    const n = counts.length;
    const mean = counts.reduce((s, c) => s + c, 0) / n;
    if (mean === 0) return 0;
    let sum = 0;
    for (const a of counts) for (const b of counts) sum += Math.abs(a - b);
    return sum / (2 * n * n * mean);
  },
  // Notebook 04 (helpers at the end of the file).
  "04.1": (positive, negatives) => {
    let total = 0;
    let pairs = 0;
    negatives.forEach((row, b) =>
      row.forEach((negative) => {
        total -= Math.log(1 / (1 + Math.exp(-(positive[b] - negative))));
        pairs++;
      }),
    );
    return total / pairs;
  },
  "04.2": (pair) => neumfLogitByHand(pair),
  "04.3": (scores, shares) => {
    let total = 0;
    scores.forEach((row, b) => {
      const logits = row.map((s, j) => s - Math.log(shares[j]));
      total -= logits[b] - Math.log(logits.reduce((acc, l) => acc + Math.exp(l), 0));
    });
    return total / scores.length;
  },
  "04.4": (edges, numUsers, numItems, embeddings) => propagateByHand(edges, numUsers, numItems, embeddings),
  "04.5": (logits, x, mu, logVar, beta) => {
    const logNormalizer = Math.log(logits.reduce((acc, l) => acc + Math.exp(l), 0));
    const logLikelihood = x.reduce((acc, xi, i) => acc + xi * (logits[i] - logNormalizer), 0);
    const kl = -0.5 * mu.reduce((acc, m, d) => acc + 1 + logVar[d] - m * m - Math.exp(logVar[d]), 0);
    return -logLikelihood + beta * kl;
  },

  "05.1": (q, k) => scaledDotProductAttention(q, k, k, { mask: causalMask(q.shape[0]) }).weights,
  "05.2": (scores) => {
    const top = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  },
  "05.3": (p, j, width) => {
    const angle = p / Math.pow(10000, (j - (j % 2)) / width);
    return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
  },
  "05.4": (x) => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))),
  "05.5": (x, h) => {
    const [b, t, d] = x.shape;
    return tf.transpose(tf.reshape(x, [b, t, h, d / h]), [0, 2, 1, 3]);
  },

  "01.1": (count, df, numDocs) => count * (Math.log((1 + numDocs) / (1 + df)) + 1),
  "01.2": (count, df, numDocs, length, avgLength, { k1, b }) => {
    const idf = Math.log(1 + (numDocs - df + 0.5) / (df + 0.5));
    return (idf * count * (k1 + 1)) / (count + k1 * (1 - b + (b * length) / avgLength));
  },
  "01.3": (a, b) => {
    let dot = 0;
    for (let i = 0, j = 0; i < a.indices.length && j < b.indices.length;) {
      if (a.indices[i] === b.indices[j]) dot += a.values[i++] * b.values[j++];
      else if (a.indices[i] < b.indices[j]) i++;
      else j++;
    }
    const lengths = Math.hypot(...a.values) * Math.hypot(...b.values);
    return lengths === 0 ? 0 : dot / lengths;
  },
  "01.4": (evaluate, k1s, bs) => {
    let best = { k1: k1s[0], b: bs[0], score: -Infinity };
    for (const k1 of k1s)
      for (const b of bs) {
        const score = evaluate(k1, b);
        if (score > best.score) best = { k1: k1, b: b, score: score };
      }
    return best;
  },
  "06.1": (tokens, chosen, draws, randomTokens, maskId) => {
    const out = tokens.slice();
    chosen.forEach((t, j) => {
      if (draws[j] < 0.8) out[t] = maskId;
      else if (draws[j] < 0.9) out[t] = randomTokens[j];
    });
    return out;
  },
  "06.2": (logits, labels, weights) => {
    let sum = 0;
    let count = 0;
    logits.forEach((row, t) => {
      if (weights[t] !== 1) return;
      const top = Math.max(...row);
      const logSum = top + Math.log(row.reduce((s, x) => s + Math.exp(x - top), 0));
      sum += logSum - row[labels[t]];
      count++;
    });
    return sum / count;
  },
  "06.3": (word, vocab) => {
    const pieces: string[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let piece: string | null = null;
      for (; end > start; end--) {
        const candidate = (start > 0 ? "##" : "") + word.slice(start, end);
        if (vocab.has(candidate)) {
          piece = candidate;
          break;
        }
      }
      if (piece === null) return ["[UNK]"];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  },
  "06.4": (documents, seed) => {
    const rng = new Rng(seed);
    return documents.map((doc, i) => {
      if (rng.next() < 0.5) return { a: doc.a, b: doc.b, isNext: true };
      let j = rng.int(documents.length - 1);
      if (j >= i) j += 1;
      return { a: doc.a, b: documents[j].b, isNext: false };
    });
  },
  "08.1": (gradient, clipNorm) => {
    const g = Float64Array.from(gradient);
    clipGradient(g, clipNorm);
    return g;
  },
  "08.2": (sigma, steps, delta, orders) =>
    Math.min(...orders.map((a) => (steps * a) / (2 * sigma * sigma) + Math.log(1 / delta) / (a - 1))),
  "08.3": (members, nonMembers) => {
    let sum = 0;
    for (const m of members) for (const n of nonMembers) sum += m < n ? 1 : m === n ? 0.5 : 0;
    return sum / (members.length * nonMembers.length);
  },
  "08.4": (row) => {
    const scale = Math.max(...row.map(Math.abs)) / 127;
    return { scale: scale, codes: row.map((x) => (scale === 0 ? 0 : Math.round(x / scale))) };
  },
  "08.5": (approximate, exact, k) => {
    const found = new Set(approximate.slice(0, k));
    return exact.slice(0, k).filter((item) => found.has(item)).length / k;
  },
  "02.1": (ratingsA, ratingsB, baselinesA, baselinesB, shrinkage) => {
    const n = ratingsA.length;
    if (n < 2) return 0;
    let product = 0;
    let squaresA = 0;
    let squaresB = 0;
    for (let k = 0; k < n; k++) {
      const da = ratingsA[k] - baselinesA[k];
      const db = ratingsB[k] - baselinesB[k];
      product += da * db;
      squaresA += da * da;
      squaresB += db * db;
    }
    if (squaresA === 0 || squaresB === 0) return 0;
    return ((n - 1) / (n - 1 + shrinkage)) * (product / Math.sqrt(squaresA * squaresB));
  },
  "02.2": (rating, globalMean, { bu, bi, pu, qi }, gamma, lambda) => {
    const e = rating - (globalMean + bu + bi + pu.reduce((s, x, f) => s + x * qi[f], 0));
    return {
      bu: bu + gamma * (e - lambda * bu),
      bi: bi + gamma * (e - lambda * bi),
      pu: pu.map((x, f) => x + gamma * (e * qi[f] - lambda * x)),
      qi: qi.map((x, f) => x + gamma * (e * pu[f] - lambda * x)),
    };
  },
  "02.3": (globalMean, bu, bi, pu, qi, implicit) => {
    const scale = implicit.length === 0 ? 0 : 1 / Math.sqrt(implicit.length);
    const user = pu.map((p, f) => p + scale * implicit.reduce((s, y) => s + y[f], 0));
    return globalMean + bu + bi + qi.reduce((s, q, f) => s + q * user[f], 0);
  },
  "02.4": (ratings, itemFactors, alpha, lambda) => {
    const d = itemFactors[0].length;
    // A = QᵀCQ + λI and b = QᵀCx, then Gauss–Jordan on [A | b].
    const a = Array.from({ length: d }, (_, r) => [
      ...Array.from({ length: d }, (_, c) =>
        itemFactors.reduce((s, q, i) => s + (1 + alpha * ratings[i]) * q[r] * q[c], r === c ? lambda : 0),
      ),
      itemFactors.reduce((s, q, i) => s + (1 + alpha * ratings[i]) * q[r] * (ratings[i] > 0 ? 1 : 0), 0),
    ]);
    for (let c = 0; c < d; c++) {
      const pivot = a[c][c];
      a[c] = a[c].map((x) => x / pivot);
      for (let r = 0; r < d; r++) if (r !== c) a[r] = a[r].map((x, k) => x - a[r][c] * a[c][k]);
    }
    return a.map((row) => row[d]);
  },
  "03.1": (scores, weights) => {
    const z = scores.map((row) => {
      const mean = row.reduce((s, x) => s + x, 0) / row.length;
      const std = Math.sqrt(row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length);
      return row.map((x) => (std === 0 ? 0 : (x - mean) / std));
    });
    return z[0].map((_, i) => z.reduce((s, row, m) => s + weights[m] * row[i], 0));
  },
  "03.2": (validationNdcg, testNdcg, weights) => {
    let best = weights[0];
    let bestScore = -Infinity;
    for (const weight of weights) {
      const score = validationNdcg(weight);
      if (score > bestScore) {
        best = weight;
        bestScore = score;
      }
    }
    return { weight: best, test: testNdcg(best) };
  },
  "03.3": ({ pu, qi, qj, bi, bj }, eta, margin) => {
    const dot = (a: number[], b: number[]) => a.reduce((s, x, f) => s + x * b[f], 0);
    const x = dot(pu, qi) + bi - (dot(pu, qj) + bj);
    const step = x < margin ? eta : 0; // the hinge's gradient is −1 below the margin, 0 above
    return {
      pu: pu.map((v, f) => v + step * (qi[f] - qj[f])),
      qi: qi.map((v, f) => v + step * pu[f]),
      qj: qj.map((v, f) => v - step * pu[f]),
      bi: bi + step,
      bj: bj - step,
    };
  },
  "03.4": (features, embeddings, biases, normalize) => {
    const w = features.length === 0 ? 0 : normalize ? 1 / features.length : 1;
    return {
      vector: embeddings[0].map((_, d) => w * features.reduce((s, f) => s + embeddings[f][d], 0)),
      bias: w * features.reduce((s, f) => s + biases[f], 0),
    };
  },
  "07.1": (items, timestamps) => {
    const sorted = items
      .map((item, k) => ({ item: item, time: timestamps[k] }))
      .sort((a, b) => a.time - b.time) // stable: ties keep the log's order
      .map((x) => x.item);
    const n = sorted.length;
    return { train: sorted.slice(0, n - 2), validation: sorted[n - 2], test: sorted[n - 1] };
  },
  "07.2": (items, draws, rho, maxLength) => {
    const start = Math.max(0, items.length - maxLength);
    const pad = maxLength - (items.length - start);
    const tokenIds = new Array<number>(maxLength).fill(0);
    const positions: number[] = [];
    const labels: number[] = [];
    for (let k = start; k < items.length; k++) {
      const t = pad + k - start;
      if (draws[k] < rho) {
        tokenIds[t] = 1;
        positions.push(t);
        labels.push(items[k]);
      } else tokenIds[t] = items[k] + 2;
    }
    return { tokenIds: tokenIds, positions: positions, labels: labels };
  },
  "07.3": (ranks, k) => {
    const hits = ranks.filter((r) => r <= k);
    return {
      hitRate: hits.length / ranks.length,
      ndcg: hits.reduce((s, r) => s + 1 / Math.log2(r + 1), 0) / ranks.length,
    };
  },
  "07.4": (tokenIds, causal) =>
    tokenIds.map((_, t) => tokenIds.map((key, s) => (key !== 0 && (!causal || s <= t) ? 1 : 0))),
};

/** Other right answers: a check must accept any correct solution, not only the course's. */
export const OTHER_RIGHT_ANSWERS: { [Id in ExerciseId]?: AnswerOf<Id>[] } = {
  "00.1": [(seed, n, k) => new Rng(seed).permutation(n).subarray(0, k).reverse()],
  "00.3": [
    (counts) => {
      // The sorted formula is the same coefficient.
      const c = counts.slice().sort((a, b) => a - b);
      const total = c.reduce((s, x) => s + x, 0);
      return total === 0 ? 0 : c.reduce((s, x, i) => s + (2 * (i + 1) - c.length - 1) * x, 0) / (c.length * total);
    },
  ],
  "04.1": [(positive, negatives) => bprLoss(tf.tensor1d(positive), tf.tensor2d(negatives))],
  "04.2": [(pair) => neumfLogitWithTf(pair)],
  "04.3": [
    (scores, shares) => {
      const logits = tf.sub(tf.tensor2d(scores), tf.log(tf.tensor1d(shares)));
      const labels = Int32Array.from(scores, (_, b) => b);
      return tf.mean(softmaxCrossEntropyFromLabels(logits as tf.Tensor2D, labels));
    },
  ],
  "04.4": [
    (edges, numUsers, numItems, embeddings) => {
      // Dense Â from the degrees, as the notebook's by-hand cell builds it.
      const n = numUsers + numItems;
      const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      for (const [u, i] of edges) a[u][numUsers + i] = a[numUsers + i][u] = 1;
      const degree = a.map((row) => row.reduce((acc, x) => acc + x, 0));
      const aHat = a.map((row, v) => row.map((x, w) => (x === 0 ? 0 : x / Math.sqrt(degree[v] * degree[w]))));
      return tf.matMul(tf.tensor2d(aHat), tf.tensor2d(embeddings));
    },
  ],
  "04.5": [
    (logits, x, mu, logVar, beta) =>
      tf.add(
        tf.neg(multinomialLogLikelihood(tf.tensor2d([logits]), tf.tensor2d([x]))),
        tf.mul(beta, gaussianKl(tf.tensor2d([mu]), tf.tensor2d([logVar]))),
      ),
  ],

  "05.1": [
    (q, k) => {
      const t = q.shape[0];
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[1] as number));
      const future = tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0));
      return tf.softmax(tf.add(scores, tf.mul(future, -1e9)));
    },
    (q, k) =>
      tf
        .squeeze(scaledDotProductAttention(q, k, k, { mask: causalMask(q.shape[0]) }).weights)
        .arraySync() as number[][],
  ],
  "05.2": [(scores) => tf.softmax(tf.tensor1d(scores)).dataSync()],
  "05.4": [(x) => gelu(x)],

  "01.3": [
    (a, b) => {
      const dense = (x: SparseTerms) => {
        const out = new Array<number>(64).fill(0);
        x.indices.forEach((i, k) => (out[i] = x.values[k]));
        return out;
      };
      const [da, db] = [dense(a), dense(b)];
      const dot = da.reduce((s, x, i) => s + x * db[i], 0);
      const n = Math.sqrt(da.reduce((s, x) => s + x * x, 0) * db.reduce((s, x) => s + x * x, 0));
      return n === 0 ? 0 : dot / n;
    },
  ],
  "06.2": [
    (logits, labels, weights) => {
      const lossPerPosition = tf.losses.softmaxCrossEntropy(
        tf.oneHot(labels, logits[0].length),
        tf.tensor2d(logits),
        undefined,
        0,
        tf.Reduction.NONE,
      );
      return tf.div(tf.sum(tf.mul(lossPerPosition, weights)), tf.sum(weights));
    },
  ],
  "06.4": [(documents, seed) => nextSentencePairs(documents, new Rng(seed))],
  "08.1": [
    (gradient, clipNorm) => {
      const n = Math.hypot(...gradient);
      return gradient.map((x) => x * Math.min(1, n === 0 ? 1 : clipNorm / n));
    },
  ],
  "08.4": [
    (row) => {
      const table = quantizeInt8(row, row.length);
      return { scale: table.scales[0], codes: table.values };
    },
  ],
  "02.1": [
    (ratingsA, ratingsB, baselinesA, baselinesB, shrinkage) => {
      // With tensors: the residuals' cosine, shrunk.
      const n = ratingsA.length;
      if (n < 2) return 0;
      const da = tf.sub(ratingsA, baselinesA);
      const db = tf.sub(ratingsB, baselinesB);
      const norms = tf.mul(tf.norm(da), tf.norm(db)).dataSync()[0];
      if (norms === 0) return 0;
      return ((n - 1) / (n - 1 + shrinkage)) * (tf.sum(tf.mul(da, db)).dataSync()[0] / norms);
    },
  ],
  "02.4": [
    (ratings, itemFactors, alpha, lambda) => {
      // QᵀCQ = QᵀQ + Qᵀ(C − I)Q: the shared part plus the rated items only, as the notebook explains.
      const q = tf.tensor2d(itemFactors, undefined, "float32");
      const d = itemFactors[0].length;
      const a = Array.from({ length: d }, (_, r) =>
        Array.from({ length: d }, (_, c) =>
          itemFactors.reduce((s, row, i) => s + row[r] * row[c] * (1 + alpha * ratings[i]), r === c ? lambda : 0),
        ),
      );
      q.dispose();
      const b = Array.from({ length: d }, (_, r) =>
        itemFactors.reduce((s, row, i) => s + (ratings[i] > 0 ? (1 + alpha * ratings[i]) * row[r] : 0), 0),
      );
      // Cramer's rule would do for 2 × 2; elimination for any size.
      for (let c = 0; c < d; c++) {
        for (let r = c + 1; r < d; r++) {
          const f = a[r][c] / a[c][c];
          for (let k = c; k < d; k++) a[r][k] -= f * a[c][k];
          b[r] -= f * b[c];
        }
      }
      const x = new Array<number>(d).fill(0);
      for (let r = d - 1; r >= 0; r--)
        x[r] = (b[r] - a[r].reduce((s, v, k) => (k > r ? s + v * x[k] : s), 0)) / a[r][r];
      return x;
    },
  ],
  "03.1": [
    (scores, weights) => {
      const numItems = scores[0].length;
      const z = scores.map((row) => normalizeScoreRows(row, numItems, "zscore"));
      return z[0].map((_, i) => z.reduce((s, row, m) => s + weights[m] * row[i], 0));
    },
  ],
  "07.4": [
    (tokenIds, causal) => {
      const t = tokenIds.length;
      const padding = paddingMask(tf.tensor2d([tokenIds], [1, t], "int32"));
      return causal ? tf.mul(padding, causalMask(t)) : tf.mul(padding, tf.ones([1, 1, t, t]));
    },
  ],
};

function denseBy(divisor: (data: Interactions, users: number[], items: number[]) => number): AnswerOf<"00.2"> {
  return (data, users, items) => {
    const inUsers = new Set(users);
    const inItems = new Set(items);
    let observed = 0;
    for (let k = 0; k < data.length; k++) if (inUsers.has(data.users[k]) && inItems.has(data.items[k])) observed++;
    return observed / divisor(data, users, items);
  };
}

/**
 * argmin_p Σ_i c_i (x_i − q_iᵀp)² + λ‖p‖², by Gaussian elimination on (QᵀCQ + λI) p = QᵀCx: the WALS step
 * with the confidences c and targets x that a wrong answer chose.
 */
function weightedRidge(q: number[][], c: number[], x: number[], lambda: number): number[] {
  const d = q[0].length;
  const m = Array.from({ length: d }, (_, r) => [
    ...Array.from({ length: d }, (_, k) => q.reduce((s, row, i) => s + c[i] * row[r] * row[k], r === k ? lambda : 0)),
    q.reduce((s, row, i) => s + c[i] * row[r] * x[i], 0),
  ]);
  for (let col = 0; col < d; col++) {
    for (let r = 0; r < d; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      m[r] = m[r].map((v, k) => v - f * m[col][k]);
    }
  }
  return m.map((row, r) => row[d] / row[r]);
}

/** SVD++'s reference with every y_j scaled by scale(|N(u)|): the wrong normalisations of the implicit term. */
function svdppWithImplicitScaled(scale: (n: number) => number): AnswerOf<"02.3"> {
  return (mu, bu, bi, pu, qi, implicit) =>
    REFERENCES["02.3"](
      mu,
      bu,
      bi,
      pu,
      qi,
      implicit.map((y) => y.map((v) => v * scale(implicit.length))),
    );
}

export interface WrongAnswer<Id extends ExerciseId> {
  what: string;
  answer: AnswerOf<Id>;
  /** What the failure message must say (a hint specific to this mistake, where the check names it). */
  message: RegExp;
}

export const WRONG_ANSWERS: { [Id in ExerciseId]: WrongAnswer<Id>[] } = {
  "00.1": [
    {
      what: "draws with replacement",
      answer: (seed, n, k) => {
        const rng = new Rng(seed);
        return Array.from({ length: k }, () => rng.int(Math.min(n, 3)));
      },
      message: /twice: the \d+ items must be distinct/,
    },
    {
      what: "Math.random",
      answer: (_seed, n, k) => Array.from(new Rng(Math.random() * 1e9).permutation(n).subarray(0, k)),
      message: /gave different samples .*create the Rng from the seed inside the function/,
    },
    {
      what: "ignores the seed",
      answer: (_seed, n, k) => Array.from(new Rng(42).permutation(n).subarray(0, k)),
      message: /seeds 1 to 6 all gave the same sample/,
    },
    {
      what: "indices from 1",
      answer: (seed, n, k) => Array.from(new Rng(seed).permutation(n).subarray(0, k), (i) => i + 1),
      message: /not an index in \[0, \d+\)/,
    },
    {
      what: "one too few",
      answer: (seed, n, k) => Array.from(new Rng(seed).permutation(n).subarray(0, k - 1)),
      message: /returned 2 indices, expected 3/,
    },
    {
      what: "not a function",
      answer: [1, 2, 3] as unknown as AnswerOf<"00.1">,
      message: /expected a function \(seed, n, k\) => indices, got an array/,
    },
  ],
  "00.2": [
    {
      what: "divides by the whole matrix",
      answer: denseBy((data) => data.numUsers * data.numItems),
      message: /not by the whole matrix/,
    },
    { what: "a count", answer: denseBy(() => 1), message: /that is a count of ratings/ },
    {
      what: "user or item",
      answer: (data, users, items) => {
        let observed = 0;
        for (let k = 0; k < data.length; k++)
          if (users.includes(data.users[k]) || items.includes(data.items[k])) observed++;
        return observed / (users.length * items.length);
      },
      message: /both its user and its item/,
    },
    {
      what: "a string",
      answer: (() => "0.5") as unknown as AnswerOf<"00.2">,
      message: /should return a number, got string 0\.5/,
    },
  ],
  "00.3": [
    {
      what: "no factor 2",
      answer: (counts) => {
        const n = counts.length;
        const mean = counts.reduce((s, c) => s + c, 0) / n;
        if (mean === 0) return 0;
        let sum = 0;
        for (const a of counts) for (const b of counts) sum += Math.abs(a - b);
        return sum / (n * n * mean);
      },
      message: /each pair appears twice/,
    },
    {
      what: "n(n − 1)",
      answer: (counts) => {
        const n = counts.length;
        const mean = counts.reduce((s, c) => s + c, 0) / n;
        if (mean === 0) return 0;
        let sum = 0;
        for (const a of counts) for (const b of counts) sum += Math.abs(a - b);
        return sum / (2 * n * (n - 1) * mean);
      },
      message: /not 2·n·\(n − 1\)·mean/,
    },
    {
      what: "NaN for all zeros",
      answer: (counts) => {
        const n = counts.length;
        const mean = counts.reduce((s, c) => s + c, 0) / n;
        let sum = 0;
        for (const a of counts) for (const b of counts) sum += Math.abs(a - b);
        return sum / (2 * n * n * mean);
      },
      message: /giniPairwise\(\[0, 0\]\) returned NaN — hint: with every count 0/,
    },
    {
      what: "no absolute value",
      answer: (counts) => {
        const n = counts.length;
        const mean = counts.reduce((s, c) => s + c, 0) / n;
        if (mean === 0) return 0;
        let sum = 0;
        for (const a of counts) for (const b of counts) sum += a - b;
        return sum / (2 * n * n * mean);
      },
      message: /sum the absolute differences/,
    },
  ],
  "04.1": [
    {
      what: "negative minus positive",
      answer: (positive, negatives) => {
        const terms = negatives.flatMap((row, b) => row.map((n) => -Math.log(1 / (1 + Math.exp(positive[b] - n)))));
        return terms.reduce((a, t) => a + t, 0) / terms.length;
      },
      message: /returned .* — hint: the difference is positive minus negative/,
    },
    {
      what: "first negative only",
      answer: (positive, negatives) =>
        positive.reduce((a, p, b) => a - Math.log(1 / (1 + Math.exp(-(p - negatives[b][0])))), 0) / positive.length,
      message: /use all of them, not just the first/,
    },
    {
      what: "mean over positives",
      answer: (positive, negatives) =>
        negatives
          .flatMap((row, b) => row.map((n) => -Math.log(1 / (1 + Math.exp(-(positive[b] - n))))))
          .reduce((a, t) => a + t, 0) / positive.length,
      message: /not over the positives only/,
    },
    {
      what: "NCF's log loss",
      answer: (positive, negatives) => {
        const terms = [
          ...positive.map((p) => -Math.log(1 / (1 + Math.exp(-p)))),
          ...negatives.flat().map((n) => -Math.log(1 - 1 / (1 + Math.exp(-n)))),
        ];
        return terms.reduce((a, t) => a + t, 0) / terms.length;
      },
      message: /that is NCF's log loss/,
    },
    { what: "an array", answer: (positive) => positive, message: /should return a number, got an array/ },
  ],
  "04.2": [
    { what: "sigmoid", answer: (pair) => 1 / (1 + Math.exp(-neumfLogitByHand(pair))), message: /return the logit/ },
    { what: "no ReLU", answer: (pair) => neumfLogitByHand(pair, { relu: false }), message: /ends with a ReLU/ },
    {
      what: "MLP part first",
      answer: (pair) => neumfLogitByHand(pair, { mlpFirst: true }),
      message: /the GMF part comes first/,
    },
    { what: "no output bias", answer: (pair) => neumfLogitByHand(pair) - pair.b, message: /has a bias b/ },
    {
      what: "item first into the tower",
      answer: (pair) => neumfLogitByHand({ ...pair, pM: pair.qM, qM: pair.pM }),
      message: /z₀ = \[p\^M_u ; q\^M_i\]: the user first/,
    },
  ],
  "04.3": [
    {
      what: "no correction",
      answer: (scores) =>
        REFERENCES["04.3"](
          scores,
          scores.map(() => 1),
        ),
      message: /that is the loss without the correction/,
    },
    {
      what: "adds ln Q",
      answer: (scores, shares) =>
        REFERENCES["04.3"](
          scores,
          shares.map((q) => 1 / q),
        ),
      message: /subtract ln Q_j, do not add it/,
    },
    {
      what: "softmax down the columns",
      answer: (scores, shares) =>
        REFERENCES["04.3"](
          scores.map((row, b) => row.map((_, j) => scores[j][b])),
          shares,
        ),
      message: /along the row/,
    },
    {
      what: "summed over the batch",
      answer: (scores, shares) => (REFERENCES["04.3"](scores, shares) as number) * scores.length,
      message: /average over the B users/,
    },
  ],
  "04.4": [
    {
      what: "mean of the neighbours",
      answer: (edges, numUsers, numItems, embeddings) => propagateByHand(edges, numUsers, numItems, embeddings, "row"),
      message: /that is D⁻¹A/,
    },
    {
      what: "unnormalised",
      answer: (edges, numUsers, numItems, embeddings) => propagateByHand(edges, numUsers, numItems, embeddings, "none"),
      message: /an unnormalised sum grows with the degree/,
    },
    {
      what: "self-loops",
      answer: (edges, numUsers, numItems, embeddings) =>
        propagateByHand(edges, numUsers, numItems, embeddings).map((row, v) => row.map((x, k) => x + embeddings[v][k])),
      message: /no self-loops/,
    },
    {
      what: "users only",
      answer: (edges, numUsers, numItems, embeddings) =>
        propagateByHand(edges, numUsers, numItems, embeddings).slice(0, numUsers),
      message: /should have shape \[7, 2\], got \[3, 2\]/,
    },
  ],
  "04.5": [
    {
      what: "KL subtracted",
      answer: (logits, x, mu, logVar, beta) =>
        (REFERENCES["04.5"](logits, x, mu, logVar, 0) as number) - beta * klByHand(mu, logVar),
      message: /the KL term is a penalty/,
    },
    {
      what: "β ignored",
      answer: (logits, x, mu, logVar) => REFERENCES["04.5"](logits, x, mu, logVar, 1),
      message: /weigh the KL term by β/,
    },
    {
      what: "log σ² read as σ²",
      answer: (logits, x, mu, logVar, beta) =>
        (REFERENCES["04.5"](logits, x, mu, logVar, 0) as number) +
        beta * -0.5 * mu.reduce((a, m, d) => a + 1 + logVar[d] - m * m - logVar[d], 0),
      message: /the variance in the KL term is exp\(logVar\)/,
    },
    {
      what: "unnormalised logits",
      answer: (logits, x, mu, logVar, beta) =>
        -x.reduce((a, xi, i) => a + xi * logits[i], 0) + beta * klByHand(mu, logVar),
      message: /log π_i is the log-softmax/,
    },
    {
      what: "throws",
      answer: () => {
        throw new Error("Exercise 04.5: not done yet");
      },
      message: /threw: Exercise 04\.5: not done yet/,
    },
  ],

  "05.1": [
    {
      what: "no mask",
      answer: (q, k) => scaledDotProductAttention(q, k, k).weights,
      message: /query 0 gives weight .* to key \d, which comes after it/,
    },
    {
      what: "transposed mask",
      answer: (q, k) => {
        const t = q.shape[0];
        const mask = tf.reshape(tf.transpose(tf.reshape(causalMask(t), [t, t])), [1, 1, t, t]);
        return scaledDotProductAttention(q, k, k, { mask: mask }).weights;
      },
      message: /the mask is transposed/,
    },
    {
      what: "masked after the softmax",
      answer: (q, k) => {
        const t = q.shape[0];
        return tf.mul(scaledDotProductAttention(q, k, k).weights, tf.reshape(causalMask(t), [t, t]));
      },
      message: /row 0 of the weights sums to .*mask the scores before the softmax/,
    },
    {
      what: "unscaled",
      answer: (q, k) =>
        scaledDotProductAttention(tf.mul(q, Math.sqrt(q.shape[1] as number)), k, k, { mask: causalMask(q.shape[0]) })
          .weights,
      message: /unscaled — hint: divide the scores by √d_k \(here √3\)/,
    },
    {
      what: "−Infinity times 0",
      answer: (q, k) => {
        const t = q.shape[0];
        const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[1] as number));
        const future = tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0));
        return tf.softmax(tf.add(scores, tf.mul(future, -Infinity)));
      },
      message: /NaN weights/,
    },
    { what: "wrong shape", answer: (q) => tf.ones([q.shape[0]]), message: /should have shape \[5, 5\], got \[5\]/ },
    {
      what: "throws",
      answer: () => {
        throw new Error("Exercise 05.1: not done yet");
      },
      message: /threw: Exercise 05\.1: not done yet/,
    },
  ],
  "05.2": [
    {
      what: "no shift",
      answer: (scores) => {
        const exps = scores.map((s) => Math.exp(s));
        const total = exps.reduce((a, b) => a + b, 0);
        return exps.map((e) => e / total);
      },
      message: /stableSoftmax\(\[1000, 1001, 1002\]\) returned \[NaN, NaN, NaN\] — hint: e\^1000 overflows/,
    },
    {
      what: "not normalised",
      answer: (scores) => scores.map((s) => Math.exp(s - Math.max(...scores))),
      message: /sums to .* not 1/,
    },
    {
      what: "one-hot",
      answer: (scores) => scores.map((s) => (s === Math.max(...scores) ? 1 : 0)),
      message: /which is not e\^s/,
    },
    {
      what: "a weight too few",
      answer: (scores) => scores.slice(1).map(() => 1 / (scores.length - 1)),
      message: /should have shape \[3\], got \[2\]/,
    },
  ],
  "05.3": [
    {
      what: "sine and cosine swapped",
      answer: (p, j, width) => {
        const angle = p / Math.pow(10000, (j - (j % 2)) / width);
        return j % 2 === 1 ? Math.sin(angle) : Math.cos(angle);
      },
      message: /even dimensions \(j = 2i\) take the sine/,
    },
    {
      what: "exponent j",
      answer: (p, j, width) => {
        const angle = p / Math.pow(10000, j / width);
        return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      },
      message: /for odd j the exponent uses 2i = j − 1/,
    },
    {
      what: "exponent i",
      answer: (p, j, width) => {
        const angle = p / Math.pow(10000, Math.floor(j / 2) / width);
        return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      },
      message: /the exponent is 2i\/width/,
    },
    {
      what: "multiplied",
      answer: (p, j, width) => {
        const angle = p * Math.pow(10000, (j - (j % 2)) / width);
        return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      },
      message: /the angle is p divided by/,
    },
    {
      what: "float32 rounding is fine, but degrees are not",
      answer: (p, j, width) => Math.sin((p / Math.pow(10000, (j - (j % 2)) / width)) * (180 / Math.PI)),
      message: /^✘ 05\.3: sinusoidalEntry\(\d+, \d+, \d+\) returned -?[\d.e-]+ — hint: P\[p, 2i\]/,
    },
  ],
  "05.4": [
    { what: "tanh approximation", answer: (x) => geluTanh(x), message: /BERT's tanh approximation/ },
    {
      what: "sigmoid approximation",
      answer: (x) => tf.mul(x, tf.sigmoid(tf.mul(1.702, x))),
      message: /x·σ\(1\.702x\)/,
    },
    { what: "erf(x)", answer: (x) => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(x)))), message: /erf takes x\/√2/ },
    {
      what: "Φ(x)",
      answer: (x) => tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
      message: /GELU\(x\) is x times Φ\(x\)/,
    },
    { what: "ReLU", answer: (x) => tf.relu(x), message: /this is ReLU/ },
    { what: "a reduced value", answer: (x) => tf.sum(gelu(x)), message: /should have shape \[13\], got \[\]/ },
  ],
  "05.5": [
    {
      what: "no transpose",
      answer: (x, h) => {
        const [b, t, d] = x.shape;
        return tf.reshape(x, [b, t, h, d / h]);
      },
      message: /which is \[B, T, h, d\] — hint: the head axis must come before the time axis/,
    },
    {
      what: "a reshape alone",
      answer: (x, h) => {
        const [b, t, d] = x.shape;
        return tf.reshape(x, [b, h, t, d / h]);
      },
      message: /right shape but not the right values — hint: a reshape alone/,
    },
    {
      what: "heads taken from the wrong end",
      answer: (x, h) => {
        const [b, t, d] = x.shape;
        return tf.reverse(tf.transpose(tf.reshape(x, [b, t, h, d / h]), [0, 2, 1, 3]), 1);
      },
      message: /right shape but not the right values — hint: cut the last axis/,
    },
  ],

  "01.1": [
    {
      what: "textbook idf",
      answer: (c, df, n) => c * Math.log(n / df),
      message: /the textbook idf .*hint: the notebook's vectors use the smoothed idf/,
    },
    { what: "no + 1", answer: (c, df, n) => c * Math.log((1 + n) / (1 + df)), message: /without its \+ 1/ },
    { what: "log10", answer: (c, df, n) => c * (Math.log10((1 + n) / (1 + df)) + 1), message: /base-10/ },
    {
      what: "idf alone",
      answer: (_c, df, n) => Math.log((1 + n) / (1 + df)) + 1,
      message: /multiplies the idf by the term's count/,
    },
    {
      what: "not a number",
      answer: (() => "1") as unknown as AnswerOf<"01.1">,
      message: /should return a number, got string 1/,
    },
  ],
  "01.2": [
    {
      what: "classic idf",
      answer: (c, df, n, length, avg, { k1, b }) =>
        (Math.log((n - df + 0.5) / (df + 0.5)) * c * (k1 + 1)) / (c + k1 * (1 - b + (b * length) / avg)),
      message: /the classic idf .*hint: that idf goes negative/,
    },
    {
      what: "b and 1 − b swapped",
      answer: (c, df, n, length, avg, { k1, b }) =>
        (Math.log(1 + (n - df + 0.5) / (df + 0.5)) * c * (k1 + 1)) / (c + k1 * (b + ((1 - b) * length) / avg)),
      message: /b and 1 − b swapped/,
    },
    {
      what: "no length normalisation",
      answer: (c, df, n, _length, _avg, { k1 }) =>
        (Math.log(1 + (n - df + 0.5) / (df + 0.5)) * c * (k1 + 1)) / (c + k1),
      message: /no length normalisation/,
    },
    {
      what: "no k1 + 1",
      answer: (c, df, n, length, avg, { k1, b }) =>
        (Math.log(1 + (n - df + 0.5) / (df + 0.5)) * c) / (c + k1 * (1 - b + (b * length) / avg)),
      message: /no \(k1 \+ 1\)/,
    },
  ],
  "01.3": [
    {
      what: "dot only",
      answer: (a, b) =>
        a.indices.reduce(
          (s, i, k) => s + a.values[k] * (b.indices.includes(i) ? b.values[b.indices.indexOf(i)] : 0),
          0,
        ),
      message: /not divided by the lengths/,
    },
    {
      what: "NaN for an empty vector",
      answer: (a, b) => {
        let dot = 0;
        a.indices.forEach((i, k) => {
          const j = b.indices.indexOf(i);
          if (j >= 0) dot += a.values[k] * b.values[j];
        });
        return dot / (Math.hypot(...a.values) * Math.hypot(...b.values));
      },
      message: /returned NaN — hint: a vector with no entries has length 0/,
    },
    {
      what: "paired by position",
      answer: (a, b) => {
        let s = 0;
        for (let k = 0; k < Math.min(a.values.length, b.values.length); k++) s += a.values[k] * b.values[k];
        return s / (Math.hypot(...a.values) * Math.hypot(...b.values));
      },
      message: /values\[k\] belongs to indices\[k\]/,
    },
  ],
  "01.4": [
    {
      what: "minimises",
      answer: (evaluate, k1s, bs) => {
        let best = { k1: k1s[0], b: bs[0], score: Infinity };
        for (const k1 of k1s)
          for (const b of bs) if (evaluate(k1, b) < best.score) best = { k1: k1, b: b, score: evaluate(k1, b) };
        return best;
      },
      message: /keep the maximum, not the minimum/,
    },
    {
      what: "tunes k1 at the first b only",
      answer: (evaluate, k1s, bs) => {
        let best = { k1: k1s[0], b: bs[0], score: -Infinity };
        for (const k1 of k1s)
          if (evaluate(k1, bs[0]) > best.score) best = { k1: k1, b: bs[0], score: evaluate(k1, bs[0]) };
        return best;
      },
      message: /pairs were never evaluated — hint: nest the two loops/,
    },
    {
      what: "no score",
      answer: ((evaluate: (k1: number, b: number) => number, k1s: number[], bs: number[]) => {
        let best = { k1: k1s[0], b: bs[0], score: -Infinity };
        for (const k1 of k1s)
          for (const b of bs) if (evaluate(k1, b) > best.score) best = { k1: k1, b: b, score: evaluate(k1, b) };
        return { k1: best.k1, b: best.b };
      }) as unknown as AnswerOf<"01.4">,
      message: /returned score undefined/,
    },
  ],
  "06.1": [
    {
      what: "keep before random",
      answer: (tokens, chosen, draws, randomTokens, maskId) => {
        const out = tokens.slice();
        chosen.forEach((t, j) => {
          if (draws[j] < 0.8) out[t] = maskId;
          else if (draws[j] >= 0.9) out[t] = randomTokens[j];
        });
        return out;
      },
      message: /\[0\.8, 0\.9\) takes the random token/,
    },
    {
      what: "always mask",
      answer: (tokens, chosen, _draws, _randomTokens, maskId) => {
        const out = tokens.slice();
        for (const t of chosen) out[t] = maskId;
        return out;
      },
      message: /only draws below 0\.8 give \[MASK\]/,
    },
    {
      what: "80/20",
      answer: (tokens, chosen, draws, randomTokens, maskId) => {
        const out = tokens.slice();
        chosen.forEach((t, j) => (out[t] = draws[j] < 0.8 ? maskId : randomTokens[j]));
        return out;
      },
      message: /the last 20% are split/,
    },
    {
      what: "masks every position",
      answer: (tokens, _chosen, _draws, _randomTokens, maskId) => tokens.map(() => maskId),
      message: /was not chosen, yet it changed/,
    },
    {
      what: "the chosen positions only",
      answer: (tokens, chosen) => chosen.map((t) => tokens[t]),
      message: /returned shape \[3\] — hint: return the whole sequence/,
    },
  ],
  "06.2": [
    {
      what: "mean over every position",
      answer: (logits, labels) => {
        let sum = 0;
        logits.forEach((row, t) => (sum += Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[labels[t]]));
        return sum / logits.length;
      },
      message: /the mean over every position/,
    },
    {
      what: "divided by the length",
      answer: (logits, labels, weights) => {
        let sum = 0;
        logits.forEach(
          (row, t) => (sum += weights[t] * (Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[labels[t]])),
        );
        return sum / logits.length;
      },
      message: /divided by all 6 positions — hint: divide by the number of predicted positions/,
    },
    {
      what: "−logit",
      answer: (logits, labels, weights) => {
        let sum = 0;
        logits.forEach((row, t) => (sum -= weights[t] * row[labels[t]]));
        return sum / weights.reduce((s, w) => s + w, 0);
      },
      message: /the mean of −logit — hint: take the log-softmax/,
    },
  ],
  "06.3": [
    {
      what: "shortest match",
      answer: (word, vocab) => {
        const pieces: string[] = [];
        let start = 0;
        while (start < word.length) {
          let end = start + 1;
          while (end <= word.length && !vocab.has((start > 0 ? "##" : "") + word.slice(start, end))) end++;
          if (end > word.length) return ["[UNK]"];
          pieces.push((start > 0 ? "##" : "") + word.slice(start, end));
          start = end;
        }
        return pieces;
      },
      message: /longest piece that matches, not the shortest/,
    },
    {
      what: "no ## on continuations",
      answer: (word, vocab) => {
        const pieces: string[] = [];
        let start = 0;
        while (start < word.length) {
          let end = word.length;
          while (end > start && !vocab.has((start > 0 ? "##" : "") + word.slice(start, end))) end--;
          if (end === start) return ["[UNK]"];
          pieces.push(word.slice(start, end));
          start = end;
        }
        return pieces;
      },
      message: /looked up, and returned, with its "##" prefix/,
    },
    {
      what: "a partial [UNK]",
      answer: (word, vocab) => {
        const pieces: string[] = [];
        let start = 0;
        while (start < word.length) {
          let end = word.length;
          while (end > start && !vocab.has((start > 0 ? "##" : "") + word.slice(start, end))) end--;
          if (end === start) {
            pieces.push("[UNK]");
            break;
          }
          pieces.push((start > 0 ? "##" : "") + word.slice(start, end));
          start = end;
        }
        return pieces;
      },
      message: /the whole word becomes the single \[UNK\]/,
    },
  ],
  "06.4": [
    {
      what: "always IsNext",
      answer: (documents) => documents.map((d) => ({ a: d.a, b: d.b, isNext: true })),
      message: /100% of .* pairs are IsNext/,
    },
    {
      what: "may pick its own B",
      answer: (documents, seed) => {
        const rng = new Rng(seed);
        return documents.map((doc) =>
          rng.next() < 0.5
            ? { a: doc.a, b: doc.b, isNext: true }
            : { a: doc.a, b: documents[rng.int(documents.length)].b, isNext: false },
        );
      },
      message: /NotNext with its own B — hint: draw the NotNext partner among the other documents/,
    },
    {
      what: "Math.random",
      answer: (documents) =>
        documents.map((doc, i) =>
          Math.random() < 0.5
            ? { a: doc.a, b: doc.b, isNext: true }
            : { a: doc.a, b: documents[(i + 1) % documents.length].b, isNext: false },
        ),
      message: /two calls with seed 1 gave different pairs/,
    },
    {
      what: "ignores the seed",
      answer: (documents) => nextSentencePairs(documents, new Rng(7)),
      message: /seeds 1 and 2 gave the same pairs/,
    },
    {
      what: "labels flipped",
      answer: (documents, seed) =>
        nextSentencePairs(documents, new Rng(seed)).map((p) => ({ a: p.a, b: p.b, isNext: !p.isNext })),
      message: /is (IsNext with B|NotNext with its own B)/,
    },
  ],
  "08.1": [
    {
      what: "per coordinate",
      answer: (g, c) => g.map((x) => Math.max(-c, Math.min(c, x))),
      message: /clip the norm of the whole vector/,
    },
    {
      what: "always to C",
      answer: (g, c) => {
        const n = Math.hypot(...g);
        return g.map((x) => (n === 0 ? 0 : (x * c) / n));
      },
      message: /never scaled up/,
    },
    {
      what: "NaN at zero",
      answer: (g, c) => g.map((x) => (x / Math.hypot(...g)) * Math.min(Math.hypot(...g), c)),
      message: /a zero gradient has norm 0/,
    },
  ],
  "08.2": [
    {
      what: "one step",
      answer: (sigma, _steps, delta, orders) =>
        Math.min(...orders.map((a) => a / (2 * sigma * sigma) + Math.log(1 / delta) / (a - 1))),
      message: /T steps compose/,
    },
    {
      what: "σ not squared",
      answer: (sigma, steps, delta, orders) =>
        Math.min(...orders.map((a) => (steps * a) / (2 * sigma) + Math.log(1 / delta) / (a - 1))),
      message: /σ squared/,
    },
    {
      what: "max over orders",
      answer: (sigma, steps, delta, orders) =>
        Math.max(...orders.map((a) => (steps * a) / (2 * sigma * sigma) + Math.log(1 / delta) / (a - 1))),
      message: /keep the smallest/,
    },
    {
      what: "no δ term",
      answer: (sigma, steps, _delta, orders) => Math.min(...orders.map((a) => (steps * a) / (2 * sigma * sigma))),
      message: /adds log\(1\/δ\)\/\(α − 1\)/,
    },
  ],
  "08.3": [
    {
      what: "reversed",
      answer: (m, n) => {
        let sum = 0;
        for (const x of m) for (const y of n) sum += x > y ? 1 : x === y ? 0.5 : 0;
        return sum / (m.length * n.length);
      },
      message: /their losses are lower/,
    },
    {
      what: "ties as 0",
      answer: (m, n) => {
        let sum = 0;
        for (const x of m) for (const y of n) sum += x < y ? 1 : 0;
        return sum / (m.length * n.length);
      },
      message: /a tie .* counts ½/,
    },
  ],
  "08.4": [
    {
      what: "scale max/255",
      answer: (row) => {
        const scale = Math.max(...row.map(Math.abs)) / 255;
        return { scale: scale, codes: row.map((x) => (scale === 0 ? 0 : Math.round(x / scale))) };
      },
      message: /symmetric, in \[−127, 127\]/,
    },
    {
      what: "truncates",
      answer: (row) => {
        const scale = Math.max(...row.map(Math.abs)) / 127;
        return { scale: scale, codes: row.map((x) => (scale === 0 ? 0 : Math.trunc(x / scale))) };
      },
      message: /more than half a step — hint: round to the nearest integer/,
    },
    {
      what: "NaN for zeros",
      answer: (row) => {
        const scale = Math.max(...row.map(Math.abs)) / 127;
        return { scale: scale, codes: row.map((x) => Math.round(x / scale)) };
      },
      message: /a row of zeros/,
    },
    {
      what: "scale 1/127 of the mean",
      answer: (row) => {
        const scale = row.reduce((s, x) => s + Math.abs(x), 0) / row.length / 127;
        return {
          scale: scale,
          codes: row.map((x) => (scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(x / scale))))),
        };
      },
      message: /the scale is the row's max \|x\| \/ 127/,
    },
  ],
  "08.5": [
    {
      what: "position by position",
      answer: (a, e, k) => {
        let hits = 0;
        for (let i = 0; i < k; i++) if (a[i] === e[i]) hits++;
        return hits / k;
      },
      message: /order does not matter/,
    },
    {
      what: "no cut",
      answer: (a, e, k) => e.slice(0, k).filter((x) => a.includes(x)).length / k,
      message: /cut both lists at k/,
    },
  ],
  "02.1": [
    {
      what: "centred on the means",
      answer: (ra, rb, _ba, _bb, shrinkage) => {
        const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
        return REFERENCES["02.1"](
          ra,
          rb,
          ra.map(() => mean(ra)),
          rb.map(() => mean(rb)),
          shrinkage,
        );
      },
      message: /not on the item's mean rating/,
    },
    {
      what: "no shrinkage",
      answer: (ra, rb, ba, bb) => REFERENCES["02.1"](ra, rb, ba, bb, 0),
      message: /shrink the correlation towards 0/,
    },
    {
      what: "n, not n − 1",
      answer: (ra, rb, ba, bb, shrinkage) =>
        (REFERENCES["02.1"](ra, rb, ba, bb, 0) * ra.length) / (ra.length + shrinkage),
      message: /with n − 1, not n/,
    },
    {
      what: "NaN on zero residuals",
      answer: (ra, rb, ba, bb, shrinkage) => {
        const da = ra.map((r, k) => r - ba[k]);
        const db = rb.map((r, k) => r - bb[k]);
        const n = ra.length;
        const rho =
          da.reduce((s, x, k) => s + x * db[k], 0) /
          Math.sqrt(da.reduce((s, x) => s + x * x, 0) * db.reduce((s, x) => s + x * x, 0));
        return n < 2 ? 0 : ((n - 1) / (n - 1 + shrinkage)) * rho;
      },
      message: /with every residual 0 it returned NaN — hint: a zero denominator/,
    },
    {
      what: "one common rater",
      answer: (ra, rb, ba, bb, shrinkage) => (ra.length < 2 ? 1 : REFERENCES["02.1"](ra, rb, ba, bb, shrinkage)),
      message: /one common rater it returned 1 — hint: .*fewer than 2 gives 0/,
    },
  ],
  "02.2": [
    {
      what: "q_i from the new p_u",
      answer: (rating, mu, { bu, bi, pu, qi }, gamma, lambda) => {
        const e = rating - (mu + bu + bi + pu.reduce((s, x, f) => s + x * qi[f], 0));
        const newPu = pu.map((x, f) => x + gamma * (e * qi[f] - lambda * x));
        return {
          bu: bu + gamma * (e - lambda * bu),
          bi: bi + gamma * (e - lambda * bi),
          pu: newPu,
          qi: qi.map((x, f) => x + gamma * (e * newPu[f] - lambda * x)),
        };
      },
      message: /qi is not what the step gives — hint: q_i's step uses p_u as it was/,
    },
    {
      what: "e = r̂ − r",
      answer: (rating, mu, p, gamma, lambda) =>
        REFERENCES["02.2"](
          2 * (mu + p.bu + p.bi + p.pu.reduce((s, x, f) => s + x * p.qi[f], 0)) - rating,
          mu,
          p,
          gamma,
          lambda,
        ),
      message: /the error is e = r − r̂/,
    },
    {
      what: "no penalty",
      answer: (rating, mu, p, gamma) => REFERENCES["02.2"](rating, mu, p, gamma, 0),
      message: /also subtracts λ times the parameter/,
    },
    {
      what: "a string for bu",
      answer: ((_rating: number, _mean: number, p: MfTerm) => ({ ...p, bu: "0.1" })) as unknown as AnswerOf<"02.2">,
      message: /bu should be a number, got string 0\.1/,
    },
  ],
  "02.3": [
    {
      what: "divides by |N(u)|",
      answer: svdppWithImplicitScaled((n) => 1 / Math.sqrt(n)),
      message: /one over the square root of the count, not one over the count/,
    },
    {
      what: "no normalisation",
      answer: svdppWithImplicitScaled((n) => Math.sqrt(n)),
      message: /so it does not grow with the number of rated items/,
    },
    {
      what: "forgets p_u",
      answer: (mu, bu, bi, pu, qi, implicit) =>
        REFERENCES["02.3"](
          mu,
          bu,
          bi,
          pu.map(() => 0),
          qi,
          implicit,
        ),
      message: /p_u plus the implicit term/,
    },
    {
      what: "NaN with no rated items",
      answer: (mu, bu, bi, pu, qi, implicit) => {
        const z = pu.map((_, f) => implicit.reduce((s, y) => s + y[f], 0) / Math.sqrt(implicit.length));
        return mu + bu + bi + qi.reduce((s, q, f) => s + q * (pu[f] + z[f]), 0);
      },
      message: /no rated items \(N\(u\) empty\) it returned NaN — hint: .*guard the division/,
    },
  ],
  "02.4": [
    {
      what: "rating as target",
      answer: (ratings, q, alpha, lambda) =>
        weightedRidge(
          q,
          ratings.map((r) => 1 + alpha * r),
          ratings,
          lambda,
        ),
      message: /the target is the binary x_ui/,
    },
    {
      what: "no λ",
      answer: (ratings, q, alpha) => REFERENCES["02.4"](ratings, q, alpha, 0),
      message: /add λ to the diagonal/,
    },
    {
      what: "observed items only",
      answer: (ratings, q, alpha, lambda) => {
        const rated = ratings.map((_, i) => i).filter((i) => ratings[i] > 0);
        return REFERENCES["02.4"](
          rated.map((i) => ratings[i]),
          rated.map((i) => q[i]),
          alpha,
          lambda,
        );
      },
      message: /sums over every item, the empty cells included/,
    },
    {
      what: "no confidence 1",
      answer: (ratings, q, alpha, lambda) =>
        weightedRidge(
          q,
          ratings.map((r) => alpha * r),
          ratings.map((r) => (r > 0 ? 1 : 0)),
          lambda,
        ),
      message: /1, not 0, on the empty cells/,
    },
    { what: "wrong length", answer: () => [1, 2, 3, 4, 5], message: /p_u has one entry per factor \(2 here\)/ },
  ],
  "03.1": [
    {
      what: "raw scores",
      answer: (scores, weights) => scores[0].map((_, i) => scores.reduce((s, row, m) => s + weights[m] * row[i], 0)),
      message: /rescale each model's scores to z-scores first/,
    },
    {
      what: "min-max",
      answer: (scores, weights) => {
        const scaled = scores.map((row) => normalizeScoreRows(row, row.length, "minmax"));
        return scores[0].map((_, i) => scaled.reduce((s, row, m) => s + weights[m] * row[i], 0));
      },
      message: /z-scores \(s − mean\)\/std, not min-max scaling/,
    },
    {
      what: "sample std",
      answer: (scores, weights) =>
        Array.from(REFERENCES["03.1"](scores, weights)).map(
          (x, _, all) => x * Math.sqrt((all.length - 1) / all.length),
        ),
      message: /divide by the number of items, not n − 1/,
    },
    {
      what: "NaN for a constant model",
      answer: (scores, weights) => {
        const z = scores.map((row) => {
          const mean = row.reduce((s, x) => s + x, 0) / row.length;
          const std = Math.sqrt(row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length);
          return row.map((x) => (x - mean) / std);
        });
        return z[0].map((_, i) => z.reduce((s, row, m) => s + weights[m] * row[i], 0));
      },
      message: /has std 0: its z-scores are all 0/,
    },
    { what: "one score", answer: () => [1], message: /return one hybrid score per item/ },
  ],
  "03.2": [
    {
      what: "chosen on test",
      answer: (_validation, test, weights) => {
        const scores = weights.map(test);
        const best = scores.indexOf(Math.max(...scores));
        return { weight: weights[best], test: scores[best] };
      },
      message: /evaluated \d+ weights on the test split — hint: the test split is looked at once/,
    },
    {
      what: "smallest NDCG",
      answer: (validation, test, weights) => {
        const scores = weights.map(validation);
        const worst = weights[scores.indexOf(Math.min(...scores))];
        return { weight: worst, test: test(worst) };
      },
      message: /NDCG is better when larger/,
    },
    {
      what: "reports validation",
      answer: (validation, _test, weights) => {
        const scores = weights.map(validation);
        const best = scores.indexOf(Math.max(...scores));
        return { weight: weights[best], test: scores[best] };
      },
      message: /report testNdcg at the chosen weight/,
    },
    {
      what: "a weight outside the grid",
      answer: (validation, test) => ({ weight: 0.55, test: test(0.55) + validation(0.55) }),
      message: /evaluated at weight 0\.55, which is not in the grid/,
    },
  ],
  "03.3": [
    {
      what: "logistic",
      answer: ({ pu, qi, qj, bi, bj }, eta) => {
        const x = pu.reduce((s, v, f) => s + v * (qi[f] - qj[f]), 0) + bi - bj;
        return REFERENCES["03.3"]({ pu, qi, qj, bi, bj }, eta * (1 - 1 / (1 + Math.exp(-x))), Infinity);
      },
      message: /that is BPR's logistic step/,
    },
    {
      what: "steps even above the margin",
      answer: (p, eta) => REFERENCES["03.3"](p, eta, Infinity),
      message: /once x̂_uij ≥ margin: such a triple does not move/,
    },
    {
      what: "margin 0",
      answer: (p, eta) => REFERENCES["03.3"](p, eta, 0),
      message: /not only while it is < 0/,
    },
    {
      what: "q from the new p_u",
      answer: ({ pu, qi, qj, bi, bj }, eta, margin) => {
        const next = REFERENCES["03.3"]({ pu, qi, qj, bi, bj }, eta, margin);
        const moved = next.bi !== bi;
        return {
          ...next,
          qi: qi.map((v, f) => v + (moved ? eta * next.pu[f] : 0)),
          qj: qj.map((v, f) => v - (moved ? eta * next.pu[f] : 0)),
        };
      },
      message: /keep a copy of the old p_u/,
    },
    {
      what: "no object",
      answer: (() => 0) as unknown as AnswerOf<"03.3">,
      message: /should return \{ pu, qi, qj, bi, bj \}, got number 0/,
    },
  ],
  "03.4": [
    {
      what: "always the mean",
      answer: (features, embeddings, biases) => REFERENCES["03.4"](features, embeddings, biases, true),
      message: /with normalize false the weights are 1/,
    },
    {
      what: "always the sum",
      answer: (features, embeddings, biases) => REFERENCES["03.4"](features, embeddings, biases, false),
      message: /with normalize true each weight is 1\/\|F_i\|/,
    },
    {
      what: "NaN without features",
      answer: (features, embeddings, biases, normalize) => {
        const w = normalize ? 1 / features.length : 1;
        return {
          vector: embeddings[0].map((_, d) => w * features.reduce((s, f) => s + embeddings[f][d], 0)),
          bias: w * features.reduce((s, f) => s + biases[f], 0),
        };
      },
      message: /an item without features got \[NaN/,
    },
    {
      what: "bias left out",
      answer: (features, embeddings, biases, normalize) => ({
        ...REFERENCES["03.4"](features, embeddings, biases, normalize),
        bias: 0,
      }),
      message: /its bias is not the weighted sum/,
    },
  ],
  "07.1": [
    {
      what: "log order",
      answer: (items) => ({
        train: items.slice(0, -2),
        validation: items[items.length - 2],
        test: items[items.length - 1],
      }),
      message: /sort the items by timestamp first/,
    },
    {
      what: "swapped",
      answer: (items, times) => {
        const split = REFERENCES["07.1"](items, times);
        return { train: split.train, validation: split.test, test: split.validation };
      },
      message: /the test item is the last one/,
    },
    {
      what: "validation kept in train",
      answer: (items, times) => {
        const split = REFERENCES["07.1"](items, times);
        return { train: [...split.train, split.validation], validation: split.validation, test: split.test };
      },
      message: /held out of train too/,
    },
    {
      what: "unstable tie",
      answer: (items, times) => {
        const order = items.map((_, k) => k).sort((a, b) => times[a] - times[b] || b - a);
        const sorted = order.map((k) => items[k]);
        return { train: sorted.slice(0, -2), validation: sorted[sorted.length - 2], test: sorted[sorted.length - 1] };
      },
      message: /leaveOneOut\(\[31, 17, 52, 8, 44\]/,
    },
  ],
  "07.2": [
    {
      what: "right padding",
      answer: (items, draws, rho, maxLength) => {
        const input = REFERENCES["07.2"](items, draws, rho, maxLength);
        const pad = Math.max(0, maxLength - items.length);
        const tokenIds = Array.from(input.tokenIds);
        return {
          tokenIds: [...tokenIds.slice(pad), ...tokenIds.slice(0, pad)],
          positions: Array.from(input.positions, (t) => t - pad),
          labels: input.labels,
        };
      },
      message: /pad on the left/,
    },
    {
      what: "no offset",
      answer: (items, draws, rho, maxLength) => {
        const input = REFERENCES["07.2"](items, draws, rho, maxLength);
        return { ...input, tokenIds: Array.from(input.tokenIds, (t) => (t > 1 ? t - 2 : t)) };
      },
      message: /item i is token i \+ 2/,
    },
    {
      what: "masks above ρ",
      answer: (items, draws, rho, maxLength) =>
        REFERENCES["07.2"](
          items,
          draws.map((d) => (d < rho ? 1 : 0)),
          0.5,
          maxLength,
        ),
      message: /when its draw is below ρ/,
    },
    {
      what: "token ids as labels",
      answer: (items, draws, rho, maxLength) => {
        const input = REFERENCES["07.2"](items, draws, rho, maxLength);
        return { ...input, labels: Array.from(input.labels, (i) => i + 2) };
      },
      message: /not their token ids/,
    },
    {
      what: "the first items",
      answer: (items, draws, rho, maxLength) =>
        REFERENCES["07.2"](items.slice(0, maxLength), draws.slice(0, maxLength), rho, maxLength),
      message: /keep the latest maxLength items/,
    },
    {
      what: "no padding",
      answer: (items, draws, rho, maxLength) => {
        const input = REFERENCES["07.2"](items, draws, rho, maxLength);
        return { ...input, tokenIds: Array.from(input.tokenIds).filter((t) => t !== 0) };
      },
      message: /exactly maxLength = 10 positions/,
    },
  ],
  "07.3": [
    {
      what: "1/log₂(rank)",
      answer: (ranks, k) => {
        const hits = ranks.filter((r) => r <= k);
        return {
          hitRate: hits.length / ranks.length,
          ndcg: hits.reduce((s, r) => s + 1 / Math.log2(r), 0) / ranks.length,
        };
      },
      message: /ndcg Infinity — hint: the discount of rank r \(counting from 1\)/,
    },
    {
      what: "natural log",
      answer: (ranks, k) => {
        const hits = ranks.filter((r) => r <= k);
        return {
          hitRate: hits.length / ranks.length,
          ndcg: hits.reduce((s, r) => s + 1 / Math.log(r + 1), 0) / ranks.length,
        };
      },
      message: /log base 2/,
    },
    {
      what: "rank < k",
      answer: (ranks, k) => REFERENCES["07.3"](ranks, k - 1),
      message: /an item at rank exactly k is in the top k/,
    },
    {
      what: "ranks from 0",
      answer: (ranks, k) =>
        REFERENCES["07.3"](
          ranks.map((r) => r + 1),
          k,
        ),
      message: /the ranks given count from 1/,
    },
  ],
  "07.4": [
    {
      what: "transposed causal mask",
      answer: (tokenIds, causal) =>
        tokenIds.map((_, t) => tokenIds.map((key, s) => (key !== 0 && (!causal || s >= t) ? 1 : 0))),
      message: /may see the keys s ≤ t \(the past\)/,
    },
    {
      what: "padding ignored",
      answer: (tokenIds, causal) => tokenIds.map((_, t) => tokenIds.map((_key, s) => (!causal || s <= t ? 1 : 0))),
      message: /no query may attend to a \[PAD\] key/,
    },
    {
      what: "padded queries",
      answer: (tokenIds, causal) =>
        tokenIds.map((query, t) => tokenIds.map((_key, s) => (query !== 0 && (!causal || s <= t) ? 1 : 0))),
      message: /blocks the \[PAD\] keys \(columns\)/,
    },
    {
      what: "always bidirectional",
      answer: (tokenIds) => REFERENCES["07.4"](tokenIds, false),
      message: /with causal true, the keys after the query are blocked too/,
    },
    {
      what: "a flat row",
      answer: (tokenIds) => tokenIds.map(() => 1),
      message: /one row per query and one column per key: \[6, 6\]/,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Notebook 04's helpers: right answers written out, and the switches that make them wrong.
// ---------------------------------------------------------------------------------------------

function neumfLogitByHand(pair: NeumfPair, options: { relu?: boolean; mlpFirst?: boolean } = {}): number {
  let z = [...pair.pM, ...pair.qM];
  for (const { kernel, bias } of pair.layers) {
    z = bias.map((bj, j) => {
      const pre = z.reduce((acc, zi, i) => acc + zi * kernel[i][j], bj);
      return options.relu === false ? pre : Math.max(0, pre);
    });
  }
  const gmf = pair.pG.map((p, f) => p * pair.qG[f]);
  const joined = options.mlpFirst ? [...z, ...gmf] : [...gmf, ...z];
  return joined.reduce((acc, v, k) => acc + v * pair.h[k], pair.b);
}

function neumfLogitWithTf(pair: NeumfPair): tf.Tensor {
  let z: tf.Tensor2D = tf.tensor2d([[...pair.pM, ...pair.qM]]);
  for (const { kernel, bias } of pair.layers)
    z = tf.relu(tf.add(tf.matMul(z, tf.tensor2d(kernel)), tf.tensor1d(bias))) as tf.Tensor2D;
  const gmf = tf.mul(tf.tensor2d([pair.pG]), tf.tensor2d([pair.qG]));
  return tf.add(tf.matMul(tf.concat([gmf, z], 1), tf.tensor2d(pair.h, [pair.h.length, 1])), pair.b);
}

function propagateByHand(
  edges: Array<[number, number]>,
  numUsers: number,
  numItems: number,
  embeddings: number[][],
  normalisation: "symmetric" | "row" | "none" = "symmetric",
): number[][] {
  const degree = new Array<number>(numUsers + numItems).fill(0);
  for (const [u, i] of edges) {
    degree[u]++;
    degree[numUsers + i]++;
  }
  const out = embeddings.map((row) => row.map(() => 0));
  const weight = (v: number, w: number) =>
    normalisation === "none" ? 1 : normalisation === "row" ? 1 / degree[v] : 1 / Math.sqrt(degree[v] * degree[w]);
  for (const [u, i] of edges) {
    const item = numUsers + i;
    embeddings[item].forEach((x, k) => (out[u][k] += weight(u, item) * x));
    embeddings[u].forEach((x, k) => (out[item][k] += weight(item, u) * x));
  }
  return out;
}

function klByHand(mu: number[], logVar: number[]): number {
  return -0.5 * mu.reduce((acc, m, d) => acc + 1 + logVar[d] - m * m - Math.exp(logVar[d]), 0);
}
