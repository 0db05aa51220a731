// The checkpoint format without the file system: encoding weights (and an optimizer's state) into the
// bytes and JSON that checkpoint.ts writes, and verifying and restoring them. It imports nothing from
// Node, so that a browser can load a saved model from a fetched JSON and ArrayBuffer (checkpoint.ts
// and savedModel.ts put the Node file handling on top). The layout is described in checkpoint.ts.
//
// Two kinds of model use it: tfjs models save their variables (`encodeCheckpoint`, `restoreCheckpoint`),
// and models fitted in plain loops (kNN, Slope One, WALS...) save typed arrays (`encodeArrays`, read back
// with `CheckpointArrays`). Both write the same files; arrays may also be float64, which no tfjs
// variable is, so that a Float64Array comes back bit for bit.

import * as tf from "@tensorflow/tfjs";
import type { NamedWeight } from "../nn/layeredModel";

export const CHECKPOINT_JSON = "checkpoint.json";
export const CHECKPOINT_WEIGHTS = "weights.bin";
const FORMAT = "recsys-ts-checkpoint";
const FORMAT_VERSION = 1;
/** The name tfjs's optimizers give their step count in getWeights. */
const ITERATIONS = "iter";
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const DTYPES = "float32, float64, int32 or bool";

/** An error about a checkpoint's contents, already naming the file and the weight. */
export class CheckpointError extends Error {}

/** A variable and the name it is saved under, chosen by the model and stable across models and processes. */
export type CheckpointWeight = NamedWeight;

export interface SaveCheckpointOptions {
  weights: readonly CheckpointWeight[];
  /** Saved with `getWeights()` (step count and slots); every variable it updates must be in `weights`. */
  optimizer?: tf.Optimizer;
  /** JSON-able facts to resume from: epoch, step, the model's config... */
  state?: object;
}

export interface LoadCheckpointOptions {
  /** Exactly the weights the checkpoint holds, by name; their variables receive the values. */
  weights: readonly CheckpointWeight[];
  /** Receives the saved optimizer state (the checkpoint must hold one, of the same class). */
  optimizer?: tf.Optimizer;
}

/** What checkpoint.json holds. */
export interface CheckpointJSON {
  format: typeof FORMAT;
  formatVersion: number;
  /** Model weights (group "model") then optimizer weights (group "optimizer"), in weights.bin's order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Length and sha256 (hex) of weights.bin. */
  byteLength: number;
  sha256: string;
  /**
   * sha256 of JSON.stringify(weightSpecs): the bytes' checksum cannot tell that two weights of one shape
   * swapped names. Absent in checkpoints written before it existed (then not checked).
   */
  weightSpecsSha256?: string;
  /**
   * sha256 of each weight's bytes, in weightSpecs' order: when the file fails its checksum, the error
   * names the weight that changed. Absent in checkpoints written before it existed.
   */
  weightSha256s?: string[];
  /** The optimizer's class name, or null when no optimizer state was saved. */
  optimizer: { className: string } | null;
  state: object;
}

/** A checkpoint in memory: its JSON and the bytes of its weights file. */
export interface EncodedCheckpoint {
  json: CheckpointJSON;
  data: Uint8Array;
}

/** What error messages call the two parts: file paths in Node, URLs or any label in a browser. */
export interface CheckpointSource {
  json: string;
  weights: string;
}

/** A checkpoint whose JSON, length, checksum and values have been checked; `restoreCheckpoint` assigns it. */
export interface VerifiedCheckpoint extends EncodedCheckpoint {
  source: CheckpointSource;
}

/**
 * Encodes `options.weights` (and the optimizer's state) as a checkpoint. Refuses non-finite weights,
 * so that a diverged run cannot overwrite a good checkpoint.
 */
