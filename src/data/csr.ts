// Sparse rows in compressed sparse row (CSR) form, the one sparse layout of the library: a user's
// items and ratings, an item's users, a document's term weights. Row r's entries sit at positions
// offsets[r] .. offsets[r + 1] - 1 of `indices` (columns, ascending) and `values`, as in
// scipy.sparse.csr_matrix. Everything is built by stable counting sorts, O(nnz + numRows + numCols).

/**
 * Rows of a table grouped by a dense key (a user, usually): the rows of group `g` are
 * `rows[offsets[g]]`, …, `rows[offsets[g + 1] - 1]`. The permutation behind every CSR build.
 */
export interface GroupedRows {
  /** Length `numGroups + 1`; `offsets[numGroups]` is the number of rows. */
  offsets: Int32Array;
  rows: Int32Array;
}

/**
 * Groups row numbers by `keys[row]` (each in [0, numGroups)) with a stable counting sort, O(n + g).
 * Rows are visited in the order given by `order` (all rows 0..n-1 when omitted), and within a
 * group they keep that order.
 */
export function groupRows(keys: Int32Array, numGroups: number, order?: Int32Array): GroupedRows {
  const offsets = new Int32Array(numGroups + 1);
  for (let k = 0; k < keys.length; k++) {
    const g = keys[k];
    if (!(g >= 0 && g < numGroups)) {
      throw new RangeError(`groupRows: key ${g} at row ${k} is out of range [0, ${numGroups})`);
    }
    offsets[g + 1]++;
  }
  for (let g = 0; g < numGroups; g++) offsets[g + 1] += offsets[g];
  const next = offsets.slice(0, numGroups);
  const visit = order ?? null;
  const n = visit === null ? keys.length : visit.length;
  const rows = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const row = visit === null ? j : visit[j];
    rows[next[keys[row]]++] = row;
  }
  return { offsets, rows };
}

/** A sparse vector: ascending column indices and their values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

/** How `dedupe` merges the entries of a row that share a column. */
export type CsrDuplicatePolicy = "sum" | "first" | "last" | "max";

/**
 * A sparse matrix in compressed sparse row form. Columns ascend within a row; a column may repeat
 * (a user who rated an item twice), the repeats in the order they were added, until `dedupe`.
 */
export class CsrMatrix {
  constructor(
    readonly numRows: number,
    readonly numCols: number,
    /** Length numRows + 1, offsets[0] = 0, nondecreasing, offsets[numRows] = nnz. */
    readonly offsets: Int32Array,
    /** The column of each entry (the item of a user row, the user of an item row, the term of a document). */
    readonly indices: Int32Array,
    readonly values: Float64Array,
  ) {
    if (
      offsets.length !== numRows + 1 ||
      offsets[0] !== 0 ||
      offsets[numRows] !== indices.length ||
      indices.length !== values.length
    ) {
      throw new Error(
        `CsrMatrix: inconsistent arrays (offsets ${offsets.length} for ${numRows} rows, ending at ${offsets[numRows]}; ` +
          `${indices.length} indices, ${values.length} values)`,
      );
    }
    for (let r = 0; r < numRows; r++) {
      if (offsets[r + 1] < offsets[r]) throw new Error(`CsrMatrix: offsets decrease at row ${r}`);
    }
    for (let r = 0; r < numRows; r++) {
      for (let p = offsets[r]; p < offsets[r + 1]; p++) {
        const c = indices[p];
        if (!(c >= 0 && c < numCols)) throw new Error(`CsrMatrix: row ${r} has column ${c}, outside [0, ${numCols})`);
        if (p > offsets[r] && c < indices[p - 1]) throw new Error(`CsrMatrix: row ${r}'s columns are not ascending`);
      }
    }
  }

