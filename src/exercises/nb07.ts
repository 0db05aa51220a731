// Notebook 07's exercises: the leave-one-out split of one user's history, BERT4Rec's Cloze input for one
// window, hit rate and NDCG at k from the held-out items' ranks, and the attention mask of a left-padded
// sequence, bidirectional (BERT4Rec) or causal (SASRec). Each check calls the learner's function on inputs of
// its own and compares the result with a reference computed here, then names the usual mistake that explains
// every case.

import type * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import {
  AnswerError,
  callAnswer,
  describeValue,
  exercise,
  expectFunction,
  formatNumber,
  readValues,
  sameNumber,
  mistakeExplaining,
  readRecord,
  readListField,
} from "./exercise";

/** 07.1: test = the latest item, validation = the one before, train = the rest in time order. */
export type LeaveOneOut = (
  items: number[],
  timestamps: number[],
) => { train: number[]; validation: number; test: number };

/**
 * 07.2: BERT4Rec's Cloze input for the last `maxLength` items of a history: token ids (item + 2, [PAD] = 0
 * on the left, [MASK] = 1 where the item's draw is below ρ), the masked positions and the items they hid.
 */
export type ClozeInput = (
  items: number[],
  draws: number[],
  rho: number,
  maxLength: number,
) => { tokenIds: ArrayLike<number>; positions: ArrayLike<number>; labels: ArrayLike<number> };

/** 07.3: HR@k and NDCG@k over users, from each user's held-out item's 1-based rank. */
export type HitRateNdcg = (ranks: number[], k: number) => { hitRate: number; ndcg: number };

/** 07.4: [T, T] (or [1, 1, T, T]) with 1 where query t may attend to key s, 0 where it may not; [PAD] = token id 0. */
export type AttentionMask = (tokenIds: number[], causal: boolean) => tf.Tensor | ArrayLike<number> | number[][];

const PAD = 0;
const MASK = 1;
const OFFSET = 2;

const sameList = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(b).every((x, i) => a[i] === x);

// ---- 07.1 -------------------------------------------------------------------------------------------

type SplitVariant = "" | "log order" | "swapped" | "validation kept" | "descending";

function leaveOneOutReference(items: number[], times: number[], variant: SplitVariant = "") {
  const order = items.map((_, k) => k);
  if (variant !== "log order")
    order.sort((a, b) => (variant === "descending" ? times[b] - times[a] : times[a] - times[b]));
  const sorted = order.map((k) => items[k]);
  const n = sorted.length;
  const [validation, test] = variant === "swapped" ? [sorted[n - 1], sorted[n - 2]] : [sorted[n - 2], sorted[n - 1]];
  return { train: sorted.slice(0, variant === "validation kept" ? n - 1 : n - 2), validation, test };
}

const SPLIT_MISTAKES: [SplitVariant, string][] = [
  ["log order", "the log is not in time order: sort the items by timestamp first"],
  ["descending", "sort oldest first: the test item is the latest one"],
  ["swapped", "the test item is the last one, the validation item the one before it"],
  ["validation kept", "the validation item is held out of train too"],
];

