// Notebook 04's exercises: BPR with several negatives, NeuMF's fusion of GMF and MLP, the log-Q corrected
// in-batch softmax, one layer of LightGCN's propagation, and Mult-VAE's negative ELBO with β. Each check
// feeds the learner's function inputs of its own (drawn from a seeded Rng, other sizes than the notebook's
// toys), compares the result with a reference computed here in plain loops and, on a mismatch, with the
// usual mistakes: a mistake is named only when it explains every case, never from one coincidence.

import { Rng } from "../backend/random";
import {
  AnswerError,
  Problem,
  allClose,
  callAnswer,
  callForNumber,
  expectFunction,
  expectShape,
  exercise,
  formatNumber,
  largestDifference,
  readValues,
} from "./exercise";

/** 04.1: mean over every (positive b, negative n) pair of −ln σ(positive[b] − negatives[b][n]). */
export type BprManyNegatives = (positive: number[], negatives: number[][]) => unknown;

/** One layer of NeuMF's MLP tower: z ↦ ReLU(z·kernel + bias), kernel [in][out]. */
export interface TowerLayer {
  kernel: number[][];
  bias: number[];
}

/** 04.2's input: both halves' embeddings of one (user, item) pair, the MLP tower and the output layer. */
export interface NeumfPair {
  /** GMF's user and item embeddings p^G_u, q^G_i. */
  pG: number[];
  qG: number[];
  /** MLP's user and item embeddings p^M_u, q^M_i. */
  pM: number[];
  qM: number[];
  layers: TowerLayer[];
  /** Output weights over [p^G ⊙ q^G ; z_L] and the output bias. */
  h: number[];
  b: number;
}

/** 04.2: NeuMF's logit x̂_ui of one pair. */
export type NeumfLogit = (pair: NeumfPair) => unknown;

/** 04.3: the in-batch softmax loss with the log-Q correction; scores [B][B], itemShares [B]. */
export type LogQInBatchLoss = (scores: number[][], itemShares: number[]) => unknown;

/** 04.4: E⁽¹⁾ = D^{-1/2} A D^{-1/2} E⁽⁰⁾, nodes users first then items; edges [user, item]. */
export type PropagateOnce = (
  edges: Array<[number, number]>,
  numUsers: number,
  numItems: number,
  embeddings: number[][],
) => unknown;

/** 04.5: one user's −ELBO with the KL term weighted by β. */
export type NegativeElbo = (logits: number[], x: number[], mu: number[], logVar: number[], beta: number) => unknown;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const normals = (rng: Rng, n: number, std = 1) => Array.from({ length: n }, () => rng.normal(0, std));
const matrix = (rng: Rng, rows: number, cols: number, std = 1) =>
  Array.from({ length: rows }, () => normals(rng, cols, std));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A way to get the wrong number, and the hint that names it. */
type Mistake<Case> = [(c: Case) => number, string];

/**
 * null when `got` matches `reference` on every case; else the first wrong case as the problem, with the
 * hint of the one mistake that reproduces every case (to 1e-6 relative), when one does.
 */
function diagnose<Case>(
  cases: Case[],
  got: number[],
  reference: (c: Case) => number,
  mistakes: Mistake<Case>[],
  describeCall: (c: Case) => string,
): Problem | null {
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 + 1e-6 * Math.abs(b);
  const wrong = cases.findIndex((c, k) => !close(got[k], reference(c)));
  if (wrong < 0) return null;
  const problem = `${describeCall(cases[wrong])} returned ${formatNumber(got[wrong])}`;
  const mistake = mistakes.find(([variant]) => cases.every((c, k) => close(got[k], variant(c))));
  return mistake === undefined ? problem : { problem, hint: mistake[1] };
}

// ---------------------------------------------------------------------------------------------
// 04.1 BPR with several negatives per positive
// ---------------------------------------------------------------------------------------------

interface BprCase {
  positive: number[];
  negatives: number[][];
}

const bprPairs = (c: BprCase, f: (pos: number, neg: number) => number) =>
  c.negatives.flatMap((row, b) => row.map((neg) => f(c.positive[b], neg)));
const bprReference = (c: BprCase) => {
  const terms = bprPairs(c, (pos, neg) => -Math.log(sigmoid(pos - neg)));
  return sum(terms) / terms.length;
};

