// Int8 quantisation of embedding tables: each float32 entry stored in one byte, a quarter of the memory,
// which is what bounds a recommender's serving cost once the catalogue is large (a table of 10M items
// × 64 floats is 2.56 GB in float32, 0.64 GB in int8).
//
//   s_r = max_c |x_rc| / 127                 one scale per row (per user or per item)
//   q_rc = round(x_rc / s_r) ∈ [−127, 127]   symmetric: no zero point, −128 unused so that q(−x) = −q(x)
//   x̂_rc = s_r · q_rc,  |x_rc − x̂_rc| ≤ s_r / 2
//
// Per row, not per column, for three reasons. An embedding is read one row at a time, and each row gets
// the resolution of its own range: item norms differ a lot (in MF and BPR-MF popular items have long
// vectors), and a per-column scale set by the longest rows would leave the short ones a few levels.
// The scales factor out of a dot product, uᵀv ≈ s_u s_v Σ_c q_uc q_vc, so scoring multiplies int8 by
// int8 into an integer sum and applies one float multiply per score; `Int8FactorScorer` does exactly
// that. And adding an item quantises one new row without touching the others.
//
// Biases (one float per user or item) stay float32: they cost 4 bytes a row next to dim bytes of int8,
// and a bias is a whole score's offset, not one of dim terms whose rounding errors average out.
//
// `quantizeFactorModel` quantises a trained factor model (MatrixFactorization, BprMf, WALS, or a
// two-tower model's output vectors, which are what a two-tower system serves and indexes) into an
// `ItemScorer` over int8 tables. `withInt8Weights` simulates int8 storage for any model with named
// weights (NCF's MLP, SASRec): every matrix is replaced by its int8 round trip while a function runs.

import * as tf from "@tensorflow/tfjs";
import { checkPairs, checkPositiveInteger } from "../checks";
import type { ItemScorer } from "../eval/scorers";
import type { NamedWeight } from "./layeredModel";

// ---------------------------------------------------------------------------------------------
// 1. Tables
// ---------------------------------------------------------------------------------------------

/** A [rows × cols] table in int8 with one float32 scale per row: x̂_rc = scales[r] · values[r·cols + c]. */
export interface Int8Table {
  readonly rows: number;
  readonly cols: number;
  /** q, row-major. */
  readonly values: Int8Array;
  /** s_r; 0 for an all-zero row. */
  readonly scales: Float32Array;
}

const LEVELS = 127;

/** Symmetric per-row int8 quantisation of a row-major [rows × cols] table (see the file header). */
export function quantizeInt8(table: ArrayLike<number>, cols: number): Int8Table {
  checkPositiveInteger("quantizeInt8", "cols", cols);
  if (table.length % cols !== 0)
    throw new Error(`quantizeInt8: ${table.length} values are not a whole number of rows of ${cols}`);
  const rows = table.length / cols;
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const x = table[r * cols + c];
      if (!Number.isFinite(x)) throw new Error(`quantizeInt8: entry (${r}, ${c}) is ${x}`);
      max = Math.max(max, Math.abs(x));
    }
    scales[r] = max / LEVELS;
    const s = scales[r]; // the float32 value: the one dequantisation multiplies by
    if (s === 0) continue;
    for (let c = 0; c < cols; c++) {
      const x = table[r * cols + c] / s;
      // Round half away from zero (Math.round rounds −2.5 to −2), then clamp: float32 rounding of s can put
      // the largest entry a hair above 127.
      const q = Math.sign(x) * Math.round(Math.abs(x));
      values[r * cols + c] = Math.max(-LEVELS, Math.min(LEVELS, q));
    }
  }
  return { rows, cols, values, scales };
}

/** x̂ = s_r · q_rc, row-major float32. */
export function dequantizeInt8(table: Int8Table): Float32Array {
  const out = new Float32Array(table.rows * table.cols);
  for (let r = 0; r < table.rows; r++) {
    const s = table.scales[r];
    for (let c = 0; c < table.cols; c++) out[r * table.cols + c] = s * table.values[r * table.cols + c];
  }
  return out;
}

/** Bytes of an int8 table: one per entry plus a float32 scale per row. */
export function int8TableBytes(table: Pick<Int8Table, "rows" | "cols">): number {
  return table.rows * table.cols + 4 * table.rows;
}

/** Bytes of the same table in float32. */
export function float32TableBytes(table: Pick<Int8Table, "rows" | "cols">): number {
  return 4 * table.rows * table.cols;
}

// ---------------------------------------------------------------------------------------------
// 2. Factor models: s(u, i) = scale · (x_uᵀy_i + b_u + b_i + offset)
// ---------------------------------------------------------------------------------------------

