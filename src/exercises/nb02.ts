// Notebook 02's exercises: the pearson_baseline similarity of two items, one SGD step of biased matrix
// factorisation, SVD++'s prediction rule, and one WALS half-step for a user. Each check calls the learner's
// function on inputs of its own (drawn from a seeded Rng, of other sizes than the toy matrix's) and compares
// the result with a reference computed here in float64; on a mismatch it tries the usual mistakes and names
// the one that explains every case, with a hint.

import { Rng } from "../backend/random";
import { choleskySolve } from "../data/linalg";
import {
  AnswerError,
  allClose,
  callAnswer,
  callForNumber,
  exercise,
  expectFunction,
  formatNumber,
  readValues,
  sameNumber,
  normalDraws,
  mistakeExplaining,
  readRecord,
  readNumberField,
  readListField,
} from "./exercise";

/**
 * 02.1: the pearson_baseline similarity of items a and b over the users who rated both: their ratings
 * r_ua, r_ub and baselines b_ua = μ + b_u + b_a, b_ub, and the shrinkage λ.
 */
export type PearsonBaseline = (
  ratingsA: number[],
  ratingsB: number[],
  baselinesA: number[],
  baselinesB: number[],
  shrinkage: number,
) => number;

/** 02.2: the parameters of one rating's term in biased MF. */
export interface MfTerm {
  bu: number;
  bi: number;
  pu: number[];
  qi: number[];
}

/** 02.2: the parameters after one SGD step on rating r (Surprise's update, every parameter from the old values). */
export type MfSgdStep = (rating: number, globalMean: number, params: MfTerm, gamma: number, lambda: number) => MfTerm;

/** 02.3: SVD++'s r̂_ui = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^(−1/2) Σ_{j∈N(u)} y_j), `implicit` holding the y_j. */
export type SvdppPredict = (
  globalMean: number,
  bu: number,
  bi: number,
  pu: number[],
  qi: number[],
  implicit: number[][],
) => number;

/**
 * 02.4: WALS's p_u = (QᵀCᵘQ + λI)⁻¹ QᵀCᵘ x_u for one user's row of ratings (0 = no interaction), with
 * x_ui = 1 where r_ui > 0 and c_ui = 1 + α r_ui.
 */
export type WalsUserStep = (
  ratings: number[],
  itemFactors: number[][],
  alpha: number,
  lambda: number,
) => ArrayLike<number>;

const dot = (a: number[], b: number[]) => a.reduce((s, x, f) => s + x * b[f], 0);

// ---- 02.1 -------------------------------------------------------------------------------------------

type PearsonVariant = "" | "means" | "no shrinkage" | "n shrinkage";

function pearsonBaselineReference(
  ra: number[],
  rb: number[],
  ba: number[],
  bb: number[],
  shrinkage: number,
  variant: PearsonVariant = "",
): number {
  const n = ra.length;
  if (n < 2) return 0;
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ca, cb] = variant === "means" ? [ra.map(() => mean(ra)), rb.map(() => mean(rb))] : [ba, bb];
  let num = 0;
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < n; k++) {
    const da = ra[k] - ca[k];
    const db = rb[k] - cb[k];
    num += da * db;
    sa += da * da;
    sb += db * db;
  }
  if (sa * sb === 0) return 0;
  const rho = num / Math.sqrt(sa * sb);
  if (variant === "no shrinkage") return rho;
  if (variant === "n shrinkage") return (n / (n + shrinkage)) * rho;
  return ((n - 1) / (n - 1 + shrinkage)) * rho;
}

const PEARSON_MISTAKES: [PearsonVariant, string][] = [
  ["means", "pearson_baseline centres each rating on its baseline b_ui = μ + b_u + b_i, not on the item's mean rating"],
  ["no shrinkage", "shrink the correlation towards 0 by (n − 1)/(n − 1 + λ), n the number of common raters"],
  ["n shrinkage", "the shrinkage factor is (n − 1)/(n − 1 + λ): with n − 1, not n"],
];

