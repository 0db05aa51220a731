// Training checkpoints: a model's weights, its optimizer's state and a little JSON (epoch, step, config)
// in one folder, so that a long run (BERT pretraining) can stop and resume exactly.
//
//   dir/checkpoint.json   format version, weight specs (as tf.io.encodeWeights writes them), state, sha256
//   dir/weights.bin       the weights, then the optimizer's, concatenated little-endian
//
// Weights are stored under names the model chooses, never under tf.Variable names: tfjs numbers
// variables per process and suffixes layer weights "_1" in a second model, so those names do not carry
// over to a freshly built model. Optimizer slots (named `${variable.name}/m` and the like by tfjs) are
// renamed to the stable names on saving and back on loading.
//
// A save writes a temporary folder beside `dir` and renames it into place, so a crash leaves either the
// old checkpoint or the new one, never half of one. A load checks everything (files, checksum, names,
// shapes, dtypes, finite values) before it assigns anything.

import { createHash } from "node:crypto";
import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { NamedWeight } from "../nn/layeredModel";
import type { StepLogs, TrainingCallback } from "./trainer";

export const CHECKPOINT_JSON = "checkpoint.json";
export const CHECKPOINT_WEIGHTS = "weights.bin";
const FORMAT = "recsys-ts-checkpoint";
const FORMAT_VERSION = 1;
/** The name tfjs's optimizers give their step count in getWeights. */
const ITERATIONS = "iter";
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

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
interface CheckpointJSON {
  format: typeof FORMAT;
  formatVersion: number;
  /** Model weights (group "model") then optimizer weights (group "optimizer"), in weights.bin's order. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Length and sha256 (hex) of weights.bin. */
  byteLength: number;
  sha256: string;
  /** The optimizer's class name, or null when no optimizer state was saved. */
  optimizer: { className: string } | null;
  state: object;
}

/** The folder a save moves an existing checkpoint to while it renames the new one into place. */
function previousDir(dir: string): string {
  return `${dir}.previous`;
}

/**
 * Writes a checkpoint to `dir`, replacing any checkpoint there only once the new one is complete.
 * Refuses non-finite weights, so that a diverged run cannot overwrite a good checkpoint.
 */
export async function saveCheckpoint(dir: string, options: SaveCheckpointOptions): Promise<void> {
  const where = "saveCheckpoint";
  const target = checkDir(where, dir);
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
          throw new Error(`${where}: the optimizer's weight '${name}' belongs to no variable in weights (list every variable it trains)`);
        }
        return { name: stableNames.get(split.variable)! + split.suffix, tensor };
      });
    }
    const model = await tf.io.encodeWeights(modelEntries, "model");
    const optimizer = await tf.io.encodeWeights(optimizerEntries, "optimizer");
    data = concatBytes([new Uint8Array(model.data), new Uint8Array(optimizer.data)]);
    const specs = [...model.specs, ...optimizer.specs];
    for (const spec of specs) {
      if (BYTES_PER_ELEMENT[spec.dtype] === undefined) throw new Error(`${where}: weight '${spec.name}' has dtype ${spec.dtype}; only float32, int32 and bool are stored`);
    }
    const problem = firstNonFinite(data, specs);
    if (problem !== null) throw new Error(`${where}: weight '${problem.name}' holds ${problem.value} at index ${problem.index}; not saving a diverged model`);
    json = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      weightSpecs: specs,
      byteLength: data.byteLength,
      sha256: sha256(data),
      optimizer: options.optimizer === undefined ? null : { className: options.optimizer.getClassName() },
      state,
    };
  } finally {
    tf.dispose(owned);
  }
  let text: string;
  try {
    text = JSON.stringify(json, null, 1);
  } catch (error) {
    throw new Error(`${where}: state is not JSON-able: ${(error as Error).message}`);
  }

  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const temporary = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    // mkdtemp makes the folder private (0700); a checkpoint is an ordinary folder (rwxr-xr-x).
    await fs.chmod(temporary, 0o755);
    await writeDurably(path.join(temporary, CHECKPOINT_WEIGHTS), data);
    await writeDurably(path.join(temporary, CHECKPOINT_JSON), text);
    // A folder cannot be renamed over a non-empty one: move the old checkpoint aside first. At every
    // moment either `target` or (while it is missing) `target.previous` is a complete checkpoint, and
    // loadCheckpoint falls back to the latter.
    const previous = previousDir(target);
    if (fsSync.existsSync(target)) {
      await fs.rm(previous, { recursive: true, force: true });
      await fs.rename(target, previous);
    }
    await fs.rename(temporary, target);
    await fs.rm(previous, { recursive: true, force: true });
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Restores a checkpoint into `weights` (and `optimizer`) and returns its saved state. Everything is
 * checked before any variable is assigned; on failure, nothing has changed and no tensor is left behind.
 */
