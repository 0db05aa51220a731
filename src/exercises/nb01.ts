// Notebook 01's exercises: a TF-IDF weight and a BM25 weight by hand, the cosine of two sparse vectors, and
// tuning BM25's k1 and b on a grid. Each check calls the learner's function on inputs of its own and compares
// what it returns with a reference computed here in plain arithmetic; on a mismatch it tries the usual
// mistakes (the textbook idf, b where 1 − b belongs, a dot product without the lengths) to say which one.

import {
  AnswerError,
  callForNumber,
  describeValue,
  exercise,
  expectFunction,
  formatNumber,
  sameNumber,
} from "./exercise";

/** 01.1: the TF-IDF weight of a term with `count` occurrences in a document, in `df` of `numDocs` documents. */
export type TfidfWeight = (count: number, df: number, numDocs: number) => number;

/** BM25's two parameters. */
export interface Bm25Params {
  k1: number;
  b: number;
}

/** 01.2: the BM25 weight of a term (count, df of numDocs) in a document of `length` tokens, mean length `avgLength`. */
export type Bm25Weight = (
  count: number,
  df: number,
  numDocs: number,
  length: number,
  avgLength: number,
  params: Bm25Params,
) => number;

/** A sparse vector: the indices of its nonzero entries, in increasing order, and their values. */
export interface SparseTerms {
  indices: number[];
  values: number[];
}

/** 01.3: the cosine similarity of two sparse vectors (0 when either has length 0). */
export type SparseCosine = (a: SparseTerms, b: SparseTerms) => number;

/** 01.4: the (k1, b) of the grid with the highest validation score, and that score. */
export type TuneBm25 = (
  evaluate: (k1: number, b: number) => number,
  k1s: number[],
  bs: number[],
) => { k1: number; b: number; score: number };

type Variant<F> = [name: string, f: F, hint: string];

/** The first case on which `got` differs from `reference`, and a hint when one mistake explains every case. */
function compareCases<C extends unknown[]>(
  cases: C[],
  got: number[],
  reference: (...c: C) => number,
  variants: Variant<(...c: C) => number>[],
  show: (c: C) => string,
): { problem: string; hint: string } | string | null {
  const wrong = cases.findIndex((c, i) => !sameNumber(got[i], reference(...c)));
  if (wrong < 0) return null;
  const problem = `${show(cases[wrong])} returned ${formatNumber(got[wrong])}`;
  const mistake = variants.find(([, f]) => cases.every((c, i) => sameNumber(got[i], f(...c))));
  return mistake === undefined ? problem : { problem: `${problem}: this is ${mistake[0]}`, hint: mistake[2] };
}

const idfSmooth = (df: number, n: number) => Math.log((1 + n) / (1 + df)) + 1;

const TFIDF_CASES: [number, number, number][] = [
  [1, 1, 5],
  [2, 3, 5],
  [3, 1, 10],
  [1, 10, 10],
  [0, 4, 10],
  [5, 2, 1000],
];

const tfidfWeight = exercise<TfidfWeight>({
  title: "a TF-IDF weight by hand",
  hint: "w = count × idf, with the smoothed idf of the notebook (scikit-learn's): natural log of (1 + N)/(1 + df), plus 1",
  validate(answer) {
    const f = expectFunction(answer, "(count, df, numDocs) => weight");
    const got = TFIDF_CASES.map((c) => callForNumber(`tfidfWeight(${c.join(", ")})`, () => f(...c)));
    return compareCases(
      TFIDF_CASES,
      got,
      (c, df, n) => c * idfSmooth(df, n),
      [
        [
          "the textbook idf ln(N/df)",
          (c, df, n) => c * Math.log(n / df),
          "the notebook's vectors use the smoothed idf: add 1 to N and to df, and 1 to the log",
        ],
        [
          "the smoothed idf without its + 1",
          (c, df, n) => c * Math.log((1 + n) / (1 + df)),
          "the smoothed idf ends with + 1, so that a term in every document keeps some weight",
        ],
        [
          "a base-10 logarithm",
          (c, df, n) => c * (Math.log10((1 + n) / (1 + df)) + 1),
          "the idf uses the natural logarithm (Math.log)",
        ],
        [
          "the idf alone",
          (_c, df, n) => idfSmooth(df, n),
          "the weight multiplies the idf by the term's count in the document",
        ],
      ],
      (c) => `tfidfWeight(${c.join(", ")})`,
    );
  },
});