/** A model whose score is a dot product of a user row and an item row, plus biases, times a constant. */
export interface FactorTables {
  numUsers: number;
  numItems: number;
  dim: number;
  /** x_u, [numUsers × dim], row-major. */
  userVectors: Float32Array;
  /** y_i, [numItems × dim], row-major. */
  itemVectors: Float32Array;
  /** b_u; absent for none. (It does not change a user's ranking, but keeps scores equal to the model's.) */
  userBias?: Float32Array;
  /** b_i; absent for none. */
  itemBias?: Float32Array;
  /** Added to every score (MF's global mean μ). Default 0. */
  offset?: number;
  /** Multiplies every score (a two-tower model's 1/τ). Default 1. */
  scale?: number;
}

// The models this file knows, by shape rather than by import, so that nn/ does not depend on models/.
interface TfFactorModel {
  params: { userFactors: tf.Tensor2D; itemFactors: tf.Tensor2D; userBias?: tf.Tensor1D; itemBias?: tf.Tensor1D };
  globalMean?: number;
}
interface ArrayFactorModel {
  numUsers: number;
  numItems: number;
  factors: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
}
interface TowerModel {
  numUsers: number;
  numItems: number;
  temperature: number;
  userVectors(users: tf.Tensor1D): tf.Tensor2D;
  itemVectors(items: tf.Tensor1D): tf.Tensor2D;
}

/** What `quantizeFactorModel` accepts: MatrixFactorization, BprMf, WalsModel, TwoTower, or the tables. */
export type FactorModel = TfFactorModel | ArrayFactorModel | TowerModel | FactorTables;

function read(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/**
 * The float32 tables behind a factor model's scores (copies). For a two-tower model these are the
 * towers' outputs u and v for every user and item (the MLPs run once here), with scale 1/τ.
 */
export function factorTablesOf(model: FactorModel): FactorTables {
  if ("userVectors" in model && model.userVectors instanceof Float32Array) return model as FactorTables;
  if ("temperature" in model && typeof model.userVectors === "function") {
    const tower = model as TowerModel;
    const [u, v] = [tower.numUsers, tower.numItems].map((n, side) => {
      const rows = tf.range(0, n, 1, "int32") as tf.Tensor1D;
      const vectors = side === 0 ? tower.userVectors(rows) : tower.itemVectors(rows);
      const values = read(vectors);
      const dim = vectors.shape[1];
      tf.dispose([rows, vectors]);
      return { values, dim };
    });
    return {
      numUsers: tower.numUsers,
      numItems: tower.numItems,
      dim: u.dim,
      userVectors: u.values,
      itemVectors: v.values,
      scale: 1 / tower.temperature,
    };
  }
  if ("params" in model && model.params.userFactors instanceof tf.Tensor) {
    const { userFactors, itemFactors, userBias, itemBias } = model.params;
    const biased = userBias !== undefined && itemBias !== undefined;
    return {
      numUsers: userFactors.shape[0],
      numItems: itemFactors.shape[0],
      dim: userFactors.shape[1],
      userVectors: read(userFactors),
      itemVectors: read(itemFactors),
      // MF adds μ + b_u + b_i only when it has both biases; BPR-MF has an item bias alone.
      userBias: biased ? read(userBias) : undefined,
      itemBias: itemBias ? read(itemBias) : undefined,
      offset: biased ? (model.globalMean ?? 0) : 0,
    };
  }
  if ("userFactors" in model && model.userFactors instanceof Float32Array) {
    return {
      numUsers: model.numUsers,
      numItems: model.numItems,
      dim: model.factors,
      userVectors: Float32Array.from(model.userFactors),
      itemVectors: Float32Array.from(model.itemFactors),
    };
  }
  throw new Error(
    "factorTablesOf: expected MatrixFactorization, BprMf, WalsModel, TwoTower or FactorTables " +
      "(a model whose score is a dot product of a user row and an item row)",
  );
}

/**
 * A factor model with int8 user and item tables (float32 biases), scoring in integer arithmetic:
 * s(u, i) = scale · (s_u s_i Σ_c q_uc q_ic + b_u + b_i + offset). Plain JS: no tensors to dispose.
 */
export class Int8FactorScorer implements ItemScorer {
  readonly numUsers: number;
  readonly numItems: number;
  readonly dim: number;
  readonly users: Int8Table;
  readonly items: Int8Table;
  readonly userBias?: Float32Array;
  readonly itemBias?: Float32Array;
  readonly offset: number;
  readonly scale: number;

  constructor(tables: FactorTables) {
    const caller = "Int8FactorScorer";
    this.dim = checkPositiveInteger(caller, "dim", tables.dim);
    this.numUsers = checkPositiveInteger(caller, "numUsers", tables.numUsers);
    this.numItems = checkPositiveInteger(caller, "numItems", tables.numItems);
    checkLength(caller, "userVectors", tables.userVectors, this.numUsers * this.dim);
    checkLength(caller, "itemVectors", tables.itemVectors, this.numItems * this.dim);
    if (tables.userBias) checkLength(caller, "userBias", tables.userBias, this.numUsers);
    if (tables.itemBias) checkLength(caller, "itemBias", tables.itemBias, this.numItems);
    this.users = quantizeInt8(tables.userVectors, this.dim);
    this.items = quantizeInt8(tables.itemVectors, this.dim);
    this.userBias = tables.userBias && Float32Array.from(tables.userBias);
    this.itemBias = tables.itemBias && Float32Array.from(tables.itemBias);
    this.offset = tables.offset ?? 0;
    this.scale = tables.scale ?? 1;
  }

  scoreItems(users: Int32Array): Float32Array {
    const n = this.numItems;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const u = this.checkUser("scoreItems", users[b]);
      for (let i = 0; i < n; i++) out[b * n + i] = this.score(u, i);
    }
    return out;
  }

  scorePairs(users: Int32Array, items: Int32Array): Float32Array {
    checkPairs("Int8FactorScorer.scorePairs", users, items);
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      const i = items[k];
      if (!(Number.isInteger(i) && i >= 0 && i < this.numItems))
        throw new RangeError(`Int8FactorScorer.scorePairs: item ${i} is outside [0, ${this.numItems})`);
      out[k] = this.score(this.checkUser("scorePairs", users[k]), i);
    }
    return out;
  }

  /** Bytes of what the scorer stores: int8 tables with their scales, and the float32 biases. */
  weightBytes(): number {
    return int8TableBytes(this.users) + int8TableBytes(this.items) + 4 * this.biasCount();
  }

  /** Bytes of the same model in float32. */
  float32Bytes(): number {
    return float32TableBytes(this.users) + float32TableBytes(this.items) + 4 * this.biasCount();
  }

  private biasCount(): number {
    return (this.userBias?.length ?? 0) + (this.itemBias?.length ?? 0);
  }

  private score(u: number, i: number): number {
    const d = this.dim;
    const qu = this.users.values;
    const qi = this.items.values;
    let dot = 0; // |dot| ≤ 127² · d: exact in a double (and in int32 up to d = 133,000)
    for (let c = 0, a = u * d, b = i * d; c < d; c++) dot += qu[a + c] * qi[b + c];
    let s = this.users.scales[u] * this.items.scales[i] * dot + this.offset;
    if (this.userBias) s += this.userBias[u];
    if (this.itemBias) s += this.itemBias[i];
    return this.scale * s;
  }

  private checkUser(method: string, u: number): number {
    if (!(Number.isInteger(u) && u >= 0 && u < this.numUsers))
      throw new RangeError(`Int8FactorScorer.${method}: user ${u} is outside [0, ${this.numUsers})`);
    return u;
  }
}

