// Notebook 03's exercises: a weighted hybrid of z-scored scores, choosing its weight on a validation split,
// one BPR step with the hinge loss, and LightFM's item vector as a sum of feature embeddings. Each check calls
// the learner's function on inputs of its own and compares the result with a reference computed here, then
// names the usual mistake that explains every case; the tuning check also counts how often the test set is
// looked at.

import { Rng } from "../backend/random";
import {
  AnswerError,
  allClose,
  callAnswer,
  describeValue,
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

/** 03.1: Σ_m w_m · zscore(scores[m]) over one user's catalogue; scores[m] holds model m's score of every item. */
export type WeightedHybridScores = (scores: number[][], weights: number[]) => ArrayLike<number>;

/**
 * 03.2: the weight, of `weights`, with the best validation NDCG@10, and the test NDCG@10 at that weight
 * (the number to report). `validationNdcg` and `testNdcg` evaluate the hybrid at a weight.
 */
export type TuneHybridWeight = (
  validationNdcg: (weight: number) => number,
  testNdcg: (weight: number) => number,
  weights: number[],
) => { weight: number; test: number };

/** 03.3: the parameters of one BPR triple (user u, positive i, negative j). */
export interface BprTriple {
  pu: number[];
  qi: number[];
  qj: number[];
  bi: number;
  bj: number;
}

/** 03.3: one SGD step of size η on the hinge loss max(0, margin − x̂_uij), x̂_uij = p_u·(q_i − q_j) + b_i − b_j. */
export type HingeBprStep = (params: BprTriple, eta: number, margin: number) => BprTriple;

/**
 * 03.4: LightFM's q_i = Σ_{f∈F_i} w_f e_f and b_i = Σ w_f β_f for the item with features F_i (rows of
 * `embeddings` and `biases`); w_f = 1/|F_i| when `normalize`, else 1.
 */
export type LightfmItem = (
  features: number[],
  embeddings: number[][],
  biases: number[],
  normalize: boolean,
) => { vector: ArrayLike<number>; bias: number };

const dot = (a: number[], b: number[]) => a.reduce((s, x, f) => s + x * b[f], 0);

// ---- 03.1 -------------------------------------------------------------------------------------------

type HybridVariant = "" | "raw" | "minmax" | "sample std" | "unweighted";

function rescale(row: number[], variant: HybridVariant): number[] {
  if (variant === "raw") return row.slice();
  const n = row.length;
  const max = Math.max(...row);
  const min = Math.min(...row);
  if (max === min) return row.map(() => 0);
  if (variant === "minmax") return row.map((s) => (s - min) / (max - min));
  const mean = row.reduce((s, x) => s + x, 0) / n;
  const squares = row.reduce((s, x) => s + (x - mean) ** 2, 0);
  const std = Math.sqrt(squares / (variant === "sample std" ? n - 1 : n));
  return row.map((s) => (s - mean) / std);
}

function hybridReference(scores: number[][], weights: number[], variant: HybridVariant = ""): number[] {
  const rows = scores.map((row) => rescale(row, variant));
  return rows[0].map((_, i) => rows.reduce((s, row, m) => s + (variant === "unweighted" ? 1 : weights[m]) * row[i], 0));
}

const HYBRID_MISTAKES: [HybridVariant, string][] = [
  ["raw", "rescale each model's scores to z-scores first: summed raw, the model with the wider spread decides"],
  ["minmax", "the hybrids here use z-scores (s − mean)/std, not min-max scaling"],
  ["sample std", "the std is over the whole catalogue, the population std: divide by the number of items, not n − 1"],
  ["unweighted", "multiply each model's z-scores by its weight"],
];

const weightedHybridScores = exercise<WeightedHybridScores>({
  title: "a weighted hybrid of z-scores",
  hint: "for each model, z = (s − mean)/std over its scores of the catalogue (a constant row gives zeros); then Σ w_m z_m",
  validate(answer) {
    const f = expectFunction(answer, "(scores, weights) => hybrid scores");
    const rng = new Rng(301);
    const cases: [number[][], number[]][] = [
      [
        [normalDraws(rng, 8, 3), Array.from({ length: 8 }, () => rng.next())],
        [1, 1],
      ],
      [
        [normalDraws(rng, 11, 0.5), normalDraws(rng, 11, 5).map((x) => x + 4), normalDraws(rng, 11)],
        [0.6, 0.3, 0.1],
      ],
      [
        [normalDraws(rng, 6, 2), Array.from({ length: 6 }, () => 0.25)],
        [0.7, 0.3],
      ],
    ];
    const got = cases.map(([scores, weights]) => {
      const call = `weightedHybridScores(${scores.length} models × ${scores[0].length} items, weights [${weights.join(", ")}])`;
      const values = callAnswer(
        call,
        () =>
          f(
            scores.map((row) => row.slice()),
            weights.slice(),
          ),
        (v) => readValues(v, `what ${call} returned`),
      );
      if (values.shape.join() !== String(scores[0].length)) {
        throw new AnswerError(
          `what ${call} returned has shape [${values.shape.join(", ")}]`,
          "return one hybrid score per item",
        );
      }
      return { call, values: values.data };
    });
    const wrong = cases.findIndex((c, k) => !allClose(got[k].values, hybridReference(...c), 1e-9, 1e-7));
    if (wrong < 0) return null;
    const problem = `${got[wrong].call} returned [${got[wrong].values.map(formatNumber).join(", ")}]`;
    if (got[wrong].values.some((x) => Number.isNaN(x))) {
      return { problem, hint: "a model that scores every item alike has std 0: its z-scores are all 0, not 0/0" };
    }
    return mistakeExplaining(
      HYBRID_MISTAKES,
      (v) => cases.every((c, k) => allClose(got[k].values, hybridReference(...c, v), 1e-9, 1e-7)),
      problem,
    );
  },
});

// ---- 03.2 -------------------------------------------------------------------------------------------

/** A validation and a test curve over the weights whose best points differ, from a seeded Rng. */
function tuningCurves(rng: Rng, weights: number[]): { validation: number[]; test: number[] } {
  const peak = rng.next();
  const validation = weights.map((w) => 0.3 - 0.2 * (w - peak) ** 2 + rng.normal(0, 0.004));
  const test = weights.map((w) => 0.28 - 0.2 * (w - peak - 0.25) ** 2 + rng.normal(0, 0.004));
  return { validation, test };
}

const tuneHybridWeight = exercise<TuneHybridWeight>({
  title: "choosing the hybrid's weight on validation",
  hint: "evaluate every weight on the validation split, keep the best, and evaluate only that one on test",
  validate(answer) {
    const f = expectFunction(answer, "(validationNdcg, testNdcg, weights) => { weight, test }");
    const rng = new Rng(302);
    const grids = [
      [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      [0.05, 0.25, 0.5, 0.75, 0.95],
      [1, 0.8, 0.6, 0.4, 0.2, 0],
    ];
    for (const grid of grids) {
      const curves = tuningCurves(rng, grid);
      const at = (curve: number[], weight: number) => {
        const k = grid.indexOf(weight);
        if (k < 0) throw new AnswerError(`the hybrid was evaluated at weight ${weight}, which is not in the grid`);
        return curve[k];
      };
      let testCalls = 0;
      const call = `tuneHybridWeight(validationNdcg, testNdcg, [${grid.join(", ")}])`;
      const got = callAnswer(
        call,
        () =>
          f(
            (w) => at(curves.validation, w),
            (w) => {
              testCalls++;
              return at(curves.test, w);
            },
            grid.slice(),
          ),
        (v) => v,
      );
      if (typeof got !== "object" || got === null) {
        throw new AnswerError(`${call} should return { weight, test }, got ${describeValue(got)}`);
      }
      const { weight, test } = got as { weight: unknown; test: unknown };
      if (typeof weight !== "number" || typeof test !== "number") {
        throw new AnswerError(
          `${call} should return numbers weight and test, got ${describeValue(weight)} and ${describeValue(test)}`,
        );
      }
      const best = curves.validation.indexOf(Math.max(...curves.validation));
      if (testCalls > 1) {
        return {
          problem: `${call} evaluated ${testCalls} weights on the test split`,
          hint: "the test split is looked at once, for the weight chosen on validation: choosing on test inflates the number you report",
        };
      }
      if (weight !== grid[best]) {
        const problem = `${call} chose weight ${weight}`;
        if (weight === grid[curves.validation.indexOf(Math.min(...curves.validation))]) {
          return { problem, hint: "NDCG is better when larger: keep the weight with the highest validation NDCG" };
        }
        return problem;
      }
      if (!sameNumber(test, curves.test[best])) {
        return {
          problem: `${call} chose weight ${weight} but reported ${formatNumber(test)} as its test NDCG`,
          hint: "report testNdcg at the chosen weight, not its validation NDCG",
        };
      }
    }
    return null;
  },
});

// ---- 03.3 -------------------------------------------------------------------------------------------

type HingeVariant = "" | "logistic" | "always" | "sequential" | "no margin";

function hingeReference(p: BprTriple, eta: number, margin: number, variant: HingeVariant = ""): BprTriple {
  const x = dot(p.pu, p.qi) + p.bi - (dot(p.pu, p.qj) + p.bj);
  const threshold = variant === "no margin" ? 0 : margin;
  const active = variant === "always" || variant === "logistic" || x < threshold;
  const scale = !active ? 0 : variant === "logistic" ? eta * (1 - 1 / (1 + Math.exp(-x))) : eta;
  const pu = p.pu.map((v, f) => v + scale * (p.qi[f] - p.qj[f]));
  const userForItems = variant === "sequential" ? pu : p.pu;
  return {
    pu,
    qi: p.qi.map((v, f) => v + scale * userForItems[f]),
    qj: p.qj.map((v, f) => v - scale * userForItems[f]),
    bi: p.bi + scale,
    bj: p.bj - scale,
  };
}

const HINGE_MISTAKES: [HingeVariant, string][] = [
  ["logistic", "that is BPR's logistic step, scaled by 1 − σ(x̂_uij); the hinge's gradient is −1 or 0, unscaled"],
  ["always", "the hinge loss is 0, and so is its gradient, once x̂_uij ≥ margin: such a triple does not move"],
  ["no margin", "the loss is max(0, margin − x̂_uij): a step is taken while x̂_uij < margin, not only while it is < 0"],
  ["sequential", "q_i and q_j step with p_u as it was before the step: keep a copy of the old p_u"],
];

function readTriple(value: unknown, size: number, call: string): BprTriple {
  const record = readRecord(value, "{ pu, qi, qj, bi, bj }", call);
  return {
    pu: readListField(record, "pu", call, size),
    qi: readListField(record, "qi", call, size),
    qj: readListField(record, "qj", call, size),
    bi: readNumberField(record, "bi", call),
    bj: readNumberField(record, "bj", call),
  };
}

const flatTriple = (p: BprTriple) => [...p.pu, ...p.qi, ...p.qj, p.bi, p.bj];

const hingeBprStep = exercise<HingeBprStep>({
  title: "one BPR step with the hinge loss",
  hint: "x̂_uij = p_u·(q_i − q_j) + b_i − b_j; while x̂_uij < margin, every parameter moves by η times −∂ℓ/∂θ of ℓ = margin − x̂_uij, else none",
  validate(answer) {
    const f = expectFunction(answer, "({ pu, qi, qj, bi, bj }, eta, margin) => { pu, qi, qj, bi, bj }");
    const rng = new Rng(303);
    const triple = (size: number, lift: number): BprTriple => {
      const pu = normalDraws(rng, size, 0.6);
      return {
        pu,
        qi: pu.map((x) => lift * x + rng.normal(0, 0.3)),
        qj: normalDraws(rng, size, 0.6),
        bi: rng.normal(0, 0.2),
        bj: rng.normal(0, 0.2),
      };
    };
    // Scores below 0, between 0 and the margin, and above the margin (where nothing moves).
    const cases: [BprTriple, number, number][] = [];
    for (const [size, lift, eta, margin] of [
      [3, -1, 0.1, 1],
      [4, 0.3, 0.05, 2],
      [5, 2, 0.2, 0.5],
      [2, 0.2, 0.5, 1],
    ]) {
      let p = triple(size, lift);
      for (let tries = 0; tries < 50; tries++) {
        const x = dot(p.pu, p.qi) + p.bi - dot(p.pu, p.qj) - p.bj;
        const wanted = lift < 0 ? x < -0.1 : lift < 1 ? x > 0.05 && x < margin - 0.05 : x > margin + 0.05;
        if (wanted) break;
        p = triple(size, lift);
      }
      cases.push([p, eta, margin]);
    }
    const got = cases.map(([p, eta, margin]) => {
      const call = `hingeBprStep(${p.pu.length} factors, η = ${eta}, margin = ${margin})`;
      const copy = { pu: p.pu.slice(), qi: p.qi.slice(), qj: p.qj.slice(), bi: p.bi, bj: p.bj };
      return {
        call,
        p: callAnswer(
          call,
          () => f(copy, eta, margin),
          (v) => readTriple(v, p.pu.length, call),
        ),
      };
    });
    const agrees = (v: HingeVariant) =>
      cases.every((c, k) => allClose(flatTriple(got[k].p), flatTriple(hingeReference(...c, v)), 1e-10, 1e-8));
    if (agrees("")) return null;
    const wrong = cases.findIndex(
      (c, k) => !allClose(flatTriple(got[k].p), flatTriple(hingeReference(...c)), 1e-10, 1e-8),
    );
    const [p] = cases[wrong];
    const x = dot(p.pu, p.qi) + p.bi - dot(p.pu, p.qj) - p.bj;
    return mistakeExplaining(
      HINGE_MISTAKES,
      agrees,
      `${got[wrong].call}, x̂_uij = ${formatNumber(x)}: the step is not the hinge's`,
    );
  },
});

// ---- 03.4 -------------------------------------------------------------------------------------------

type LightfmVariant = "" | "always mean" | "always sum";

function lightfmReference(
  features: number[],
  embeddings: number[][],
  biases: number[],
  normalize: boolean,
  variant: LightfmVariant = "",
): number[] {
  const mean = variant === "always mean" || (variant === "" && normalize);
  const w = features.length === 0 ? 0 : mean ? 1 / features.length : 1;
  const vector = embeddings[0].map((_, d) => w * features.reduce((s, f) => s + embeddings[f][d], 0));
  return [...vector, w * features.reduce((s, f) => s + biases[f], 0)];
}

const LIGHTFM_MISTAKES: [LightfmVariant, string][] = [
  ["always mean", "with normalize false the weights are 1: the paper's plain sum, not the mean"],
  ["always sum", "with normalize true each weight is 1/|F_i|, so q_i is the mean of its features' embeddings"],
];

const lightfmItem = exercise<LightfmItem>({
  title: "LightFM's item vector from its features",
  hint: "q_i = Σ_{f∈F_i} w_f e_f and b_i = Σ_{f∈F_i} w_f β_f, with w_f = 1/|F_i| when normalising and 1 otherwise",
  validate(answer) {
    const f = expectFunction(answer, "(features, embeddings, biases, normalize) => { vector, bias }");
    const rng = new Rng(304);
    const tables = [
      { size: 3, rows: 9 },
      { size: 5, rows: 14 },
    ].map(({ size, rows }) => ({
      embeddings: Array.from({ length: rows }, () => normalDraws(rng, size, 0.5)),
      biases: normalDraws(rng, rows, 0.3),
    }));
    const cases: [number[], number[][], number[], boolean][] = [
      [[0, 4, 7], tables[0].embeddings, tables[0].biases, true],
      [[2, 3, 5, 8], tables[0].embeddings, tables[0].biases, false],
      [[1, 6, 9, 11, 13], tables[1].embeddings, tables[1].biases, true],
      [[10], tables[1].embeddings, tables[1].biases, false],
      [[5, 12], tables[1].embeddings, tables[1].biases, false],
    ];
    const got = cases.map(([features, embeddings, biases, normalize]) => {
      const call = `lightfmItem([${features.join(", ")}], ${embeddings.length} × ${embeddings[0].length} embeddings, biases, ${normalize})`;
      const value = callAnswer(
        call,
        () =>
          f(
            features.slice(),
            embeddings.map((row) => row.slice()),
            biases.slice(),
            normalize,
          ),
        (v) => v,
      );
      if (typeof value !== "object" || value === null) {
        throw new AnswerError(`${call} should return { vector, bias }, got ${describeValue(value)}`);
      }
      const record = value as { vector: unknown; bias: unknown };
      const vector = readValues(record.vector, `${call}'s vector`);
      if (vector.shape.join() !== String(embeddings[0].length)) {
        throw new AnswerError(
          `${call}'s vector has shape [${vector.shape.join(", ")}]`,
          "q_i has the embeddings' width: one entry per factor",
        );
      }
      if (typeof record.bias !== "number") {
        throw new AnswerError(`${call}'s bias should be a number, got ${describeValue(record.bias)}`);
      }
      return { call, values: [...vector.data, record.bias] };
    });
    const agrees = (v: LightfmVariant) =>
      cases.every((c, k) => allClose(got[k].values, lightfmReference(...c, v), 1e-10, 1e-8));
    if (!agrees("")) {
      const wrong = cases.findIndex((c, k) => !allClose(got[k].values, lightfmReference(...c), 1e-10, 1e-8));
      const which = allClose(
        got[wrong].values.slice(0, -1),
        lightfmReference(...cases[wrong]).slice(0, -1),
        1e-10,
        1e-8,
      )
        ? "its bias"
        : "its vector";
      return mistakeExplaining(LIGHTFM_MISTAKES, agrees, `${got[wrong].call}: ${which} is not the weighted sum`);
    }
    const empty = callAnswer(
      "lightfmItem([], embeddings, biases, true)",
      () => f([], tables[0].embeddings, tables[0].biases, true),
      (v) => v as { vector: unknown; bias: unknown },
    );
    const emptyValues = [
      ...readValues(empty?.vector, "the vector of an item without features").data,
      Number(empty?.bias),
    ];
    if (!emptyValues.every((x) => x === 0)) {
      return {
        problem: `an item without features got [${emptyValues.map(formatNumber).join(", ")}]`,
        hint: "an empty sum is the zero vector and bias 0: guard the division by |F_i|",
      };
    }
    return null;
  },
});

export const NB03_EXERCISES = {
  "03.1": weightedHybridScores,
  "03.2": tuneHybridWeight,
  "03.3": hingeBprStep,
  "03.4": lightfmItem,
};