export async function encodeCheckpoint(where: string, options: SaveCheckpointOptions): Promise<EncodedCheckpoint> {
  const weights = checkWeights(where, options.weights);
  const state = options.state ?? {};
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw new Error(`${where}: state must be a plain object of JSON values, got ${JSON.stringify(state)}`);
  }
  const modelEntries = weights.map((w) => ({ name: w.name, tensor: w.variable as tf.Tensor }));
  let optimizerEntries: { name: string; tensor: tf.Tensor }[] = [];
  let owned: tf.Tensor[] = [];
  let json: CheckpointJSON;
  let data: Uint8Array;
  try {
    if (options.optimizer !== undefined) {
      const slots = await options.optimizer.getWeights();
      // getWeights returns the optimizer's own variables and new tensors (the step count): dispose only the latter.
      owned = slots.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable));
      const stableNames = new Map(weights.map((w) => [w.variable.name, w.name]));
      optimizerEntries = slots.map(({ name, tensor }) => {
        if (name === ITERATIONS) return { name, tensor };
        const split = splitSlotName(name, stableNames);
        if (split === null) {
          throw new Error(
            `${where}: the optimizer's weight '${name}' belongs to no variable in weights (list every variable it trains)`,
          );
        }
        return { name: stableNames.get(split.variable)! + split.suffix, tensor };
      });
    }
    const model = await tf.io.encodeWeights(modelEntries, "model");
    const optimizer = await tf.io.encodeWeights(optimizerEntries, "optimizer");
    data = concatBytes([new Uint8Array(model.data), new Uint8Array(optimizer.data)]);
    const specs = [...model.specs, ...optimizer.specs];
    for (const spec of specs) {
      if (BYTES_PER_ELEMENT[spec.dtype] === undefined)
        throw new Error(
          `${where}: weight '${spec.name}' has dtype ${spec.dtype}; only float32, int32 and bool are stored`,
        );
    }
    const className = options.optimizer === undefined ? null : options.optimizer.getClassName();
    json = await checkpointJSON(where, specs, data, className, state);
  } finally {
    tf.dispose(owned);
  }
  return { json, data };
}

/** A typed array saved as a weight: what a model fitted without tfjs keeps (bool: a Uint8Array of 0s and 1s). */
export type SavedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** An array and the name and shape it is saved under. */
export interface NamedArray {
  name: string;
  values: SavedArray;
  /** Row-major; its size is values.length. */
  shape: readonly number[];
}

/**
 * Encodes typed arrays as a checkpoint (no optimizer), in the order given, each as its own dtype:
 * Float32Array as float32, Float64Array as float64, Int32Array as int32, Uint8Array (0/1) as bool.
 * Refuses non-finite values, as `encodeCheckpoint` does. An empty list gives an empty weights file.
 */
export async function encodeArrays(
  where: string,
  arrays: readonly NamedArray[],
  state: object,
): Promise<EncodedCheckpoint> {
  if (!Array.isArray(arrays)) throw new Error(`${where}: arrays must be a list of { name, values, shape }`);
  const names = new Set<string>();
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const [i, a] of arrays.entries()) {
    if (a === null || typeof a !== "object" || typeof a.name !== "string" || a.name === "")
      throw new Error(`${where}: arrays[${i}] must be { name: non-empty string, values, shape }`);
    if (a.name === ITERATIONS)
      throw new Error(`${where}: arrays[${i}]: '${ITERATIONS}' is reserved for the optimizer's step count`);
    if (names.has(a.name)) throw new Error(`${where}: two arrays are named '${a.name}'`);
    names.add(a.name);
    const dtype = dtypeOf(a.values);
    if (dtype === null)
      throw new Error(`${where}: array '${a.name}' must be a Float32Array, Float64Array, Int32Array or Uint8Array`);
    if (!Array.isArray(a.shape) || !(a.shape as unknown[]).every((n) => Number.isInteger(n) && (n as number) >= 0))
      throw new Error(`${where}: array '${a.name}' has shape ${JSON.stringify(a.shape)}, not a list of integers >= 0`);
    if (tf.util.sizeFromShape(a.shape as number[]) !== a.values.length)
      throw new Error(`${where}: array '${a.name}' has ${a.values.length} values for shape [${a.shape}]`);
    if (dtype === "bool") {
      const bad = (a.values as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0)
        throw new Error(`${where}: array '${a.name}' holds ${a.values[bad]} at index ${bad}; bool is 0 or 1`);
    }
    specs.push({
      name: a.name,
      shape: [...a.shape],
      dtype: dtype as tf.io.WeightsManifestEntry["dtype"],
      group: "model",
    });
    parts.push(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength));
  }
  const data = concatBytes(parts);
  return { json: await checkpointJSON(where, specs, data, null, state), data };
}