function checkLength(caller: string, field: string, values: ArrayLike<number>, expected: number): void {
  if (values.length !== expected)
    throw new Error(`${caller}: ${field} has ${values.length} values, expected ${expected}`);
}

/** A quantised copy of a trained factor model (see `factorTablesOf`), usable wherever an ItemScorer is. */
export function quantizeFactorModel(model: FactorModel): Int8FactorScorer {
  return new Int8FactorScorer(factorTablesOf(model));
}

// ---------------------------------------------------------------------------------------------
// 3. Any model with named weights: simulated int8
// ---------------------------------------------------------------------------------------------

export interface Int8WeightsReport<T> {
  /** What `run` returned. */
  result: T;
  /** Bytes of the weights stored as int8 (matrices, per-row scales) and float32 (vectors). */
  int8Bytes: number;
  /** Bytes of the same weights in float32. */
  float32Bytes: number;
}

/**
 * Runs `run` while every float32 weight matrix of `model` (rank ≥ 2, rows along the last axis) holds its
 * int8 round trip, then restores the originals, also when `run` throws. Vectors (biases, layer-norm
 * gains) stay float32. This simulates int8 storage for models that do not score by a dot product (NCF's
 * MLP, a Transformer), so their quality can be measured at int8; real int8 inference kernels would also
 * be faster, which a simulation does not show. Weights shared under two names are counted once.
 */
export async function withInt8Weights<T>(
  model: { namedWeights(): NamedWeight[] },
  run: () => T | Promise<T>,
): Promise<Int8WeightsReport<T>> {
  const weights = uniqueVariables(model.namedWeights());
  const originals: Array<{ variable: tf.Variable; saved: tf.Tensor }> = [];
  let int8Bytes = 0;
  let float32Bytes = 0;
  try {
    for (const variable of weights) {
      float32Bytes += 4 * variable.size;
      if (variable.rank < 2 || variable.dtype !== "float32") {
        int8Bytes += 4 * variable.size;
        continue;
      }
      const cols = variable.shape[variable.rank - 1];
      const table = quantizeInt8(variable.dataSync(), cols);
      int8Bytes += int8TableBytes(table);
      originals.push({ variable, saved: tf.clone(variable) });
      tf.tidy(() => variable.assign(tf.tensor(dequantizeInt8(table), variable.shape)));
    }
    const result = await run();
    return { result, int8Bytes, float32Bytes };
  } finally {
    for (const { variable, saved } of originals) {
      variable.assign(saved);
      saved.dispose();
    }
  }
}

function uniqueVariables(named: NamedWeight[]): tf.Variable[] {
  const seen = new Set<number>();
  return named.map((w) => w.variable).filter((v) => !seen.has(v.id) && (seen.add(v.id), true));
}
