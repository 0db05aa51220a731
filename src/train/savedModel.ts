// Saved models: a trained recommender's weights and the config that rebuilds it, in the checkpoint
// format (checkpoint.ts: checkpoint.json + weights.bin, weight specs as tfjs writes them, a sha256 of
// the weights). The JSON's "state" holds
//
//   { model: "BprMf", config: {...}, data?: { name, numUsers, numItems, rows, sha256, userIds, itemIds } }
//
// `data` describes the training data of a model built from one (MatrixFactorization, NeuralCF, ...):
// such a model reads it to score (SVD++'s N(u), two-tower's log Q, feature rows), so loading takes the
// same data again and checks it against this record, id maps included, rather than storing a copy of
// the data set beside every model.
//
// `modelFromArtifacts` builds a model from the JSON and the weights' bytes and imports nothing from
// Node, so a browser can load a saved model it fetched; `saveModel` and `loadModel` are the Node file
// wrappers on top (they require checkpoint.ts, and with it node:fs, only when called).

import type { Interactions } from "../data/interactions";
import type { NamedWeight } from "../nn/layeredModel";
import { CheckpointSource, restoreCheckpoint, sha256, VerifiedCheckpoint, verifyCheckpoint } from "./checkpointFormat";

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

export interface SavedModelState {
  /** The class that saved it, e.g. "BprMf". */
  model: string;
  /** JSON settings the class rebuilds itself from. */
  config: Record<string, unknown>;
  data?: TrainingDataRecord;
}

/** A model that can be saved: its weights under stable names, and disposal for a failed load. */
export interface SaveableModel {
  namedWeights(): NamedWeight[];
  dispose(): void;
}

/** How a class rebuilds itself from its saved config (the weights are then assigned). */
export type ModelBuilder<M extends SaveableModel> = (config: Record<string, unknown>) => M;

/** The record of `data` that a saved model keeps. */
export async function trainingDataRecord(data: Interactions): Promise<TrainingDataRecord> {
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
  data?: Interactions,
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

/** checkpoint.ts, required on first use rather than imported, so that importing a model does not load node:fs. */
function nodeCheckpoints(): typeof import("./checkpoint") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("./checkpoint");
}

async function restoreModel<M extends SaveableModel>(
  where: string,
  checkpoint: VerifiedCheckpoint,
  model: string,
  build: ModelBuilder<M>,
  data?: Interactions,
): Promise<M> {
  const file = checkpoint.source.json;
  const state = checkpoint.json.state as Partial<SavedModelState>;
  if (typeof state.model !== "string")
    throw new Error(`${where}: ${file} holds no saved model (a training checkpoint?)`);
  if (state.model !== model) throw new Error(`${where}: ${file} holds a ${state.model}, not a ${model}`);
  if (state.config === null || typeof state.config !== "object" || Array.isArray(state.config)) {
    throw new Error(`${where}: ${file}: "state.config" must be an object`);
  }
  if (data !== undefined) {
    if (state.data === undefined) throw new Error(`${where}: ${file} records no training data, but ${model} needs it`);
    await checkSameData(where, file, state.data, data);
  }
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
