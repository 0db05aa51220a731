// Shared by the tests of the factorisation models: a central-difference gradient check of a scalar
// loss against tf.grads, and a random planted low-rank rating matrix.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import { makeInteractions } from "../eval/fixtures";

/**
 * Asserts that tf.grads(f) matches (f(x + εe_k) − f(x − εe_k)) / 2ε for every entry k of every input,
 * within `tolerance` relative to max(1, |analytic|) (float32 arithmetic). Disposes what it makes.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  xs: tf.Tensor[],
  epsilon = 1e-2,
  tolerance = 1e-2,
): void {
  const grads = tf.grads(f)(xs);
  const analytic = grads.map((g) => g.dataSync());
  tf.dispose(grads);
  const evaluate = (inputs: tf.Tensor[]): number => tf.tidy(() => f(...inputs).dataSync()[0]);
  xs.forEach((x, a) => {
    const base = x.dataSync();
    for (let k = 0; k < base.length; k++) {
      const shifted = (delta: number): number => {
        const values = Float32Array.from(base);
        values[k] += delta;
        const moved = tf.tensor(values, x.shape, "float32");
        const value = evaluate(xs.map((other, b) => (b === a ? moved : other)));
        moved.dispose();
        return value;
      };
      const numeric = (shifted(epsilon) - shifted(-epsilon)) / (2 * epsilon);
      const expected = analytic[a][k];
      assert.ok(
        Math.abs(numeric - expected) <= tolerance * Math.max(1, Math.abs(expected)),
        `input ${a}, entry ${k}: tf.grads gives ${expected}, central differences ${numeric}`,
      );
    }
  });
}

/** An [rows × cols] tensor of N(0, std²) draws from `rng`. */
export function randomTensor(rng: Rng, shape: number[], std: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.normal(0, std)),
    shape,
    "float32",
  );
}

/**
 * Ratings r_ui = 3 + p_uᵀq_i (no noise, not rounded) of a random fraction `density` of the pairs of a
 * rank-`rank` matrix with N(0, 1/√rank) factors, in random row order.
 */
export function plantedRatings(
  seed: number,
  numUsers: number,
  numItems: number,
  rank: number,
  density: number,
): Interactions {
  const rng = new Rng(seed);
  const std = 1 / Math.sqrt(Math.sqrt(rank));
  const p = Float64Array.from({ length: numUsers * rank }, () => rng.normal(0, std));
  const q = Float64Array.from({ length: numItems * rank }, () => rng.normal(0, std));
  const rows: [number, number, number][] = [];
  for (let u = 0; u < numUsers; u++) {
    for (let i = 0; i < numItems; i++) {
      if (rng.next() >= density) continue;
      let dot = 0;
      for (let f = 0; f < rank; f++) dot += p[u * rank + f] * q[i * rank + f];
      rows.push([u, i, 3 + dot]);
    }
  }
  const order = rng.permutation(rows.length);
  return makeInteractions(
    Array.from(order, (r) => rows[r]),
    numUsers,
    numItems,
    `planted-${seed}`,
  );
}
