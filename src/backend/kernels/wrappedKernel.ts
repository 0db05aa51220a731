// Kernels that wrap one of tfjs's own (BatchMatMul, Sum, Transpose): the wrapper keeps the kernel it
// wraps, so that registering again never wraps a wrapper, and the original stays reachable (the
// benchmark's before/after, a fall-back for the cases a wrapper does not handle).

import * as tf from "@tensorflow/tfjs";

export type KernelFunc = tf.KernelConfig["kernelFunc"];

const ORIGINAL = Symbol("recsys-ts: the wrapped kernel");

/** `wrapper`, marked as wrapping `original`. */
export function markWrapper(wrapper: KernelFunc, original: KernelFunc): KernelFunc {
  (wrapper as unknown as Record<symbol, KernelFunc>)[ORIGINAL] = original;
  return wrapper;
}

/** The kernel `kernel` wraps, or undefined when it is not a wrapper. */
export function wrappedKernel(kernel: KernelFunc): KernelFunc | undefined {
  return (kernel as unknown as Record<symbol, KernelFunc | undefined>)[ORIGINAL];
}

/** Replaces the wasm backend's `kernelName` with `wrap(tfjs's kernel)`, unless it is a wrapper already. */
export function registerWrapperOnce(kernelName: string, wrap: (original: KernelFunc) => KernelFunc): void {
  const current = tf.getKernel(kernelName, "wasm");
  if (current === undefined || wrappedKernel(current.kernelFunc) !== undefined) return;
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ ...current, kernelFunc: wrap(current.kernelFunc) });
}
