// Helpers shared by the tests of src/nn: seeded random tensors, numerical gradient
// checks (central differences against tfjs's autodiff) and reloading checks. (assertClose and assertNoLeak
// are in test/support/assertions.ts.)

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";
import { fileSystemIO } from "../../src/nn/fileSystemIO";

/** A float32 tensor of N(0, std²) draws from `rng`. */
export function normalTensor(rng: Rng, shape: number[], std = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.normal(0, std)),
    shape,
  );
}

/** Reads a tensor's values and disposes it. */
export function take(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(values);
}

export interface GradientCheckOptions {
  /** Central-difference step; default 1e-2 (float32 arithmetic: smaller steps drown in rounding). */
  step?: number;
  /** Elements checked per variable, chosen at random; default 10. */
  perVariable?: number;
  /** Passes when |numerical − analytic| <= atol + rtol·max(|numerical|, |analytic|). */
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Compares tf.variableGrads of `loss` with central differences (f(v + h) − f(v − h)) / 2h at a random
 * subset of each variable's elements. Inputs are checked the same way by wrapping them in variables.
 */
export function checkGradients(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  options: GradientCheckOptions = {},
): void {
  const step = options.step ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 2e-2;
  const rng = new Rng(options.seed ?? 1);
  const { value, grads } = tf.variableGrads(loss, variables);
  value.dispose();
  const evaluate = () => tf.tidy(() => loss().dataSync()[0]);
  let checked = 0;
  for (const variable of variables) {
    const gradient = grads[variable.name];
    assert.ok(gradient !== undefined, `no gradient for ${variable.name}`);
    const analytic = take(gradient);
    const original = Float32Array.from(variable.dataSync() as Float32Array);
    const count = Math.min(options.perVariable ?? 10, original.length);
    const indices = rng.permutation(original.length).subarray(0, count);
    for (const i of indices) {
      const perturbed = Float32Array.from(original);
      perturbed[i] = original[i] + step;
      assignValues(variable, perturbed);
      const plus = evaluate();
      perturbed[i] = original[i] - step;
      assignValues(variable, perturbed);
      const minus = evaluate();
      assignValues(variable, original);
      const numerical = (plus - minus) / (2 * step);
      const limit = atol + rtol * Math.max(Math.abs(numerical), Math.abs(analytic[i]));
      if (!(Math.abs(numerical - analytic[i]) <= limit)) {
        assert.fail(`${variable.name}[${i}]: numerical ${numerical} vs analytic ${analytic[i]}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 0, "no element was checked");
}

function assignValues(variable: tf.Variable, values: Float32Array): void {
  tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
}

/** The layer's trainable weights as tf.Variables (what optimizers and variableGrads take). */
export function variablesOf(layer: tf.layers.Layer): tf.Variable[] {
  return layer.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Fills every weight of `layer` with N(0, std²) draws, so that a test does not depend on the initialiser. */
export function randomizeWeights(layer: tf.layers.Layer, rng: Rng, std = 0.5): void {
  const values = layer.weights.map((w) => normalTensor(rng, w.shape as number[], std));
  layer.setWeights(values);
  tf.dispose(values);
}

/** Plain nested arrays → Float64 loops: out[i][j] = Σ_k a[i][k]·b[k][j]. */
export function matMulRows(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((sum, v, k) => sum + v * b[k][j], 0)));
}

/** Disposes what a layer's apply() returned for concrete inputs (its type also admits symbolic tensors). */
export function disposeOutput(output: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[]): void {
  tf.dispose(output as tf.Tensor | tf.Tensor[]);
}

/** x with its positions (axis 1) reordered: row t of the result is row order[t] of x. */
export function permuteRows(x: tf.Tensor, order: Int32Array): tf.Tensor {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(order, "int32"), 1));
}

/**
 * Saves `model` to a temporary folder through fileSystemIO, loads it back, runs `check` on the loaded
 * copy, then disposes the copy and removes the folder.
 */
export async function checkReloaded(model: tf.LayersModel, check: (loaded: tf.LayersModel) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-nn-"));
  try {
    await model.save(fileSystemIO(dir));
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    try {
      check(loaded);
    } finally {
      loaded.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