/** The JSON of encoded weights: checks the state and the values, and computes the checksums. */
async function checkpointJSON(
  where: string,
  specs: tf.io.WeightsManifestEntry[],
  data: Uint8Array,
  optimizer: string | null,
  state: object,
): Promise<CheckpointJSON> {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw new Error(`${where}: state must be a plain object of JSON values, got ${JSON.stringify(state)}`);
  }
  const problem = firstNonFinite(data, specs);
  if (problem !== null)
    throw new Error(
      `${where}: weight '${problem.name}' holds ${problem.value} at index ${problem.index}; not saving a diverged model`,
    );
  return {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    weightSpecs: specs,
    byteLength: data.byteLength,
    sha256: await sha256(data),
    weightSpecsSha256: await sha256(utf8(JSON.stringify(specs))),
    weightSha256s: await weightDigests(data, specs),
    optimizer: optimizer === null ? null : { className: optimizer },
    state,
  };
}

/** `encoded.json` as the text of checkpoint.json; a clear error when the state is not JSON-able. */
export function checkpointText(where: string, encoded: EncodedCheckpoint): string {
  try {
    return JSON.stringify(encoded.json, null, 1);
  } catch (error) {
    throw new Error(`${where}: state is not JSON-able: ${(error as Error).message}`);
  }
}

/**
 * Checks a checkpoint's parsed JSON and its weights' bytes against each other: the format, every weight
 * spec, the byte length, the sha256 and finite values. Nothing is allocated on the tfjs side.
 */
export async function verifyCheckpoint(
  where: string,
  parsed: unknown,
  bytes: ArrayBuffer | Uint8Array,
  source: CheckpointSource,
): Promise<VerifiedCheckpoint> {
  const json = checkCheckpointJSON(`${where}: ${source.json}`, parsed);
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (data.byteLength !== json.byteLength) {
    const cut = data.byteLength < json.byteLength ? weightAt(json.weightSpecs, data.byteLength) : null;
    throw new Error(
      `${where}: ${source.weights} holds ${data.byteLength} bytes, ${source.json} says ${json.byteLength}: ` +
        (cut === null
          ? "the file is truncated or not this checkpoint's"
          : `the file is truncated inside weight '${cut}'`),
    );
  }
  const digest = await sha256(data);
  if (digest !== json.sha256) {
    const changed = await changedWeight(data, json);
    throw new Error(
      `${where}: ${source.weights} fails its checksum (sha256 ${digest}, ${source.json} says ${json.sha256})` +
        (changed === null ? "" : `, first in weight '${changed.name}' (bytes ${changed.start}–${changed.end - 1})`) +
        ": the file is corrupt",
    );
  }
  const problem = firstNonFinite(data, json.weightSpecs);
  if (problem !== null)
    throw new Error(
      `${where}: ${source.weights}: weight '${problem.name}' holds ${problem.value} at index ${problem.index}`,
    );
  return { json, data, source };
}

/**
 * Assigns a verified checkpoint to `weights` (and `optimizer`) and returns its saved state. Names,
 * shapes and dtypes are checked before any variable is assigned; on failure, nothing has changed and
 * no tensor is left behind.
 */