export async function loadCheckpoint<State extends object = Record<string, unknown>>(
  dir: string,
  options: LoadCheckpointOptions,
): Promise<State> {
  const where = "loadCheckpoint";
  let folder = checkDir(where, dir);
  const weights = checkWeights(where, options.weights);
  // An interrupted save can leave only the previous checkpoint, moved aside: it is the latest complete one.
  if (!fsSync.existsSync(folder) && fsSync.existsSync(path.join(previousDir(folder), CHECKPOINT_JSON))) folder = previousDir(folder);
  const jsonPath = path.join(folder, CHECKPOINT_JSON);
  const binPath = path.join(folder, CHECKPOINT_WEIGHTS);

  let text: string;
  try {
    text = await fs.readFile(jsonPath, "utf8");
  } catch (error) {
    throw new Error(`${where}: cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: ${jsonPath} is not valid JSON: ${(error as Error).message}`);
  }
  const json = checkCheckpointJSON(`${where}: ${jsonPath}`, parsed);

  let bytes: Buffer;
  try {
    bytes = await fs.readFile(binPath);
  } catch (error) {
    throw new Error(`${where}: cannot read ${binPath}: ${(error as Error).message}`);
  }
  if (bytes.byteLength !== json.byteLength) {
    throw new Error(`${where}: ${binPath} holds ${bytes.byteLength} bytes, ${jsonPath} says ${json.byteLength}: the file is truncated or not this checkpoint's`);
  }
  const digest = sha256(bytes);
  if (digest !== json.sha256) {
    throw new Error(`${where}: ${binPath} fails its checksum (sha256 ${digest}, ${jsonPath} says ${json.sha256}): the file is corrupt`);
  }

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
    if (w === undefined) throw new Error(`${where}: ${jsonPath} has a weight '${spec.name}' that is not among the weights to load`);
    checkSpecMatches(where, jsonPath, `weight '${spec.name}'`, spec, w.variable);
  }

  // The optimizer's: back to the names of this process's variables.
  let optimizerNames: string[] = [];
  if (options.optimizer !== undefined) {
    if (json.optimizer === null) throw new Error(`${where}: ${jsonPath} holds no optimizer state`);
    const className = options.optimizer.getClassName();
    if (json.optimizer.className !== className) {
      throw new Error(`${where}: ${jsonPath} holds the state of a ${json.optimizer.className} optimizer; the optimizer given is a ${className}`);
    }
    // tfjs's optimizers all read the step count first in setWeights.
    if (optimizerSpecs[0]?.name !== ITERATIONS) throw new Error(`${where}: ${jsonPath}: the optimizer's weights do not start with its step count '${ITERATIONS}'`);
    optimizerNames = optimizerSpecs.map((spec) => {
      if (spec.name === ITERATIONS) return spec.name;
      const split = splitSlotName(spec.name, byName);
      if (split === null) throw new Error(`${where}: ${jsonPath}: optimizer weight '${spec.name}' belongs to no weight to load`);
      const variable = byName.get(split.variable)!.variable;
      checkSpecMatches(where, jsonPath, `optimizer weight '${spec.name}'`, spec, variable);
      return variable.name + split.suffix;
    });
  }
  const problem = firstNonFinite(bytes, json.weightSpecs);
  if (problem !== null) throw new Error(`${where}: ${binPath}: weight '${problem.name}' holds ${problem.value} at index ${problem.index}`);

  // Everything checked: decode, hand the optimizer its state, assign the weights.
  const modelBytes = specsByteLength(modelSpecs);
  const modelTensors = tf.io.decodeWeights(toArrayBuffer(bytes, 0, modelBytes), modelSpecs);
  let optimizerTensors: tf.NamedTensorMap = {};
  try {
    if (options.optimizer !== undefined) {
      optimizerTensors = tf.io.decodeWeights(toArrayBuffer(bytes, modelBytes, bytes.byteLength - modelBytes), optimizerSpecs);
      await options.optimizer.setWeights(optimizerSpecs.map((spec, i) => ({ name: optimizerNames[i], tensor: optimizerTensors[spec.name] })));
    }
    for (const w of weights) w.variable.assign(modelTensors[w.name]);
  } finally {
    tf.dispose([...Object.values(modelTensors), ...Object.values(optimizerTensors)]);
  }
  return json.state as State;
}

