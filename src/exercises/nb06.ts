// Notebook 06's exercises: the 80/10/10 corruption of the positions chosen for the masked language model, the
// MLM loss over those positions only, WordPiece's greedy longest-match split of one word, and next-sentence
// pairs. Each check runs the learner's function on inputs of its own (a vocabulary of its own for WordPiece)
// and compares what it returns with a reference computed here in plain loops, or tests the properties the
// answer must have (NSP: its own A, its own B exactly when IsNext, about half of each, the same for a seed).

import * as tf from "@tensorflow/tfjs";
import type { TextPair } from "../data/bertPretraining";
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

/**
 * 06.1: the input the model sees after corrupting the positions `chosen` of `tokens`: at chosen[j], with the
 * uniform draw draws[j], [MASK] (maskId) 80% of the time, the random token randomTokens[j] 10%, the token
 * itself 10%; every other position unchanged.
 */
export type CorruptForMlm = (
  tokens: number[],
  chosen: number[],
  draws: number[],
  randomTokens: number[],
  maskId: number,
) => ArrayLike<number>;

/** 06.2: the mean cross-entropy of logits [T][V] against labels [T] over the positions whose weight is 1. */
export type MaskedLmLoss = (logits: number[][], labels: number[], weights: number[]) => number | tf.Tensor;

/** 06.3: WordPiece's pieces of one word, greedy longest match first, "##" on continuations, ["[UNK]"] if stuck. */
export type WordPieces = (word: string, vocab: Set<string>) => string[];

/** 06.4: one next-sentence pair per document, IsNext or NotNext with probability ½ each, drawn from `seed`. */
export type NspPairs = (documents: TextPair[], seed: number) => { a: string; b: string; isNext: boolean }[];

// ---- 06.1 -------------------------------------------------------------------------------------------

const MASK_ID = 4;
const CORRUPT_CASES: { tokens: number[]; chosen: number[]; draws: number[]; random: number[] }[] = [
  { tokens: [11, 12, 13, 14, 15, 16, 17, 18], chosen: [1, 4, 6], draws: [0.35, 0.85, 0.95], random: [40, 41, 42] },
  { tokens: [20, 21, 22, 23, 24, 25], chosen: [0, 2, 3, 5], draws: [0.05, 0.93, 0.82, 0.71], random: [50, 51, 52, 53] },
  {
    tokens: [30, 31, 32, 33, 34, 35, 36],
    chosen: [2, 3, 4, 6],
    draws: [0.15, 0.895, 0.55, 0.999],
    random: [60, 61, 62, 63],
  },
  { tokens: [7, 8, 9, 10, 11], chosen: [3], draws: [0.12], random: [70] },
];

function corruptReference(c: (typeof CORRUPT_CASES)[number], rule = "80/10/10"): number[] {
  const out = c.tokens.slice();
  c.chosen.forEach((t, j) => {
    const u = c.draws[j];
    if (rule === "80/10/10") out[t] = u < 0.8 ? MASK_ID : u < 0.9 ? c.random[j] : c.tokens[t];
    else if (rule === "keep before random") out[t] = u < 0.8 ? MASK_ID : u < 0.9 ? c.tokens[t] : c.random[j];
    else if (rule === "always mask") out[t] = MASK_ID;
    else if (rule === "80/20") out[t] = u < 0.8 ? MASK_ID : c.random[j];
    else if (rule === "10/10/80") out[t] = u < 0.1 ? MASK_ID : u < 0.2 ? c.random[j] : c.tokens[t];
  });
  return out;
}

const CORRUPT_MISTAKES: [string, string][] = [
  ["keep before random", "a draw in [0.8, 0.9) takes the random token, one in [0.9, 1) keeps the token"],
  [
    "always mask",
    "only draws below 0.8 give [MASK]; the other 20% are split between a random token and the token itself",
  ],
  ["80/20", "the last 20% are split: [0.8, 0.9) a random token, [0.9, 1) the token kept as it is"],
  ["10/10/80", "80% of the chosen positions become [MASK]: draws below 0.8"],
];

