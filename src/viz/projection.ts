// Two-dimensional views of embeddings (item factors, token embeddings): principal component
// analysis by power iteration with deflation, which is all a 2-D scatter needs.

import { Rng } from "../backend/random";

export interface Projection2d {
  /** [rows × 2], row-major: each row's coordinates on the first two principal components. */
  points: Float64Array;
  /** The share of the total variance each of the two components explains. */
  explainedVariance: [number, number];
}

/**
 * Projects the rows of a [rows × cols] row-major matrix onto its first two principal components.
 * The sign of each component is fixed (largest-magnitude loading positive) so plots are stable.
 */
export function pca2d(
  matrix: ArrayLike<number>,
  rows: number,
  cols: number,
  options: { seed?: number; iterations?: number } = {},
): Projection2d {
  if (matrix.length !== rows * cols)
    throw new Error(`pca2d: matrix has ${matrix.length} values, expected ${rows}×${cols}`);
  if (rows < 2 || cols < 2) throw new Error(`pca2d: needs at least 2 rows and 2 columns, got ${rows}×${cols}`);
  const centred = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += matrix[r * cols + c];
    mean /= rows;
    for (let r = 0; r < rows; r++) centred[r * cols + c] = matrix[r * cols + c] - mean;
  }
  // Covariance C = XᵀX / (n − 1), cols × cols.
  const cov = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      const xi = centred[r * cols + i];
      if (xi === 0) continue;
      for (let j = 0; j < cols; j++) cov[i * cols + j] += xi * centred[r * cols + j];
    }
  }
  let totalVariance = 0;
  for (let i = 0; i < cols * cols; i++) cov[i] /= rows - 1;
  for (let i = 0; i < cols; i++) totalVariance += cov[i * cols + i];

  const rng = new Rng(options.seed ?? 0);
  const iterations = options.iterations ?? 500;
  const components: Float64Array[] = [];
  const eigenvalues: number[] = [];
  for (let k = 0; k < 2; k++) {
    let v = Float64Array.from({ length: cols }, () => rng.normal());
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(cols);
      for (let i = 0; i < cols; i++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += cov[i * cols + j] * v[j];
        w[i] = s;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let i = 0; i < cols; i++) w[i] /= norm;
      const converged = Math.abs(norm - lambda) <= 1e-12 * Math.max(1, norm);
      v = w;
      lambda = norm;
      if (converged) break;
    }
    let largest = 0;
    for (let i = 1; i < cols; i++) if (Math.abs(v[i]) > Math.abs(v[largest])) largest = i;
    if (v[largest] < 0) for (let i = 0; i < cols; i++) v[i] = -v[i];
    components.push(v);
    eigenvalues.push(lambda);
    // Deflate: C ← C − λ v vᵀ, so the next power iteration finds the next component.
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) cov[i * cols + j] -= lambda * v[i] * v[j];
  }
  const points = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += centred[r * cols + c] * components[k][c];
      points[r * 2 + k] = s;
    }
  }
  const share = (lambda: number) => (totalVariance > 0 ? lambda / totalVariance : 0);
  return { points, explainedVariance: [share(eigenvalues[0]), share(eigenvalues[1])] };
}
