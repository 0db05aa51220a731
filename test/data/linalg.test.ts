import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { CsrMatrix } from "../../src/data/csr";
import { choleskyFactor, choleskySolve, gram, sparseGram, spdInverse } from "../../src/data/linalg";
import { assertClose } from "../support/assertions";

/** M Mᵀ + I for a seeded random M: symmetric positive definite. */
function spd(d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const m = Float64Array.from({ length: d * d }, () => rng.normal());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < d; k++) s += m[i * d + k] * m[j * d + k];
      a[i * d + j] = s;
    }
  return a;
}

describe("data/linalg", () => {
  it("factors A = LLᵀ with L lower triangular", () => {
    const d = 6;
    const a = spd(d, 1);
    const l = Float64Array.from(a);
    choleskyFactor(l, d);
    const product = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k <= Math.min(i, j); k++) s += l[i * d + k] * l[j * d + k];
        product[i * d + j] = s;
      }
    assertClose(product, a, { atol: 1e-10, rtol: 1e-10 }, "LLᵀ");
    // [[1, 2], [2, 1]] has eigenvalue −1.
    assert.throws(
      () => choleskyFactor(Float64Array.of(1, 2, 2, 1), 2, "test"),
      /test: the matrix is not positive definite/,
    );
  });

  it("inverts a symmetric positive definite matrix: A·A⁻¹ = I, A⁻¹ symmetric", () => {
    for (const d of [1, 2, 7, 30]) {
      const a = spd(d, d);
      const inverse = Float64Array.from(a);
      spdInverse(inverse, d);
      const identity = new Float64Array(d * d);
      for (let i = 0; i < d; i++) {
        identity[i * d + i] = 1;
        for (let j = 0; j < i; j++) assert.equal(inverse[i * d + j], inverse[j * d + i], `symmetric at ${i}, ${j}`);
      }
      const product = new Float64Array(d * d);
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += a[i * d + k] * inverse[k * d + j];
          product[i * d + j] = s;
        }
      assertClose(product, identity, { atol: 1e-9, rtol: 0 }, `A·A⁻¹ (d = ${d})`);
    }
    // A 2 × 2 by hand: [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8.
    const small = Float64Array.of(4, 2, 2, 3);
    spdInverse(small, 2);
    assertClose(small, [3 / 8, -2 / 8, -2 / 8, 4 / 8], { atol: 1e-15 });
    assert.throws(
      () => spdInverse(Float64Array.of(1, 2, 2, 1), 2, "test"),
      /test: the matrix is not positive definite/,
    );
  });

  it("sparseGram is XᵀX of a sparse X: co-occurrence counts of a binary matrix", () => {
    const x = CsrMatrix.fromDense([
      [1, 1, 0],
      [0, 1, 1],
      [1, 1, 1],
    ]);
    assert.deepEqual(Array.from(sparseGram(x)), [2, 2, 1, 2, 3, 2, 1, 2, 2]);
    const weighted = CsrMatrix.fromDense([[2, 0, 3]]);
    assert.deepEqual(Array.from(sparseGram(weighted)), [4, 0, 6, 0, 0, 0, 6, 0, 9]);
  });

  it("solves a symmetric positive definite system by Cholesky", () => {
    // A = M Mᵀ + I for a fixed M; b = A x* for a known x*.
    const rng = new Rng(2);
    const d = 5;
    const m = Float64Array.from({ length: d * d }, () => rng.normal());
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let s = i === j ? 1 : 0;
        for (let k = 0; k < d; k++) s += m[i * d + k] * m[j * d + k];
        a[i * d + j] = s;
      }
    const solution = [1, -2, 0.5, 3, -1];
    const b = Float64Array.from({ length: d }, (_, i) => solution.reduce((s, v, j) => s + a[i * d + j] * v, 0));
    choleskySolve(Float64Array.from(a), b, d);
    b.forEach((v, i) => assert.ok(Math.abs(v - solution[i]) < 1e-9, `x[${i}] = ${v}`));
    assert.throws(
      () => choleskySolve(Float64Array.from([1, 2, 2, 1]), new Float64Array(2), 2),
      /not positive definite/,
    );
  });

  it("computes FᵀF", () => {
    const f = Float64Array.from([1, 2, 3, 4, 5, 6]); // 3 × 2
    assert.deepEqual(Array.from(gram(f, 2)), [1 + 9 + 25, 2 + 12 + 30, 2 + 12 + 30, 4 + 16 + 36]);
  });
});
