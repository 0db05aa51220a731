// What an exercise is, and the helpers its check uses to read a learner's answer.
//
// A check never compares the learner's code with the course's solution: it runs the answer (usually a
// function) on inputs of its own and compares the result with a reference computed independently here,
// in plain loops, or tests a property the answer must have (rows sum to 1, no weight on the future, the
// same draws for the same seed). So a check accepts every correct solution, and the messages it returns
// say what is wrong in terms of the task, never what the solution is.

import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../backend/random";

/** What is wrong with an answer: a sentence, or a sentence with a hint more specific than the exercise's. */
export type Problem = string | { problem: string; hint: string };

export interface Exercise<Answer> {
  /** A few words naming the task ("causal attention weights"), printed with the verdict. */
  title: string;
  /** Printed with every failure that has no hint of its own: where to look, never the solution. */
  hint: string;
  /** null when `answer` is right, else what is wrong. Must not print or keep state: tests call it freely. */
  validate(answer: Answer): Problem | null;
}

/** Declares an exercise; the type parameter is the answer the learner passes to `check`. */
export function exercise<Answer>(spec: Exercise<Answer>): Exercise<Answer> {
  return spec;
}

/** Thrown by the helpers below when an answer cannot be read; `evaluate` turns it into a failure. */
export class AnswerError extends Error {
  constructor(
    readonly problem: string,
    readonly hint?: string,
  ) {
    super(problem);
    this.name = "AnswerError";
  }
}

/** `answer` if it is a function, else an AnswerError naming what the exercise expects. */
export function expectFunction<F>(answer: F, signature: string): F {
  if (typeof answer !== "function") {
    throw new AnswerError(`expected a function ${signature}, got ${describeValue(answer)}`);
  }
  return answer;
}

/**
 * Calls the learner's function inside a tfjs scope (so that neither its tensors nor ours outlive the
 * check) and reads what it returns with `read`. A throw from the learner's code becomes a failure that
 * quotes its message.
 */
export function callAnswer<R>(what: string, call: () => unknown, read: (value: unknown) => R): R {
  tf.engine().startScope();
  try {
    let value: unknown;
    try {
      value = call();
    } catch (error) {
      throw new AnswerError(`${what} threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    return read(value);
  } finally {
    tf.engine().endScope();
  }
}

/** Nested number arrays with their shape, read from a tensor, a typed array or nested arrays. */
export interface Values {
  shape: number[];
  /** Row-major. */
  data: number[];
}

/** Reads a tensor, a number array or nested arrays of numbers; an AnswerError for anything else. */
export function readValues(value: unknown, what: string): Values {
  if (value instanceof tf.Tensor) {
    return { shape: value.shape.slice(), data: Array.from(value.dataSync() as ArrayLike<number>) };
  }
  if (typeof value === "number") return { shape: [], data: [value] };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return {
      shape: [(value as unknown as ArrayLike<number>).length],
      data: Array.from(value as unknown as ArrayLike<number>),
    };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { shape: [0], data: [] };
    const rows = value.map((row, i) => readValues(row, `${what}[${i}]`));
    const inner = rows[0].shape;
    if (rows.some((row) => row.shape.join() !== inner.join())) {
      throw new AnswerError(`${what} is a ragged array: its rows have different shapes`);
    }
    return { shape: [value.length, ...inner], data: rows.flatMap((row) => row.data) };
  }
  throw new AnswerError(`${what} should be a tensor or an array of numbers, got ${describeValue(value)}`);
}

/** `values` with leading axes of size 1 dropped, so that [1, 1, T, T] reads as [T, T]. */
export function squeezeLeading(values: Values, rank: number): Values {
  const shape = values.shape.slice();
  while (shape.length > rank && shape[0] === 1) shape.shift();
  return { shape, data: values.data };
}

/** An AnswerError unless `values` has exactly `shape`. */
export function expectShape(values: Values, shape: number[], what: string, hint?: string): void {
  if (values.shape.join() !== shape.join()) {
    throw new AnswerError(`${what} should have shape [${shape.join(", ")}], got [${values.shape.join(", ")}]`, hint);
  }
}

/** The largest |a[i] − b[i]| and where it is (NaN anywhere counts as an infinite difference). */
export function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): { value: number; index: number } {
  let value = 0;
  let index = -1;
  for (let i = 0; i < b.length; i++) {
    const diff = Number.isNaN(a[i]) || Number.isNaN(b[i]) ? Infinity : Math.abs(a[i] - b[i]);
    if (diff > value || index < 0) {
      value = diff;
      index = i;
    }
  }
  return { value, index };
}

/** True when every |a[i] − b[i]| <= atol + rtol·|b[i]| (numpy's allclose), lengths equal. */
export function allClose(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-5, rtol = 1e-5): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) return false;
  }
  return true;
}

/** A number as a message shows it: short, exact enough to compare by eye. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0 || (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6)) return String(Number(x.toPrecision(6)));
  return x.toExponential(3);
}

/** A short description of a value of the wrong kind: its type, or its class, or its length. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape.join(", ")}]`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return `an object (${(value as object).constructor?.name ?? "Object"})`;
  return `${typeof value} ${String(value)}`;
}

/** Calls `f` (the learner's) and reads a finite-or-NaN number from what it returns; an AnswerError otherwise. */
export function callForNumber(call: string, f: () => unknown): number {
  const value = callAnswer(call, f, (v) => (v instanceof tf.Tensor && v.size === 1 ? v.dataSync()[0] : v));
  if (typeof value !== "number") throw new AnswerError(`${call} should return a number, got ${describeValue(value)}`);
  return value;
}

/** Whether `got` and `expected` agree to a relative 1e-9 (absolute 1e-12 near zero). */
export function sameNumber(got: number, expected: number, rtol = 1e-9): boolean {
  return Math.abs(got - expected) <= 1e-12 + rtol * Math.abs(expected);
}

/** n draws from N(0, std²) of a seeded Rng: a check's own inputs. */
export function normalDraws(rng: Rng, n: number, std = 1): number[] {
  return Array.from({ length: n }, () => rng.normal(0, std));
}

/**
 * `problem`, with the hint of the first mistake that explains every case (`agrees(variant)` is true when
 * the answer matches the reference computed with that mistake), or alone when none does.
 */
export function mistakeExplaining<V extends string>(
  mistakes: [V, string][],
  agrees: (variant: V) => boolean,
  problem: string,
): Problem {
  const mistake = mistakes.find(([variant]) => agrees(variant));
  return mistake === undefined ? problem : { problem, hint: mistake[1] };
}

/** `value` as a record of fields, or an AnswerError saying the answer should be `{ fields }`. */
export function readRecord(value: unknown, fields: string, call: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof tf.Tensor) {
    throw new AnswerError(`${call} should return ${fields}, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** The number in field `key`, or an AnswerError naming the field. */
export function readNumberField(record: Record<string, unknown>, key: string, call: string): number {
  const value = record[key];
  if (typeof value !== "number")
    throw new AnswerError(`${call}: ${key} should be a number, got ${describeValue(value)}`);
  return value;
}

/** The flat list of numbers in field `key` (of `size` entries when given), or an AnswerError naming the field. */
export function readListField(record: Record<string, unknown>, key: string, call: string, size?: number): number[] {
  const values = readValues(record[key], `${call}'s ${key}`);
  if (values.shape.length !== 1 || (size !== undefined && values.shape[0] !== size)) {
    const wanted = size === undefined ? "a flat list" : `${size} entries`;
    throw new AnswerError(`${call}: ${key} should have ${wanted}, got shape [${values.shape.join(", ")}]`);
  }
  return values.data;
}