/** Ratings 1–5 of n common raters with baselines near them, from a seeded Rng. */
function pearsonCase(rng: Rng, n: number): [number[], number[], number[], number[]] {
  const ra = Array.from({ length: n }, () => 1 + rng.int(5));
  const rb = ra.map((r) => Math.min(5, Math.max(1, r + rng.int(3) - 1)));
  const ba = ra.map(() => 3 + rng.normal(0, 0.6));
  const bb = ra.map(() => 3.4 + rng.normal(0, 0.6));
  return [ra, rb, ba, bb];
}

const pearsonBaseline = exercise<PearsonBaseline>({
  title: "the pearson_baseline similarity of two items",
  hint: "residuals r − b against the baselines, their correlation Σ d_a d_b / √(Σ d_a² Σ d_b²), times (n − 1)/(n − 1 + λ)",
  validate(answer) {
    const f = expectFunction(answer, "(ratingsA, ratingsB, baselinesA, baselinesB, shrinkage) => similarity");
    const rng = new Rng(201);
    const cases: [number[], number[], number[], number[], number][] = [
      [...pearsonCase(rng, 6), 100],
      [...pearsonCase(rng, 4), 5],
      [...pearsonCase(rng, 12), 20],
      [...pearsonCase(rng, 3), 1],
    ];
    const show = (c: (typeof cases)[number]) =>
      `pearsonBaseline(${c[0].length} common raters, λ = ${c[4]}, ratings [${c[0].join(", ")}] and [${c[1].join(", ")}])`;
    const got = cases.map((c) =>
      callForNumber(show(c), () => f(c[0].slice(), c[1].slice(), c[2].slice(), c[3].slice(), c[4])),
    );
    const wrong = cases.findIndex((c, k) => !sameNumber(got[k], pearsonBaselineReference(...c), 1e-5));
    if (wrong >= 0) {
      const problem = `${show(cases[wrong])} returned ${formatNumber(got[wrong])}`;
      return mistakeExplaining(
        PEARSON_MISTAKES,
        (v) => cases.every((c, k) => sameNumber(got[k], pearsonBaselineReference(...c, v), 1e-5)),
        problem,
      );
    }
    // Edge cases: residuals all 0 (no direction to correlate), and a single common rater.
    const flat = callForNumber("pearsonBaseline([4, 2, 5], [3, 3, 1], [4, 2, 5], [3, 3, 1], 100)", () =>
      f([4, 2, 5], [3, 3, 1], [4, 2, 5], [3, 3, 1], 100),
    );
    if (flat !== 0) {
      return {
        problem: `with every residual 0 it returned ${formatNumber(flat)}`,
        hint: "a zero denominator (no residual on one side) gives similarity 0",
      };
    }
    const single = callForNumber("pearsonBaseline([5], [4], [3.2], [3.1], 0)", () => f([5], [4], [3.2], [3.1], 0));
    if (single !== 0) {
      return {
        problem: `with one common rater it returned ${formatNumber(single)}`,
        hint: "one common rater says nothing about a correlation: fewer than 2 gives 0 (Surprise's min_support)",
      };
    }
    return null;
  },
});

// ---- 02.2 -------------------------------------------------------------------------------------------

type SgdVariant = "" | "sequential" | "sign" | "no penalty" | "biases only";

function sgdReference(
  r: number,
  mu: number,
  p: MfTerm,
  gamma: number,
  lambda: number,
  variant: SgdVariant = "",
): MfTerm {
  const estimate = mu + p.bu + p.bi + dot(p.pu, p.qi);
  const e = variant === "sign" ? estimate - r : r - estimate;
  const l = variant === "no penalty" ? 0 : lambda;
  const pu = variant === "biases only" ? p.pu.slice() : p.pu.map((x, f) => x + gamma * (e * p.qi[f] - l * x));
  const puForQ = variant === "sequential" ? pu : p.pu;
  const qi = variant === "biases only" ? p.qi.slice() : p.qi.map((x, f) => x + gamma * (e * puForQ[f] - l * x));
  return { bu: p.bu + gamma * (e - l * p.bu), bi: p.bi + gamma * (e - l * p.bi), pu, qi };
}

