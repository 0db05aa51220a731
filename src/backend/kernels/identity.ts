// `Identity` for tfjs's wasm backend that shares its input's memory instead of copying it.
//
// tfjs's engine clones (Identity) every tensor a gradient needs later, once per op recorded on the tape,
// and the shipped wasm kernel copies the whole buffer each time: about 7% of a Transformer's training
// step at T = 200. Tensors are immutable, so the clone can point at the same memory under the backend's
// reference count, as the wasm Reshape kernel and the cpu backend's Identity already do.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { KernelArgs } from "./kernelArgs";

/** The same data under a new tensor: the backend's reference count on it goes up by one. */
export function identityWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as tf.IdentityInputs;
  if (x === undefined) throw new Error("Identity (wasm): input x is required");
  if (x.dtype === "string") return tf.tensor(backend.readSync(x.dataId) as Uint8Array[], x.shape, x.dtype);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityWasmConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: "wasm",
  kernelFunc: identityWasm as unknown as tf.KernelConfig["kernelFunc"],
};

/** Replaces the wasm backend's Identity with `identityWasm` (once). */
export function registerSharedIdentity(): void {
  const current = tf.getKernel(tf.Identity, "wasm");
  if (current === undefined || current.kernelFunc === identityWasmConfig.kernelFunc) return;
  tf.unregisterKernel(tf.Identity, "wasm");
  tf.registerKernel(identityWasmConfig);
}