const bm25Idf = (df: number, n: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
function bm25Reference(c: number, df: number, n: number, length: number, avg: number, p: Bm25Params): number {
  const norm = 1 - p.b + (p.b * length) / avg;
  return (bm25Idf(df, n) * c * (p.k1 + 1)) / (c + p.k1 * norm);
}

type Bm25Case = [number, number, number, number, number, Bm25Params];
const BM25_CASES: Bm25Case[] = [
  [1, 3, 6, 6, 4.5, { k1: 1.2, b: 0.75 }],
  [3, 3, 6, 4, 4.5, { k1: 1.2, b: 0.75 }],
  [1, 1, 10, 12, 6, { k1: 2, b: 0.5 }],
  [2, 8, 10, 3, 6, { k1: 0.5, b: 0.9 }],
  [4, 2, 20, 10, 10, { k1: 1.5, b: 0 }],
  [1, 5, 20, 20, 8, { k1: 1.2, b: 1 }],
  [0, 2, 20, 7, 8, { k1: 1.2, b: 0.75 }],
];

const bm25Weight = exercise<Bm25Weight>({
  title: "a BM25 weight by hand",
  hint: "w = idf · c·(k1 + 1) / (c + k1·L), with L = 1 − b + b·|d|/avgdl and Lucene's idf ln(1 + (N − df + 0.5)/(df + 0.5))",
  validate(answer) {
    const f = expectFunction(answer, "(count, df, numDocs, length, avgLength, { k1, b }) => weight");
    const show = ([c, df, n, length, avg, p]: Bm25Case) =>
      `bm25Weight(${c}, ${df}, ${n}, ${length}, ${avg}, { k1: ${p.k1}, b: ${p.b} })`;
    const got = BM25_CASES.map((c) => callForNumber(show(c), () => f(c[0], c[1], c[2], c[3], c[4], { ...c[5] })));
    const withNorm =
      (
        idf: (df: number, n: number) => number,
        norm: (length: number, avg: number, p: Bm25Params) => number,
        plusOne = true,
      ) =>
      (c: number, df: number, n: number, length: number, avg: number, p: Bm25Params) =>
        (idf(df, n) * c * (plusOne ? p.k1 + 1 : 1)) / (c + p.k1 * norm(length, avg, p));
    const lengthNorm = (length: number, avg: number, p: Bm25Params) => 1 - p.b + (p.b * length) / avg;
    return compareCases(
      BM25_CASES,
      got,
      bm25Reference,
      [
        [
          "the classic idf ln((N − df + 0.5)/(df + 0.5))",
          withNorm((df, n) => Math.log((n - df + 0.5) / (df + 0.5)), lengthNorm),
          "that idf goes negative for terms in more than half the documents; Lucene's adds 1 inside the log",
        ],
        [
          "b and 1 − b swapped",
          withNorm(bm25Idf, (length, avg, p) => p.b + ((1 - p.b) * length) / avg),
          "b weighs the length ratio |d|/avgdl: L = 1 − b + b·|d|/avgdl, so b = 0 ignores length",
        ],
        [
          "the length ratio inverted",
          withNorm(bm25Idf, (length, avg, p) => 1 - p.b + (p.b * avg) / length),
          "a long document has a larger L (more tokens, each worth less): the ratio is |d|/avgdl",
        ],
        [
          "no (k1 + 1) in the numerator",
          withNorm(bm25Idf, lengthNorm, false),
          "the numerator is c·(k1 + 1), so that a single occurrence in an average document weighs idf",
        ],
        [
          "no length normalisation",
          withNorm(bm25Idf, () => 1),
          "k1 in the denominator is multiplied by L = 1 − b + b·|d|/avgdl",
        ],
      ],
      show,
    );
  },
});

function cosineReference(a: SparseTerms, b: SparseTerms): number {
  const dense = new Map<number, number>();
  a.indices.forEach((i, k) => dense.set(i, a.values[k]));
  let dot = 0;
  b.indices.forEach((i, k) => (dot += (dense.get(i) ?? 0) * b.values[k]));
  const length = (v: SparseTerms) => Math.sqrt(v.values.reduce((s, x) => s + x * x, 0));
  const lengths = length(a) * length(b);
  return lengths === 0 ? 0 : dot / lengths;
}

function sharedOnlyCosine(a: SparseTerms, b: SparseTerms): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.indices.forEach((i, k) => {
    const j = b.indices.indexOf(i);
    if (j >= 0) {
      dot += a.values[k] * b.values[j];
      na += a.values[k] ** 2;
      nb += b.values[j] ** 2;
    }
  });
  return na * nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const v = (indices: number[], values: number[]): SparseTerms => ({ indices, values });
const COSINE_CASES: [SparseTerms, SparseTerms][] = [
  [v([0, 2, 5], [1, 2, 2]), v([2, 3, 5], [1, 4, 1])],
  [v([1, 4], [0.5, 0.5]), v([1, 4], [2, 2])],
  [v([0, 1], [3, 4]), v([2, 7], [1, 1])],
  [v([3], [2]), v([0, 3, 9], [1, 1, 1])],
  [v([0, 2, 4, 6], [1, -1, 2, 0.5]), v([1, 2, 3, 4], [2, 1, 1, -3])],
  [v([10, 20, 30], [0.2, 0.3, 0.9]), v([5, 10, 30, 40], [1, 0.4, 0.1, 2])],
];
const EMPTY_CASE: [SparseTerms, SparseTerms] = [v([], []), v([1, 2], [1, 1])];

const showVector = (x: SparseTerms) => `{ indices: [${x.indices.join(", ")}], values: [${x.values.join(", ")}] }`;

const sparseCosine = exercise<SparseCosine>({
  title: "the cosine of two sparse vectors",
  hint: "walk the two index lists together, multiplying where an index is in both; divide by the two vectors' lengths, each over all its own entries",
  validate(answer) {
    const f = expectFunction(answer, "(a, b) => cosine");
    const copy = (x: SparseTerms) => v(x.indices.slice(), x.values.slice());
    const show = ([a, b]: [SparseTerms, SparseTerms]) => `sparseCosine(${showVector(a)}, ${showVector(b)})`;
    const got = COSINE_CASES.map((c) => callForNumber(show(c), () => f(copy(c[0]), copy(c[1]))));
    const dot = (a: SparseTerms, b: SparseTerms) =>
      a.indices.reduce((s, i, k) => s + a.values[k] * (b.values[b.indices.indexOf(i)] ?? 0), 0);
    const result = compareCases(
      COSINE_CASES,
      got,
      cosineReference,
      [
        [
          "the dot product, not divided by the lengths",
          dot,
          "the cosine is the dot product divided by the product of the two vectors' lengths",
        ],
        [
          "lengths over the shared indices only",
          sharedOnlyCosine,
          "each vector's length counts all of its entries, also those the other vector lacks",
        ],
        [
          "a positional product (values paired by place, not by index)",
          (a, b) => {
            let s = 0;
            for (let k = 0; k < Math.min(a.values.length, b.values.length); k++) s += a.values[k] * b.values[k];
            const length = (x: SparseTerms) => Math.sqrt(x.values.reduce((t, y) => t + y * y, 0));
            return s / (length(a) * length(b));
          },
          "values[k] belongs to indices[k]: multiply the values of equal indices, not of equal positions",
        ],
      ],
      show,
    );
    if (result !== null) return result;
    const empty = callForNumber(show(EMPTY_CASE), () => f(copy(EMPTY_CASE[0]), copy(EMPTY_CASE[1])));
    if (empty !== 0) {
      return {
        problem: `${show(EMPTY_CASE)} returned ${formatNumber(empty)}`,
        hint: "a vector with no entries has length 0: 0/0 is NaN, so return 0 when either length is 0",
      };
    }
    return null;
  },
});

/** A validation score with one peak at (k1, b), and a second hill, so that the best pair is unique. */
function landscape(k1Best: number, bBest: number): (k1: number, b: number) => number {
  return (k1, b) =>
    0.3 * Math.exp(-((k1 - k1Best) ** 2) - 4 * (b - bBest) ** 2) + 0.1 * Math.exp(-((k1 - 3) ** 2) - (b - 0.1) ** 2);
}

const TUNE_CASES: { k1s: number[]; bs: number[]; best: [number, number] }[] = [
  { k1s: [0.5, 0.9, 1.2, 1.6, 2], bs: [0.25, 0.5, 0.75, 1], best: [1.2, 0.75] },
  { k1s: [0.6, 1, 1.4], bs: [0, 0.3, 0.6, 0.9], best: [0.6, 0.3] },
  { k1s: [2, 1], bs: [0.9, 0.2], best: [1, 0.2] },
];

const tuneBm25 = exercise<TuneBm25>({
  title: "tuning BM25's k1 and b on a grid",
  hint: "evaluate every (k1, b) of the grid, both loops nested, and keep the pair with the highest score",
  validate(answer) {
    const f = expectFunction(answer, "(evaluate, k1s, bs) => { k1, b, score }");
    for (const { k1s, bs, best } of TUNE_CASES) {
      const score = landscape(best[0], best[1]);
      const seen = new Set<string>();
      const evaluate = (k1: number, b: number) => {
        if (typeof k1 !== "number" || typeof b !== "number") {
          throw new AnswerError(
            `evaluate was called with ${describeValue(k1)} and ${describeValue(b)}`,
            "call evaluate(k1, b) with one value of each grid",
          );
        }
        seen.add(`${k1},${b}`);
        return score(k1, b);
      };
      const call = `tuneBm25(evaluate, [${k1s.join(", ")}], [${bs.join(", ")}])`;
      let got: unknown;
      try {
        got = f(evaluate, k1s.slice(), bs.slice());
      } catch (error) {
        if (error instanceof AnswerError) throw error;
        throw new AnswerError(`${call} threw: ${error instanceof Error ? error.message : String(error)}`);
      }
      const result = got as { k1?: unknown; b?: unknown; score?: unknown } | null;
      if (
        result === null ||
        typeof result !== "object" ||
        typeof result.k1 !== "number" ||
        typeof result.b !== "number"
      ) {
        throw new AnswerError(`${call} should return { k1, b, score }, got ${describeValue(got)}`);
      }
      const missing = k1s.length * bs.length - seen.size;
      if (result.k1 !== best[0] || result.b !== best[1]) {
        const problem = `${call} chose k1 = ${result.k1}, b = ${result.b}, whose score is ${formatNumber(score(result.k1, result.b))}`;
        const worst = Math.min(...k1s.flatMap((k1) => bs.map((b) => score(k1, b))));
        if (sameNumber(score(result.k1, result.b), worst))
          return { problem, hint: "a higher validation score is better: keep the maximum, not the minimum" };
        if (missing > 0)
          return {
            problem: `${problem}; ${missing} of the ${k1s.length * bs.length} pairs were never evaluated`,
            hint: "nest the two loops: every k1 with every b",
          };
        return problem;
      }
      if (typeof result.score !== "number" || !sameNumber(result.score, score(best[0], best[1]))) {
        return {
          problem: `${call} returned score ${describeValue(result.score)}`,
          hint: "return the validation score of the chosen pair with it",
        };
      }
    }
    return null;
  },
});

export const NB01_EXERCISES = {
  "01.1": tfidfWeight,
  "01.2": bm25Weight,
  "01.3": sparseCosine,
  "01.4": tuneBm25,
};
