// Stacks of fully connected layers: the "towers" of the deep recommenders (NCF's MLP over a user and an
// item embedding, the user and item towers of a two-tower retrieval model), and the embedding look-up
// that feeds them.
//
//   h_0 = x,    h_l = a_l(h_{l−1} · W_l + b_l),   l = 1..L        x [N, D_0] → h_L [N, D_L]
//
// Plain tf ops over tf.Variables rather than tf.layers, so that a model lists the tower's variables in
// its `trainableVariables()` beside its embedding tables and `fit` trains them all with one optimizer.
// Kernels start Glorot-uniform (Keras's Dense default, which the NCF authors' code uses), each from its
// own seed drawn in order from the tower's seed; biases start at zero.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../backend/random";
import { checkChoice, checkInteger, checkSeed } from "../checks";
import type { NamedWeight } from "./layeredModel";

/**
 * The rows `ids` of `table`: [N, D] from [R, D]. The forward pass is a GatherNd and the gradient a
 * segment sum of dy into the rows (the wasm kernel that `initBackend` registers). tf.gather computes the
 * same, but the wasm backend's Gather kernel is 25–70 times slower than its GatherNd (5120 rows of
 * width 8: 3.0 ms against 0.12 ms; width 32: 12 ms against 0.17 ms), and look-ups are most of the
 * work of a training step of an embedding model.
 */
export function gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const numRows = table.shape[0];
  const lookUp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([ids]); // kept for the backward pass, which may run after the caller's tidy disposed `ids`
    return {
      value: tf.gatherND(t, tf.expandDims(ids, 1)) as tf.Tensor2D, // [N, D]
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, numRows), // [R, D]
    };
  });
  return lookUp(table) as tf.Tensor2D;
}

/** "linear" is the identity: a layer without a nonlinearity (a projection). */
export type DenseActivation = "relu" | "tanh" | "sigmoid" | "linear";

export const DENSE_ACTIVATIONS: readonly DenseActivation[] = ["relu", "tanh", "sigmoid", "linear"];

/** `activation` applied elementwise. */
export function activate<T extends tf.Tensor>(x: T, activation: DenseActivation): T {
  switch (activation) {
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "linear":
      return x;
  }
}

/** One layer's weights: y = a(x · kernel + bias). */
export interface DenseLayer {
  kernel: tf.Variable<tf.Rank.R2>; // [D_in, D_out]
  bias: tf.Variable<tf.Rank.R1> | null; // [D_out]
  activation: DenseActivation;
}

export interface DenseTowerConfig {
  /** D_0, the width of the input. */
  inputDim: number;
  /** D_1..D_L, the width of each layer in order, e.g. [32, 16, 8]. At least one. */
  units: readonly number[];
  /** a_l of every layer but the last. Default "relu". */
  activation?: DenseActivation;
  /** a_L of the last layer. Default: `activation` (NCF's tower ends in a ReLU); "linear" for a projection. */
  outputActivation?: DenseActivation;
  /** Default true. */
  useBias?: boolean;
  /** Seeds the kernels. */
  seed: number;
}

/** A stack of dense layers (see the file header). Holds tf.Variables: call `dispose()` when done. */
export class DenseTower {
  readonly inputDim: number;
  readonly layers: readonly DenseLayer[];

  constructor(config: DenseTowerConfig) {
    const owner = "DenseTower";
    this.inputDim = checkInteger(owner, "inputDim", config.inputDim);
    if (!Array.isArray(config.units) || config.units.length === 0) {
      throw new Error(`${owner}: units must list at least one layer width, got ${JSON.stringify(config.units)}`);
    }
    const units = config.units.map((u, l) => checkInteger(owner, `units[${l}]`, u));
    const hidden = checkChoice(owner, "activation", config.activation ?? "relu", DENSE_ACTIVATIONS);
    const last = checkChoice(owner, "outputActivation", config.outputActivation ?? hidden, DENSE_ACTIVATIONS);
    const useBias = config.useBias ?? true;
    const rng = new Rng(checkSeed(owner, config.seed));
    const layers: DenseLayer[] = [];
    let width = this.inputDim;
    for (let l = 0; l < units.length; l++) {
      const init = tf.initializers.glorotUniform({ seed: rng.tfSeed() });
      const shape: [number, number] = [width, units[l]];
      layers.push({
        kernel: tf.tidy(() => tf.variable(init.apply(shape) as tf.Tensor2D)),
        bias: useBias ? tf.tidy(() => tf.variable(tf.zeros([units[l]]) as tf.Tensor1D)) : null,
        activation: l === units.length - 1 ? last : hidden,
      });
      width = units[l];
    }
    this.layers = layers;
  }

  /** D_L, the width of the output. */
  get outputDim(): number {
    return this.layers[this.layers.length - 1].kernel.shape[1];
  }

  /**
   * h_L for inputs x [N, D_0]. With `fromLayer` = l > 0, x is taken to be h_l [N, D_l] and only layers
   * l+1..L run: a model that computes the first layer its own way (NCF's scoring does) continues here.
   */
  apply(x: tf.Tensor2D, fromLayer = 0): tf.Tensor2D {
    if (!(Number.isInteger(fromLayer) && fromLayer >= 0 && fromLayer <= this.layers.length)) {
      throw new RangeError(
        `DenseTower.apply: fromLayer must be an integer in [0, ${this.layers.length}], got ${fromLayer}`,
      );
    }
    const expected = fromLayer === 0 ? this.inputDim : this.layers[fromLayer - 1].kernel.shape[1];
    if (x.rank !== 2 || x.shape[1] !== expected) {
      throw new Error(`DenseTower.apply: expected input [N, ${expected}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      let h = x;
      for (let l = fromLayer; l < this.layers.length; l++) {
        const { kernel, bias, activation } = this.layers[l];
        const xw: tf.Tensor2D = tf.matMul(h, kernel); // [N, D_l]
        const z: tf.Tensor2D = bias === null ? xw : tf.add(xw, bias);
        h = activate(z, activation);
      }
      return h;
    });
  }

  /** Kernels and biases, layer by layer. */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const layer of this.layers) {
      out.push(layer.kernel);
      if (layer.bias !== null) out.push(layer.bias);
    }
    return out;
  }

  /** Sets every weight to `other`'s (same layer widths and bias use required): pretraining's hand-over. */
  copyFrom(other: DenseTower): void {
    const shapes = (t: DenseTower) => JSON.stringify(t.variables().map((v) => v.shape));
    if (shapes(this) !== shapes(other)) {
      throw new Error(`DenseTower.copyFrom: weight shapes differ: ${shapes(this)} vs ${shapes(other)}`);
    }
    const mine = this.variables();
    const theirs = other.variables();
    for (let k = 0; k < mine.length; k++) mine[k].assign(theirs[k]);
  }

  dispose(): void {
    tf.dispose(this.variables());
  }
}

/** A DenseTower's kernels and biases as "prefix/0/kernel", "prefix/0/bias", ... */
export function denseTowerWeights(prefix: string, tower: DenseTower): NamedWeight[] {
  return tower.layers.flatMap((layer, l) => [
    { name: `${prefix}/${l}/kernel`, variable: layer.kernel },
    ...(layer.bias ? [{ name: `${prefix}/${l}/bias`, variable: layer.bias }] : []),
  ]);
}