const corruptForMlm = exercise<CorruptForMlm>({
  title: "the 80/10/10 corruption of the chosen positions",
  hint: "for each chosen position: a draw below 0.8 gives [MASK], from 0.8 to 0.9 the random token, 0.9 and above the token itself",
  validate(answer) {
    const f = expectFunction(answer, "(tokens, chosen, draws, randomTokens, maskId) => corrupted tokens");
    for (const c of CORRUPT_CASES) {
      const call = `corruptForMlm([${c.tokens.join(", ")}], [${c.chosen.join(", ")}], [${c.draws.join(", ")}], [${c.random.join(", ")}], ${MASK_ID})`;
      const got = callAnswer(
        call,
        () => f(c.tokens.slice(), c.chosen.slice(), c.draws.slice(), c.random.slice(), MASK_ID),
        (value) => readValues(value, `what ${call} returned`),
      );
      if (got.shape.join() !== [c.tokens.length].join()) {
        throw new AnswerError(
          `${call} returned shape [${got.shape.join(", ")}]`,
          "return the whole sequence, one token per input position",
        );
      }
      const expected = corruptReference(c);
      const wrong = expected.findIndex((x, t) => got.data[t] !== x);
      if (wrong < 0) continue;
      const problem = `${call} returned [${got.data.join(", ")}]`;
      if (!c.chosen.includes(wrong)) {
        return {
          problem: `${problem}: position ${wrong} was not chosen, yet it changed`,
          hint: "positions not in `chosen` are left as they are",
        };
      }
      for (const [rule, hint] of CORRUPT_MISTAKES) {
        const variant = corruptReference(c, rule);
        if (variant.every((x, t) => got.data[t] === x)) return { problem, hint };
      }
      return problem;
    }
    return null;
  },
});

// ---- 06.2 -------------------------------------------------------------------------------------------

function crossEntropies(logits: number[][], labels: number[]): number[] {
  return logits.map((row, t) => {
    const top = Math.max(...row);
    const logSum = top + Math.log(row.reduce((s, x) => s + Math.exp(x - top), 0));
    return logSum - row[labels[t]];
  });
}

function mlmLossCase(seed: number, t: number, vocab: number, predicted: number[]) {
  // A small deterministic generator (sin hash): no Rng needed for a handful of numbers.
  let k = seed;
  const next = () => {
    const x = Math.sin(++k * 12.9898) * 43758.5453;
    return x - Math.floor(x);
  };
  const logits = Array.from({ length: t }, () => Array.from({ length: vocab }, () => 6 * next() - 3));
  const labels = Array.from({ length: t }, () => Math.floor(next() * vocab));
  const weights = Array.from({ length: t }, (_, i) => (predicted.includes(i) ? 1 : 0));
  return { logits, labels, weights };
}

const MLM_CASES = [mlmLossCase(1, 6, 5, [1, 4]), mlmLossCase(2, 8, 7, [0, 3, 5]), mlmLossCase(3, 4, 3, [2])];

const maskedLmLoss = exercise<MaskedLmLoss>({
  title: "the MLM loss over the masked positions only",
  hint: "at each position with weight 1: −log softmax(logits)[label]; sum them and divide by the number of weight-1 positions",
  validate(answer) {
    const f = expectFunction(answer, "(logits, labels, weights) => loss");
    for (const c of MLM_CASES) {
      const [t, vocab] = [c.logits.length, c.logits[0].length];
      const call = `maskedLmLoss(logits [${t}][${vocab}], labels [${c.labels.join(", ")}], weights [${c.weights.join(", ")}])`;
      const got = callForNumber(call, () =>
        f(
          c.logits.map((r) => r.slice()),
          c.labels.slice(),
          c.weights.slice(),
        ),
      );
      const ce = crossEntropies(c.logits, c.labels);
      const masked = ce.filter((_, i) => c.weights[i] === 1);
      const expected = masked.reduce((s, x) => s + x, 0) / masked.length;
      if (sameNumber(got, expected, 1e-5)) continue;
      const problem = `${call} returned ${formatNumber(got)}`;
      const all = ce.reduce((s, x) => s + x, 0) / t;
      const maskedSum = masked.reduce((s, x) => s + x, 0);
      if (sameNumber(got, all, 1e-5))
        return {
          problem: `${problem}, the mean over every position`,
          hint: "only the chosen positions are predicted: weight each position's loss and average over the weight-1 positions",
        };
      if (sameNumber(got, maskedSum / t, 1e-5))
        return {
          problem: `${problem}, divided by all ${t} positions`,
          hint: "divide by the number of predicted positions (the sum of the weights), not by the length",
        };
      if (sameNumber(got, maskedSum, 1e-5))
        return { problem: `${problem}, a sum`, hint: "the loss is the mean over the predicted positions" };
      const raw = c.labels.map((l, i) => -c.logits[i][l]).filter((_, i) => c.weights[i] === 1);
      if (sameNumber(got, raw.reduce((s, x) => s + x, 0) / raw.length, 1e-5)) {
        return {
          problem: `${problem}, the mean of −logit`,
          hint: "take the log-softmax of the logits first: subtract the log of the sum of their exponentials",
        };
      }
      return problem;
    }
    return null;
  },
});

