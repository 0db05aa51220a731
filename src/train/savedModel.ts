// Saved models: a trained recommender's weights and the config that rebuilds it, in the checkpoint
// format (checkpoint.ts: checkpoint.json + weights.bin, weight specs as tfjs writes them, a sha256 of
// the weights). The JSON's "state" holds
//
//   { model: "BprMf", config: {...}, fitted?: {...}, data?: { name, numUsers, numItems, rows, sha256, userIds, itemIds } }
//
// Two kinds of class save this way. A tfjs model (BprMf, NeuralCF, BERT4Rec...) saves its variables;
// loading builds a model of the saved config's shape and assigns them (`tfModelFormat`). A model fitted
// in plain loops (kNN, Slope One, WALS, item-kNN...) saves the typed arrays `fit` computed, and the
// scalars it computed (a mean, a rating scale) under "fitted"; loading hands them back to the class,
// which restores itself without fitting again (`arrayModelFormat`). Each class declares its format
// once, and its `save`, `load` and `fromArtifacts` are then one line each.
//
// `data` describes the training data of a model built from one (MatrixFactorization, NeuralCF, ...):
// such a model reads it to score (SVD++'s N(u), two-tower's log Q, feature rows), so loading takes the
// same data again and checks it against this record, id maps included, rather than storing a copy of
// the data set beside every model.
//
// `modelFromArtifacts` builds a model from the JSON and the weights' bytes and imports nothing from
// Node, so a browser can load a saved model it fetched; `saveModel` and `loadModel` are the Node file
// wrappers on top (they require checkpoint.ts, and with it node:fs, only when called).

import { CsrMatrix } from "../data/csr";
import type { Interactions } from "../data/interactions";
import type { NamedWeight } from "../nn/layeredModel";
import {
  CheckpointArrays,
  CheckpointError,
  CheckpointSource,
  encodeArrays,
  NamedArray,
  restoreCheckpoint,
  sha256,
  VerifiedCheckpoint,
  verifyCheckpoint,
} from "./checkpointFormat";

/** What a model saves of the data it was trained on (see the header). */
export interface TrainingDataRecord {
  name: string;
  numUsers: number;
  numItems: number;
  rows: number;
  /** sha256 of the users, items and ratings columns, in that order. */
  sha256: string;
  /** The data set's own ids of users 0..numUsers−1 and items 0..numItems−1. */
  userIds: string[];
  itemIds: string[];
}

/** The data a model was trained on: the data set itself, or the record of it that a loaded model keeps. */
export type TrainingData = Interactions | TrainingDataRecord;

export interface SavedModelState {
  /** The class that saved it, e.g. "BprMf". */
  model: string;
  /** JSON settings the class rebuilds itself from. */
  config: Record<string, unknown>;
  /** JSON values that fitting computed (array models only). */
  fitted?: Record<string, unknown>;
  data?: TrainingDataRecord;
}

/** A model that can be saved: its weights under stable names, and disposal for a failed load. */
export interface SaveableModel {
  namedWeights(): NamedWeight[];
  dispose(): void;
}

/** How a class rebuilds itself from its saved config (the weights are then assigned). */
export type ModelBuilder<M extends SaveableModel> = (config: Record<string, unknown>) => M;

/** The record of `data` that a saved model keeps (a record is returned as it is). */
export async function trainingDataRecord(data: TrainingData): Promise<TrainingDataRecord> {
  if (isRecord(data)) return data;
  return {
    name: data.name,
    numUsers: data.numUsers,
    numItems: data.numItems,
    rows: data.length,
    sha256: await columnsDigest(data),
    userIds: data.userIndex.ids.slice(),
    itemIds: data.itemIndex.ids.slice(),
  };
}

/** Writes `model` to the folder `dir` (atomically, as checkpoints are). Node only. */
export async function saveModel(
  dir: string,
  model: string,
  config: Record<string, unknown>,
  weights: readonly NamedWeight[],
  data?: TrainingData,
): Promise<void> {
  const state: SavedModelState = { model, config };
  if (data !== undefined) state.data = await trainingDataRecord(data);
  await nodeCheckpoints().saveCheckpoint(dir, { weights, state });
}

