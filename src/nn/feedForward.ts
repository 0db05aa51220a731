// The position-wise feed-forward network of a Transformer block (Vaswani et al. 2017, §3.3), the same
// two-layer MLP applied to every position:
//
//   FFN(x) = act(x·W₁ + b₁)·W₂ + b₂        x [B, T, D] → [B, T, d_ff] → [B, T, D_out]
//
// with act = GELU (Hendrycks and Gimpel 2016) in BERT, ReLU in Vaswani's Transformer and SASRec.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { GELU, hasFusedKernel } from "../backend/kernels/index";
import { Rng } from "../backend/random";
import { checkChoice, checkInteger, checkSeed } from "../checks";
import { shapeList } from "./args";
import { KernelInitializerArgs, kernelInitializer, resolveKernelInitializer } from "./initializers";
import { linear } from "./linear";

/**
 * GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)), exact (PyTorch's nn.GELU, Hugging Face's "gelu"). One fused
 * kernel where the backend has it (wasm, src/backend/kernels/gelu.ts), else composed from tfjs ops.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasFusedKernel(GELU, x)) {
    return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/**
 * GELU(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the approximation in BERT's released TensorFlow
 * code (google-research/bert, modeling.py) and GPT-2; within 5e-4 of the exact form.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  });
}

/** "gelu": exact erf form; "geluTanh": BERT's tanh approximation; "relu": max(0, x). */
export type FeedForwardActivation = "gelu" | "geluTanh" | "relu";

export const FEED_FORWARD_ACTIVATIONS: readonly FeedForwardActivation[] = ["gelu", "geluTanh", "relu"];

/** `activation` applied elementwise to x. */
export function applyActivation(x: tf.Tensor, activation: FeedForwardActivation): tf.Tensor {
  switch (activation) {
    case "gelu":
      return gelu(x);
    case "geluTanh":
      return geluTanh(x);
    case "relu":
      return tf.relu(x);
  }
}

export interface PositionwiseFeedForwardArgs extends LayerArgs, KernelInitializerArgs {
  /** d_ff, the inner width (Vaswani: 4·d_model; BERT's intermediate_size). */
  hiddenDim: number;
  /** Width of the output; default the input's D, so that the layer fits a residual connection. */
  outputDim?: number;
  /** Default "gelu". */
  activation?: FeedForwardActivation;
  /** Default true. */
  useBias?: boolean;
  /** Seeds the initial weights. */
  seed: number;
}

/**
 * Weights, in `getWeights()` order: intermediate/kernel [D, d_ff], intermediate/bias, output/kernel
 * [d_ff, D_out], output/bias (biases only with useBias).
 */
export class PositionwiseFeedForward extends tf.layers.Layer {
  static className = "RecsysPositionwiseFeedForward";
  readonly hiddenDim: number;
  readonly activation: FeedForwardActivation;
  readonly useBias: boolean;
  readonly seed: number;
  private readonly requestedOutputDim: number | null;
  private readonly init: Required<KernelInitializerArgs>;
  private kernels: { intermediate: tf.LayerVariable; output: tf.LayerVariable } | null = null;
  private biases: { intermediate: tf.LayerVariable; output: tf.LayerVariable } | null = null;

  constructor(args: PositionwiseFeedForwardArgs) {
    super(args);
    const owner = PositionwiseFeedForward.className;
    this.hiddenDim = checkInteger(owner, "hiddenDim", args.hiddenDim);
    this.requestedOutputDim = args.outputDim == null ? null : checkInteger(owner, "outputDim", args.outputDim);
    this.activation = checkChoice(owner, "activation", args.activation ?? "gelu", FEED_FORWARD_ACTIVATIONS);
    this.useBias = args.useBias ?? true;
    this.seed = checkSeed(owner, args.seed);
    this.init = resolveKernelInitializer(owner, args);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = shapeList(inputShape)[0];
    const width = shape[shape.length - 1];
    if (width == null) throw new Error(`${this.name}: the last input axis must be known, got [${shape}]`);
    const outputDim = this.requestedOutputDim ?? width;
    const rng = new Rng(this.seed);
    const zeros = tf.initializers.zeros();
    const kernel = (name: string, shape: number[]) =>
      this.addWeight(`${name}/kernel`, shape, "float32", kernelInitializer(this.init, rng));
    const bias = (name: string, size: number) => this.addWeight(`${name}/bias`, [size], "float32", zeros);
    const intermediate = kernel("intermediate", [width, this.hiddenDim]);
    const intermediateBias = this.useBias ? bias("intermediate", this.hiddenDim) : null;
    const output = kernel("output", [this.hiddenDim, outputDim]);
    const outputBias = this.useBias ? bias("output", outputDim) : null;
    this.kernels = { intermediate, output };
    if (intermediateBias && outputBias) this.biases = { intermediate: intermediateBias, output: outputBias };
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs; // [B, T, D]
    const kernels = this.kernels!;
    const biases = this.biases;
    return tf.tidy(() => {
      const hidden = applyActivation(
        linear(x, kernels.intermediate.read(), biases?.intermediate.read()),
        this.activation,
      ); // [B, T, d_ff]
      return linear(hidden, kernels.output.read(), biases?.output.read()); // [B, T, D_out]
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = shapeList(inputShape)[0];
    return [...shape.slice(0, -1), this.requestedOutputDim ?? shape[shape.length - 1]];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      hiddenDim: this.hiddenDim,
      outputDim: this.requestedOutputDim,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.init.kernelInitializer,
      initializerRange: this.init.initializerRange,
      seed: this.seed,
      ...super.getConfig(),
    };
  }
}
tf.serialization.registerClass(PositionwiseFeedForward);