// ---- 06.3 -------------------------------------------------------------------------------------------

function wordPieceReference(word: string, vocab: Set<string>, longestFirst = true, prefix = "##"): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < word.length) {
    let found: string | null = null;
    if (longestFirst) {
      for (let end = word.length; end > start && found === null; end--) {
        const piece = (start > 0 ? prefix : "") + word.slice(start, end);
        if (vocab.has(piece)) found = piece;
      }
    } else {
      for (let end = start + 1; end <= word.length && found === null; end++) {
        const piece = (start > 0 ? prefix : "") + word.slice(start, end);
        if (vocab.has(piece)) found = piece;
      }
    }
    if (found === null) return ["[UNK]"];
    pieces.push(found);
    start += found.length - (start > 0 ? prefix.length : 0);
  }
  return pieces;
}

const WORDPIECE_VOCAB = new Set([
  "u",
  "un",
  "una",
  "a",
  "aff",
  "able",
  "##a",
  "##aff",
  "##affa",
  "##able",
  "##b",
  "##l",
  "##e",
  "##n",
  "##f",
  "book",
  "books",
  "##s",
  "##book",
  "##ing",
  "read",
  "re",
  "##ad",
  "##read",
  "x",
  "##x",
  "ab",
  "##c",
  "abc",
  "##bd",
]);
const WORDPIECE_CASES = [
  "unaffable",
  "books",
  "rereading",
  "reading",
  "abc",
  "xx",
  "bookbooks",
  "unq",
  "zebra",
  "unaffa",
  "reread",
  "abd",
];

const wordPieces = exercise<WordPieces>({
  title: "WordPiece's greedy longest match",
  hint: 'from the word\'s start take the longest piece in the vocabulary, then from where it ends the longest "##" piece, and so on; no piece fits: the whole word is [UNK]',
  validate(answer) {
    const f = expectFunction(answer, "(word, vocab) => pieces");
    for (const word of WORDPIECE_CASES) {
      const call = `wordPieces("${word}", vocab)`;
      const got = callAnswer(
        call,
        () => f(word, new Set(WORDPIECE_VOCAB)),
        (value) => value,
      );
      if (!Array.isArray(got) || got.some((p) => typeof p !== "string")) {
        throw new AnswerError(`${call} should return an array of strings, got ${describeValue(got)}`);
      }
      const expected = wordPieceReference(word, WORDPIECE_VOCAB);
      if (got.join(" ") === expected.join(" ")) continue;
      const problem = `${call} returned [${got.join(", ")}] (vocabulary: ${[...WORDPIECE_VOCAB].join(" ")})`;
      if (got.join(" ") === wordPieceReference(word, WORDPIECE_VOCAB, false).join(" ")) {
        return {
          problem,
          hint: "take the longest piece that matches, not the shortest: try the ends from the word's end backwards",
        };
      }
      if (expected[0] === "[UNK]" && got.includes("[UNK]")) {
        return {
          problem,
          hint: "WordPiece does not backtrack: when no piece fits at some point, the whole word becomes the single [UNK]",
        };
      }
      if (got.some((p, i) => i > 0 && p !== "[UNK]" && !p.startsWith("##"))) {
        return { problem, hint: 'a piece that continues a word is looked up, and returned, with its "##" prefix' };
      }
      if (expected[0] === "[UNK]") {
        return {
          problem,
          hint: "WordPiece does not backtrack: when no piece fits at some point, the whole word becomes the single [UNK]",
        };
      }
      return problem;
    }
    return null;
  },
});

