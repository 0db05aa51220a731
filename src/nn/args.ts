// Checks of the arguments that the nn layers are built from. A bad value fails at construction, with an
// error that names the layer class and the field, rather than as a shape error deep inside a matMul.

import type * as tf from "@tensorflow/tfjs";

/** `value` if it is an integer >= `min`; throws otherwise. */
export function checkInteger(owner: string, field: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${owner}: ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` if it is a number in [0, 1); throws otherwise. */
export function checkRate(owner: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Error(`${owner}: ${field} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` if it is a finite number > 0; throws otherwise. */
export function checkPositive(owner: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${owner}: ${field} must be a finite number > 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` if it is one of `choices`; throws otherwise. */
export function checkChoice<T extends string>(owner: string, field: string, value: unknown, choices: readonly T[]): T {
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) {
    throw new Error(`${owner}: ${field} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${JSON.stringify(value)}`);
  }
  return choice;
}

/**
 * The layer's seed. Seeds are required: tfjs would otherwise draw initial weights and dropout masks from
 * Math.random, and a notebook's numbers would change from run to run.
 */
export function checkSeed(owner: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${owner}: seed must be a finite number (seeds are explicit in recsys-ts), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The input shape(s) that tfjs passes to build/computeOutputShape, as a list. */
export function shapeList(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
  return inputShape.length > 0 && Array.isArray(inputShape[0]) ? (inputShape as tf.Shape[]) : [inputShape as tf.Shape];
}
