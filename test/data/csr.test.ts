import * as assert from "node:assert/strict";
import { CsrBuilder, CsrMatrix, groupRows, l2NormalizeRows, rowMeans, sparseDot } from "../../src/data/csr";

const f64 = (xs: number[]) => Float64Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);

describe("data/csr", () => {
  describe("groupRows", () => {
    it("groups rows by key stably, in CSR form", () => {
      const { offsets, rows } = groupRows(Int32Array.from([2, 0, 2, 1, 0]), 4);
      assert.deepEqual([...offsets], [0, 2, 3, 5, 5]);
      assert.deepEqual([...rows], [1, 4, 3, 0, 2]);
    });

    it("visits rows in the given order", () => {
      const { rows } = groupRows(Int32Array.from([2, 0, 2, 1, 0]), 3, Int32Array.from([4, 3, 2, 1, 0]));
      assert.deepEqual([...rows], [4, 1, 3, 2, 0]);
    });

    it("rejects a key out of range, naming the row", () => {
      assert.throws(() => groupRows(Int32Array.from([0, 3]), 3), /groupRows: key 3 at row 1 is out of range \[0, 3\)/);
    });
  });

  describe("CsrMatrix", () => {
    const m = CsrMatrix.fromDense([
      [0, 2, 0],
      [0, 0, 0],
      [1, 0, 3],
    ]);

    it("stores rows sparsely and reads entries, rows, the transpose and a dense copy", () => {
      assert.equal(m.nnz, 3);
      assert.deepEqual([...m.offsets], [0, 1, 1, 3]);
      assert.equal(m.get(0, 1), 2);
      assert.equal(m.get(0, 0), 0);
      assert.equal(m.get(2, 2), 3);
      assert.equal(m.rowLength(2), 2);
      assert.deepEqual(Array.from(m.row(2).indices), [0, 2]);
      assert.deepEqual(Array.from(m.row(1).values), []);
      assert.deepEqual(Array.from(m.toDense()), [0, 2, 0, 0, 0, 0, 1, 0, 3]);
      assert.deepEqual(Array.from(m.transpose().toDense()), [0, 0, 1, 2, 0, 0, 0, 0, 3]);
      assert.throws(() => m.row(3), /out of range/);
    });

    it("rejects inconsistent arrays", () => {
      assert.throws(
        () => new CsrMatrix(1, 2, i32([0, 2]), i32([1, 0]), f64([1, 1])),
        /row 0's columns are not ascending/,
      );
      assert.throws(() => new CsrMatrix(1, 2, i32([0, 1]), i32([2]), f64([1])), /column 2, outside/);
      assert.throws(() => new CsrMatrix(2, 2, i32([0, 1]), i32([0]), f64([1])), /inconsistent/);
      assert.throws(() => new CsrMatrix(2, 2, i32([0, 1, 0]), i32([]), f64([])), /offsets decrease at row 1/);
      assert.throws(() => CsrMatrix.fromDense([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
    });

    it("computes sparse dot products, unit-length rows and row means", () => {
      assert.equal(sparseDot(m.row(0), m.row(2)), 0);
      assert.equal(sparseDot(m.row(2), m.row(2)), 10);
      const unit = l2NormalizeRows(m);
      const s = Math.sqrt(10);
      assert.deepEqual(Array.from(unit.toDense()), [0, 1, 0, 0, 0, 0, 1 / s, 0, 3 / s]);
      assert.equal(m.get(2, 2), 3, "the input is not modified");
      assert.deepEqual([...rowMeans(m)], [2, 0, 2]);
    });
  });

  describe("CsrMatrix.fromTriples", () => {
    // (row, column, value): row 0 gets columns 2, 0, 2; row 2 gets column 1; row 1 is empty.
    const rows = i32([0, 2, 0, 0]);
    const columns = i32([2, 1, 0, 2]);
    const values = f64([5, 7, 1, 3]);

    it("groups triples by row with columns ascending, repeats kept in input order", () => {
      const m = CsrMatrix.fromTriples(3, 3, rows, columns, values);
      assert.deepEqual([...m.offsets], [0, 3, 3, 4]);
      assert.deepEqual([...m.indices], [0, 2, 2, 1]);
      assert.deepEqual([...m.values], [1, 5, 3, 7]);
      assert.deepEqual([...CsrMatrix.fromTriples(3, 3, rows, columns).values], [1, 1, 1, 1], "values default to 1");
    });

    it("transposes with each column's rows ascending", () => {
      const t = CsrMatrix.fromTriples(3, 3, rows, columns, values).transpose();
      assert.equal(t.numRows, 3);
      assert.deepEqual([...t.offsets], [0, 1, 2, 4]);
      assert.deepEqual([...t.indices], [0, 2, 0, 0]);
      assert.deepEqual([...t.values], [1, 7, 5, 3]);
    });

    it("merges repeated entries by sum, first, last or max", () => {
      const m = CsrMatrix.fromTriples(3, 3, rows, columns, values);
      for (const [policy, merged] of [
        ["sum", 8],
        ["first", 5],
        ["last", 3],
        ["max", 5],
      ] as const) {
        const d = m.dedupe(policy);
        assert.deepEqual([...d.offsets], [0, 2, 2, 3], policy);
        assert.deepEqual([...d.indices], [0, 2, 1], policy);
        assert.deepEqual([...d.values], [1, merged, 7], policy);
      }
    });

    it("rejects misaligned arrays and out-of-range indices", () => {
      assert.throws(() => CsrMatrix.fromTriples(3, 3, rows, i32([0])), /4 rows, 1 columns/);
      assert.throws(() => CsrMatrix.fromTriples(2, 3, rows, columns), /key 2 at row 1 is out of range \[0, 2\)/);
    });
  });

  describe("CsrBuilder", () => {
    it("builds rows of unknown length, including empty ones, past its initial capacity", () => {
      const builder = new CsrBuilder(3000);
      builder.push(1, 0.5);
      builder.endRow();
      builder.endRow();
      for (let c = 0; c < 2000; c++) builder.push(c, c);
      builder.endRow();
      const m = builder.build();
      assert.equal(m.numRows, 3);
      assert.deepEqual([...m.offsets], [0, 1, 1, 2001]);
      assert.equal(m.get(0, 1), 0.5);
      assert.equal(m.get(2, 1999), 1999);
    });
  });
});