/** Reads the model saved in the folder `dir` (see `modelFromArtifacts`). Node only. */
export async function loadModel<M extends SaveableModel>(
  where: string,
  dir: string,
  model: string,
  build: ModelBuilder<M>,
  data?: Interactions,
): Promise<M> {
  return restoreModel(where, await nodeCheckpoints().readCheckpoint(where, dir), model, build, data);
}

/**
 * Builds a saved model from its checkpoint JSON (parsed) and weights (the bytes of weights.bin), as a
 * browser fetches them. Everything is checked (checksum, finite values, config, training data, weight
 * names and shapes) before the model is returned; a failed load disposes what it built.
 */
export async function modelFromArtifacts<M extends SaveableModel>(
  where: string,
  json: unknown,
  weights: ArrayBuffer | Uint8Array,
  model: string,
  build: ModelBuilder<M>,
  data?: Interactions,
  source: CheckpointSource = { json: "the model JSON", weights: "the weights" },
): Promise<M> {
  return restoreModel(where, await verifyCheckpoint(where, json, weights, source), model, build, data);
}

// ---------------------------------------------------------------------------------------------
// A class's save and load, declared once
// ---------------------------------------------------------------------------------------------

/** How a saved class is loaded: from a folder (Node), or from the JSON and bytes a browser fetched. */
export interface ModelLoader<M, Args extends unknown[]> {
  /** The class name saved in the JSON, e.g. "BprMf". */
  readonly model: string;
  load(dir: string, ...args: Args): Promise<M>;
  fromArtifacts(json: unknown, weights: ArrayBuffer | Uint8Array, ...args: Args): Promise<M>;
}

/** The save and load of a tfjs model class (`tfModelFormat`). */
export interface TfModelFormat<M extends SaveableModel, Args extends unknown[]> extends ModelLoader<M, Args> {
  save(
    dir: string,
    config: Record<string, unknown>,
    weights: readonly NamedWeight[],
    data?: TrainingData,
  ): Promise<void>;
}

/**
 * The save and load of a tfjs model class. `build` makes a model of a saved config's shape from the
 * config and load's other arguments (its seed does not matter: every weight is then assigned); `data`
 * picks, among those arguments, the training data to check against the saved record (for a model that
 * reads its training data to score).
 */
export function tfModelFormat<M extends SaveableModel, Args extends unknown[]>(
  model: string,
  build: (config: Record<string, unknown>, ...args: Args) => M,
  data?: (...args: Args) => Interactions | undefined,
): TfModelFormat<M, Args> {
  return {
    model,
    save: (dir, config, weights, trainedOn) => saveModel(dir, model, config, weights, trainedOn),
    load: (dir, ...args) => loadModel(`${model}.load`, dir, model, (c) => build(c, ...args), data?.(...args)),
    fromArtifacts: (json, weights, ...args) =>
      modelFromArtifacts(`${model}.fromArtifacts`, json, weights, model, (c) => build(c, ...args), data?.(...args)),
  };
}

/** What an array model saves (`ArrayModelFormat.save`). */
export interface SavedArraysInput {
  config: Record<string, unknown>;
  fitted?: Record<string, unknown>;
  arrays: readonly NamedArray[];
  /** The data it was fitted on, recorded so that `load(dir, train)` can check it; null: none. */
  data?: TrainingData | null;
}

/** What an array model restores itself from. */
export interface SavedArrays {
  config: Record<string, unknown>;
  /** {} when nothing was saved under "fitted". */
  fitted: Record<string, unknown>;
  /** The saved arrays, read by name, dtype and shape (errors name the file and the weight). */
  arrays: CheckpointArrays;
  /** The record of the training data, when one was saved: a loaded model keeps it to save it again. */
  data: TrainingDataRecord | undefined;
}

/** The save and load of a model that holds typed arrays (`arrayModelFormat`). */
export interface ArrayModelFormat<M, Args extends unknown[]> extends ModelLoader<M, Args> {
  save(dir: string, saved: SavedArraysInput): Promise<void>;
}

