// Notebook 00's exercises: a seeded sample, the density of a block of the rating matrix, and the Gini
// coefficient from its pairwise definition. Each check runs the learner's function on small inputs of its
// own and compares with a reference computed here.

import { IdIndex, Interactions } from "../data/interactions";
import {
  AnswerError,
  Problem,
  callAnswer,
  describeValue,
  exercise,
  expectFunction,
  formatNumber,
  readValues,
} from "./exercise";

/** 00.1: k distinct indices in [0, n), the same ones whenever the seed is the same. */
export type SeededSample = (seed: number, n: number, k: number) => ArrayLike<number>;

/** 00.2: the observed share of the block users × items of the rating matrix. */
export type SubMatrixDensity = (data: Interactions, users: number[], items: number[]) => number;

/** 00.3: the Gini coefficient as the mean absolute difference, Σ_i Σ_j |c_i − c_j| / (2n²·mean). */
export type GiniPairwise = (counts: number[]) => number;

function readSample(sample: SeededSample, seed: number, n: number, k: number): number[] {
  const call = `seededSample(${seed}, ${n}, ${k})`;
  const values = callAnswer(
    call,
    () => sample(seed, n, k),
    (value) => readValues(value, `what ${call} returned`),
  );
  if (values.shape.length !== 1) {
    throw new AnswerError(`${call} should return a list of ${k} indices, got shape [${values.shape.join(", ")}]`);
  }
  return values.data;
}

const seededSample = exercise<SeededSample>({
  title: "a seeded sample of distinct items",
  hint: "make a new Rng(seed) inside the function and draw without replacement from 0..n−1",
  validate(answer) {
    const sample = expectFunction(answer, "(seed, n, k) => indices");
    for (const [seed, n, k] of [
      [1, 10, 3],
      [7, 1682, 20],
      [3, 5, 5],
    ]) {
      const call = `seededSample(${seed}, ${n}, ${k})`;
      const first = readSample(sample, seed, n, k);
      if (first.length !== k) return `${call} returned ${first.length} indices, expected ${k}`;
      const outside = first.find((i) => !(Number.isInteger(i) && i >= 0 && i < n));
      if (outside !== undefined) {
        return {
          problem: `${call} returned ${outside}, which is not an index in [0, ${n})`,
          hint: "indices run from 0 to n − 1",
        };
      }
      const repeated = first.find((i, at) => first.indexOf(i) !== at);
      if (repeated !== undefined) {
        return {
          problem: `${call} returned index ${repeated} twice: the ${k} items must be distinct`,
          hint: "draw without replacement: shuffle 0..n−1 with the Rng and keep the first k",
        };
      }
      const again = readSample(sample, seed, n, k);
      if (again.join() !== first.join()) {
        return {
          problem: `two calls of ${call} gave different samples ([${first.slice(0, 5)}…] and [${again.slice(0, 5)}…])`,
          hint: "create the Rng from the seed inside the function: Math.random, or one generator shared by all calls, draws anew each time",
        };
      }
    }
    const samples = new Set([1, 2, 3, 4, 5, 6].map((seed) => readSample(sample, seed, 1682, 20).join()));
    if (samples.size === 1) {
      return {
        problem: "seeds 1 to 6 all gave the same sample",
        hint: "the seed must decide the draws: new Rng(seed)",
      };
    }
    return null;
  },
});

/** A 4 × 5 toy log: 11 of the 20 (user, item) cells observed. */
function toyLog(): Interactions {
  const pairs = [
    [0, 0],
    [0, 1],
    [0, 3],
    [1, 1],
    [1, 2],
    [2, 0],
    [2, 4],
    [3, 1],
    [3, 2],
    [3, 3],
    [3, 4],
  ];
  return new Interactions({
    users: Int32Array.from(pairs, ([u]) => u),
    items: Int32Array.from(pairs, ([, i]) => i),
    ratings: Float32Array.from(pairs, () => 4),
    timestamps: Float64Array.from(pairs, (_, k) => k),
    userIndex: IdIndex.from(["u0", "u1", "u2", "u3"]),
    itemIndex: IdIndex.from(["i0", "i1", "i2", "i3", "i4"]),
    name: "toy",
  });
}