const SGD_MISTAKES: [SgdVariant, string][] = [
  ["sequential", "q_i's step uses p_u as it was before this step: keep a copy of the old p_u"],
  ["sign", "the error is e = r − r̂ (rating minus prediction): the step moves r̂ towards r"],
  ["no penalty", "each parameter's step also subtracts λ times the parameter (the penalty's gradient)"],
  ["biases only", "p_u and q_i take a step too: p_u += γ(e q_i − λ p_u), q_i += γ(e p_u − λ q_i)"],
];

/** Reads {bu, bi, pu, qi} with pu, qi of `size` entries; an AnswerError naming the field otherwise. */
function readMfTerm(value: unknown, size: number, call: string): MfTerm {
  const record = readRecord(value, "{ bu, bi, pu, qi }", call);
  return {
    bu: readNumberField(record, "bu", call),
    bi: readNumberField(record, "bi", call),
    pu: readListField(record, "pu", call, size),
    qi: readListField(record, "qi", call, size),
  };
}

function sameTerm(a: MfTerm, b: MfTerm): boolean {
  return allClose([a.bu, a.bi, ...a.pu, ...a.qi], [b.bu, b.bi, ...b.pu, ...b.qi], 1e-10, 1e-8);
}

const mfSgdStep = exercise<MfSgdStep>({
  title: "one SGD step of matrix factorisation",
  hint: "e = r − (μ + b_u + b_i + q_iᵀp_u); each parameter θ moves by γ(e·∂r̂/∂θ − λθ), all from the values before the step",
  validate(answer) {
    const f = expectFunction(answer, "(rating, globalMean, { bu, bi, pu, qi }, gamma, lambda) => { bu, bi, pu, qi }");
    const rng = new Rng(202);
    const cases: [number, number, MfTerm, number, number][] = [3, 5, 4].map((size, c) => [
      [5, 1, 3][c],
      [3.53, 3.2, 3.9][c],
      {
        bu: rng.normal(0, 0.3),
        bi: rng.normal(0, 0.3),
        pu: normalDraws(rng, size, 0.5),
        qi: normalDraws(rng, size, 0.5),
      },
      [0.05, 0.1, 0.2][c],
      [0.02, 0.1, 0.5][c],
    ]);
    const got = cases.map(([r, mu, p, gamma, lambda]) => {
      const call = `mfSgdStep(${r}, ${mu}, { pu, qi of ${p.pu.length} factors }, ${gamma}, ${lambda})`;
      const copy = { bu: p.bu, bi: p.bi, pu: p.pu.slice(), qi: p.qi.slice() };
      return {
        call,
        term: callAnswer(
          call,
          () => f(r, mu, copy, gamma, lambda),
          (v) => readMfTerm(v, p.pu.length, call),
        ),
      };
    });
    const wrong = cases.findIndex((c, k) => !sameTerm(got[k].term, sgdReference(...c)));
    if (wrong < 0) return null;
    const term = got[wrong].term;
    const expected = sgdReference(...cases[wrong]);
    const field = (["bu", "bi", "pu", "qi"] as const).find(
      (key) => !allClose([term[key]].flat(), [expected[key]].flat(), 1e-10, 1e-8),
    );
    const problem = `${got[wrong].call}: ${field} is not what the step gives`;
    return mistakeExplaining(
      SGD_MISTAKES,
      (v) => cases.every((c, k) => sameTerm(got[k].term, sgdReference(...c, v))),
      problem,
    );
  },
});

// ---- 02.3 -------------------------------------------------------------------------------------------

type SvdppVariant = "" | "mean" | "sum" | "no p_u" | "no biases";