/**
 * The save and load of a class whose fitted state is typed arrays (kNN, Slope One, WALS...): `save`
 * writes them as named weights (float64 stays float64); `restore` rebuilds the model from them alone,
 * without fitting again, reading each array with the dtype and shape it expects; every saved array must
 * be read. `data` says what load takes besides the folder: the training data, optional, checked against
 * the record when given.
 * An error in `restore` is reported as the saved state not restoring the class, naming the file.
 */
export function arrayModelFormat<M, Args extends unknown[]>(
  model: string,
  restore: (saved: SavedArrays) => M,
  data?: (...args: Args) => Interactions | undefined,
): ArrayModelFormat<M, Args> {
  const restoreFrom = async (where: string, checkpoint: VerifiedCheckpoint, args: Args): Promise<M> => {
    const state = await checkedState(where, checkpoint, model, data?.(...args));
    const file = checkpoint.source.json;
    const fitted = state.fitted ?? {};
    if (fitted === null || typeof fitted !== "object" || Array.isArray(fitted))
      throw new Error(`${where}: ${file}: "state.fitted" must be an object`);
    const arrays = new CheckpointArrays(where, checkpoint);
    let restored: M;
    try {
      restored = restore({ config: state.config, fitted, arrays, data: state.data });
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      throw new Error(`${where}: ${file}: the saved state does not restore a ${model}: ${(error as Error).message}`);
    }
    await arrays.finish();
    return restored;
  };
  return {
    model,
    async save(dir, saved) {
      const where = `${model}.save`;
      const state: SavedModelState = { model, config: saved.config };
      if (saved.fitted !== undefined) state.fitted = saved.fitted;
      if (saved.data !== undefined && saved.data !== null) state.data = await trainingDataRecord(saved.data);
      await nodeCheckpoints().writeCheckpoint(where, dir, await encodeArrays(where, saved.arrays, state));
    },
    load: async (dir, ...args) =>
      restoreFrom(`${model}.load`, await nodeCheckpoints().readCheckpoint(`${model}.load`, dir), args),
    fromArtifacts: async (json, weights, ...args) => {
      const where = `${model}.fromArtifacts`;
      const source = { json: "the model JSON", weights: "the weights" };
      return restoreFrom(where, await verifyCheckpoint(where, json, weights, source), args);
    },
  };
}

/** The class name that the model saved in `dir` records (Node only): what a generic loader dispatches on. */
export async function savedModelName(dir: string): Promise<string> {
  const where = "savedModelName";
  const { parsed, jsonPath } = await nodeCheckpoints().readCheckpointJSON(where, dir);
  const model = (parsed as { state?: { model?: unknown } } | null)?.state?.model;
  if (typeof model !== "string") throw new Error(`${where}: ${jsonPath} holds no saved model (a training checkpoint?)`);
  return model;
}

// ---------------------------------------------------------------------------------------------
// Sparse matrices as arrays
// ---------------------------------------------------------------------------------------------

/**
 * A CSR matrix as the arrays `${prefix}/offsets` (int32), `${prefix}/indices` (int32) and, unless
 * `values` is false (a binary matrix of ones), `${prefix}/values` (float64).
 */
export function csrArrays(prefix: string, m: CsrMatrix, values = true): NamedArray[] {
  const arrays: NamedArray[] = [
    { name: `${prefix}/offsets`, values: m.offsets, shape: [m.offsets.length] },
    { name: `${prefix}/indices`, values: m.indices, shape: [m.nnz] },
  ];
  if (values) arrays.push({ name: `${prefix}/values`, values: m.values, shape: [m.nnz] });
  return arrays;
}

