// How the nn layers initialise their kernels, and the seeds they do it with.
//
// A tfjs initializer given a seed returns the same values on every call, so a layer that used one seeded
// initializer for its query, key and value kernels would start with three identical matrices. Each weight
// therefore gets its own seed, drawn in a fixed order from the layer's seed.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkChoice, checkPositive } from "../checks";

/**
 * "glorotUniform": U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out))), the Keras and PyTorch Transformer
 * default. "truncatedNormal": N(0, initializerRange²) cut at two standard deviations, BERT's
 * `initializer_range = 0.02`.
 */
export type KernelInitializerName = "glorotUniform" | "truncatedNormal";

export const KERNEL_INITIALIZER_NAMES: readonly KernelInitializerName[] = ["glorotUniform", "truncatedNormal"];

/** The initializer fields shared by the nn layers' arguments. */
export interface KernelInitializerArgs {
  /** Default "glorotUniform" (embeddings: "truncatedNormal"). */
  kernelInitializer?: KernelInitializerName;
  /** Standard deviation of "truncatedNormal"; default 0.02 (BERT). */
  initializerRange?: number;
}

/** The two fields with defaults filled in and checked. */
export function resolveKernelInitializer(
  owner: string,
  args: KernelInitializerArgs,
  defaultName: KernelInitializerName = "glorotUniform",
): Required<KernelInitializerArgs> {
  return {
    kernelInitializer: checkChoice(
      owner,
      "kernelInitializer",
      args.kernelInitializer ?? defaultName,
      KERNEL_INITIALIZER_NAMES,
    ),
    initializerRange: checkPositive(owner, "initializerRange", args.initializerRange ?? 0.02),
  };
}

export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** A tfjs initializer for one weight; `rng` supplies its seed, so weights drawn in the same order repeat. */
export function kernelInitializer(config: Required<KernelInitializerArgs>, rng: Rng): Initializer {
  const seed = rng.tfSeed();
  switch (config.kernelInitializer) {
    case "glorotUniform":
      return tf.initializers.glorotUniform({ seed });
    case "truncatedNormal":
      return tf.initializers.truncatedNormal({ mean: 0, stddev: config.initializerRange, seed });
  }
}

/**
 * A [rows × cols] table of N(mean, std²) draws, row-major. Rows with keep[r] = 0 are zero (the
 * draws are still made, so that the stream does not depend on which rows are kept).
 */
export function normalTable(
  rng: Rng,
  rows: number,
  cols: number,
  mean: number,
  std: number,
  keep?: Uint8Array,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = rng.normal(mean, std);
      if (!keep || keep[r]) out[r * cols + c] = value;
    }
  }
  return out;
}