const leaveOneOut = exercise<LeaveOneOut>({
  title: "the leave-one-out split of a history",
  hint: "order the items by time (ties keep their order in the log); the last is test, the one before validation, the rest train",
  validate(answer) {
    const f = expectFunction(answer, "(items, timestamps) => { train, validation, test }");
    const rng = new Rng(701);
    const cases: [number[], number[]][] = [5, 8, 3, 12].map((n) => {
      const items = Array.from({ length: n }, () => rng.int(1000));
      const times = Array.from({ length: n }, () => 1e9 + rng.int(1e6));
      return [items, times];
    });
    // A tie: the later row in the log counts as later.
    cases.push([
      [31, 17, 52, 8, 44],
      [500, 100, 300, 300, 200],
    ]);
    const got = cases.map(([items, times]) => {
      const call = `leaveOneOut([${items.join(", ")}], [${times.join(", ")}])`;
      const record = callAnswer(
        call,
        () => f(items.slice(), times.slice()),
        (v) => readRecord(v, "{ train, validation, test }", call),
      );
      for (const key of ["validation", "test"]) {
        if (typeof record[key] !== "number") {
          throw new AnswerError(`${call}: ${key} should be one item (a number), got ${describeValue(record[key])}`);
        }
      }
      return {
        call,
        split: {
          train: readListField(record, "train", call),
          validation: record.validation as number,
          test: record.test as number,
        },
      };
    });
    const agrees = (v: SplitVariant) =>
      cases.every((c, k) => {
        const expected = leaveOneOutReference(...c, v);
        const split = got[k].split;
        return (
          split.test === expected.test &&
          split.validation === expected.validation &&
          sameList(split.train, expected.train)
        );
      });
    if (agrees("")) return null;
    const wrong = cases.findIndex((c, k) => {
      const expected = leaveOneOutReference(...c);
      const split = got[k].split;
      return !(
        split.test === expected.test &&
        split.validation === expected.validation &&
        sameList(split.train, expected.train)
      );
    });
    const split = got[wrong].split;
    return mistakeExplaining(
      SPLIT_MISTAKES,
      agrees,
      `${got[wrong].call} returned train [${split.train.join(", ")}], validation ${split.validation}, test ${split.test}`,
    );
  },
});

// ---- 07.2 -------------------------------------------------------------------------------------------

type ClozeVariant = "" | "right padded" | "no offset" | "above rho" | "label tokens" | "first items";

function clozeReference(items: number[], draws: number[], rho: number, maxLength: number, variant: ClozeVariant = "") {
  const start = variant === "first items" ? 0 : Math.max(0, items.length - maxLength);
  const window = items.slice(start, start + maxLength);
  const windowDraws = draws.slice(start, start + maxLength);
  const offset = variant === "no offset" ? 0 : OFFSET;
  const pad = maxLength - window.length;
  const first = variant === "right padded" ? 0 : pad;
  const tokenIds = new Array<number>(maxLength).fill(PAD);
  const positions: number[] = [];
  const labels: number[] = [];
  window.forEach((item, k) => {
    const t = first + k;
    const masked = variant === "above rho" ? windowDraws[k] >= rho : windowDraws[k] < rho;
    tokenIds[t] = masked ? MASK : item + offset;
    if (masked) {
      positions.push(t);
      labels.push(variant === "label tokens" ? item + OFFSET : item);
    }
  });
  return { tokenIds, positions, labels };
}

const CLOZE_MISTAKES: [ClozeVariant, string][] = [
  ["right padded", "pad on the left, so that the latest item sits at the last position, where inference reads"],
  ["first items", "keep the latest maxLength items (the end of the history), not the first ones"],
  ["no offset", "token ids 0 and 1 are [PAD] and [MASK]: item i is token i + 2"],
  ["above rho", "an item is masked with probability ρ: when its draw is below ρ"],
  ["label tokens", "the labels are the hidden items' indices, not their token ids (the output layer scores items)"],
];

