// Neural-network pieces: attention, Transformer layers, embeddings, saving layered models in Node, and int8
// quantisation of weight tables.

export * from "./attention";
export * from "./multiHeadAttention";
export * from "./positionEmbedding";
export * from "./layerNorm";
export * from "./feedForward";
export * from "./dropout";
export * from "./transformerEncoder";
export * from "./sequentialTransformer";
export * from "./compositeLayer";
export * from "./layeredModel";
export * from "./fileSystemIO";
export * from "./initializers";
export { linear } from "./linear";
export { DenseTower, gatherRows } from "./mlp";
export { NormalizedAdjacency, type SparseProductMethod, SPARSE_PRODUCT_METHODS } from "./graphPropagation";
export * from "./quantization";