const BPR_MISTAKES: Mistake<BprCase>[] = [
  [
    (c) => sum(bprPairs(c, (pos, neg) => -Math.log(sigmoid(neg - pos)))) / bprPairs(c, () => 0).length,
    "the difference is positive minus negative: the loss is small when the positive scores higher",
  ],
  [(c) => sum(bprPairs(c, (pos, neg) => -Math.log(sigmoid(pos - neg)))), "average over the pairs instead of summing"],
  [
    (c) => sum(bprPairs(c, (pos, neg) => -Math.log(sigmoid(pos - neg)))) / c.positive.length,
    "average over every (positive, negative) pair, not over the positives only",
  ],
  [
    (c) => sum(c.positive.map((pos, b) => -Math.log(sigmoid(pos - c.negatives[b][0])))) / c.positive.length,
    "each positive has several negatives: use all of them, not just the first",
  ],
  [
    (c) => {
      const labelled = [
        ...c.positive.map((pos) => -Math.log(sigmoid(pos))),
        ...c.negatives.flat().map((neg) => -Math.log(1 - sigmoid(neg))),
      ];
      return sum(labelled) / labelled.length;
    },
    "that is NCF's log loss, which labels each example; BPR scores the difference of a positive and a negative",
  ],
];

const bprManyNegatives = exercise<BprManyNegatives>({
  title: "BPR with several negatives",
  hint: "every pair (positive b, its negative n) contributes −ln σ(x_ui − x_uj); the loss is their mean",
  validate(answer) {
    const loss = expectFunction(answer, "(positive: number[], negatives: number[][]) => number");
    const rng = new Rng(401);
    const cases: BprCase[] = [
      [3, 2],
      [2, 5],
      [4, 3],
    ].map(([b, n]) => ({ positive: normals(rng, b, 2), negatives: matrix(rng, b, n, 2) }));
    const describeCall = (c: BprCase) =>
      `bprManyNegatives(${c.positive.length} positives, ${c.negatives[0].length} negatives each)`;
    const got = cases.map((c) =>
      callForNumber(describeCall(c), () =>
        loss(
          c.positive.slice(),
          c.negatives.map((row) => row.slice()),
        ),
      ),
    );
    return diagnose(cases, got, bprReference, BPR_MISTAKES, describeCall);
  },
});

// ---------------------------------------------------------------------------------------------
// 04.2 NeuMF: GMF and MLP joined before the output layer
// ---------------------------------------------------------------------------------------------

const dot = (a: number[], b: number[]) => sum(a.map((x, i) => x * b[i]));

function tower(z0: number[], layers: TowerLayer[], activation: (x: number) => number): number[] {
  let z = z0;
  for (const { kernel, bias } of layers) {
    z = bias.map((bj, j) => activation(bj + sum(z.map((zi, i) => zi * kernel[i][j]))));
  }
  return z;
}

const relu = (x: number) => Math.max(0, x);
const neumfVariant = (
  c: NeumfPair,
  options: { activation?: (x: number) => number; mlpFirst?: boolean; itemFirst?: boolean; bias?: boolean } = {},
) => {
  const gmf = c.pG.map((p, f) => p * c.qG[f]);
  const z0 = options.itemFirst ? [...c.qM, ...c.pM] : [...c.pM, ...c.qM];
  const zL = tower(z0, c.layers, options.activation ?? relu);
  const joined = options.mlpFirst ? [...zL, ...gmf] : [...gmf, ...zL];
  return dot(c.h, joined) + (options.bias === false ? 0 : c.b);
};

const NEUMF_MISTAKES: Mistake<NeumfPair>[] = [
  [(c) => sigmoid(neumfVariant(c)), "return the logit x̂_ui; the probability σ(x̂_ui) comes later, in the loss"],
  [(c) => neumfVariant(c, { activation: (x) => x }), "each layer of the MLP tower ends with a ReLU"],
  [(c) => neumfVariant(c, { mlpFirst: true }), "h weighs [p^G ⊙ q^G ; z_L]: the GMF part comes first"],
  [(c) => neumfVariant(c, { itemFirst: true }), "the tower's input is z₀ = [p^M_u ; q^M_i]: the user first"],
  [(c) => neumfVariant(c, { bias: false }), "the output layer has a bias b"],
];