function svdppReference(
  mu: number,
  bu: number,
  bi: number,
  pu: number[],
  qi: number[],
  ys: number[][],
  variant: SvdppVariant = "",
): number {
  const n = ys.length;
  const scale = n === 0 ? 0 : variant === "mean" ? 1 / n : variant === "sum" ? 1 : 1 / Math.sqrt(n);
  const user = pu.map((p, f) => (variant === "no p_u" ? 0 : p) + scale * ys.reduce((s, y) => s + y[f], 0));
  return (variant === "no biases" ? 0 : mu + bu + bi) + dot(qi, user);
}

const SVDPP_MISTAKES: [SvdppVariant, string][] = [
  [
    "mean",
    "the sum of the y_j is scaled by |N(u)|^(−1/2), one over the square root of the count, not one over the count",
  ],
  ["sum", "scale the sum of the y_j by |N(u)|^(−1/2) so it does not grow with the number of rated items"],
  ["no p_u", "the user's side is p_u plus the implicit term, not the implicit term alone"],
  ["no biases", "r̂ starts from the baseline μ + b_u + b_i"],
];

const svdppPredict = exercise<SvdppPredict>({
  title: "SVD++'s prediction rule",
  hint: "z_u = |N(u)|^(−1/2) Σ_{j∈N(u)} y_j, then r̂ = μ + b_u + b_i + q_iᵀ(p_u + z_u)",
  validate(answer) {
    const f = expectFunction(answer, "(globalMean, bu, bi, pu, qi, implicit) => rating");
    const rng = new Rng(203);
    const cases: [number, number, number, number[], number[], number[][]][] = (
      [
        [3, 4],
        [5, 9],
        [2, 1],
        [4, 16],
      ] as [number, number][]
    ).map(([size, rated]) => [
      3 + rng.next(),
      rng.normal(0, 0.4),
      rng.normal(0, 0.4),
      normalDraws(rng, size, 0.5),
      normalDraws(rng, size, 0.5),
      Array.from({ length: rated }, () => normalDraws(rng, size, 0.4)),
    ]);
    const show = (c: (typeof cases)[number]) =>
      `svdppPredict(μ = ${formatNumber(c[0])}, ${c[3].length} factors, |N(u)| = ${c[5].length})`;
    const got = cases.map((c) =>
      callForNumber(show(c), () =>
        f(
          c[0],
          c[1],
          c[2],
          c[3].slice(),
          c[4].slice(),
          c[5].map((y) => y.slice()),
        ),
      ),
    );
    const wrong = cases.findIndex((c, k) => !sameNumber(got[k], svdppReference(...c), 1e-9));
    if (wrong >= 0) {
      return mistakeExplaining(
        SVDPP_MISTAKES,
        (v) => cases.every((c, k) => sameNumber(got[k], svdppReference(...c, v), 1e-9)),
        `${show(cases[wrong])} returned ${formatNumber(got[wrong])}`,
      );
    }
    const none = callForNumber("svdppPredict(3.5, 0.1, -0.2, [0.3, 0.1], [0.2, -0.4], [])", () =>
      f(3.5, 0.1, -0.2, [0.3, 0.1], [0.2, -0.4], []),
    );
    if (!sameNumber(none, svdppReference(3.5, 0.1, -0.2, [0.3, 0.1], [0.2, -0.4], []), 1e-9)) {
      return {
        problem: `for a user with no rated items (N(u) empty) it returned ${formatNumber(none)}`,
        hint: "with N(u) empty the implicit term is the zero vector: guard the division by √|N(u)|",
      };
    }
    return null;
  },
});

// ---- 02.4 -------------------------------------------------------------------------------------------

type WalsVariant = "" | "no one" | "rating target" | "no lambda" | "observed only";

