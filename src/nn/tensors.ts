// Small helpers for reading tensors back into JavaScript.

import * as tf from "@tensorflow/tfjs";

/**
 * The values of `t` as a Float32Array, then disposes `t`. (Reading inside `tf.tidy` and returning
 * the array would make tidy walk every element looking for tensors: 100x slower on large outputs.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}
