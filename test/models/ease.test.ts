import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { Ease } from "../../src/models/ease";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";

/**
 *        i0 i1 i2 i3
 *   u0:   1  1  0  0
 *   u1:   1  1  1  0
 *   u2:   0  1  1  1
 *   u3:   1  0  0  1
 *   u4:   0  0  1  1
 *   u5:   (nothing)
 * u1's (u1, i0) appears twice: X is binary, the repeat counts once.
 */
const X = [
  [1, 1, 0, 0],
  [1, 1, 1, 0],
  [0, 1, 1, 1],
  [1, 0, 0, 1],
  [0, 0, 1, 1],
  [0, 0, 0, 0],
];

function toyLog() {
  const rows: [number, number][] = [];
  X.forEach((row, u) => row.forEach((x, i) => x && rows.push([u, i])));
  rows.push([1, 0]);
  return makeInteractions(rows, 6, 4, "ease-toy");
}

/** Solves the small dense system M y = r by Gaussian elimination with partial pivoting. */
function solve(m: number[][], r: number[]): number[] {
  const n = r.length;
  const a = m.map((row, i) => [...row, r[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i][c]) > Math.abs(a[pivot][c])) pivot = i;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    for (let i = c + 1; i < n; i++) {
      const f = a[i][c] / a[c][c];
      for (let k = c; k <= n; k++) a[i][k] -= f * a[c][k];
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = a[i][n];
    for (let k = i + 1; k < n; k++) s -= a[i][k] * y[k];
    y[i] = s / a[i][i];
  }
  return y;
}

/**
 * Column j of B by eq. 1 directly: minimise ‖X_j − X B_j‖² + λ‖B_j‖² with B_jj = 0, i.e. ridge
 * regression of column j on the other columns: (X₋ⱼᵀX₋ⱼ + λI) b = X₋ⱼᵀ X_j.
 */
function directColumn(j: number, lambda: number): number[] {
  const others = [0, 1, 2, 3].filter((c) => c !== j);
  const m = others.map((a) => others.map((b) => X.reduce((s, row) => s + row[a] * row[b], 0) + (a === b ? lambda : 0)));
  const r = others.map((a) => X.reduce((s, row) => s + row[a] * row[j], 0));
  const b = solve(m, r);
  const column = [0, 0, 0, 0];
  others.forEach((c, k) => (column[c] = b[k]));
  return column;
}

describe("models/ease", () => {
  before(async () => {
    await initBackend();
  });

  it("B matches the constrained least squares of eq. 1 solved column by column, with diag(B) = 0", () => {
    for (const lambda of [0.5, 3, 500]) {
      const weights = new Ease({ regularization: lambda }).fit(toyLog()).weights;
      for (let j = 0; j < 4; j++) {
        const column = [0, 1, 2, 3].map((i) => weights[i * 4 + j]);
        assertClose(column, directColumn(j, lambda), { atol: 1e-6, rtol: 1e-5 }, `column ${j} at λ = ${lambda}`);
        assert.equal(weights[j * 4 + j], 0);
      }
    }
  });

  it("scores x_u B: the sum of B's rows over the user's items; a user without items scores 0", () => {
    const model = new Ease({ regularization: 2 }).fit(toyLog());
    const b = model.weights;
    const scores = model.scoreItems(Int32Array.of(2, 5, 0));
    // u2 has i1, i2, i3.
    for (let j = 0; j < 4; j++) assertClose(scores[j], b[4 + j] + b[8 + j] + b[12 + j], { atol: 1e-12 });
    assert.deepEqual(Array.from(scores.subarray(4, 8)), [0, 0, 0, 0]);
    for (let j = 0; j < 4; j++) assertClose(scores[8 + j], b[j] + b[4 + j], { atol: 1e-12 });
    // u0 has i0 and i1: three co-occurrences with i2 (i0 via u1; i1 via u1 and u2), two with i3 (via u3, u2).
    assert.ok(scores[8 + 2] > scores[8 + 3]);
    assert.throws(() => model.scoreItems(Int32Array.of(6)), /Ease.scoreItems: users\[0\] is 6, outside the 6 users/);
  });

  it("rejects λ <= 0 and use before fit", () => {
    assert.throws(() => new Ease({ regularization: 0 }), /Ease: regularization must be a finite number > 0, got 0/);
    assert.throws(() => new Ease().scoreItems(Int32Array.of(0)), /Ease.scoreItems: call fit\(train\)/);
  });

  it("saves and loads: the same B and scores, no tensor left behind, and the training data is checked", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-ease-"));
    try {
      const train = toyLog();
      const model = new Ease({ regularization: 2 }).fit(train);
      await assertNoLeak(async () => {
        await model.save(path.join(root, "ease"));
        const loaded = await Ease.load(path.join(root, "ease"), train);
        assert.equal(loaded.regularization, 2);
        assert.deepEqual(loaded.weights, model.weights);
        assert.deepEqual(loaded.scoreItems(Int32Array.of(0, 1, 2)), model.scoreItems(Int32Array.of(0, 1, 2)));
      });
      const other = makeInteractions([[0, 1]], 6, 4, "other");
      await assert.rejects(Ease.load(path.join(root, "ease"), other), /was trained on 'ease-toy'/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