export async function restoreCheckpoint<State extends object = Record<string, unknown>>(
  where: string,
  checkpoint: VerifiedCheckpoint,
  options: LoadCheckpointOptions,
): Promise<State> {
  const weights = checkWeights(where, options.weights);
  const { json, data: bytes } = checkpoint;
  const jsonPath = checkpoint.source.json;

  // The model's weights: exactly the names asked for, with the same shapes and dtypes.
  const modelSpecs = json.weightSpecs.filter((s) => s.group !== "optimizer");
  const optimizerSpecs = json.weightSpecs.filter((s) => s.group === "optimizer");
  const byName = new Map(weights.map((w) => [w.name, w]));
  const saved = new Set(modelSpecs.map((s) => s.name));
  for (const w of weights) {
    if (!saved.has(w.name)) throw new Error(`${where}: ${jsonPath} has no weight '${w.name}'`);
  }
  for (const spec of modelSpecs) {
    const w = byName.get(spec.name);
    if (w === undefined)
      throw new Error(`${where}: ${jsonPath} has a weight '${spec.name}' that is not among the weights to load`);
    checkSpecMatches(where, jsonPath, `weight '${spec.name}'`, spec, w.variable);
  }

  // The optimizer's: back to the names of this process's variables.
  let optimizerNames: string[] = [];
  if (options.optimizer !== undefined) {
    if (json.optimizer === null) throw new Error(`${where}: ${jsonPath} holds no optimizer state`);
    const className = options.optimizer.getClassName();
    if (json.optimizer.className !== className) {
      throw new Error(
        `${where}: ${jsonPath} holds the state of a ${json.optimizer.className} optimizer; the optimizer given is a ${className}`,
      );
    }
    // tfjs's optimizers all read the step count first in setWeights.
    if (optimizerSpecs[0]?.name !== ITERATIONS)
      throw new Error(
        `${where}: ${jsonPath}: the optimizer's weights do not start with its step count '${ITERATIONS}'`,
      );
    optimizerNames = optimizerSpecs.map((spec) => {
      if (spec.name === ITERATIONS) return spec.name;
      const split = splitSlotName(spec.name, byName);
      if (split === null)
        throw new Error(`${where}: ${jsonPath}: optimizer weight '${spec.name}' belongs to no weight to load`);
      const variable = byName.get(split.variable)!.variable;
      checkSpecMatches(where, jsonPath, `optimizer weight '${spec.name}'`, spec, variable);
      return variable.name + split.suffix;
    });
  }

  // Last, as it names no weight: a spec renamed (two weights of one shape swapped) passes every check above.
  if (
    json.weightSpecsSha256 !== undefined &&
    (await sha256(utf8(JSON.stringify(json.weightSpecs)))) !== json.weightSpecsSha256
  ) {
    throw new Error(
      `${where}: ${jsonPath}: its weightSpecs fail their checksum (weightSpecsSha256): weight names, shapes or order were edited`,
    );
  }

  // Everything checked: decode, hand the optimizer its state, assign the weights.
  const modelBytes = specsByteLength(modelSpecs);
  const modelTensors = tf.io.decodeWeights(toArrayBuffer(bytes, 0, modelBytes), modelSpecs);
  let optimizerTensors: tf.NamedTensorMap = {};
  try {
    if (options.optimizer !== undefined) {
      optimizerTensors = tf.io.decodeWeights(
        toArrayBuffer(bytes, modelBytes, bytes.byteLength - modelBytes),
        optimizerSpecs,
      );
      await options.optimizer.setWeights(
        optimizerSpecs.map((spec, i) => ({ name: optimizerNames[i], tensor: optimizerTensors[spec.name] })),
      );
    }
    for (const w of weights) w.variable.assign(modelTensors[w.name]);
  } finally {
    tf.dispose([...Object.values(modelTensors), ...Object.values(optimizerTensors)]);
  }
  return json.state as State;
}

/** The sha256 of `bytes` in hex, with the Web Crypto API (browsers, Node >= 18). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const subtle = (
    globalThis as { crypto?: { subtle?: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } } }
  ).crypto?.subtle;
  if (subtle === undefined) throw new Error("sha256: this runtime has no Web Crypto API (crypto.subtle)");
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- checks and helpers ----

export function checkWeights(where: string, weights: unknown): readonly CheckpointWeight[] {
  if (!Array.isArray(weights) || weights.length === 0)
    throw new Error(`${where}: weights must be a non-empty list of { name, variable }`);
  const names = new Set<string>();
  const variables = new Set<tf.Variable>();
  for (const [i, w] of weights.entries()) {
    if (
      w === null ||
      typeof w !== "object" ||
      typeof w.name !== "string" ||
      w.name === "" ||
      !(w.variable instanceof tf.Variable)
    ) {
      throw new Error(`${where}: weights[${i}] must be { name: non-empty string, variable: tf.Variable }`);
    }
    if (w.name === ITERATIONS)
      throw new Error(`${where}: weights[${i}]: '${ITERATIONS}' is reserved for the optimizer's step count`);
    if (names.has(w.name)) throw new Error(`${where}: two weights are named '${w.name}'`);
    if (variables.has(w.variable))
      throw new Error(`${where}: weights[${i}] ('${w.name}') repeats a variable listed before`);
    if (w.variable.isDisposed) throw new Error(`${where}: weight '${w.name}' is disposed`);
    names.add(w.name);
    variables.add(w.variable);
  }
  return weights as readonly CheckpointWeight[];
}

/**
 * Splits an optimizer slot name ("12/m", "dense/kernel/momentum") into the longest prefix that `known`
 * has as a name and the rest from the "/" on; null when no prefix is known.
 */
