// Layer normalisation (Ba, Kiros and Hinton 2016), over the last axis of each position:
//
//   LN(x) = γ ⊙ (x − μ) / √(σ² + ε) + β,   μ and σ² the mean and (biased) variance of x's last axis
//
// tf.layers.layerNormalization computes the same function and serialises, but is not reused: it goes
// through tf.batchNorm on tiled moments, whose gradient on the wasm backend is about 500 times slower than
// these plain ops (10.7 s against 20 ms for a [128, 50, 64] batch), which made it most of a Transformer's
// training step. test/nn/layerNorm.test.ts checks that the two agree. On wasm the layer runs as one
// fused kernel each way (src/backend/kernels/layerNorm.ts), elsewhere as the ops below.

import * as tf from "@tensorflow/tfjs";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { hasFusedKernel, LAYER_NORM, LAYER_NORM_GRAD } from "../backend/kernels/index";
import { checkPositive } from "../checks";
import { shapeList } from "./args";

export interface LayerNormalizationArgs extends LayerArgs {
  /** ε, added to the variance; default 1e-5 (PyTorch, Keras-NLP); BERT uses 1e-12, SASRec 1e-8. */
  epsilon?: number;
}

/** Weights, in `getWeights()` order: gamma [D] (ones), beta [D] (zeros). */
export class LayerNormalization extends tf.layers.Layer {
  static className = "RecsysLayerNormalization";
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    this.epsilon = checkPositive(LayerNormalization.className, "epsilon", args.epsilon ?? 1e-5);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = shapeList(inputShape)[0];
    const width = shape[shape.length - 1];
    if (width == null) throw new Error(`${this.name}: the last input axis must be known, got [${shape}]`);
    this.gamma = this.addWeight("gamma", [width], "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", [width], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs; // [..., D]
    const [gamma, beta] = [this.gamma!.read(), this.beta!.read()];
    if (hasFusedKernel(LAYER_NORM, x)) return fusedLayerNorm(x, gamma, beta, this.epsilon);
    return tf.tidy(() => {
      const centered = tf.sub(x, tf.mean(x, -1, true));
      const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normalized, gamma), beta);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeList(inputShape)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { epsilon: this.epsilon, ...super.getConfig() };
  }
}
tf.serialization.registerClass(LayerNormalization);

/** LN(x) through the fused kernels, their gradients (dx, dγ, dβ) from one backward kernel. */
function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const attrs = { epsilon };
  const layerNorm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([input, g]);
    return {
      value: tf.engine().runKernel(LAYER_NORM, { x: input, gamma: g, beta: b }, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dx, params] = tf
          .engine()
          .runKernel(LAYER_NORM_GRAD, { x: saved[0], gamma: saved[1], dy }, attrs) as tf.Tensor[];
        const [dGamma, dBeta] = tf.unstack(params);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return layerNorm(x, gamma, beta);
}