const neumfLogit = exercise<NeumfLogit>({
  title: "NeuMF's fusion of GMF and MLP",
  hint: "x̂ = hᵀ[p^G ⊙ q^G ; z_L] + b, where z_L runs [p^M ; q^M] through the tower, z ↦ ReLU(z·kernel + bias)",
  validate(answer) {
    const logit = expectFunction(answer, "(pair: NeumfPair) => number");
    const rng = new Rng(402);
    const cases: NeumfPair[] = [
      [3, 2, [4, 3, 2]],
      [2, 3, [6, 4]],
      [4, 2, [4, 4, 3, 2]],
    ].map(([gmfWidth, mlpWidth, widths]) => {
      const sizes = widths as number[];
      const layers = sizes.slice(1).map((out, l) => ({
        kernel: matrix(rng, sizes[l], out),
        bias: normals(rng, out, 0.5),
      }));
      return {
        pG: normals(rng, gmfWidth as number),
        qG: normals(rng, gmfWidth as number),
        pM: normals(rng, mlpWidth as number),
        qM: normals(rng, mlpWidth as number),
        layers: layers,
        h: normals(rng, (gmfWidth as number) + sizes[sizes.length - 1]),
        b: rng.normal(0, 1),
      };
    });
    const describeCall = (c: NeumfPair) =>
      `neumfLogit(GMF width ${c.pG.length}, tower [${[c.pM.length * 2, ...c.layers.map((l) => l.bias.length)].join(", ")}])`;
    const copy = (c: NeumfPair): NeumfPair => JSON.parse(JSON.stringify(c)) as NeumfPair;
    const got = cases.map((c) => callForNumber(describeCall(c), () => logit(copy(c))));
    return diagnose(cases, got, (c) => neumfVariant(c), NEUMF_MISTAKES, describeCall);
  },
});

// ---------------------------------------------------------------------------------------------
// 04.3 In-batch softmax with the log-Q correction
// ---------------------------------------------------------------------------------------------

interface InBatchCase {
  scores: number[][];
  shares: number[];
}

/** −(1/B) Σ_b ln softmax_j(s_bj − shift_j)_b, and its variants. */
function inBatchVariant(
  c: InBatchCase,
  shift: (q: number) => number,
  options: { transposed?: boolean; mean?: boolean } = {},
): number {
  const n = c.shares.length;
  const s = (b: number, j: number) => (options.transposed ? c.scores[j][b] : c.scores[b][j]);
  let total = 0;
  for (let b = 0; b < n; b++) {
    const logits = Array.from({ length: n }, (_, j) => s(b, j) - shift(c.shares[j]));
    const top = Math.max(...logits);
    const logNormalizer = top + Math.log(sum(logits.map((l) => Math.exp(l - top))));
    total -= logits[b] - logNormalizer;
  }
  return options.mean === false ? total : total / n;
}

const LOGQ_MISTAKES: Mistake<InBatchCase>[] = [
  [(c) => inBatchVariant(c, () => 0), "that is the loss without the correction: subtract ln Q_j from every logit"],
  [
    (c) => inBatchVariant(c, (q) => -Math.log(q)),
    "subtract ln Q_j, do not add it: popular items must lose their head start",
  ],
  [(c) => inBatchVariant(c, (q) => q), "the correction is the logarithm of the share, ln Q_j, not Q_j itself"],
  [
    (c) => inBatchVariant(c, (q) => Math.log(q), { transposed: true }),
    "row b is user b: its softmax runs over the batch's items j, along the row",
  ],
  [(c) => inBatchVariant(c, (q) => Math.log(q), { mean: false }), "average over the B users of the batch"],
];

const logQInBatchLoss = exercise<LogQInBatchLoss>({
  title: "the log-Q corrected in-batch softmax",
  hint: "L = −(1/B) Σ_b ln [exp(s_bb − ln Q_b) / Σ_j exp(s_bj − ln Q_j)]",
  validate(answer) {
    const loss = expectFunction(answer, "(scores: number[][], itemShares: number[]) => number");
    const rng = new Rng(403);
    const cases: InBatchCase[] = [
      [4, 1],
      [3, 3],
      [5, 10],
    ].map(([n, scale]) => {
      const counts = Array.from({ length: n }, () => 1 + Math.floor(Math.exp(rng.normal(2, 1.5))));
      const total = sum(counts) * 3; // the batch's items hold a third of the interactions
      return { scores: matrix(rng, n, n, scale), shares: counts.map((count) => count / total) };
    });
    const describeCall = (c: InBatchCase) => `logQInBatchLoss(scores [${c.shares.length}, ${c.shares.length}], shares)`;
    const got = cases.map((c) =>
      callForNumber(describeCall(c), () =>
        loss(
          c.scores.map((row) => row.slice()),
          c.shares.slice(),
        ),
      ),
    );
    return diagnose(cases, got, (c) => inBatchVariant(c, (q) => Math.log(q)), LOGQ_MISTAKES, describeCall);
  },
});

