// Notebook 05's exercises: causal attention weights, a softmax that does not overflow, one entry of the
// sinusoidal table, GELU, and the split into heads. Each check feeds the learner's function inputs of its
// own (other sizes than the notebook's toy, so that nothing hard-coded passes) and compares the result with
// a reference computed here in plain loops, then, on a mismatch, with the usual mistakes, to say which one.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import {
  AnswerError,
  Problem,
  Values,
  allClose,
  callAnswer,
  describeValue,
  exercise,
  expectFunction,
  expectShape,
  formatNumber,
  largestDifference,
  readValues,
  squeezeLeading,
} from "./exercise";

/** 05.1: the causal attention weights [T, T] of queries q [T, d_k] and keys k [T, d_k]. */
export type CausalWeights = (q: tf.Tensor, k: tf.Tensor) => tf.Tensor | number[][];

/** 05.2: softmax of one row of scores, computed so that large or very negative scores do not overflow. */
export type StableSoftmax = (scores: number[]) => ArrayLike<number>;

/** 05.3: P[p, j] of the sinusoidal position table of the given width. */
export type SinusoidalEntry = (p: number, j: number, width: number) => number;

/** 05.4: the exact GELU, x·Φ(x), elementwise. */
export type GeluByHand = (x: tf.Tensor) => tf.Tensor;

/** 05.5: [B, T, h·d] → [B, h, T, d], head i taking columns i·d … (i+1)·d − 1. */
export type SplitHeadsByHand = (x: tf.Tensor, numHeads: number) => tf.Tensor;

function normals(rng: Rng, n: number, std = 1): number[] {
  return Array.from({ length: n }, () => rng.normal(0, std));
}

/** Row-major [t, t] attention weights of q, k ([t, dK] row-major), computed in float64. */
function attentionReference(
  q: number[],
  k: number[],
  t: number,
  dK: number,
  options: { causal: boolean; scale: number },
): number[] {
  const weights = new Array<number>(t * t).fill(0);
  for (let i = 0; i < t; i++) {
    const keys = options.causal ? i + 1 : t;
    const scores: number[] = [];
    for (let j = 0; j < keys; j++) {
      let s = 0;
      for (let c = 0; c < dK; c++) s += q[i * dK + c] * k[j * dK + c];
      scores.push(s / options.scale);
    }
    const top = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - top));
    const total = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, j) => (weights[i * t + j] = e / total));
  }
  return weights;
}