function walsReference(
  ratings: number[],
  q: number[][],
  alpha: number,
  lambda: number,
  variant: WalsVariant = "",
): number[] {
  const dims = q[0].map((_, a) => a);
  const items = ratings.map((_, i) => i).filter((i) => variant !== "observed only" || ratings[i] > 0);
  const c = ratings.map((r) => (variant === "no one" ? alpha * r : 1 + alpha * r));
  const x = ratings.map((r) => (variant === "rating target" ? r : r > 0 ? 1 : 0));
  const l = variant === "no lambda" ? 0 : lambda;
  // QᵀCQ + λI is symmetric positive definite (C > 0, Q of full column rank): one Cholesky solve.
  const lhs = Float64Array.from(
    dims.flatMap((a) => dims.map((b) => items.reduce((s, i) => s + c[i] * q[i][a] * q[i][b], 0) + (a === b ? l : 0))),
  );
  const rhs = Float64Array.from(dims.map((a) => items.reduce((s, i) => s + c[i] * q[i][a] * x[i], 0)));
  choleskySolve(lhs, rhs, dims.length);
  return Array.from(rhs);
}

const WALS_MISTAKES: [WalsVariant, string][] = [
  ["no one", "the confidence is c_ui = 1 + α r_ui: 1, not 0, on the empty cells, so they still count as weak zeros"],
  ["rating target", "the target is the binary x_ui (1 where u interacted with i); the rating only sets the confidence"],
  ["no lambda", "add λ to the diagonal of QᵀCᵘQ before solving"],
  ["observed only", "WALS sums over every item, the empty cells included (there x_ui = 0 with confidence 1)"],
];

const walsUserStep = exercise<WalsUserStep>({
  title: "one WALS half-step for a user",
  hint: "c_ui = 1 + α r_ui and x_ui = [r_ui > 0] over every item; solve (QᵀCᵘQ + λI) p_u = QᵀCᵘ x_u",
  validate(answer) {
    const f = expectFunction(answer, "(ratings, itemFactors, alpha, lambda) => p_u");
    const rng = new Rng(204);
    const cases: [number[], number[][], number, number][] = (
      [
        [7, 2, 1, 1],
        [9, 3, 2, 0.5],
        [12, 4, 0.5, 3],
      ] as [number, number, number, number][]
    ).map(([items, size, alpha, lambda]) => {
      const ratings = Array.from({ length: items }, () => (rng.next() < 0.45 ? 1 + rng.int(5) : 0));
      if (ratings.every((r) => r === 0)) ratings[0] = 4;
      return [ratings, Array.from({ length: items }, () => normalDraws(rng, size, 0.5)), alpha, lambda];
    });
    const got = cases.map(([ratings, q, alpha, lambda]) => {
      const call = `walsUserStep([${ratings.join(", ")}], Q [${q.length} × ${q[0].length}], α = ${alpha}, λ = ${lambda})`;
      const values = callAnswer(
        call,
        () =>
          f(
            ratings.slice(),
            q.map((row) => row.slice()),
            alpha,
            lambda,
          ),
        (v) => readValues(v, `what ${call} returned`),
      );
      if (values.shape.join() !== String(q[0].length)) {
        throw new AnswerError(
          `what ${call} returned has shape [${values.shape.join(", ")}]`,
          `p_u has one entry per factor (${q[0].length} here)`,
        );
      }
      return { call, p: values.data };
    });
    const wrong = cases.findIndex((c, k) => !allClose(got[k].p, walsReference(...c), 1e-8, 1e-6));
    if (wrong < 0) return null;
    return mistakeExplaining(
      WALS_MISTAKES,
      (v) => cases.every((c, k) => allClose(got[k].p, walsReference(...c, v), 1e-8, 1e-6)),
      `${got[wrong].call} returned [${got[wrong].p.map(formatNumber).join(", ")}]`,
    );
  },
});

export const NB02_EXERCISES = {
  "02.1": pearsonBaseline,
  "02.2": mfSgdStep,
  "02.3": svdppPredict,
  "02.4": walsUserStep,
};
