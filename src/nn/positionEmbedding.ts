// Position information for attention, which on its own is blind to order (permuting the inputs permutes
// the outputs). Both layers take x [B, T, D] and return x + P[0..T−1], with P [T, D] either fixed
// sinusoids (Vaswani et al. 2017, §3.5) or a learned table (BERT, SASRec, BERT4Rec).

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { Rng } from "../backend/random";
import { checkInteger, checkPositive, checkSeed } from "../checks";
import { shapeList } from "./args";
import { KernelInitializerArgs, kernelInitializer, resolveKernelInitializer } from "./initializers";

/**
 * The sinusoid table [length, width], row p:
 *   P[p, 2i] = sin(p / maxWavelength^(2i/width)),  P[p, 2i+1] = cos(p / maxWavelength^(2i/width)).
 * Wavelengths grow geometrically from 2π towards 2π·maxWavelength; P[p+k] is a linear function of P[p].
 */
export function sinusoidalTable(length: number, width: number, maxWavelength = 10000): Float32Array {
  checkInteger("sinusoidalTable", "length", length);
  checkInteger("sinusoidalTable", "width", width);
  const table = new Float32Array(length * width);
  for (let i = 0; i < width; i += 2) {
    const frequency = Math.pow(maxWavelength, -i / width);
    for (let p = 0; p < length; p++) {
      table[p * width + i] = Math.sin(p * frequency);
      if (i + 1 < width) table[p * width + i + 1] = Math.cos(p * frequency);
    }
  }
  return table;
}

function checkSequenceShape(owner: string, shape: tf.Shape): number {
  if (shape.length !== 3 || shape[2] == null)
    throw new Error(`${owner}: expected [B, T, D] with D known, got [${shape}]`);
  return shape[2];
}

export interface SinusoidalPositionEncodingArgs extends LayerArgs {
  /** The longest wavelength over 2π; default 10000 (Vaswani). */
  maxWavelength?: number;
}

/** x + P with the fixed sinusoid table P: no weights, any sequence length. */
export class SinusoidalPositionEncoding extends tf.layers.Layer {
  static className = "RecsysSinusoidalPositionEncoding";
  readonly maxWavelength: number;

  constructor(args: SinusoidalPositionEncodingArgs = {}) {
    super(args);
    this.maxWavelength = checkPositive(
      SinusoidalPositionEncoding.className,
      "maxWavelength",
      args.maxWavelength ?? 10000,
    );
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    checkSequenceShape(this.name, shapeList(inputShape)[0]);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs; // [B, T, D]
    const [, length, width] = x.shape;
    return tf.tidy(() => tf.add(x, tf.tensor2d(sinusoidalTable(length, width, this.maxWavelength), [length, width])));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { maxWavelength: this.maxWavelength, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SinusoidalPositionEncoding);

export interface LearnedPositionEmbeddingArgs extends LayerArgs, KernelInitializerArgs {
  /** The longest sequence the table covers (BERT's max_position_embeddings). */
  maxLength: number;
  /** Seeds the table's initial values. */
  seed: number;
}

/**
 * x + P[0..T−1] with a trainable table P [maxLength, D] ("embeddings"), initialised N(0, 0.02²)
 * truncated by default, as in BERT.
 */
export class LearnedPositionEmbedding extends tf.layers.Layer {
  static className = "RecsysLearnedPositionEmbedding";
  readonly maxLength: number;
  readonly seed: number;
  private readonly init: Required<KernelInitializerArgs>;
  private table: tf.LayerVariable | null = null;

  constructor(args: LearnedPositionEmbeddingArgs) {
    super(args);
    const owner = LearnedPositionEmbedding.className;
    this.maxLength = checkInteger(owner, "maxLength", args.maxLength);
    this.seed = checkSeed(owner, args.seed);
    this.init = resolveKernelInitializer(owner, args, "truncatedNormal");
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const width = checkSequenceShape(this.name, shapeList(inputShape)[0]);
    const init = kernelInitializer(this.init, new Rng(this.seed));
    this.table = this.addWeight("embeddings", [this.maxLength, width], "float32", init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs; // [B, T, D]
    const [, length, width] = x.shape;
    if (length > this.maxLength) {
      throw new Error(`${this.name}: sequence length ${length} exceeds maxLength ${this.maxLength}`);
    }
    return tf.tidy(() => tf.add(x, tf.slice(this.table!.read(), [0, 0], [length, width]))); // + [T, D]
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      maxLength: this.maxLength,
      kernelInitializer: this.init.kernelInitializer,
      initializerRange: this.init.initializerRange,
      seed: this.seed,
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(LearnedPositionEmbedding);