// ---- 06.4 -------------------------------------------------------------------------------------------

function nspDocuments(n: number): TextPair[] {
  return Array.from({ length: n }, (_, i) => ({ a: `title ${i}`, b: `tags of ${i}` }));
}

const nspPairs = exercise<NspPairs>({
  title: "next-sentence pairs",
  hint: "for document i, with probability ½ pair its A with its own B (IsNext), else with the B of a document j ≠ i drawn uniformly (NotNext); draw from an Rng created from the seed",
  validate(answer) {
    const f = expectFunction(answer, "(documents, seed) => pairs");
    const run = (docs: TextPair[], seed: number) => {
      const call = `nspPairs(${docs.length} documents, ${seed})`;
      const got = callAnswer(
        call,
        () =>
          f(
            docs.map((d) => ({ ...d })),
            seed,
          ),
        (value) => value,
      );
      if (!Array.isArray(got))
        throw new AnswerError(`${call} should return an array of { a, b, isNext }, got ${describeValue(got)}`);
      if (got.length !== docs.length) {
        throw new AnswerError(`${call} returned ${got.length} pairs`, "one pair per document, in the documents' order");
      }
      got.forEach((p: { a?: unknown; b?: unknown; isNext?: unknown }, i) => {
        if (
          p === null ||
          typeof p !== "object" ||
          typeof p.a !== "string" ||
          typeof p.b !== "string" ||
          typeof p.isNext !== "boolean"
        ) {
          throw new AnswerError(
            `${call}: pair ${i} is ${describeValue(p)}, not { a: string, b: string, isNext: boolean }`,
          );
        }
      });
      return { call, pairs: got as { a: string; b: string; isNext: boolean }[] };
    };
    const many = nspDocuments(400);
    let total = 0;
    let isNext = 0;
    for (const [docs, seeds] of [
      [many, [1, 2]],
      [nspDocuments(3), Array.from({ length: 40 }, (_, s) => 100 + s)],
    ] as [TextPair[], number[]][]) {
      for (const seed of seeds) {
        const { call, pairs } = run(docs, seed);
        for (let i = 0; i < docs.length; i++) {
          const p = pairs[i];
          if (p.a !== docs[i].a)
            return {
              problem: `${call}: pair ${i} has A "${p.a}"`,
              hint: "every pair keeps its own document's A, in order",
            };
          if (p.isNext && p.b !== docs[i].b)
            return {
              problem: `${call}: pair ${i} is IsNext with B "${p.b}"`,
              hint: "an IsNext pair is the document's own A and B",
            };
          if (!p.isNext && p.b === docs[i].b) {
            return {
              problem: `${call}: pair ${i} is NotNext with its own B`,
              hint: "draw the NotNext partner among the other documents: j ≠ i",
            };
          }
          if (!p.isNext && !docs.some((d) => d.b === p.b)) return `${call}: pair ${i} has a B that is no document's`;
          total++;
          if (p.isNext) isNext++;
        }
      }
    }
    const share = isNext / total;
    if (share < 0.4 || share > 0.6) {
      return {
        problem: `${formatNumber(100 * share)}% of ${total} pairs are IsNext`,
        hint: "IsNext and NotNext are drawn with probability ½ each",
      };
    }
    const again = run(many, 1).pairs;
    const first = run(many, 1).pairs;
    if (again.some((p, i) => p.b !== first[i].b || p.isNext !== first[i].isNext)) {
      return {
        problem: "two calls with seed 1 gave different pairs",
        hint: "create the Rng from the seed inside the function; Math.random cannot be replayed",
      };
    }
    const other = run(many, 2).pairs;
    if (other.every((p, i) => p.isNext === first[i].isNext && p.b === first[i].b)) {
      return { problem: "seeds 1 and 2 gave the same pairs", hint: "draw from an Rng created from the seed argument" };
    }
    return null;
  },
});

export const NB06_EXERCISES = {
  "06.1": corruptForMlm,
  "06.2": maskedLmLoss,
  "06.3": wordPieces,
  "06.4": nspPairs,
};
