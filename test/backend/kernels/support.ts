// Shared by the kernel tests: run them on the wasm backend with our kernels registered, and read a
// computation's results back on a given backend to compare wasm with cpu.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { chooseBackend } from "../../../src/backend/backend";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";

export interface TensorResult {
  shape: number[];
  dtype: tf.DataType;
  values: number[];
}

/** Mocha hooks for a describe block: wasm with the training kernels during it, the previous backend after. */
export function useWasmTrainingKernels(): void {
  let previousBackend: string | undefined;
  before(async () => {
    previousBackend = tf.getBackend();
    const info = await chooseBackend({ env: {}, prefer: "wasm", warn: () => {} });
    assert.equal(info.name, "wasm", "these tests need the wasm backend");
    registerWasmTrainingKernels();
  });
  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });
}

/** Runs `f` on `backend` and reads its results back before anything else can switch backends. */
export async function resultsOn(backend: "cpu" | "wasm", f: () => tf.Tensor | tf.Tensor[]): Promise<TensorResult[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((t) => ({
      shape: t.shape,
      dtype: t.dtype,
      values: Array.from(t.dataSync()),
    }));
  });
}

/** `resultsOn` for a computation with one result. */
export async function resultOn(backend: "cpu" | "wasm", f: () => tf.Tensor): Promise<TensorResult> {
  return (await resultsOn(backend, f))[0];
}

/** Each kernel is registered for the wasm backend and not for cpu (whose ops compose tfjs's kernels). */
export function assertRegisteredForWasmOnly(...kernelNames: string[]): void {
  for (const name of kernelNames) {
    assert.ok(tf.getKernel(name, "wasm"), `${name} is registered for wasm`);
    assert.equal(tf.getKernel(name, "cpu"), undefined, `${name} is not registered for cpu`);
  }
}
