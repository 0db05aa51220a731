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

import * as fsSync from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  CHECKPOINT_JSON,
  CHECKPOINT_WEIGHTS,
  checkpointText,
  checkWeights,
  encodeCheckpoint,
  EncodedCheckpoint,
  LoadCheckpointOptions,
  restoreCheckpoint,
  SaveCheckpointOptions,
  VerifiedCheckpoint,
  verifyCheckpoint,
} from "./checkpointFormat";
import type { CheckpointWeight } from "./checkpointFormat";
import type { StepLogs, TrainingCallback } from "./trainer";

export { CHECKPOINT_JSON, CHECKPOINT_WEIGHTS } from "./checkpointFormat";
export type { CheckpointWeight, LoadCheckpointOptions, SaveCheckpointOptions } from "./checkpointFormat";

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
  checkDir(where, dir);
  await writeCheckpoint(where, dir, await encodeCheckpoint(where, options));
}

/**
 * Writes an encoded checkpoint (`encodeCheckpoint`, `encodeArrays`) to `dir`, replacing any checkpoint
 * there only once the new one is complete.
 */
export async function writeCheckpoint(where: string, dir: string, encoded: EncodedCheckpoint): Promise<void> {
  const target = checkDir(where, dir);
  const text = checkpointText(where, encoded);

  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const temporary = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    // mkdtemp makes the folder private (0700); a checkpoint is an ordinary folder (rwxr-xr-x).
    await fs.chmod(temporary, 0o755);
    await writeDurably(path.join(temporary, CHECKPOINT_WEIGHTS), encoded.data);
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
  checkWeights(where, options.weights);
  return restoreCheckpoint<State>(where, await readCheckpoint(where, dir), options);
}

/**
 * Reads and verifies the checkpoint in `dir` (format, checksum, finite values) without assigning it:
 * `restoreCheckpoint` does that once the caller has built the variables (savedModel.ts reads the
 * model's config from the state first). Errors start with `where` and name the file.
 */
export async function readCheckpoint(where: string, dir: string): Promise<VerifiedCheckpoint> {
  const { parsed, jsonPath, folder } = await readCheckpointJSON(where, dir);
  const binPath = path.join(folder, CHECKPOINT_WEIGHTS);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(binPath);
  } catch (error) {
    throw new Error(`${where}: cannot read ${binPath}: ${(error as Error).message}`);
  }
  return verifyCheckpoint(where, parsed, bytes, { json: jsonPath, weights: binPath });
}

/**
 * The parsed checkpoint.json of the checkpoint in `dir`, unverified (what a loader reads first to learn
 * which class saved it), with its path and folder.
 */
export async function readCheckpointJSON(
  where: string,
  dir: string,
): Promise<{ parsed: unknown; jsonPath: string; folder: string }> {
  let folder = checkDir(where, dir);
  // An interrupted save can leave only the previous checkpoint, moved aside: it is the latest complete one.
  if (!fsSync.existsSync(folder) && fsSync.existsSync(path.join(previousDir(folder), CHECKPOINT_JSON)))
    folder = previousDir(folder);
  const jsonPath = path.join(folder, CHECKPOINT_JSON);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, "utf8");
  } catch (error) {
    throw new Error(`${where}: cannot read ${jsonPath}: ${(error as Error).message}`);
  }
  try {
    return { parsed: JSON.parse(text), jsonPath, folder };
  } catch (error) {
    throw new Error(`${where}: ${jsonPath} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether `dir` holds a checkpoint to load (or the previous one that an interrupted save left). */
export function hasCheckpoint(dir: string): boolean {
  const target = checkDir("hasCheckpoint", dir);
  return (
    fsSync.existsSync(path.join(target, CHECKPOINT_JSON)) ||
    fsSync.existsSync(path.join(previousDir(target), CHECKPOINT_JSON))
  );
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
  for (const [field, value] of [
    ["everySteps", everySteps],
    ["everyEpochs", everyEpochs],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new Error(`${where}: ${field} must be an integer >= 1, got ${JSON.stringify(value)}`);
    }
  }
  let lastStep: number | undefined;
  let savedAtStep: number | undefined;
  const save = async (epochsDone: number, step: number) => {
    const extra = config.state?.() ?? {};
    await saveCheckpoint(config.dir, {
      weights: config.weights,
      optimizer: config.optimizer,
      state: { ...extra, epoch: epochsDone, step },
    });
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

// ---- helpers ----

function checkDir(where: string, dir: unknown): string {
  if (typeof dir !== "string" || dir === "")
    throw new Error(`${where}: dir must be a non-empty path, got ${JSON.stringify(dir)}`);
  return path.resolve(dir);
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
