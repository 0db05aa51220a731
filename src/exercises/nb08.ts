// Notebook 08's exercises: clipping a gradient to norm C, the ε of T Gaussian steps through Rényi differential
// privacy, the AUC of the loss-threshold membership attack, int8 per-row quantisation of one row, and the recall
// of an approximate top-k list against the exact one. Each check calls the learner's function on inputs of its
// own and compares what it returns with a reference computed here in plain loops, or with the properties the
// answer must have (int8 codes: integers in [−127, 127], the full range used, every entry within half a step).

import {
  AnswerError,
  callAnswer,
  callForNumber,
  describeValue,
  exercise,
  expectFunction,
  formatNumber,
  readValues,
  sameNumber,
} from "./exercise";

/** 08.1: the gradient scaled to L2 norm at most `clipNorm` (unchanged when its norm is already at most that). */
export type ClipToNorm = (gradient: number[], clipNorm: number) => ArrayLike<number>;

/** 08.2: ε(δ) of `steps` Gaussian steps of noise multiplier σ (no sampling): min over the orders α of the RDP bound. */
export type GaussianEpsilon = (sigma: number, steps: number, delta: number, orders: number[]) => number;

/** 08.3: the AUC of the loss-threshold attack: P(a member's loss < a non-member's), ties counting ½. */
export type LossThresholdAuc = (memberLosses: number[], nonMemberLosses: number[]) => number;

/** 08.4: symmetric int8 quantisation of one row: x ≈ scale · code, codes integers in [−127, 127]. */
export type QuantizeRow = (row: number[]) => { scale: number; codes: ArrayLike<number> };

/** 08.5: the share of the exact top-k that the approximate top-k found (both lists cut at k). */
export type RecallAtK = (approximate: number[], exact: number[], k: number) => number;

// ---- 08.1 -------------------------------------------------------------------------------------------

const norm = (g: number[]) => Math.sqrt(g.reduce((s, x) => s + x * x, 0));
const CLIP_CASES: [number[], number][] = [
  [[3, 4], 1],
  [[0.3, -0.4], 1],
  [[1, -2, 2, 4], 2.5],
  [[-6, 8, 0], 5],
  [[0, 0, 0], 1],
  [[0.5, 0.5, 0.5, 0.5], 1],
];

const clipToNorm = exercise<ClipToNorm>({
  title: "clipping a gradient to norm C",
  hint: "multiply the whole gradient by min(1, C/‖g‖), where ‖g‖ is its L2 norm",
  validate(answer) {
    const f = expectFunction(answer, "(gradient, clipNorm) => clipped gradient");
    for (const [g, c] of CLIP_CASES) {
      const call = `clipToNorm([${g.join(", ")}], ${c})`;
      const got = callAnswer(
        call,
        () => f(g.slice(), c),
        (value) => readValues(value, `what ${call} returned`),
      );
      if (got.shape.join() !== [g.length].join()) {
        throw new AnswerError(
          `${call} returned shape [${got.shape.join(", ")}]`,
          "return the clipped gradient, one entry per entry",
        );
      }
      const n = norm(g);
      const scale = n > c ? c / n : 1;
      const expected = g.map((x) => x * scale);
      if (expected.every((x, i) => Math.abs(got.data[i] - x) <= 1e-9)) continue;
      const problem = `${call} returned [${got.data.map(formatNumber).join(", ")}], of norm ${formatNumber(norm(got.data))}`;
      if (got.data.some((x) => Number.isNaN(x))) {
        return { problem, hint: "a zero gradient has norm 0: leave it as it is instead of dividing by its norm" };
      }
      if (got.data.every((x, i) => Math.abs(x - Math.max(-c, Math.min(c, g[i]))) <= 1e-9)) {
        return { problem, hint: "clip the norm of the whole vector, not each entry: the direction must not change" };
      }
      if (n > 0 && got.data.every((x, i) => Math.abs(x - (g[i] * c) / n) <= 1e-9)) {
        return {
          problem,
          hint: "a gradient already within the norm is left unchanged: min(1, C/‖g‖), never scaled up",
        };
      }
      return problem;
    }
    return null;
  },
});

// ---- 08.2 -------------------------------------------------------------------------------------------

function epsilonReference(sigma: number, steps: number, delta: number, orders: number[], variant = ""): number {
  const values = orders.map((a) => {
    const rdp = variant === "sigma" ? a / (2 * sigma) : a / (2 * sigma * sigma);
    const composed = variant === "one step" ? rdp : steps * rdp;
    return composed + (variant === "no delta" ? 0 : Math.log(1 / delta) / (a - 1));
  });
  return variant === "max" ? Math.max(...values) : Math.min(...values);
}