  /**
   * The matrix of the triples (rows[k], columns[k], values[k]) (values 1 when omitted): each row's
   * columns ascending, an entry repeated as often as its triple, repeats in input order.
   */
  static fromTriples(
    numRows: number,
    numCols: number,
    rows: Int32Array,
    columns: Int32Array,
    values?: ArrayLike<number>,
  ): CsrMatrix {
    if (rows.length !== columns.length || (values !== undefined && values.length !== rows.length)) {
      throw new Error(
        `CsrMatrix.fromTriples: ${rows.length} rows, ${columns.length} columns and ${values?.length ?? "no"} values`,
      );
    }
    // A stable counting sort by column, then by row, leaves each row's columns ascending.
    const grouped = groupRows(rows, numRows, groupRows(columns, numCols).rows);
    const indices = new Int32Array(grouped.rows.length);
    const entries = new Float64Array(grouped.rows.length);
    for (let p = 0; p < indices.length; p++) {
      const k = grouped.rows[p];
      indices[p] = columns[k];
      entries[p] = values === undefined ? 1 : values[k];
    }
    return new CsrMatrix(numRows, numCols, grouped.offsets, indices, entries);
  }

  /** The nonzeros of dense rows (all of one length), for small examples and tests. */
  static fromDense(rows: ReadonlyArray<ArrayLike<number>>): CsrMatrix {
    const numCols = rows.length === 0 ? 0 : rows[0].length;
    const offsets = new Int32Array(rows.length + 1);
    const indices: number[] = [];
    const values: number[] = [];
    rows.forEach((row, r) => {
      if (row.length !== numCols)
        throw new Error(`CsrMatrix.fromDense: row ${r} has ${row.length} values, row 0 has ${numCols}`);
      for (let c = 0; c < numCols; c++) {
        if (row[c] !== 0) {
          indices.push(c);
          values.push(row[c]);
        }
      }
      offsets[r + 1] = indices.length;
    });
    return new CsrMatrix(rows.length, numCols, offsets, Int32Array.from(indices), Float64Array.from(values));
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.indices.length;
  }

  /** Number of entries of row r. */
  rowLength(r: number): number {
    return this.offsets[r + 1] - this.offsets[r];
  }

  /** Row r as a sparse vector (views into this matrix, not copies). */
  row(r: number): SparseVector {
    this.checkRow(r);
    const start = this.offsets[r];
    const end = this.offsets[r + 1];
    return { indices: this.indices.subarray(start, end), values: this.values.subarray(start, end) };
  }

  /** Entry (r, c); 0 where nothing is stored (one of them where c repeats: `dedupe` first). */
  get(r: number, c: number): number {
    this.checkRow(r);
    let lo = this.offsets[r];
    let hi = this.offsets[r + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indices[mid] === c) return this.values[mid];
      if (this.indices[mid] < c) lo = mid + 1;
      else hi = mid;
    }
    return 0;
  }

  /** The transpose, also in CSR form (that is, this matrix in compressed sparse column form). O(nnz). */
  transpose(): CsrMatrix {
    const offsets = new Int32Array(this.numCols + 1);
    for (let p = 0; p < this.nnz; p++) offsets[this.indices[p] + 1]++;
    for (let c = 0; c < this.numCols; c++) offsets[c + 1] += offsets[c];
    const next = offsets.slice(0, this.numCols);
    const indices = new Int32Array(this.nnz);
    const values = new Float64Array(this.nnz);
    // Rows are visited in order, so each column's new row indices come out ascending.
    for (let r = 0; r < this.numRows; r++) {
      for (let p = this.offsets[r]; p < this.offsets[r + 1]; p++) {
        const to = next[this.indices[p]]++;
        indices[to] = r;
        values[to] = this.values[p];
      }
    }
    return new CsrMatrix(this.numCols, this.numRows, offsets, indices, values);
  }

  /** This matrix with each repeated (row, column) merged into one entry by `policy`. O(nnz). */
  dedupe(policy: CsrDuplicatePolicy): CsrMatrix {
    const offsets = new Int32Array(this.numRows + 1);
    const indices = new Int32Array(this.nnz);
    const values = new Float64Array(this.nnz);
    let m = 0;
    for (let r = 0; r < this.numRows; r++) {
      for (let p = this.offsets[r]; p < this.offsets[r + 1]; p++) {
        const v = this.values[p];
        if (p === this.offsets[r] || this.indices[p] !== this.indices[p - 1]) {
          indices[m] = this.indices[p];
          values[m++] = v;
        } else if (policy === "sum") {
          values[m - 1] += v;
        } else if (policy === "last" || (policy === "max" && v > values[m - 1])) {
          values[m - 1] = v;
        }
      }
      offsets[r + 1] = m;
    }
    return new CsrMatrix(this.numRows, this.numCols, offsets, indices.slice(0, m), values.slice(0, m));
  }

  /** This matrix with every value replaced by `map(value)`, same pattern. */
  mapValues(map: (value: number, position: number) => number): CsrMatrix {
    return new CsrMatrix(this.numRows, this.numCols, this.offsets, this.indices, this.values.map(map));
  }

  /** Dense row-major copy [numRows × numCols], for small matrices (tables in a notebook, tests). */
  toDense(): Float64Array {
    const out = new Float64Array(this.numRows * this.numCols);
    for (let r = 0; r < this.numRows; r++) {
      for (let p = this.offsets[r]; p < this.offsets[r + 1]; p++)
        out[r * this.numCols + this.indices[p]] += this.values[p];
    }
    return out;
  }

  private checkRow(r: number): void {
    if (!(Number.isInteger(r) && r >= 0 && r < this.numRows)) {
      throw new RangeError(`CsrMatrix: row ${r} is out of range [0, ${this.numRows})`);
    }
  }
}