const clozeInput = exercise<ClozeInput>({
  title: "BERT4Rec's Cloze input",
  hint: "take the last maxLength items, left-pad with [PAD] = 0, write item i as token i + 2, and replace by [MASK] = 1 the items whose draw is below ρ",
  validate(answer) {
    const f = expectFunction(answer, "(items, draws, rho, maxLength) => { tokenIds, positions, labels }");
    const rng = new Rng(702);
    const cases: [number[], number[], number, number][] = (
      [
        [6, 10, 0.3],
        [14, 8, 0.2],
        [8, 8, 0.5],
        [3, 6, 0.4],
      ] as [number, number, number][]
    ).map(([n, maxLength, rho]) => {
      const items = Array.from({ length: n }, () => rng.int(500));
      const draws = Array.from({ length: n }, () => rng.next());
      // At least one masked and one kept item in the window, so that every mistake shows.
      const start = Math.max(0, n - maxLength);
      draws[start] = rho / 2;
      draws[n - 1] = (1 + rho) / 2;
      return [items, draws, rho, maxLength];
    });
    const got = cases.map(([items, draws, rho, maxLength]) => {
      const call = `clozeInput([${items.join(", ")}], draws, ρ = ${rho}, maxLength = ${maxLength})`;
      const record = callAnswer(
        call,
        () => f(items.slice(), draws.slice(), rho, maxLength),
        (v) => readRecord(v, "{ tokenIds, positions, labels }", call),
      );
      const input = {
        tokenIds: readListField(record, "tokenIds", call),
        positions: readListField(record, "positions", call),
        labels: readListField(record, "labels", call),
      };
      if (input.tokenIds.length !== maxLength) {
        throw new AnswerError(
          `${call} returned ${input.tokenIds.length} token ids`,
          `the input has exactly maxLength = ${maxLength} positions, padded where the history is shorter`,
        );
      }
      return { call, input };
    });
    const agrees = (v: ClozeVariant) =>
      cases.every((c, k) => {
        const expected = clozeReference(...c, v);
        const input = got[k].input;
        return (
          sameList(input.tokenIds, expected.tokenIds) &&
          sameList(input.positions, expected.positions) &&
          sameList(input.labels, expected.labels)
        );
      });
    if (agrees("")) return null;
    const wrong = cases.findIndex((c, k) => {
      const expected = clozeReference(...c);
      const input = got[k].input;
      return !(
        sameList(input.tokenIds, expected.tokenIds) &&
        sameList(input.positions, expected.positions) &&
        sameList(input.labels, expected.labels)
      );
    });
    const { input, call } = got[wrong];
    const expected = clozeReference(...cases[wrong]);
    const field = !sameList(input.tokenIds, expected.tokenIds)
      ? `tokenIds [${input.tokenIds.join(", ")}]`
      : !sameList(input.positions, expected.positions)
        ? `positions [${input.positions.join(", ")}]`
        : `labels [${input.labels.join(", ")}]`;
    return mistakeExplaining(CLOZE_MISTAKES, agrees, `${call} returned ${field}, which is not the Cloze input`);
  },
});

// ---- 07.3 -------------------------------------------------------------------------------------------

type RankVariant = "" | "log2 rank" | "natural log" | "strict" | "zero-based";

function rankReference(ranks: number[], k: number, variant: RankVariant = ""): [number, number] {
  let hits = 0;
  let gain = 0;
  for (const rank of ranks) {
    const r = variant === "zero-based" ? rank + 1 : rank;
    if (variant === "strict" ? r >= k : r > k) continue;
    hits++;
    gain +=
      variant === "log2 rank"
        ? 1 / Math.log2(r)
        : variant === "natural log"
          ? 1 / Math.log(r + 1)
          : 1 / Math.log2(r + 1);
  }
  return [hits / ranks.length, gain / ranks.length];
}

const RANK_MISTAKES: [RankVariant, string][] = [
  ["log2 rank", "the discount of rank r (counting from 1) is 1/log₂(r + 1): rank 1 gets 1"],
  ["natural log", "the discount uses log base 2: 1/log₂(r + 1)"],
  ["strict", "an item at rank exactly k is in the top k"],
  ["zero-based", "the ranks given count from 1: the top item has rank 1"],
];

const hitRateNdcg = exercise<HitRateNdcg>({
  title: "hit rate and NDCG at k from ranks",
  hint: "one relevant item per user: HR@k is the share with rank ≤ k, NDCG@k the mean of 1/log₂(rank + 1) over those (0 for the rest), the ideal DCG being 1",
  validate(answer) {
    const f = expectFunction(answer, "(ranks, k) => { hitRate, ndcg }");
    const rng = new Rng(703);
    const cases: [number[], number][] = [
      [[1, 3, 10, 11, 2, 57, 10, 4], 10],
      [Array.from({ length: 40 }, () => 1 + rng.int(30)), 5],
      [[1, 2, 3, 20, 20, 1], 20],
      [Array.from({ length: 25 }, () => 1 + rng.int(101)), 10],
    ];
    const got = cases.map(([ranks, k]) => {
      const call = `hitRateNdcg([${ranks.length > 10 ? `${ranks.length} ranks` : ranks.join(", ")}], ${k})`;
      const record = callAnswer(
        call,
        () => f(ranks.slice(), k),
        (v) => readRecord(v, "{ hitRate, ndcg }", call),
      );
      for (const key of ["hitRate", "ndcg"]) {
        if (typeof record[key] !== "number") {
          throw new AnswerError(`${call}: ${key} should be a number, got ${describeValue(record[key])}`);
        }
      }
      return { call, values: [record.hitRate as number, record.ndcg as number] };
    });
    // (1/log₂(1) is Infinity: equal infinities agree.)
    const same = (a: number, b: number) => a === b || sameNumber(a, b);
    const agrees = (v: RankVariant) =>
      cases.every((c, k) => rankReference(...c, v).every((x, m) => same(got[k].values[m], x)));
    if (agrees("")) return null;
    const wrong = cases.findIndex((c, k) => !rankReference(...c).every((x, m) => sameNumber(got[k].values[m], x)));
    const [hr, ndcg] = got[wrong].values;
    return mistakeExplaining(
      RANK_MISTAKES,
      agrees,
      `${got[wrong].call} returned hitRate ${formatNumber(hr)}, ndcg ${formatNumber(ndcg)}`,
    );
  },
});