const causalWeights = exercise<CausalWeights>({
  title: "causal attention weights",
  hint: "scores q·kᵀ/√d_k; before the softmax, push the scores of keys after the query (j > i) to a large negative number",
  validate(answer) {
    const weightsOf = expectFunction(answer, "(q, k) => weights [T, T]");
    const rng = new Rng(501);
    for (const [t, dK, std] of [
      [5, 3, 1],
      [3, 8, 1.5],
    ]) {
      const q = normals(rng, t * dK, std);
      const k = normals(rng, t * dK, std);
      const call = `causalWeights(q [${t}, ${dK}], k [${t}, ${dK}])`;
      const got = callAnswer(
        call,
        () => weightsOf(tf.tensor2d(q, [t, dK]), tf.tensor2d(k, [t, dK])),
        (value) => squeezeLeading(readValues(value, `what ${call} returned`), 2),
      );
      expectShape(got, [t, t], `what ${call} returned`, "one row per query, one column per key");
      const w = got.data;
      if (w.some((x) => Number.isNaN(x))) {
        return {
          problem: `${call} has NaN weights`,
          hint: "−Infinity × 0 is NaN: block with a large finite negative number (−1e9) added to the blocked scores only",
        };
      }
      const at = (i: number, j: number) => w[i * t + j];
      let future = { value: 0, i: 0, j: 0 };
      let past = 0;
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          if (j > i && Math.abs(at(i, j)) > future.value) future = { value: Math.abs(at(i, j)), i, j };
          if (j < i) past = Math.max(past, Math.abs(at(i, j)));
        }
      }
      if (future.value > 1e-6) {
        const problem = `query ${future.i} gives weight ${formatNumber(future.value)} to key ${future.j}, which comes after it`;
        if (past <= 1e-6) return { problem, hint: "the mask is transposed: query i may attend to the keys j ≤ i" };
        return problem;
      }
      for (let i = 0; i < t; i++) {
        const sum = w.slice(i * t, (i + 1) * t).reduce((a, b) => a + b, 0);
        if (Math.abs(sum - 1) > 1e-4) {
          return {
            problem: `row ${i} of the weights sums to ${formatNumber(sum)}, not 1`,
            hint: "mask the scores before the softmax: zeroing weights after it leaves rows that do not sum to 1",
          };
        }
      }
      const expected = attentionReference(q, k, t, dK, { causal: true, scale: Math.sqrt(dK) });
      if (allClose(w, expected, 1e-5, 1e-4)) continue;
      if (allClose(w, attentionReference(q, k, t, dK, { causal: true, scale: 1 }), 1e-5, 1e-4)) {
        return { problem: `${call} matches softmax(q·kᵀ) unscaled`, hint: `divide the scores by √d_k (here √${dK})` };
      }
      if (allClose(w, attentionReference(q, k, t, dK, { causal: true, scale: dK }), 1e-5, 1e-4)) {
        return { problem: `${call} divides the scores by d_k`, hint: "the scale is √d_k, not d_k" };
      }
      const worst = largestDifference(w, expected);
      return `${call} differs from the causal softmax(q·kᵀ/√d_k) by ${formatNumber(worst.value)} at query ${Math.floor(worst.index / t)}, key ${worst.index % t}`;
    }
    return null;
  },
});

function softmaxReference(scores: number[]): number[] {
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

const stableSoftmax = exercise<StableSoftmax>({
  title: "a softmax that does not overflow",
  hint: "e^s / Σ e^s' is unchanged when every score is shifted by the same amount: shift by the largest score first",
  validate(answer) {
    const softmax = expectFunction(answer, "(scores) => weights");
    const cases = [[1, 2, 3], [0, 0, 0, 0], [5], [3, -2, 0.5, 10, 1], [1000, 1001, 1002], [-1000, -1000.5, -999]];
    for (const scores of cases) {
      const call = `stableSoftmax([${scores.join(", ")}])`;
      const got = callAnswer(
        call,
        () => softmax(scores.slice()),
        (value) => readValues(value, `what ${call} returned`),
      );
      expectShape(got, [scores.length], `what ${call} returned`, "one weight per score");
      const extreme = Math.max(...scores.map(Math.abs)) >= 100;
      if (got.data.some((x) => !Number.isFinite(x))) {
        const problem = `${call} returned [${got.data.map(formatNumber).join(", ")}]`;
        return extreme
          ? {
              problem,
              hint: "e^1000 overflows to Infinity and e^−1000 underflows to 0: subtract the largest score before exp",
            }
          : problem;
      }
      const sum = got.data.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-6) {
        return {
          problem: `${call} sums to ${formatNumber(sum)}, not 1`,
          hint: "divide each exponential by the sum of all of them",
        };
      }
      const expected = softmaxReference(scores);
      if (!allClose(got.data, expected, 1e-6, 1e-5)) {
        const worst = largestDifference(got.data, expected);
        return `${call}: weight ${worst.index} is ${formatNumber(got.data[worst.index])}, which is not e^s / Σ e^s'`;
      }
    }
    return null;
  },
});

/** P[p, j] = sin(p / 10000^(2i/width)) for j = 2i, cos(p / 10000^(2i/width)) for j = 2i + 1. */
function sinusoidReference(p: number, j: number, width: number, variant = ""): number {
  const pairStart = j - (j % 2);
  const exponent = variant === "exponent j" ? j : variant === "exponent i" ? pairStart / 2 : pairStart;
  const angle =
    variant === "multiplied" ? p * Math.pow(10000, exponent / width) : p / Math.pow(10000, exponent / width);
  const even = j % 2 === 0;
  return (variant === "swapped" ? !even : even) ? Math.sin(angle) : Math.cos(angle);
}