const EPSILON_CASES: [number, number, number, number[]][] = [
  [1, 1, 1e-5, [2, 4, 8, 16, 32]],
  [2, 10, 1e-5, [1.5, 2, 3, 5, 8, 16, 32, 64]],
  [4, 100, 1e-6, [2, 4, 8, 16, 32, 64, 128]],
  [0.8, 3, 1e-3, [1.25, 2, 4, 10]],
];

const EPSILON_MISTAKES: [string, string][] = [
  ["one step", "T steps compose by adding their RDP: T·α/(2σ²) at each order"],
  ["sigma", "one Gaussian step of noise multiplier σ has RDP α/(2σ²): σ squared"],
  ["no delta", "converting RDP at order α to (ε, δ) adds log(1/δ)/(α − 1)"],
  ["max", "every order gives a valid ε: keep the smallest"],
];

const gaussianEpsilon = exercise<GaussianEpsilon>({
  title: "ε of T Gaussian steps through Rényi DP",
  hint: "at each order α: T·α/(2σ²) + log(1/δ)/(α − 1); then the minimum over the orders",
  validate(answer) {
    const f = expectFunction(answer, "(sigma, steps, delta, orders) => epsilon");
    const show = ([s, t, d, o]: [number, number, number, number[]]) =>
      `gaussianEpsilon(${s}, ${t}, ${d}, [${o.join(", ")}])`;
    const got = EPSILON_CASES.map((c) => callForNumber(show(c), () => f(c[0], c[1], c[2], c[3].slice())));
    const wrong = EPSILON_CASES.findIndex((c, i) => !sameNumber(got[i], epsilonReference(...c), 1e-9));
    if (wrong < 0) return null;
    const problem = `${show(EPSILON_CASES[wrong])} returned ${formatNumber(got[wrong])}`;
    const mistake = EPSILON_MISTAKES.find(([variant]) =>
      EPSILON_CASES.every((c, i) => sameNumber(got[i], epsilonReference(...c, variant), 1e-9)),
    );
    return mistake === undefined ? problem : { problem, hint: mistake[1] };
  },
});

// ---- 08.3 -------------------------------------------------------------------------------------------

function aucReference(members: number[], nonMembers: number[], tie = 0.5): number {
  let sum = 0;
  for (const m of members) for (const n of nonMembers) sum += m < n ? 1 : m === n ? tie : 0;
  return sum / (members.length * nonMembers.length);
}

const AUC_CASES: [number[], number[]][] = [
  [
    [0.1, 0.4, 0.35, 0.8],
    [0.9, 0.3, 1.2],
  ],
  [
    [0.2, 0.2, 0.5],
    [0.2, 0.6, 0.1, 0.5],
  ],
  [
    [1, 2, 3],
    [1, 2, 3],
  ],
  [
    [0.05, 0.1],
    [0.5, 0.7, 0.9, 0.2, 0.3],
  ],
  [
    [2.5, 0.3, 0.3, 1.1, 0.9, 0.05],
    [0.3, 1.5, 0.05, 2.0],
  ],
];

const lossThresholdAuc = exercise<LossThresholdAuc>({
  title: "the AUC of the loss-threshold attack",
  hint: "over every (member, non-member) pair: 1 when the member's loss is lower, ½ when equal, 0 otherwise; then the mean",
  validate(answer) {
    const f = expectFunction(answer, "(memberLosses, nonMemberLosses) => auc");
    for (const [members, nonMembers] of AUC_CASES) {
      const call = `lossThresholdAuc([${members.join(", ")}], [${nonMembers.join(", ")}])`;
      const got = callForNumber(call, () => f(members.slice(), nonMembers.slice()));
      const expected = aucReference(members, nonMembers);
      if (sameNumber(got, expected)) continue;
      const problem = `${call} returned ${formatNumber(got)}`;
      if (sameNumber(got, 1 - expected)) {
        return {
          problem,
          hint: "members were trained on, so their losses are lower: count a pair when the member's loss is below the non-member's",
        };
      }
      if (
        sameNumber(got, aucReference(members, nonMembers, 0)) ||
        sameNumber(got, aucReference(members, nonMembers, 1))
      ) {
        return { problem, hint: "a tie between a member's and a non-member's loss counts ½" };
      }
      return problem;
    }
    return null;
  },
});

// ---- 08.4 -------------------------------------------------------------------------------------------

const QUANT_ROWS: number[][] = [
  [0.5, -1.27, 0.013, 0.9, -0.2],
  [3, 2, -1, 0.25],
  [-0.004, 0.002, 0.001, -0.0005, 0.0031, 0],
  [0, 0, 0],
  [10.16, -3.3, 7.77, 0.04, -10.2, 5.5, 2.2, 0.6],
];

