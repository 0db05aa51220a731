// A model made of a few top-level layers (BERT's embeddings, encoder and heads; a sequential
// recommender's embedding, encoder and output bias): what every such model does with its layers,
// written once. A subclass lists its layers; it gets its trainable variables, its weights under
// stable names (for checkpoints), its parameter count and disposal.

import * as tf from "@tensorflow/tfjs";

/** A weight with the name it is saved under (stable across models built in one process). */
export interface NamedWeight {
  name: string;
  variable: tf.Variable;
}

/** The weights of `layers` under their scoped names ("encoder/block_0/attention/query/kernel"). */
export function namedLayerWeights(layers: readonly tf.layers.Layer[]): NamedWeight[] {
  const named: NamedWeight[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    for (const weight of layer.weights) {
      // originalName is the scoped name before tfjs adds "_1" for a second model in the same process.
      if (seen.has(weight.originalName))
        throw new Error(`namedLayerWeights: two weights are named '${weight.originalName}'`);
      seen.add(weight.originalName);
      named.push({ name: weight.originalName, variable: weight.read() as tf.Variable });
    }
  }
  return named;
}

export abstract class LayeredModel {
  /** The model's top-level layers, in a fixed order. */
  abstract get layers(): tf.layers.Layer[];

  /** The variables the optimizer updates (`LossModel`). */
  trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((layer) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
  }

  /** Every weight under its stable name, for checkpoints. */
  namedWeights(): NamedWeight[] {
    return namedLayerWeights(this.layers);
  }

  countParams(): number {
    return this.layers.reduce((sum, layer) => sum + layer.countParams(), 0);
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}