// ---------------------------------------------------------------------------------------------
// 04.4 One layer of LightGCN's propagation
// ---------------------------------------------------------------------------------------------

interface GraphCase {
  edges: Array<[number, number]>;
  numUsers: number;
  numItems: number;
  embeddings: number[][];
}

/** Row-major [N, d] of Σ_w weight(v, w)·e_w (+ e_v with selfLoops). */
function propagateVariant(
  c: GraphCase,
  weight: (degreeV: number, degreeW: number) => number,
  selfLoops = false,
): number[] {
  const n = c.numUsers + c.numItems;
  const d = c.embeddings[0].length;
  const degree = new Array<number>(n).fill(0);
  for (const [u, i] of c.edges) {
    degree[u]++;
    degree[c.numUsers + i]++;
  }
  const out = selfLoops ? c.embeddings.flatMap((row) => row.slice()) : new Array<number>(n * d).fill(0);
  for (const [u, i] of c.edges) {
    const item = c.numUsers + i;
    for (const [v, w] of [
      [u, item],
      [item, u],
    ]) {
      for (let k = 0; k < d; k++) out[v * d + k] += weight(degree[v], degree[w]) * c.embeddings[w][k];
    }
  }
  return out;
}

const symmetric = (dv: number, dw: number) => 1 / Math.sqrt(dv * dw);
const GCN_MISTAKES: Array<[(c: GraphCase) => number[], string]> = [
  [(c) => propagateVariant(c, () => 1), "normalise each edge: an unnormalised sum grows with the degree"],
  [
    (c) => propagateVariant(c, (dv) => 1 / dv),
    "that is D⁻¹A, the mean of the neighbours; LightGCN divides by √(|N(v)|·|N(w)|), both ends of the edge",
  ],
  [
    (c) => propagateVariant(c, (_dv, dw) => 1 / dw),
    "that is A D⁻¹; LightGCN divides by √(|N(v)|·|N(w)|), both ends of the edge",
  ],
  [
    (c) => propagateVariant(c, symmetric, true),
    "LightGCN has no self-loops: a node's own embedding enters only through the layer mean, not Â",
  ],
];

const propagateOnce = exercise<PropagateOnce>({
  title: "one layer of LightGCN's propagation",
  hint: "e⁽¹⁾_v = Σ over the neighbours w of v of e⁽⁰⁾_w / √(|N(v)|·|N(w)|), users as nodes 0..U−1, item i as node U + i",
  validate(answer) {
    const propagate = expectFunction(answer, "(edges, numUsers, numItems, embeddings) => number[][]");
    const rng = new Rng(404);
    const cases: GraphCase[] = [
      { numUsers: 3, numItems: 4, dim: 2, extra: 2 },
      { numUsers: 4, numItems: 3, dim: 3, extra: 4 },
    ].map(({ numUsers, numItems, dim, extra }) => {
      // Every node has an edge (no degree is 0), then a few more, distinct and in a shuffled order.
      const edges = new Map<string, [number, number]>();
      const add = (u: number, i: number) => edges.set(`${u},${i}`, [u, i]);
      for (let u = 0; u < numUsers; u++) add(u, u % numItems);
      for (let i = 0; i < numItems; i++) add(i % numUsers, i);
      while (edges.size < Math.max(numUsers, numItems) + extra) add(rng.int(numUsers), rng.int(numItems));
      const list = Array.from(edges.values());
      const order = rng.permutation(list.length);
      return {
        edges: Array.from(order, (k) => list[k]),
        numUsers,
        numItems,
        embeddings: matrix(rng, numUsers + numItems, dim),
      };
    });
    for (const c of cases) {
      const n = c.numUsers + c.numItems;
      const d = c.embeddings[0].length;
      const call = `propagateOnce(${c.edges.length} edges, ${c.numUsers} users, ${c.numItems} items, embeddings [${n}, ${d}])`;
      const got = callAnswer(
        call,
        () =>
          propagate(
            c.edges.map((e) => [e[0], e[1]] as [number, number]),
            c.numUsers,
            c.numItems,
            c.embeddings.map((row) => row.slice()),
          ),
        (value) => readValues(value, `what ${call} returned`),
      );
      expectShape(got, [n, d], `what ${call} returned`, "one row per node, users first, then items");
      const expected = propagateVariant(c, symmetric);
      if (allClose(got.data, expected, 1e-6, 1e-5)) continue;
      const worst = largestDifference(got.data, expected);
      const node = Math.floor(worst.index / d);
      const where = node < c.numUsers ? `user ${node}` : `item ${node - c.numUsers}`;
      const problem = `${call}: the row of ${where} is wrong`;
      const mistake = GCN_MISTAKES.find(([variant]) => allClose(got.data, variant(c), 1e-6, 1e-5));
      if (mistake !== undefined) return { problem, hint: mistake[1] };
      if (allClose(got.data, c.embeddings.flat(), 1e-6, 1e-5)) {
        throw new AnswerError(`${call} returned the embeddings unchanged`);
      }
      return problem;
    }
    return null;
  },
});