const quantizeRow = exercise<QuantizeRow>({
  title: "int8 per-row quantisation of a row",
  hint: "scale = max |x| / 127 (the row's largest entry maps to ±127), code = round(x / scale); a row of zeros has scale 0 and codes 0",
  validate(answer) {
    const f = expectFunction(answer, "(row) => { scale, codes }");
    for (const row of QUANT_ROWS) {
      const call = `quantizeRow([${row.join(", ")}])`;
      const got = callAnswer(
        call,
        () => f(row.slice()),
        (value) => {
          const v = value as { scale?: unknown; codes?: unknown } | null;
          if (v === null || typeof v !== "object" || typeof v.scale !== "number") {
            throw new AnswerError(`${call} should return { scale, codes }, got ${describeValue(value)}`);
          }
          return { scale: v.scale, codes: readValues(v.codes, `the codes of ${call}`) };
        },
      );
      const { scale, codes } = got;
      if (codes.shape.join() !== [row.length].join()) {
        throw new AnswerError(
          `the codes of ${call} have shape [${codes.shape.join(", ")}]`,
          "one code per entry of the row",
        );
      }
      const problem = `${call} returned scale ${formatNumber(scale)}, codes [${codes.data.join(", ")}]`;
      if (!Number.isFinite(scale) || codes.data.some((q) => !Number.isFinite(q))) {
        return {
          problem,
          hint: "a row of zeros has max |x| = 0: give it scale 0 and codes 0 instead of dividing by 0",
        };
      }
      if (codes.data.some((q) => !Number.isInteger(q))) return { problem, hint: "round each x / scale to an integer" };
      if (codes.data.some((q) => q < -127 || q > 127)) {
        return { problem, hint: "int8 codes are symmetric, in [−127, 127]: divide by max |x| / 127, keeping the sign" };
      }
      const top = Math.max(...row.map(Math.abs));
      if (top === 0) continue;
      if (!sameNumber(scale, top / 127, 1e-6)) {
        return { problem, hint: "the scale is the row's max |x| / 127, so that the whole int8 range is used" };
      }
      const worst = Math.max(...row.map((x, i) => Math.abs(x - scale * codes.data[i])));
      if (worst > scale / 2 + 1e-12 * top) {
        return {
          problem: `${problem}: scale × code misses an entry by ${formatNumber(worst)}, more than half a step`,
          hint: "round to the nearest integer (Math.round), not down or towards zero",
        };
      }
    }
    return null;
  },
});

// ---- 08.5 -------------------------------------------------------------------------------------------

const RECALL_CASES: [number[], number[], number][] = [
  [[4, 9, 2, 7, 1], [4, 2, 9, 5, 1], 5],
  [[3, 1, 8, 6, 2, 5], [1, 2, 3, 4, 5, 6], 3],
  [[10, 11, 12], [12, 11, 10], 3],
  [[5, 6, 7, 8], [1, 2, 3, 4], 2],
  [[2, 1, 9, 8, 7, 6], [1, 2, 3, 9, 4, 5], 4],
];

function recallReference(approximate: number[], exact: number[], k: number): number {
  const found = new Set(approximate.slice(0, k));
  const truth = exact.slice(0, k);
  return truth.filter((x) => found.has(x)).length / truth.length;
}

const recallAtK = exercise<RecallAtK>({
  title: "recall@k of an approximate list against the exact one",
  hint: "cut both lists at k; count the exact list's items that the approximate one also holds, in any order; divide by k",
  validate(answer) {
    const f = expectFunction(answer, "(approximate, exact, k) => recall");
    for (const [approximate, exact, k] of RECALL_CASES) {
      const call = `recallAtK([${approximate.join(", ")}], [${exact.join(", ")}], ${k})`;
      const got = callForNumber(call, () => f(approximate.slice(), exact.slice(), k));
      const expected = recallReference(approximate, exact, k);
      if (sameNumber(got, expected)) continue;
      const problem = `${call} returned ${formatNumber(got)}`;
      let samePlace = 0;
      for (let i = 0; i < k; i++) if (approximate[i] === exact[i]) samePlace++;
      if (sameNumber(got, samePlace / k))
        return { problem, hint: "order does not matter: an item counts when it is anywhere in both top-k lists" };
      if (
        sameNumber(got, recallReference(approximate, exact, exact.length)) ||
        sameNumber(got, exact.slice(0, k).filter((x) => approximate.includes(x)).length / k)
      ) {
        return { problem, hint: "cut both lists at k before comparing them" };
      }
      return problem;
    }
    return null;
  },
});

export const NB08_EXERCISES = {
  "08.1": clipToNorm,
  "08.2": gaussianEpsilon,
  "08.3": lossThresholdAuc,
  "08.4": quantizeRow,
  "08.5": recallAtK,
};
