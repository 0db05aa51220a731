// The two checks every numeric test needs, written once: closeness of numbers (or arrays of them)
// within an absolute plus relative tolerance, and that a piece of code leaves no tfjs tensor behind.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

export interface Tolerance {
  /** Absolute part. Default 1e-6. */
  atol?: number;
  /** Relative part, times |expected|. Default 1e-5. */
  rtol?: number;
}

/**
 * Asserts |actual − expected| <= atol + rtol·|expected| for a number or element-wise for arrays of
 * equal length (numpy's `allclose` rule). A NaN matches only a NaN, so a metric that should be
 * undefined is checked too.
 */
export function assertClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  tolerance: Tolerance = {},
  what = "",
): void {
  const atol = tolerance.atol ?? 1e-6;
  const rtol = tolerance.rtol ?? 1e-5;
  const scalar = typeof expected === "number";
  if (scalar !== (typeof actual === "number")) assert.fail(`${what} compared a number with an array`);
  const a = (scalar ? [actual] : actual) as ArrayLike<number>;
  const e = (scalar ? [expected] : expected) as ArrayLike<number>;
  assert.equal(a.length, e.length, `${what} lengths differ`);
  for (let i = 0; i < e.length; i++) {
    const where = [what, scalar ? "" : `element ${i}`].filter((part) => part !== "").join(" ") || "value";
    if (Number.isNaN(e[i]) || Number.isNaN(a[i])) {
      if (!(Number.isNaN(e[i]) && Number.isNaN(a[i]))) assert.fail(`${where}: ${a[i]} vs expected ${e[i]}`);
      continue;
    }
    const limit = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(a[i] - e[i]) <= limit)) assert.fail(`${where}: ${a[i]} vs expected ${e[i]} (limit ${limit})`);
  }
}

/**
 * Runs `run` and asserts that the number of live tensors is what it was before (plus `created`, for
 * code meant to keep some, like a constructor). Returns what `run` returned.
 */
export async function assertNoLeak<T>(run: () => T | Promise<T>, what = "tensors leaked", created = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await run();
  assert.equal(tf.memory().numTensors, before + created, what);
  return result;
}