// ---------------------------------------------------------------------------------------------
// 04.5 Mult-VAE's negative ELBO with β
// ---------------------------------------------------------------------------------------------

interface ElboCase {
  logits: number[];
  x: number[];
  mu: number[];
  logVar: number[];
  beta: number;
}

const logSoftmax = (logits: number[]) => {
  const top = Math.max(...logits);
  const logNormalizer = top + Math.log(sum(logits.map((l) => Math.exp(l - top))));
  return logits.map((l) => l - logNormalizer);
};
const multinomialLogLikelihood = (c: ElboCase) => dot(c.x, logSoftmax(c.logits));
const klVariant = (c: ElboCase, variance: (logVar: number) => number = Math.exp, half = 0.5) =>
  -half * sum(c.mu.map((m, d) => 1 + c.logVar[d] - m * m - variance(c.logVar[d])));
const elboReference = (c: ElboCase) => -multinomialLogLikelihood(c) + c.beta * klVariant(c);

const ELBO_MISTAKES: Mistake<ElboCase>[] = [
  [(c) => -multinomialLogLikelihood(c) - c.beta * klVariant(c), "the loss adds β·KL: the KL term is a penalty"],
  [(c) => -c.beta * multinomialLogLikelihood(c) + klVariant(c), "β weighs the KL term, not the likelihood"],
  [(c) => -multinomialLogLikelihood(c) + klVariant(c), "weigh the KL term by β"],
  [(c) => -multinomialLogLikelihood(c), "the loss has a second term, β times the KL divergence from N(0, I)"],
  [
    (c) => -multinomialLogLikelihood(c) + c.beta * klVariant(c, (lv) => lv),
    "logVar is log σ²: the variance in the KL term is exp(logVar)",
  ],
  [(c) => -multinomialLogLikelihood(c) + c.beta * klVariant(c, Math.exp, 1), "the KL term has a factor ½"],
  [
    (c) => -dot(c.x, c.logits) + c.beta * klVariant(c),
    "log π_i is the log-softmax of the logits: subtract log Σ_j exp(logit_j)",
  ],
  [
    (c) =>
      -sum(c.x.map((x, i) => x * Math.log(sigmoid(c.logits[i])) + (1 - x) * Math.log(1 - sigmoid(c.logits[i])))) +
      c.beta * klVariant(c),
    "Mult-VAE's likelihood is multinomial, Σ x_i log softmax(logits)_i, not a Bernoulli per item",
  ],
];

const negativeElbo = exercise<NegativeElbo>({
  title: "Mult-VAE's negative ELBO with β",
  hint: "L = −Σ_i x_i log softmax(logits)_i + β·KL, KL = −½ Σ_d (1 + logVar_d − μ_d² − exp(logVar_d))",
  validate(answer) {
    const loss = expectFunction(answer, "(logits, x, mu, logVar, beta) => number");
    const rng = new Rng(405);
    const cases: ElboCase[] = [
      [6, 2, 0.2],
      [9, 3, 0.5],
      [5, 4, 0.05],
    ].map(([items, latent, beta]) => ({
      logits: normals(rng, items, 2),
      x: Array.from({ length: items }, (_, i) => (i % 2 === 0 || rng.next() < 0.3 ? 1 : 0)),
      mu: normals(rng, latent),
      logVar: normals(rng, latent, 0.7),
      beta: beta,
    }));
    const describeCall = (c: ElboCase) =>
      `negativeElbo(${c.logits.length} items, latent ${c.mu.length}, β = ${c.beta})`;
    const got = cases.map((c) =>
      callForNumber(describeCall(c), () => loss(c.logits.slice(), c.x.slice(), c.mu.slice(), c.logVar.slice(), c.beta)),
    );
    return diagnose(cases, got, elboReference, ELBO_MISTAKES, describeCall);
  },
});

export const NB04_EXERCISES = {
  "04.1": bprManyNegatives,
  "04.2": neumfLogit,
  "04.3": logQInBatchLoss,
  "04.4": propagateOnce,
  "04.5": negativeElbo,
};