/** Dot product of two sparse vectors (a merge of their ascending indices). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const ca = a.indices[i];
    const cb = b.indices[j];
    if (ca === cb) sum += a.values[i++] * b.values[j++];
    else if (ca < cb) i++;
    else j++;
  }
  return sum;
}

/** A copy of `m` with every nonzero row scaled to unit Euclidean length: v / ||v||₂. */
export function l2NormalizeRows(m: CsrMatrix): CsrMatrix {
  const values = m.values.slice();
  for (let r = 0; r < m.numRows; r++) {
    let sq = 0;
    for (let p = m.offsets[r]; p < m.offsets[r + 1]; p++) sq += values[p] * values[p];
    if (sq === 0) continue;
    const scale = 1 / Math.sqrt(sq);
    for (let p = m.offsets[r]; p < m.offsets[r + 1]; p++) values[p] *= scale;
  }
  return new CsrMatrix(m.numRows, m.numCols, m.offsets, m.indices, values);
}

/** The mean value of each row (0 for an empty row): μ_u over users' rows, μ_i over items'. */
export function rowMeans(rows: CsrMatrix): Float64Array {
  const means = new Float64Array(rows.numRows);
  for (let x = 0; x < rows.numRows; x++) {
    const start = rows.offsets[x];
    const end = rows.offsets[x + 1];
    let sum = 0;
    for (let p = start; p < end; p++) sum += rows.values[p];
    if (end > start) means[x] = sum / (end - start);
  }
  return means;
}

/**
 * Builds a CSR matrix one row at a time when the rows' lengths are not known in advance (user
 * profiles): `push` the entries of row 0 in ascending column order, `endRow()`, then row 1, ….
 */
export class CsrBuilder {
  private indices = new Int32Array(1024);
  private values = new Float64Array(1024);
  private readonly offsets: number[] = [0];
  private length = 0;

  constructor(readonly numCols: number) {}

  push(column: number, value: number): void {
    if (this.length === this.indices.length) {
      const indices = new Int32Array(this.indices.length * 2);
      const values = new Float64Array(this.values.length * 2);
      indices.set(this.indices);
      values.set(this.values);
      this.indices = indices;
      this.values = values;
    }
    this.indices[this.length] = column;
    this.values[this.length++] = value;
  }

  endRow(): void {
    this.offsets.push(this.length);
  }

  build(): CsrMatrix {
    return new CsrMatrix(
      this.offsets.length - 1,
      this.numCols,
      Int32Array.from(this.offsets),
      this.indices.slice(0, this.length),
      this.values.slice(0, this.length),
    );
  }
}