function splitSlotName(name: string, known: ReadonlyMap<string, unknown>): { variable: string; suffix: string } | null {
  for (let cut = name.lastIndexOf("/"); cut > 0; cut = name.lastIndexOf("/", cut - 1)) {
    const prefix = name.slice(0, cut);
    if (known.has(prefix)) return { variable: prefix, suffix: name.slice(cut) };
  }
  return null;
}

function checkSpecMatches(
  where: string,
  jsonPath: string,
  what: string,
  spec: tf.io.WeightsManifestEntry,
  variable: tf.Variable,
): void {
  if (!tf.util.arraysEqual(spec.shape, variable.shape)) {
    throw new Error(
      `${where}: ${jsonPath}: ${what} has shape [${spec.shape}], the model's variable [${variable.shape}]`,
    );
  }
  if (spec.dtype !== variable.dtype) {
    throw new Error(`${where}: ${jsonPath}: ${what} has dtype ${spec.dtype}, the model's variable ${variable.dtype}`);
  }
}

function checkCheckpointJSON(where: string, value: unknown): CheckpointJSON {
  if (value === null || typeof value !== "object") throw new Error(`${where}: expected an object`);
  const json = value as Partial<CheckpointJSON>;
  if (json.format !== FORMAT)
    throw new Error(`${where}: not a recsys-ts checkpoint (format ${JSON.stringify(json.format)})`);
  if (json.formatVersion !== FORMAT_VERSION) {
    throw new Error(
      `${where}: format version ${JSON.stringify(json.formatVersion)}; this recsys-ts reads version ${FORMAT_VERSION}`,
    );
  }
  if (!Array.isArray(json.weightSpecs)) throw new Error(`${where}: "weightSpecs" must be a list`);
  const seen = new Set<string>();
  for (const [i, spec] of json.weightSpecs.entries()) {
    if (spec === null || typeof spec !== "object" || typeof spec.name !== "string") {
      throw new Error(
        `${where}: weightSpecs[${i}] is not a { name, shape, dtype: float32 | float64 | int32 | bool, group } entry`,
      );
    }
    const what = `weightSpecs[${i}] (weight '${spec.name}')`;
    if (!Array.isArray(spec.shape) || !spec.shape.every((n: unknown) => Number.isInteger(n) && (n as number) >= 0)) {
      throw new Error(`${where}: ${what}: "shape" must be a list of integers >= 0, got ${JSON.stringify(spec.shape)}`);
    }
    if (BYTES_PER_ELEMENT[spec.dtype] === undefined)
      throw new Error(`${where}: ${what}: "dtype" must be ${DTYPES}, got ${JSON.stringify(spec.dtype)}`);
    if (!(spec.group === undefined || spec.group === "model" || spec.group === "optimizer")) {
      throw new Error(`${where}: ${what}: "group" must be "model" or "optimizer", got ${JSON.stringify(spec.group)}`);
    }
    if (spec.quantization !== undefined) throw new Error(`${where}: ${what}: quantised weights are not read`);
    const key = `${spec.group === "optimizer" ? "optimizer" : "model"}:${spec.name}`;
    if (seen.has(key)) throw new Error(`${where}: weight '${spec.name}' is listed twice`);
    seen.add(key);
  }
  // Model weights come first in weights.bin: loading slices them off by their total length.
  const firstOptimizer = json.weightSpecs.findIndex((s) => s.group === "optimizer");
  if (firstOptimizer >= 0 && json.weightSpecs.slice(firstOptimizer).some((s) => s.group !== "optimizer")) {
    throw new Error(`${where}: weightSpecs lists a model weight after the optimizer's`);
  }
  if (!Number.isInteger(json.byteLength) || json.byteLength !== specsByteLength(json.weightSpecs)) {
    throw new Error(
      `${where}: "byteLength" ${JSON.stringify(json.byteLength)} does not match its weightSpecs (${specsByteLength(json.weightSpecs)} bytes)`,
    );
  }
  if (typeof json.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(json.sha256))
    throw new Error(`${where}: "sha256" must be 64 hex digits`);
  if (
    json.weightSpecsSha256 !== undefined &&
    (typeof json.weightSpecsSha256 !== "string" || !/^[0-9a-f]{64}$/.test(json.weightSpecsSha256))
  ) {
    throw new Error(`${where}: "weightSpecsSha256" must be 64 hex digits`);
  }
  if (
    json.weightSha256s !== undefined &&
    (!Array.isArray(json.weightSha256s) ||
      json.weightSha256s.length !== json.weightSpecs.length ||
      !json.weightSha256s.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h)))
  ) {
    throw new Error(
      `${where}: "weightSha256s" must list 64 hex digits for each of the ${json.weightSpecs.length} weights`,
    );
  }
  const optimizer = json.optimizer;
  if (
    optimizer !== null &&
    (typeof optimizer !== "object" || optimizer === undefined || typeof optimizer.className !== "string")
  ) {
    throw new Error(`${where}: "optimizer" must be null or { className }`);
  }
  if (json.state === null || typeof json.state !== "object" || Array.isArray(json.state))
    throw new Error(`${where}: "state" must be an object`);
  return json as CheckpointJSON;
}

