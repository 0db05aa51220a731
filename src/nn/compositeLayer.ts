// Layers made of layers (an encoder block holds an attention layer, a feed-forward network and two layer
// norms), which tfjs-layers 4.22 does not support on its own: a Layer reports only the weights it added
// itself, so a model would neither train nor save its sublayers' weights, and a sublayer built directly
// names its weights without its own scope ("block/kernel" for every kernel), which breaks loading by
// name. `CompositeLayer` reports its sublayers' weights as its own, and builds each sublayer by applying
// it to placeholder symbolic tensors, so that tfjs opens the sublayer's name scope:
// "encoder/block_0/attention/query/kernel".

import * as tf from "@tensorflow/tfjs";
import { shapeList } from "./args";

export abstract class CompositeLayer extends tf.layers.Layer {
  private readonly sublayers: tf.layers.Layer[] = [];

  /** Registers `layer` as part of this one (call in the constructor, in a fixed order) and returns it. */
  protected addSublayer<L extends tf.layers.Layer>(layer: L): L {
    layer.trainable = this.trainable;
    this.sublayers.push(layer);
    return layer;
  }

  /**
   * Builds `layer` for inputs of the given shape(s). Call from `build`, which tfjs runs inside this
   * layer's name scope, so the sublayer's weights are named "<this>/<sublayer>/<weight>".
   */
  protected buildSublayer(layer: tf.layers.Layer, inputShape: tf.Shape | tf.Shape[]): void {
    buildLayer(layer, inputShape);
  }

  override get trainable(): boolean {
    return this.trainable_;
  }

  override set trainable(trainable: boolean) {
    super.trainable = trainable;
    // The base constructor sets trainable_ directly, so the sublayers exist whenever this runs.
    for (const layer of this.sublayers) layer.trainable = trainable;
  }

  override get trainableWeights(): tf.LayerVariable[] {
    if (!this.trainable) return [];
    return this.sublayers.reduce((all, layer) => all.concat(layer.trainableWeights), super.trainableWeights);
  }

  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    const own = super.nonTrainableWeights;
    if (!this.trainable) return this.sublayers.reduce((all, layer) => all.concat(layer.weights), own);
    return this.sublayers.reduce((all, layer) => all.concat(layer.nonTrainableWeights), own);
  }

  override set nonTrainableWeights(weights: tf.LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }
}

/**
 * Builds `layer` for inputs of the given shape(s) without running it, under the current name scope plus
 * the layer's own name, so that its weights get stable names ("mlm_head/transform/kernel"). A model made
 * of several top-level layers calls it once per layer; `CompositeLayer.buildSublayer` calls it from build.
 */
export function buildLayer(layer: tf.layers.Layer, inputShape: tf.Shape | tf.Shape[]): void {
  if (layer.built) return;
  const shapes = shapeList(inputShape);
  // A placeholder with no source layer: apply() builds the layer under its name scope and computes
  // output shapes only. The graph node it records means nothing, so it is dropped.
  const placeholders = shapes.map(
    (shape) => new tf.SymbolicTensor("float32", shape, null as unknown as tf.layers.Layer, [], {}),
  );
  layer.apply(placeholders.length === 1 ? placeholders[0] : placeholders);
  layer.inboundNodes = [];
}
