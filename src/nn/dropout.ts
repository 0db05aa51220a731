// Dropout (Srivastava et al., 2014) that is both seeded and random: a fresh mask on every training call,
// the same sequence of masks from the same seed.
//
// tf.layers.dropout is not reused: given a `seed`, it passes that same seed to tf.dropout on every call,
// so every training step drops the very same units (test/nn/dropout.test.ts shows it); given none, it
// draws from Math.random. This layer keeps its own Rng and draws two new mask keys per call. The mask
// is a hash of each unit's index and the keys (src/backend/kernels/dropout.ts): one fused kernel on
// wasm, a multiplier tensor built in JavaScript elsewhere, the same units dropped on every backend.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { DROPOUT, dropoutMask, type DropoutMaskSpec, hasFusedKernel } from "../backend/kernels/index";
import { Rng } from "../backend/random";
import { checkRate, checkSeed } from "../checks";

export interface SeededDropoutArgs extends LayerArgs {
  /** Fraction of the units zeroed in training, in [0, 1); survivors are scaled by 1/(1 − rate). */
  rate: number;
  /** Seeds the masks. The stream restarts from it when the layer is re-created (e.g. loaded). */
  seed: number;
}

/** Inverted dropout in training (`apply(x, { training: true })`), the identity otherwise. */
export class SeededDropout extends tf.layers.Layer {
  static className = "RecsysSeededDropout";
  readonly rate: number;
  readonly seed: number;
  private readonly rng: Rng;

  constructor(args: SeededDropoutArgs) {
    super(args);
    this.rate = checkRate(SeededDropout.className, "rate", args.rate);
    this.seed = checkSeed(SeededDropout.className, args.seed);
    this.rng = new Rng(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    const spec: DropoutMaskSpec = { rate: this.rate, key1: this.rng.nextUint32(), key2: this.rng.nextUint32() };
    return tf.tidy(() => dropUnits(x, spec));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { rate: this.rate, seed: this.seed, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SeededDropout);

/** x with the units of `spec`'s mask dropped and the rest scaled by 1/(1 − rate). */
export function dropUnits(x: tf.Tensor, spec: DropoutMaskSpec): tf.Tensor {
  if (hasFusedKernel(DROPOUT, x)) {
    return tf.engine().runKernel(DROPOUT, { x }, spec as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(x.size, spec), x.shape, "float32")));
}
