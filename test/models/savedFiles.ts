// Damaging a saved model's files the ways the model tests check (an edited state or weight spec in
// checkpoint.json, a flipped bit in weights.bin), and the check that loading refuses them.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { assertNoLeak } from "../support/assertions";

/** The parts of a saved checkpoint.json that the tests edit. */
export interface SavedJson {
  weightSpecs: { name: string; shape: number[]; dtype: string }[];
  state: { config: Record<string, unknown>; fitted?: Record<string, unknown> };
}

/** The two files of the model saved in `dir`, as they are, for a damage to change. */
export interface SavedFiles {
  json: SavedJson;
  /** The bytes of weights.bin. */
  weights: Uint8Array;
}

export const jsonPathOf = (dir: string) => path.join(dir, "checkpoint.json");
export const weightsPathOf = (dir: string) => path.join(dir, "weights.bin");

/** `text` as a regular expression matching it literally (a file path in an expected message). */
export const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Flips one bit of the last byte of weights.bin: the bytes of the last weight. */
export function flipLastBit(files: SavedFiles): void {
  files.weights[files.weights.length - 1] ^= 0x04;
}

/**
 * Applies `damage` to the files saved in `dir`, checks that `load` rejects with an error matching
 * `pattern` and leaves no tensor behind, then puts the files back as they were.
 */
export async function assertRefused(
  dir: string,
  damage: (files: SavedFiles) => void,
  load: () => Promise<unknown>,
  pattern: RegExp,
): Promise<void> {
  const json = fs.readFileSync(jsonPathOf(dir));
  const weights = fs.readFileSync(weightsPathOf(dir));
  const files: SavedFiles = { json: JSON.parse(json.toString("utf8")), weights: new Uint8Array(weights) };
  damage(files);
  fs.writeFileSync(jsonPathOf(dir), JSON.stringify(files.json));
  fs.writeFileSync(weightsPathOf(dir), files.weights);
  try {
    await assertNoLeak(() => assert.rejects(load(), pattern), `tensors leaked by a load failing with ${pattern}`);
  } finally {
    fs.writeFileSync(jsonPathOf(dir), json);
    fs.writeFileSync(weightsPathOf(dir), weights);
  }
}
