// Argument checks, all with one argument order (caller, field, value): a bad value fails where it is
// passed in, with an error that names the function or class, the field and the value, rather than
// as a NaN or a shape error deep inside a loop or a matMul. Each returns the value it accepted.

/** `value` if it is an integer >= 1. */
export function checkPositiveInteger(caller: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`${caller}: ${field} must be a positive integer, got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is an integer >= `min` (a count when `min` is 0). */
export function checkInteger(caller: string, field: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${caller}: ${field} must be an integer >= ${min}, got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is a finite number. */
export function checkFinite(caller: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${caller}: ${field} must be a finite number, got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is a finite number >= 0. */
export function checkNonNegative(caller: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !(Number.isFinite(value) && value >= 0)) {
    throw new Error(`${caller}: ${field} must be a finite number >= 0, got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is a finite number > 0. */
export function checkPositive(caller: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${caller}: ${field} must be a finite number > 0, got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is a number in [0, 1) (a dropout rate). */
export function checkRate(caller: string, field: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Error(`${caller}: ${field} must be a number in [0, 1), got ${formatValue(value)}`);
  }
  return value;
}

/** `value` if it is one of `choices`. */
export function checkChoice<T extends string>(caller: string, field: string, value: unknown, choices: readonly T[]): T {
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) {
    throw new Error(
      `${caller}: ${field} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${formatValue(value)}`,
    );
  }
  return choice;
}

/**
 * A seed. Seeds are required: tfjs would otherwise draw initial weights and dropout masks from
 * Math.random, and a notebook's numbers would change from run to run.
 */
export function checkSeed(caller: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(
      `${caller}: seed must be a finite number (seeds are explicit in recsys-ts), got ${formatValue(value)}`,
    );
  }
  return value;
}

/** Throws unless the (users[j], items[j]) pairs line up. */
export function checkPairs(caller: string, users: ArrayLike<number>, items: ArrayLike<number>): void {
  if (users.length !== items.length) {
    throw new Error(`${caller}: users and items must have the same length, got ${users.length} and ${items.length}`);
  }
}

/** A number as JavaScript prints it (NaN, 1.5), anything else as JSON ("3", null). */
function formatValue(value: unknown): string {
  return typeof value === "number" || value === undefined ? String(value) : JSON.stringify(value);
}

/** `value`, or an Error saying which model must be fitted first. */
export function requireFitted<T>(model: string, value: T | null): T {
  if (value === null) throw new Error(`${model}: call fit(train) before using the model`);
  return value;
}