function specsByteLength(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return specs.reduce(
    (total, spec) => total + tf.util.sizeFromShape(spec.shape) * (BYTES_PER_ELEMENT[spec.dtype] ?? NaN),
    0,
  );
}

/** The name of the weight whose bytes contain offset `byte` (where a truncated file ends). */
function weightAt(specs: readonly tf.io.WeightsManifestEntry[], byte: number): string | null {
  let offset = 0;
  for (const spec of specs) {
    offset += tf.util.sizeFromShape(spec.shape) * BYTES_PER_ELEMENT[spec.dtype];
    if (byte < offset) return spec.name;
  }
  return null;
}

/** Each weight's bytes' sha256, in `specs`' order. */
async function weightDigests(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[]): Promise<string[]> {
  const digests: string[] = [];
  let offset = 0;
  for (const spec of specs) {
    const end = offset + tf.util.sizeFromShape(spec.shape) * BYTES_PER_ELEMENT[spec.dtype];
    digests.push(await sha256(bytes.subarray(offset, end)));
    offset = end;
  }
  return digests;
}

/** The first weight whose bytes fail their own checksum, with its byte range; null when none can be named. */
async function changedWeight(
  bytes: Uint8Array,
  json: CheckpointJSON,
): Promise<{ name: string; start: number; end: number } | null> {
  if (json.weightSha256s === undefined) return null;
  const digests = await weightDigests(bytes, json.weightSpecs);
  let offset = 0;
  for (const [i, spec] of json.weightSpecs.entries()) {
    const end = offset + tf.util.sizeFromShape(spec.shape) * BYTES_PER_ELEMENT[spec.dtype];
    if (digests[i] !== json.weightSha256s[i]) return { name: spec.name, start: offset, end };
    offset = end;
  }
  return null;
}

/** The first NaN or ±Infinity among the float weights of `bytes` (laid out as `specs` say), or null. */
function firstNonFinite(
  bytes: Uint8Array,
  specs: readonly tf.io.WeightsManifestEntry[],
): { name: string; index: number; value: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const size = tf.util.sizeFromShape(spec.shape);
    if (spec.dtype === "float32") {
      // A typed-array view where the bytes are aligned (a little-endian machine, as every tfjs backend is).
      const start = bytes.byteOffset + offset;
      const values = start % 4 === 0 ? new Float32Array(bytes.buffer, start, size) : null;
      for (let i = 0; i < size; i++) {
        const value = values !== null ? values[i] : view.getFloat32(offset + 4 * i, true);
        if (!Number.isFinite(value)) return { name: spec.name, index: i, value };
      }
    } else if ((spec.dtype as string) === "float64") {
      for (let i = 0; i < size; i++) {
        const value = view.getFloat64(offset + 8 * i, true);
        if (!Number.isFinite(value)) return { name: spec.name, index: i, value };
      }
    }
    offset += size * BYTES_PER_ELEMENT[spec.dtype];
  }
  return null;
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function toArrayBuffer(bytes: Uint8Array, start: number, length: number): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + length) as ArrayBuffer;
}

