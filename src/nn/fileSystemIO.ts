// Saves and loads tfjs models to and from a folder in Node without @tensorflow/tfjs-node (whose native
// install often fails, and whose "file://" handler is the only one tfjs ships for Node). The format is
// the standard one that tfjs-node, tfjs-converter and tf.loadLayersModel share: model.json (topology and a
// weights manifest) beside weights.bin (the weights, concatenated little-endian).
//
//   await model.save(fileSystemIO("build/models/sasrec"));
//   const loaded = await tf.loadLayersModel(fileSystemIO("build/models/sasrec"));
//
// It lives in src/nn beside the layers whose models it stores; it works for any tfjs model.

import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

/** An IOHandler that writes `dir`/model.json and `dir`/weights.bin, and reads them (or sharded weights) back. */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  if (typeof dir !== "string" || dir === "")
    throw new Error(`fileSystemIO: dir must be a non-empty path, got ${JSON.stringify(dir)}`);
  return {
    save: (artifacts) => saveArtifacts(path.resolve(dir), artifacts),
    load: () => loadArtifacts(path.resolve(dir)),
  };
}

async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error("fileSystemIO: binary model topologies (GraphDef) are not supported; save a LayersModel");
  }
  const weightData =
    artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const modelJSON: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) modelJSON.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) modelJSON.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) modelJSON.initializerSignature = artifacts.initializerSignature;

  await fs.mkdir(dir, { recursive: true });
  // The weights first, so that a model.json on disk never names weights that are not there yet.
  await writeAtomically(path.join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
  await writeAtomically(path.join(dir, MODEL_JSON), JSON.stringify(modelJSON));
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

/** Writes to a temporary file beside `file`, then renames it over `file`: never a half-written file. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

async function loadArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, "utf8");
  } catch (error) {
    throw new Error(`fileSystemIO: cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  let modelJSON: tf.io.ModelJSON;
  try {
    modelJSON = JSON.parse(text);
  } catch (error) {
    throw new Error(`fileSystemIO: ${jsonPath} is not valid JSON: ${(error as Error).message}`);
  }
  if (modelJSON === null || typeof modelJSON !== "object" || modelJSON.modelTopology == null) {
    throw new Error(`fileSystemIO: ${jsonPath} has no "modelTopology" field`);
  }
  if (modelJSON.weightsManifest != null && !Array.isArray(modelJSON.weightsManifest)) {
    throw new Error(`fileSystemIO: ${jsonPath}: "weightsManifest" must be a list of weight groups`);
  }
  return tf.io.getModelArtifactsForJSON(modelJSON, (manifest) => readWeights(dir, jsonPath, manifest));
}

/** The manifest's weight specs and its shard files' bytes, concatenated in manifest order. */
async function readWeights(
  dir: string,
  jsonPath: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: ArrayBuffer[] = [];
  for (const [g, group] of manifest.entries()) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new Error(`fileSystemIO: ${jsonPath}: weightsManifest[${g}] needs "paths" and "weights" lists`);
    }
    specs.push(...group.weights);
    for (const [p, shardPath] of group.paths.entries()) {
      const file = path.resolve(dir, shardPath);
      if (path.dirname(file) !== dir) {
        throw new Error(
          `fileSystemIO: ${jsonPath}: weightsManifest[${g}].paths[${p}] = ${JSON.stringify(shardPath)} is not a file in ${dir}`,
        );
      }
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file);
      } catch (error) {
        throw new Error(
          `fileSystemIO: ${jsonPath}: weightsManifest[${g}].paths[${p}]: cannot read ${file}: ${(error as Error).message}`,
        );
      }
      shards.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  const weightData = tf.io.CompositeArrayBuffer.join(shards);
  const expected = expectedByteLength(specs);
  if (expected !== null && weightData.byteLength !== expected) {
    throw new Error(
      `fileSystemIO: ${jsonPath}: the manifest describes ${expected} bytes of weights, the files hold ${weightData.byteLength}`,
    );
  }
  return [specs, weightData];
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Bytes the specs occupy on disk (elements × bytes per stored element; quantised weights store fewer),
 * or null when a weight's size is not fixed by its shape (strings), which tfjs's decoder then checks.
 */
function expectedByteLength(specs: tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const bytes = BYTES_PER_ELEMENT[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) return null;
    total += spec.shape.reduce((product, n) => product * n, 1) * bytes;
  }
  return total;
}