// ---- 07.4 -------------------------------------------------------------------------------------------

type MaskVariant = "" | "transposed" | "padding ignored" | "padded queries" | "causal ignored";

function maskReference(tokens: number[], causal: boolean, variant: MaskVariant = ""): number[] {
  const t = tokens.length;
  const out: number[] = [];
  for (let q = 0; q < t; q++) {
    for (let s = 0; s < t; s++) {
      const padded =
        variant === "padding ignored" ? false : variant === "padded queries" ? tokens[q] === PAD : tokens[s] === PAD;
      const future = !causal || variant === "causal ignored" ? false : variant === "transposed" ? s < q : s > q;
      out.push(padded || future ? 0 : 1);
    }
  }
  return out;
}

const MASK_MISTAKES: [MaskVariant, string][] = [
  ["transposed", "in the causal mask, query t may see the keys s ≤ t (the past), not the future"],
  ["causal ignored", "with causal true, the keys after the query are blocked too"],
  ["padding ignored", "no query may attend to a [PAD] key (token id 0)"],
  ["padded queries", "padding blocks the [PAD] keys (columns), whatever the query"],
];

const attentionMask = exercise<AttentionMask>({
  title: "the attention mask of a padded sequence",
  hint: "entry [t][s] is 1 when key s is not [PAD] and, if causal, s ≤ t; otherwise 0",
  validate(answer) {
    const f = expectFunction(answer, "(tokenIds, causal) => mask [T, T]");
    const cases: [number[], boolean][] = [
      [[0, 0, 5, 9, 1, 7], false],
      [[0, 0, 5, 9, 1, 7], true],
      [[3, 8, 2, 4], true],
      [[0, 12, 6, 1, 11], false],
      [[0, 0, 0, 4, 6, 5, 2], true],
    ];
    const got = cases.map(([tokens, causal]) => {
      const call = `attentionMask([${tokens.join(", ")}], ${causal})`;
      const values = callAnswer(
        call,
        () => f(tokens.slice(), causal),
        (v) => readValues(v, `what ${call} returned`),
      );
      const t = tokens.length;
      const shape = values.shape.filter((d, i) => !(d === 1 && i < values.shape.length - 2));
      if (shape.join() !== [t, t].join()) {
        throw new AnswerError(
          `what ${call} returned has shape [${values.shape.join(", ")}]`,
          `one row per query and one column per key: [${t}, ${t}]`,
        );
      }
      return { call, values: values.data };
    });
    const agrees = (v: MaskVariant) => cases.every((c, k) => sameList(got[k].values, maskReference(...c, v)));
    if (agrees("")) return null;
    const wrong = cases.findIndex((c, k) => !sameList(got[k].values, maskReference(...c)));
    const t = cases[wrong][0].length;
    const rows = Array.from({ length: t }, (_, q) => `[${got[wrong].values.slice(q * t, (q + 1) * t).join(" ")}]`);
    return mistakeExplaining(MASK_MISTAKES, agrees, `${got[wrong].call} returned ${rows.join(" ")}`);
  },
});

export const NB07_EXERCISES = {
  "07.1": leaveOneOut,
  "07.2": clozeInput,
  "07.3": hitRateNdcg,
  "07.4": attentionMask,
};