/** The CSR matrix `csrArrays` saved, [numRows × numCols], checked (the error names the weights). */
export function readCsr(
  arrays: CheckpointArrays,
  prefix: string,
  numRows: number,
  numCols: number,
  values = true,
): CsrMatrix {
  const offsets = arrays.int32(`${prefix}/offsets`, [numRows + 1]);
  const nnz = offsets[numRows];
  if (!(nnz >= 0)) throw arrays.invalid(`${prefix}/offsets`, `ends at ${nnz}, not a number of entries`);
  const indices = arrays.int32(`${prefix}/indices`, [nnz]);
  const entries = values ? arrays.float64(`${prefix}/values`, [nnz]) : new Float64Array(nnz).fill(1);
  try {
    return new CsrMatrix(numRows, numCols, offsets, indices, entries);
  } catch (error) {
    throw arrays.invalid(
      `${prefix}/offsets`,
      `and its indices do not form a sparse matrix: ${(error as Error).message}`,
    );
  }
}

/** checkpoint.ts, required on first use rather than imported, so that importing a model does not load node:fs. */
function nodeCheckpoints(): typeof import("./checkpoint") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("./checkpoint");
}

/** The saved state, checked: the class name, a config object, and the training data when given. */
async function checkedState(
  where: string,
  checkpoint: VerifiedCheckpoint,
  model: string,
  data: Interactions | undefined,
): Promise<SavedModelState> {
  const file = checkpoint.source.json;
  const state = checkpoint.json.state as Partial<SavedModelState>;
  if (typeof state.model !== "string")
    throw new Error(`${where}: ${file} holds no saved model (a training checkpoint?)`);
  if (state.model !== model) throw new Error(`${where}: ${file} holds a ${state.model}, not a ${model}`);
  if (state.config === null || typeof state.config !== "object" || Array.isArray(state.config)) {
    throw new Error(`${where}: ${file}: "state.config" must be an object`);
  }
  if (data !== undefined) {
    if (state.data === undefined)
      throw new Error(`${where}: ${file} records no training data to check '${data.name}' against`);
    await checkSameData(where, file, state.data, data);
  }
  return state as SavedModelState;
}

async function restoreModel<M extends SaveableModel>(
  where: string,
  checkpoint: VerifiedCheckpoint,
  model: string,
  build: ModelBuilder<M>,
  data?: Interactions,
): Promise<M> {
  const file = checkpoint.source.json;
  const state = await checkedState(where, checkpoint, model, data);
  let built: M;
  try {
    built = build(state.config);
  } catch (error) {
    throw new Error(`${where}: ${file}: "state.config" does not build a ${model}: ${(error as Error).message}`);
  }
  try {
    await restoreCheckpoint(where, checkpoint, { weights: built.namedWeights() });
  } catch (error) {
    built.dispose();
    throw error;
  }
  return built;
}

async function checkSameData(
  where: string,
  file: string,
  saved: TrainingDataRecord,
  data: Interactions,
): Promise<void> {
  const differs = (what: string, savedValue: unknown, given: unknown) =>
    new Error(
      `${where}: ${file} was trained on '${saved.name}' with ${what} ${JSON.stringify(savedValue)}; '${data.name}' has ${JSON.stringify(given)}. Load it with the data it was trained on`,
    );
  for (const [field, given] of [
    ["numUsers", data.numUsers],
    ["numItems", data.numItems],
    ["rows", data.length],
  ] as const) {
    if (saved[field] !== given) throw differs(field, saved[field], given);
  }
  for (const [field, ids] of [
    ["userIds", data.userIndex.ids],
    ["itemIds", data.itemIndex.ids],
  ] as const) {
    const savedIds = saved[field];
    if (!Array.isArray(savedIds) || savedIds.length !== ids.length)
      throw differs(`${field}.length`, savedIds?.length, ids.length);
    for (let i = 0; i < ids.length; i++)
      if (savedIds[i] !== ids[i]) throw differs(`${field}[${i}]`, savedIds[i], ids[i]);
  }
  const digest = await columnsDigest(data);
  if (saved.sha256 !== digest) throw differs("row contents (sha256 of users, items, ratings)", saved.sha256, digest);
}

async function columnsDigest(data: Interactions): Promise<string> {
  const parts = [data.users, data.items, data.ratings].map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return sha256(all);
}

function isRecord(data: TrainingData): data is TrainingDataRecord {
  return typeof (data as TrainingDataRecord).sha256 === "string";
}
