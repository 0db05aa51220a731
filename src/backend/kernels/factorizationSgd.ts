// Surprise's SVD SGD epoch on the SIMD module (simd.wat, svd_sgd_epoch): the float64 tables and the
// rating columns live in a wasm memory of their own for the whole of a fit, so that an epoch is one
// call with no copies. Two factors per instruction make it ~2-3× the JavaScript loop it replaces
// (models/matrixFactorization.ts, svdSgdEpoch), which stays the reference and the fallback.

import { simdKernelsOnOwnMemory, SimdKernels } from "./simd";

/** The sizes of the tables an SVD fit updates. */
export interface SvdSgdShape {
  numUsers: number;
  numItems: number;
  factors: number;
  /** With b_u and b_i. */
  biased: boolean;
}

/** The rating columns of a log, and the rows an epoch visits, in order. */
export interface SvdSgdRatings {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ratings: Float32Array;
  readonly rows: Int32Array;
}

/**
 * The tables (float64 views into wasm memory: write the initial values into them, read the trained
 * ones back) and an `epoch` that runs svd_sgd_epoch over `rows`. `create` gives undefined where the
 * engine has no WebAssembly SIMD.
 */
export class SimdSvdSgd {
  readonly userFactors: Float64Array;
  readonly itemFactors: Float64Array;
  /** Null when unbiased. */
  readonly userBias: Float64Array | null;
  readonly itemBias: Float64Array | null;

  private constructor(
    private readonly kernels: SimdKernels,
    buffer: ArrayBuffer,
    private readonly shape: SvdSgdShape,
    private readonly numRows: number,
    private readonly offsets: Record<"p" | "q" | "bu" | "bi" | "users" | "items" | "ratings" | "rows", number>,
  ) {
    const { numUsers, numItems, factors, biased } = shape;
    this.userFactors = new Float64Array(buffer, offsets.p, numUsers * factors);
    this.itemFactors = new Float64Array(buffer, offsets.q, numItems * factors);
    this.userBias = biased ? new Float64Array(buffer, offsets.bu, numUsers) : null;
    this.itemBias = biased ? new Float64Array(buffer, offsets.bi, numItems) : null;
  }

  static create(shape: SvdSgdShape, data: SvdSgdRatings): SimdSvdSgd | undefined {
    const { numUsers, numItems, factors } = shape;
    const n = data.users.length;
    // float64 tables first (8-byte aligned), then the 4-byte columns.
    const sizes = {
      p: 8 * numUsers * factors,
      q: 8 * numItems * factors,
      bu: 8 * numUsers,
      bi: 8 * numItems,
      users: 4 * n,
      items: 4 * n,
      ratings: 4 * n,
      rows: 4 * data.rows.length,
    };
    const offsets = {} as Record<keyof typeof sizes, number>;
    let end = 0;
    for (const [name, size] of Object.entries(sizes)) {
      offsets[name as keyof typeof sizes] = end;
      end += Math.ceil(size / 16) * 16;
    }
    const own = simdKernelsOnOwnMemory(end);
    if (!own) return undefined;
    const { buffer } = own;
    new Int32Array(buffer, offsets.users, n).set(data.users);
    new Int32Array(buffer, offsets.items, n).set(data.items);
    new Float32Array(buffer, offsets.ratings, n).set(data.ratings);
    new Int32Array(buffer, offsets.rows, data.rows.length).set(data.rows);
    return new SimdSvdSgd(own.kernels, buffer, shape, data.rows.length, offsets);
  }

  /** One epoch at rate γ = `learningRate`; returns the mean per-rating loss. */
  epoch(settings: { globalMean: number; regularization: number; learningRate: number }): number {
    const o = this.offsets;
    const sum = this.kernels.svd_sgd_epoch(
      o.p,
      o.q,
      o.bu,
      o.bi,
      this.shape.biased ? 1 : 0,
      o.users,
      o.items,
      o.ratings,
      o.rows,
      this.numRows,
      this.shape.factors,
      settings.globalMean,
      settings.regularization,
      settings.learningRate,
    );
    return sum / this.numRows;
  }
}