function dtypeOf(values: unknown): string | null {
  if (values instanceof Float32Array) return "float32";
  if (values instanceof Float64Array) return "float64";
  if (values instanceof Int32Array) return "int32";
  if (values instanceof Uint8Array) return "bool";
  return null;
}

// ---- reading arrays back ----

type ArrayOf<D extends string> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

/**
 * The weights of a verified checkpoint as typed arrays, read by name: a model restores itself by asking
 * for each array it needs with the dtype and shape it expects, then `finish()` checks that it read every
 * saved weight (a renamed or extra one is an error) and the weight specs' checksum. Every error names
 * the file and the weight. Each array is a copy, so the checkpoint's bytes can be dropped.
 */
export class CheckpointArrays {
  private readonly specs = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number }>();
  private readonly read = new Set<string>();
  private readonly file: string;

  constructor(
    private readonly where: string,
    private readonly checkpoint: VerifiedCheckpoint,
  ) {
    this.file = checkpoint.source.json;
    let offset = 0;
    for (const spec of checkpoint.json.weightSpecs) {
      if (spec.group === "optimizer")
        throw new CheckpointError(
          `${where}: ${this.file} holds an optimizer's weight '${spec.name}'; a saved model has none`,
        );
      this.specs.set(spec.name, { spec, offset });
      offset += tf.util.sizeFromShape(spec.shape) * BYTES_PER_ELEMENT[spec.dtype];
    }
  }

  /** Whether the checkpoint has a weight `name` (for an optional array). */
  has(name: string): boolean {
    return this.specs.has(name);
  }

  float32(name: string, shape: readonly number[]): Float32Array {
    return this.take(name, "float32", shape);
  }

  float64(name: string, shape: readonly number[]): Float64Array {
    return this.take(name, "float64", shape);
  }

  int32(name: string, shape: readonly number[]): Int32Array {
    return this.take(name, "int32", shape);
  }

  /** A bool weight as 0s and 1s. */
  bool(name: string, shape: readonly number[]): Uint8Array {
    const values = this.take(name, "bool", shape);
    const bad = values.findIndex((v) => v > 1);
    if (bad >= 0) throw this.invalid(name, `holds ${values[bad]} at index ${bad}, not a bool`);
    return values;
  }

  /** An error about weight `name`, naming the file: for the checks a model makes of what it read. */
  invalid(name: string, problem: string): CheckpointError {
    return new CheckpointError(`${this.where}: ${this.file}: weight '${name}' ${problem}`);
  }

  /** Checks that every saved weight was read, then the weight specs' checksum (see `restoreCheckpoint`). */
  async finish(): Promise<void> {
    for (const name of this.specs.keys()) {
      if (!this.read.has(name))
        throw new CheckpointError(`${this.where}: ${this.file} has a weight '${name}' that the model does not read`);
    }
    const json = this.checkpoint.json;
    if (
      json.weightSpecsSha256 !== undefined &&
      (await sha256(utf8(JSON.stringify(json.weightSpecs)))) !== json.weightSpecsSha256
    ) {
      throw new CheckpointError(
        `${this.where}: ${this.file}: its weightSpecs fail their checksum (weightSpecsSha256): weight names, shapes or order were edited`,
      );
    }
  }

  private take<D extends "float32" | "float64" | "int32" | "bool">(
    name: string,
    dtype: D,
    shape: readonly number[],
  ): ArrayOf<D> {
    const entry = this.specs.get(name);
    if (entry === undefined) throw new CheckpointError(`${this.where}: ${this.file} has no weight '${name}'`);
    const { spec, offset } = entry;
    if (spec.dtype !== dtype) throw this.invalid(name, `has dtype ${spec.dtype}, the model reads ${dtype}`);
    if (!tf.util.arraysEqual(spec.shape, shape as number[]))
      throw this.invalid(name, `has shape [${spec.shape}], the model expects [${shape}]`);
    this.read.add(name);
    const size = tf.util.sizeFromShape(spec.shape);
    const buffer = toArrayBuffer(this.checkpoint.data, offset, size * BYTES_PER_ELEMENT[dtype]);
    const values =
      dtype === "float32"
        ? new Float32Array(buffer)
        : dtype === "float64"
          ? new Float64Array(buffer)
          : dtype === "int32"
            ? new Int32Array(buffer)
            : new Uint8Array(buffer);
    return values as ArrayOf<D>;
  }
}
