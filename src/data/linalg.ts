// Dense linear algebra on Float64Array, row-major, for the closed-form models: Gram matrices (dense
// FᵀF and sparse XᵀX), the Cholesky factorisation, solving with it and inverting with it. tfjs has no
// solver and no batched Cholesky, and these models need float64: EASE inverts XᵀX + λI, whose
// entries run to the thousands, and WALS solves one small system per user and per item.
//
// Cholesky: a symmetric positive definite A = LLᵀ with L lower triangular. Solving A x = b is two
// triangular solves; A⁻¹ = L⁻ᵀL⁻¹. Costs for d × d: factor d³/6 multiply-adds, invert d³/3 more.

import { CsrMatrix } from "./csr";

/** FᵀF of a [n × d] row-major table: [d × d]. */
export function gram(factors: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  const n = factors.length / d;
  for (let r = 0; r < n; r++) {
    const base = r * d;
    for (let a = 0; a < d; a++) {
      const fa = factors[base + a];
      if (fa === 0) continue;
      for (let b = a; b < d; b++) out[a * d + b] += fa * factors[base + b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) out[a * d + b] = out[b * d + a];
  return out;
}

/**
 * XᵀX of a sparse X ([rows × numCols]): [numCols × numCols], dense. Entry (i, j) sums x_ri·x_rj over
 * the rows; for a binary user × item X it is the co-occurrence count of items i and j, and the
 * diagonal counts each item's users. O(Σ_r nnz_r²).
 */
export function sparseGram(x: CsrMatrix): Float64Array {
  const n = x.numCols;
  const out = new Float64Array(n * n);
  const { offsets, indices, values } = x;
  for (let r = 0; r < x.numRows; r++) {
    for (let p = offsets[r]; p < offsets[r + 1]; p++) {
      const base = indices[p] * n;
      const v = values[p];
      for (let q = offsets[r]; q < offsets[r + 1]; q++) out[base + indices[q]] += v * values[q];
    }
  }
  return out;
}

/**
 * Overwrites the lower triangle of a symmetric positive definite A ([d × d], row-major) with its
 * Cholesky factor L (A = LLᵀ); the strict upper triangle is left as it was. Throws, naming `caller`,
 * on a pivot <= 0 (A not positive definite, or too ill-conditioned for float64).
 */
export function choleskyFactor(a: Float64Array, d: number, caller = "choleskyFactor"): void {
  for (let j = 0; j < d; j++) {
    const rowJ = j * d;
    let diagonal = a[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= a[rowJ + k] * a[rowJ + k];
    if (!(diagonal > 0))
      throw new Error(
        `${caller}: the matrix is not positive definite (pivot ${j} is ${diagonal}); use regularization > 0`,
      );
    const l = Math.sqrt(diagonal);
    a[rowJ + j] = l;
    // L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj: a dot product of two rows, contiguous in memory.
    for (let i = j + 1; i < d; i++) {
      const rowI = i * d;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s / l;
    }
  }
}

/**
 * Solves A x = b for a symmetric positive definite A ([d × d], row-major) in place: A is overwritten
 * by its Cholesky factor L (A = LLᵀ, lower triangle), b by x.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, d: number): void {
  choleskyFactor(a, d, "choleskySolve");
  for (let i = 0; i < d; i++) {
    // L z = b
    let s = b[i];
    for (let k = 0; k < i; k++) s -= a[i * d + k] * b[k];
    b[i] = s / a[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    // Lᵀ x = z
    let s = b[i];
    for (let k = i + 1; k < d; k++) s -= a[k * d + i] * b[k];
    b[i] = s / a[i * d + i];
  }
}

/**
 * Overwrites a symmetric positive definite A ([d × d], row-major) with A⁻¹ (symmetric, both
 * triangles filled), in three steps of d³/6 multiply-adds each:
 *   1. A = LLᵀ                                 L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj
 *   2. V = L⁻ᵀ (upper triangular)              V_ji = (δ_ij − Σ_{j≤k<i} L_ik V_jk) / L_ii   (from LVᵀ = I)
 *   3. A⁻¹ = L⁻ᵀL⁻¹ = VVᵀ                      A⁻¹_pq = Σ_{i ≥ max(p,q)} V_pi V_qi
 * Every sum is a dot product of two rows, so each step runs on blocks of 4 rows × 4 rows (16 sums
 * in registers, 8 loads per 16 multiply-adds), which makes it several times faster than the
 * one-pair-at-a-time loops of `choleskySolve` once the matrix outgrows the cache: MovieLens 100K's
 * 1,682 items take a couple of seconds. The matrix is padded to a multiple of 4 with an identity
 * block, whose inverse is itself and leaves A⁻¹ unchanged.
 */
export function spdInverse(a: Float64Array, d: number, caller = "spdInverse"): void {
  const n = Math.ceil(d / 4) * 4;
  const m = new Float64Array(n * n); // A, then L (lower triangle), then A⁻¹
  for (let i = 0; i < d; i++) m.set(a.subarray(i * d, i * d + i + 1), i * n);
  for (let i = d; i < n; i++) m[i * n + i] = 1;
  const s = new Float64Array(16);

  // 1. L, four rows at a time: the sums over k below the column block come from `dots4x4`, the
  // rest of each sum (k inside the block) in order, since L_ij needs L_ik for k < j.
  for (let i0 = 0; i0 < n; i0 += 4) {
    for (let j0 = 0; j0 <= i0; j0 += 4) {
      dots4x4(m, i0, m, j0, n, 0, j0, s);
      for (let jj = 0; jj < 4; jj++) {
        const j = j0 + jj;
        const rowJ = j * n;
        for (let ii = j0 === i0 ? jj : 0; ii < 4; ii++) {
          const rowI = (i0 + ii) * n;
          let v = m[rowI + j] - s[ii * 4 + jj];
          for (let k = j0; k < j; k++) v -= m[rowI + k] * m[rowJ + k];
          if (i0 + ii > j) {
            m[rowI + j] = v / m[rowJ + j];
          } else {
            if (!(v > 0))
              throw new Error(
                `${caller}: the matrix is not positive definite (pivot ${j} is ${v}); use regularization > 0`,
              );
            m[rowI + j] = Math.sqrt(v);
          }
        }
      }
    }
  }

  // 2. V = L⁻ᵀ, column i of V (V_ji for j <= i) four columns at a time; V_jk = 0 for k < j, so the
  // block sums may start at the column block j0.
  const v = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += 4) {
    for (let j0 = 0; j0 <= i0; j0 += 4) {
      dots4x4(m, i0, v, j0, n, j0, i0, s);
      for (let ii = 0; ii < 4; ii++) {
        const i = i0 + ii;
        const rowI = i * n;
        for (let jj = 0; jj < 4 && j0 + jj <= i; jj++) {
          const j = j0 + jj;
          const rowJ = j * n;
          let t = (i === j ? 1 : 0) - s[ii * 4 + jj];
          for (let k = i0; k < i; k++) t -= m[rowI + k] * v[rowJ + k];
          v[rowJ + i] = t / m[rowI + i];
        }
      }
    }
  }

  // 3. A⁻¹ = VVᵀ, block by block; V_pi = 0 for i < p, so a block's sums start at its first row p0.
  for (let p0 = 0; p0 < n; p0 += 4) {
    for (let q0 = 0; q0 <= p0; q0 += 4) {
      dots4x4(v, p0, v, q0, n, p0, n, s);
      for (let pp = 0; pp < 4; pp++)
        for (let qq = 0; qq < 4; qq++) m[(p0 + pp) * n + q0 + qq] = m[(q0 + qq) * n + p0 + pp] = s[pp * 4 + qq];
    }
  }
  for (let i = 0; i < d; i++) a.set(m.subarray(i * n, i * n + d), i * d);
}

/**
 * out[4r + c] = Σ_{from <= k < to} x[(xRow + r)·n + k] · y[(yRow + c)·n + k] for r, c in 0..3: the
 * sixteen dot products of four rows of x with four rows of y ([· × n] row-major), kept in registers.
 */
function dots4x4(
  x: Float64Array,
  xRow: number,
  y: Float64Array,
  yRow: number,
  n: number,
  from: number,
  to: number,
  out: Float64Array,
): void {
  const a0 = xRow * n;
  const a1 = a0 + n;
  const a2 = a1 + n;
  const a3 = a2 + n;
  const b0 = yRow * n;
  const b1 = b0 + n;
  const b2 = b1 + n;
  const b3 = b2 + n;
  // Sixteen accumulators in four rows, as the block they hold.
  // prettier-ignore
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0,
      s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  // prettier-ignore
  for (let k = from; k < to; k++) {
    const x0 = x[a0 + k], x1 = x[a1 + k], x2 = x[a2 + k], x3 = x[a3 + k];
    const y0 = y[b0 + k], y1 = y[b1 + k], y2 = y[b2 + k], y3 = y[b3 + k];
    s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
    s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
    s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
    s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
  }
  // prettier-ignore
  out.set([s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33]);
}
