// What the site build hands the demo page: one script, assets/demo-data.js, that sets a global to this object.
// A script rather than a fetched JSON file because browsers refuse fetch() on file:// pages, and the site must
// work from file://; the model weights and tfjs's WebAssembly binaries travel inside it as base64.

/** The global that assets/demo-data.js sets. */
export const DEMO_DATA_GLOBAL = "RECSYS_DEMO_DATA";

/** A saved model (train/savedModel.ts): checkpoint.json parsed, weights.bin in base64. */
export interface EncodedModel {
  json: unknown;
  weights: string;
}

export interface DemoData {
  dataset: {
    /** The data set's name as the notebooks print it ("synthetic-books"). */
    name: string;
    users: number;
    items: number;
    interactions: number;
  };
  /** Item i's title, authors and year (NaN: unknown, written as null). */
  books: { titles: string[]; authors: string[]; years: (number | null)[] };
  /** Training interactions per item: the order the picker offers books in before the reader types. */
  popularity: number[];
  /** A few readers' latest items, to start from. */
  samples: number[][];
  /** Leave-one-out on the readers' last items: NDCG@10 and HR@10 of each model, full ranking. */
  evaluation: { users: number; rows: { model: string; ndcg10: number; hr10: number }[] };
  /** How SASRec was trained. */
  training: {
    epochs: number;
    seconds: number;
    maxLength: number;
    hiddenSize: number;
    numLayers: number;
    numHeads: number;
    parameters: number;
  };
  models: { sasrec: EncodedModel; markov: EncodedModel };
  /** tfjs-backend-wasm's binaries by file name, in base64. */
  wasm: Record<string, string>;
}

/** Bytes from base64 (atob is in browsers and in Node ≥ 16). */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