const SINUSOID_MISTAKES: [string, string][] = [
  ["swapped", "even dimensions (j = 2i) take the sine, odd ones (j = 2i + 1) the cosine"],
  ["exponent j", "both dimensions of a pair share one frequency: for odd j the exponent uses 2i = j − 1"],
  ["exponent i", "the exponent is 2i/width, where 2i is the pair's even dimension"],
  ["multiplied", "the angle is p divided by 10000^(2i/width): the wavelength grows with the dimension"],
];

const sinusoidalEntry = exercise<SinusoidalEntry>({
  title: "one entry of the sinusoidal position table",
  hint: "P[p, 2i] = sin(p / 10000^(2i/width)) and P[p, 2i+1] = cos(p / 10000^(2i/width))",
  validate(answer) {
    const entry = expectFunction(answer, "(p, j, width) => P[p, j]");
    const cases: [number, number, number][] = [];
    for (const p of [0, 1, 3, 50]) for (let j = 0; j < 8; j++) cases.push([p, j, 8]);
    for (const p of [7, 63]) for (const j of [0, 1, 10, 11, 30, 31]) cases.push([p, j, 32]);
    const values = cases.map(([p, j, width]) => {
      const call = `sinusoidalEntry(${p}, ${j}, ${width})`;
      const got = callAnswer(
        call,
        () => entry(p, j, width),
        (value) => value,
      );
      if (typeof got !== "number") throw new AnswerError(`${call} should return a number, got ${describeValue(got)}`);
      return got;
    });
    const matches = (variant: string) =>
      cases.every(([p, j, width], c) => Math.abs(values[c] - sinusoidReference(p, j, width, variant)) <= 1e-6);
    if (matches("")) return null;
    const wrong = cases.findIndex(
      ([p, j, width], c) => !(Math.abs(values[c] - sinusoidReference(p, j, width)) <= 1e-6),
    );
    const [p, j, width] = cases[wrong];
    const problem = `sinusoidalEntry(${p}, ${j}, ${width}) returned ${formatNumber(values[wrong])}`;
    // Name a mistake only when it explains every case, not just this one.
    const mistake = SINUSOID_MISTAKES.find(([variant]) => matches(variant));
    return mistake === undefined ? problem : { problem, hint: mistake[1] };
  },
});

