// Helpers for the arguments that tfjs hands the nn layers (the checks of their config live in
// src/checks.ts, shared with the rest of the library).

import type * as tf from "@tensorflow/tfjs";

/** The input shape(s) that tfjs passes to build/computeOutputShape, as a list. */
export function shapeList(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
  return inputShape.length > 0 && Array.isArray(inputShape[0]) ? (inputShape as tf.Shape[]) : [inputShape as tf.Shape];
}
