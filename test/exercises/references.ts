// A right answer for every registered exercise (the notebooks' reference solutions, written again here:
// the notebook test runs the notebooks' own and asserts they pass), and wrong ones, each with what its
// failure message must say. The mapped types make a new exercise without a reference a compile error.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import type { AnswerOf, ExerciseId } from "../../src/exercises/registry";
import { gelu, geluTanh } from "../../src/nn/feedForward";
import { causalMask, scaledDotProductAttention } from "../../src/nn/attention";

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
};