/** erf by its Maclaurin series, exact to ~1e-9 for |z| <= 4 (float64; the terms cancel beyond that). */
function erf(z: number): number {
  if (Math.abs(z) > 4) throw new Error(`erf: the series is used for |z| <= 4 only, got ${z}`);
  let term = z;
  let sum = z;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17; n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const GELU_INPUTS = [-4, -2.5, -1.5, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 1.5, 2.5, 4];

const GELU_MISTAKES: [string, (x: number) => number, string][] = [
  [
    "BERT's tanh approximation",
    (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    "it is within 5e-4 of GELU; this exercise asks for the exact x·Φ(x), with tf.erf",
  ],
  [
    "x·σ(1.702x)",
    (x) => x / (1 + Math.exp(-1.702 * x)),
    "that is the sigmoid approximation; use the exact x·Φ(x), with tf.erf",
  ],
  ["x·½(1 + erf(x))", (x) => 0.5 * x * (1 + erf(x)), "Φ(x) = ½·(1 + erf(x/√2)): erf takes x/√2"],
  ["Φ(x)", (x) => 0.5 * (1 + erf(x / Math.SQRT2)), "GELU(x) is x times Φ(x)"],
  ["ReLU", (x) => Math.max(0, x), "GELU is a smooth ReLU: x·Φ(x), not max(0, x)"],
];

const geluByHand = exercise<GeluByHand>({
  title: "GELU by hand",
  hint: "GELU(x) = x·Φ(x) with Φ(x) = ½·(1 + erf(x/√2)), from tf ops (tf.erf)",
  validate(answer) {
    const gelu = expectFunction(answer, "(x: tf.Tensor) => tf.Tensor");
    const call = `geluByHand(tf.tensor1d([${GELU_INPUTS.join(", ")}]))`;
    const got = callAnswer(
      call,
      () => gelu(tf.tensor1d(GELU_INPUTS)),
      (value) => readValues(value, `what ${call} returned`),
    );
    expectShape(
      got,
      [GELU_INPUTS.length],
      `what ${call} returned`,
      "GELU works elementwise: same shape in, same shape out",
    );
    const expected = GELU_INPUTS.map((x) => x * 0.5 * (1 + erf(x / Math.SQRT2)));
    if (allClose(got.data, expected, 2e-5, 1e-5)) return null;
    const worst = largestDifference(got.data, expected);
    const problem = `at x = ${GELU_INPUTS[worst.index]} it returned ${formatNumber(got.data[worst.index])}, GELU is ${formatNumber(expected[worst.index])}`;
    for (const [name, f, hint] of GELU_MISTAKES) {
      if (allClose(got.data, GELU_INPUTS.map(f), 2e-5, 1e-5)) return { problem: `${problem}: this is ${name}`, hint };
    }
    return problem;
  },
});

/** Row-major [b, h, t, d/h] of x [b, t, d]: head i takes the columns i·d/h … (i+1)·d/h − 1. */
function splitReference(x: number[], [b, t, d]: number[], h: number): number[] {
  const width = d / h;
  const out: number[] = [];
  for (let s = 0; s < b; s++)
    for (let head = 0; head < h; head++)
      for (let step = 0; step < t; step++)
        for (let c = 0; c < width; c++) out.push(x[(s * t + step) * d + head * width + c]);
  return out;
}

const splitHeadsByHand = exercise<SplitHeadsByHand>({
  title: "splitting into heads",
  hint: "cut the last axis into [h, d/h], then bring the head axis in front of the time axis",
  validate(answer) {
    const split = expectFunction(answer, "(x [B, T, h·d], numHeads) => [B, h, T, d]");
    const rng = new Rng(505);
    for (const [shape, h] of [
      [[2, 3, 6], 2],
      [[2, 5, 6], 3],
      [[1, 2, 8], 4],
    ] as [number[], number][]) {
      const [b, t, d] = shape;
      const x = normals(rng, b * t * d);
      const call = `splitHeadsByHand(x [${shape.join(", ")}], ${h})`;
      const got: Values = callAnswer(
        call,
        () => split(tf.tensor3d(x, [b, t, d]), h),
        (value) => readValues(value, `what ${call} returned`),
      );
      // (t ≠ h in every case, so that the two orders have different shapes.)
      if (got.shape.join() === [b, t, h, d / h].join()) {
        throw new AnswerError(
          `${call} has shape [${got.shape.join(", ")}], which is [B, T, h, d]`,
          "the head axis must come before the time axis: [B, h, T, d]",
        );
      }
      expectShape(got, [b, h, t, d / h], `what ${call} returned`);
      const expected = splitReference(x, shape, h);
      if (allClose(got.data, expected, 1e-6, 0)) continue;
      const problem: Problem = `${call} has the right shape but not the right values`;
      if (allClose(got.data, x, 1e-6, 0)) {
        return {
          problem,
          hint: "a reshape alone keeps the memory order, so a head would get whole time steps; cut the last axis into heads first, then move that axis",
        };
      }
      return problem;
    }
    return null;
  },
});

export const NB05_EXERCISES = {
  "05.1": causalWeights,
  "05.2": stableSoftmax,
  "05.3": sinusoidalEntry,
  "05.4": geluByHand,
  "05.5": splitHeadsByHand,
};