/** Whether `dir` holds a checkpoint to load (or the previous one that an interrupted save left). */
export function hasCheckpoint(dir: string): boolean {
  const target = checkDir("hasCheckpoint", dir);
  return fsSync.existsSync(path.join(target, CHECKPOINT_JSON)) || fsSync.existsSync(path.join(previousDir(target), CHECKPOINT_JSON));
}

export interface CheckpointEveryConfig {
  dir: string;
  weights: readonly CheckpointWeight[];
  optimizer?: tf.Optimizer;
  /** Save after every this many global steps. */
  everySteps?: number;
  /** Save after every this many epochs (1-based: 2 saves after epochs 2, 4, ...). Default 1 when everySteps is not set. */
  everyEpochs?: number;
  /** More state to save, merged under `epoch` and `step`, e.g. () => ({ config: model.config }). */
  state?: () => object;
}

/**
 * A callback that saves a checkpoint every N steps and/or every N epochs, with state
 * `{ ...state(), epoch, step }`: `epoch` is the number of epochs done (fit's `initialEpoch` to resume
 * from) and `step` the global step. An epoch-end checkpoint resumes exactly; one saved mid-epoch
 * protects the work done, and resuming from it repeats that epoch from its first batch. When a step
 * save falls on an epoch's last step, the epoch's end saves again so that the checkpoint counts the epoch as done.
 */
export function checkpointEvery(config: CheckpointEveryConfig): TrainingCallback {
  const where = "checkpointEvery";
  checkDir(where, config.dir);
  checkWeights(where, config.weights);
  const everySteps = config.everySteps;
  const everyEpochs = config.everyEpochs ?? (everySteps === undefined ? 1 : undefined);
  for (const [field, value] of [["everySteps", everySteps], ["everyEpochs", everyEpochs]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new Error(`${where}: ${field} must be an integer >= 1, got ${JSON.stringify(value)}`);
    }
  }
  let lastStep: number | undefined;
  let savedAtStep: number | undefined;
  const save = async (epochsDone: number, step: number) => {
    const extra = config.state?.() ?? {};
    await saveCheckpoint(config.dir, { weights: config.weights, optimizer: config.optimizer, state: { ...extra, epoch: epochsDone, step } });
    savedAtStep = step;
  };
  return {
    async onStepEnd(logs: StepLogs) {
      lastStep = logs.step;
      if (everySteps !== undefined && logs.step % everySteps === 0) await save(logs.epoch - 1, logs.step);
    },
    async onEpochEnd(logs) {
      const step = lastStep ?? config.optimizer?.iterations ?? 0;
      const due = everyEpochs !== undefined && logs.epoch % everyEpochs === 0;
      if (due || (savedAtStep !== undefined && savedAtStep === lastStep)) await save(logs.epoch, step);
    },
  };
}

// ---- checks and helpers ----

function checkDir(where: string, dir: unknown): string {
  if (typeof dir !== "string" || dir === "") throw new Error(`${where}: dir must be a non-empty path, got ${JSON.stringify(dir)}`);
  return path.resolve(dir);
}