/** Observed cells of the block, counted as distinct (user, item) pairs. */
function observedCells(data: Interactions, users: number[], items: number[], either = false): number {
  const inUsers = new Set(users);
  const inItems = new Set(items);
  const cells = new Set<string>();
  for (let k = 0; k < data.length; k++) {
    const u = inUsers.has(data.users[k]);
    const i = inItems.has(data.items[k]);
    if (either ? u || i : u && i) cells.add(`${data.users[k]},${data.items[k]}`);
  }
  return cells.size;
}

const subMatrixDensity = exercise<SubMatrixDensity>({
  title: "the density of a block of the rating matrix",
  hint: "count the ratings whose user is in `users` and whose item is in `items`, and divide by the number of cells of the block",
  validate(answer) {
    const density = expectFunction(answer, "(data, users, items) => density");
    const data = toyLog();
    const cases: [number[], number[]][] = [
      [
        [0, 1],
        [0, 1, 2],
      ],
      [[3], [1, 2, 3, 4]],
      [[1, 2], [3]],
      [
        [0, 1, 2, 3],
        [0, 1, 2, 3, 4],
      ],
    ];
    for (const [users, items] of cases) {
      const call = `subMatrixDensity(toy, [${users.join(", ")}], [${items.join(", ")}])`;
      const got = callAnswer(
        call,
        () => density(data, users, items),
        (value) => value,
      );
      if (typeof got !== "number") return `${call} should return a number, got ${describeValue(got)}`;
      const observed = observedCells(data, users, items);
      const expected = observed / (users.length * items.length);
      if (Math.abs(got - expected) <= 1e-12) continue;
      const problem = `on a toy log of 4 users × 5 items, ${call} returned ${formatNumber(got)}`;
      const near = (x: number) => Math.abs(got - x) <= 1e-12;
      if (near(observed)) return { problem, hint: "that is a count of ratings: divide by the block's size" };
      if (near(observed / (data.numUsers * data.numItems))) {
        return { problem, hint: "divide by the block's cells, |users| × |items|, not by the whole matrix" };
      }
      if (near(observedCells(data, users, items, true) / (users.length * items.length))) {
        return { problem, hint: "a rating lies in the block only when both its user and its item are in it" };
      }
      return problem;
    }
    return null;
  },
});

/** The Gini coefficient by the sorted formula G = Σ_i (2i − n − 1)·c_(i) / (n·Σc); 0 for no counts. */
function giniReference(counts: number[]): number {
  const sorted = counts.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const total = sorted.reduce((s, c) => s + c, 0);
  if (total === 0) return 0;
  return sorted.reduce((s, c, i) => s + (2 * (i + 1) - n - 1) * c, 0) / (n * total);
}

const giniPairwise = exercise<GiniPairwise>({
  title: "the Gini coefficient from pairwise differences",
  hint: "G = Σ_i Σ_j |c_i − c_j| / (2·n²·mean(c)), over all ordered pairs (i, j), and 0 when every count is 0",
  validate(answer) {
    const gini = expectFunction(answer, "(counts) => Gini coefficient");
    const cases = [
      [1, 1, 1, 1],
      [0, 0, 0, 10],
      [0, 10, 10, 30, 50],
      [3, 1, 2],
      [5, 0, 0, 7, 1, 40, 2, 2],
      [0, 0],
    ];
    for (const counts of cases) {
      const call = `giniPairwise([${counts.join(", ")}])`;
      const got = callAnswer(
        call,
        () => gini(counts.slice()),
        (value) => value,
      );
      if (typeof got !== "number") return `${call} should return a number, got ${describeValue(got)}`;
      const expected = giniReference(counts);
      if (Math.abs(got - expected) <= 1e-9) continue;
      const problem: Problem = `${call} returned ${formatNumber(got)}`;
      const n = counts.length;
      const near = (x: number) => Math.abs(got - x) <= 1e-9;
      if (expected === 0 && Number.isNaN(got)) {
        return { problem, hint: "with every count 0 the mean is 0: return 0 (no inequality) before dividing" };
      }
      if (near(2 * expected)) return { problem, hint: "each pair appears twice in Σ_i Σ_j: the denominator has a 2" };
      if (near((expected * n) / (n - 1)))
        return { problem, hint: "the denominator is 2·n²·mean, not 2·n·(n − 1)·mean" };
      if (got < 0 || near(0)) return { problem, hint: "sum the absolute differences |c_i − c_j|" };
      return problem;
    }
    return null;
  },
});

export const NB00_EXERCISES = {
  "00.1": seededSample,
  "00.2": subMatrixDensity,
  "00.3": giniPairwise,
};
