import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { Ease } from "../../src/models/ease";
import { encodeArrays } from "../../src/train/checkpointFormat";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";
import { assertRefused, flipLastBit, jsonPathOf, literal, weightsPathOf } from "./savedFiles";

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
 * Column j of B by eq. 1 directly: minimise ‖X_j − X B_j‖² + Σ_a Λ_a B_aj² with B_jj = 0, i.e. ridge
 * regression of column j on the other columns: (X₋ⱼᵀX₋ⱼ + Λ) b = X₋ⱼᵀ X_j. Λ_a = λ for EASE^R; EDLAE
 * adds p/(1 − p)·(XᵀX)_aa, the expected cost of dropping x_ua from the input.
 */
function directColumn(j: number, lambda: number, dropout = 0): number[] {
  const others = [0, 1, 2, 3].filter((c) => c !== j);
  const count = (a: number) => X.reduce((s, row) => s + row[a], 0); // (XᵀX)_aa for a binary X
  const penalty = (a: number) => lambda + (dropout / (1 - dropout)) * count(a);
  const m = others.map((a) =>
    others.map((b) => X.reduce((s, row) => s + row[a] * row[b], 0) + (a === b ? penalty(a) : 0)),
  );
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

  it("with dropout p, B matches the ridge regression whose penalty on item a grows by p/(1 − p)·(XᵀX)_aa (EDLAE)", () => {
    for (const [lambda, dropout] of [
      [0.5, 0.25],
      [3, 0.5],
    ]) {
      const weights = new Ease({ regularization: lambda, dropout }).fit(toyLog()).weights;
      for (let j = 0; j < 4; j++) {
        const column = [0, 1, 2, 3].map((i) => weights[i * 4 + j]);
        assertClose(
          column,
          directColumn(j, lambda, dropout),
          { atol: 1e-6, rtol: 1e-5 },
          `column ${j}, p = ${dropout}`,
        );
      }
    }
    assert.throws(() => new Ease({ dropout: 1 }), /Ease: dropout must be in \[0, 1\), got 1/);
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

  describe("saving and loading", () => {
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-ease-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const users = Int32Array.of(0, 1, 2, 3, 4, 5);

    it("gives back X, B and the same scores, with or without the data, and checks the data given", async () => {
      const train = toyLog();
      const model = new Ease({ regularization: 2 }).fit(train);
      const dir = path.join(root, "round-trip");
      await assertNoLeak(async () => {
        await model.save(dir);
        for (const loaded of [await Ease.load(dir, train), await Ease.load(dir)]) {
          assert.equal(loaded.regularization, 2);
          assert.equal(loaded.numUsers, 6);
          assert.equal(loaded.numItems, 4);
          assert.deepEqual(loaded.weights, model.weights);
          assert.deepEqual(loaded.scoreItems(users), model.scoreItems(users));
        }
      });
      const saved = JSON.parse(fs.readFileSync(jsonPathOf(dir), "utf8"));
      assert.deepEqual(
        saved.weightSpecs.map(
          (w: { name: string; dtype: string; shape: number[] }) => `${w.name} ${w.dtype} [${w.shape}]`,
        ),
        ["userItems/offsets int32 [7]", "userItems/indices int32 [12]", "weights float32 [4,4]"],
      );
      const other = makeInteractions([[0, 1]], 6, 4, "other");
      await assert.rejects(
        Ease.load(dir, other),
        new RegExp(`Ease.load: ${literal(jsonPathOf(dir))} was trained on 'ease-toy' with rows 13; 'other' has 1`),
      );
    });

    it("refuses damaged files, naming the file and the weight or field", async () => {
      const dir = path.join(root, "damaged");
      await new Ease({ regularization: 2 }).fit(toyLog()).save(dir);
      const json = literal(jsonPathOf(dir));
      const load = () => Ease.load(dir);
      await assertRefused(
        dir,
        flipLastBit,
        load,
        new RegExp(
          `Ease.load: ${literal(weightsPathOf(dir))} fails its checksum .*, first in weight 'weights' .*: the file is corrupt`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.weightSpecs[2].shape = [2, 8]),
        load,
        new RegExp(`Ease.load: ${json}: weight 'weights' has shape \\[2,8\\], the model expects \\[4,4\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.fitted!.numUsers = 5),
        load,
        new RegExp(`Ease.load: ${json}: weight 'userItems/offsets' has shape \\[7\\], the model expects \\[6\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => delete json.state.fitted!.numItems,
        load,
        new RegExp(
          `Ease.load: ${json}: the saved state does not restore a Ease: Ease: numItems must be an integer >= 0, got undefined`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.weightSpecs[2].name = "B"),
        load,
        new RegExp(`Ease.load: ${json} has no weight 'weights'`),
      );
      // Undamaged again, it loads.
      await Ease.load(dir);
    });

    it("refuses saved arrays that do not form X, naming the weight", async () => {
      // Two users, two items: u0 has item `column`, u1 nothing; B swaps the two items.
      const saved = (column: number) =>
        encodeArrays(
          "test",
          [
            { name: "userItems/offsets", values: Int32Array.of(0, 1, 1), shape: [3] },
            { name: "userItems/indices", values: Int32Array.of(column), shape: [1] },
            { name: "weights", values: Float32Array.of(0, 1, 1, 0), shape: [2, 2] },
          ],
          { model: "Ease", config: { regularization: 1 }, fitted: { numUsers: 2, numItems: 2 } },
        );
      const good = await saved(1);
      assert.deepEqual(
        Array.from((await Ease.fromArtifacts(good.json, good.data)).scoreItems(Int32Array.of(0, 1))),
        [1, 0, 0, 0],
      );
      const bad = await saved(-1);
      await assert.rejects(
        Ease.fromArtifacts(bad.json, bad.data),
        /Ease.fromArtifacts: the model JSON: weight 'userItems\/offsets' and its indices do not form a sparse matrix: CsrMatrix: row 0 has column -1, outside \[0, 2\)/,
      );
    });
  });
});