function checkWeights(where: string, weights: unknown): readonly CheckpointWeight[] {
  if (!Array.isArray(weights) || weights.length === 0) throw new Error(`${where}: weights must be a non-empty list of { name, variable }`);
  const names = new Set<string>();
  const variables = new Set<tf.Variable>();
  for (const [i, w] of weights.entries()) {
    if (w === null || typeof w !== "object" || typeof w.name !== "string" || w.name === "" || !(w.variable instanceof tf.Variable)) {
      throw new Error(`${where}: weights[${i}] must be { name: non-empty string, variable: tf.Variable }`);
    }
    if (w.name === ITERATIONS) throw new Error(`${where}: weights[${i}]: '${ITERATIONS}' is reserved for the optimizer's step count`);
    if (names.has(w.name)) throw new Error(`${where}: two weights are named '${w.name}'`);
    if (variables.has(w.variable)) throw new Error(`${where}: weights[${i}] ('${w.name}') repeats a variable listed before`);
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

function checkSpecMatches(where: string, jsonPath: string, what: string, spec: tf.io.WeightsManifestEntry, variable: tf.Variable): void {
  if (!tf.util.arraysEqual(spec.shape, variable.shape)) {
    throw new Error(`${where}: ${jsonPath}: ${what} has shape [${spec.shape}], the model's variable [${variable.shape}]`);
  }
  if (spec.dtype !== variable.dtype) {
    throw new Error(`${where}: ${jsonPath}: ${what} has dtype ${spec.dtype}, the model's variable ${variable.dtype}`);
  }
}

function checkCheckpointJSON(where: string, value: unknown): CheckpointJSON {
  if (value === null || typeof value !== "object") throw new Error(`${where}: expected an object`);
  const json = value as Partial<CheckpointJSON>;
  if (json.format !== FORMAT) throw new Error(`${where}: not a recsys-ts checkpoint (format ${JSON.stringify(json.format)})`);
  if (json.formatVersion !== FORMAT_VERSION) {
    throw new Error(`${where}: format version ${JSON.stringify(json.formatVersion)}; this recsys-ts reads version ${FORMAT_VERSION}`);
  }
  if (!Array.isArray(json.weightSpecs)) throw new Error(`${where}: "weightSpecs" must be a list`);
  const seen = new Set<string>();
  for (const [i, spec] of json.weightSpecs.entries()) {
    const ok =
      spec !== null && typeof spec === "object" && typeof spec.name === "string" &&
      Array.isArray(spec.shape) && spec.shape.every((n: unknown) => Number.isInteger(n) && (n as number) >= 0) &&
      BYTES_PER_ELEMENT[spec.dtype] !== undefined && (spec.group === undefined || spec.group === "model" || spec.group === "optimizer") &&
      spec.quantization === undefined;
    if (!ok) throw new Error(`${where}: weightSpecs[${i}] is not a { name, shape, dtype: float32 | int32 | bool, group } entry`);
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
    throw new Error(`${where}: "byteLength" ${JSON.stringify(json.byteLength)} does not match its weightSpecs (${specsByteLength(json.weightSpecs)} bytes)`);
  }
  if (typeof json.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(json.sha256)) throw new Error(`${where}: "sha256" must be 64 hex digits`);
  const optimizer = json.optimizer;
  if (optimizer !== null && (typeof optimizer !== "object" || optimizer === undefined || typeof optimizer.className !== "string")) {
    throw new Error(`${where}: "optimizer" must be null or { className }`);
  }
  if (json.state === null || typeof json.state !== "object" || Array.isArray(json.state)) throw new Error(`${where}: "state" must be an object`);
  return json as CheckpointJSON;
}

function specsByteLength(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((total, spec) => total + tf.util.sizeFromShape(spec.shape) * (BYTES_PER_ELEMENT[spec.dtype] ?? NaN), 0);
}

/** The first NaN or ±Infinity among the float32 weights of `bytes` (laid out as `specs` say), or null. */
function firstNonFinite(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[]): { name: string; index: number; value: number } | null {
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
    }
    offset += size * BYTES_PER_ELEMENT[spec.dtype];
  }
  return null;
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

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes `data` and flushes it to the disk, so that a folder renamed into place after a power cut is not empty. */
async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
