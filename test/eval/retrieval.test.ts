import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import {
  ApproximateIndex,
  ExactIndex,
  annRecall,
  exactTopK,
  gaussianVectorsLike,
  queriesPerSecond,
  tableRows,
  vectorTable,
  VectorTable,
} from "../../src/eval/retrieval";
import { TopKRecommendations } from "../../src/eval/recommendTopK";
import { assertClose, assertNoLeak } from "../support/assertions";

// Five items in 2-d and two queries; inner products worked out by hand below.
const ITEMS = vectorTable(Float32Array.from([1, 0, 0, 1, 1, 1, -1, 0, 2, -1]), 2);
const QUERIES = vectorTable(Float32Array.from([1, 0.5, 0, -1]), 2);
// Query 0 = (1, 0.5): items score 1, 0.5, 1.5, −1, 1.5 → best first 2, 4 (tie, lower index first), 0, 1, 3.
// Query 1 = (0, −1):  items score 0, −1, −1, 0, 1  → best first 4, 0, 3 (tie), 1, 2 (tie).

function randomTable(rng: Rng, rows: number, dim: number): VectorTable {
  return { values: Float32Array.from({ length: rows * dim }, () => rng.normal()), dim };
}

function lists(rows: number[][], k: number): TopKRecommendations {
  const items = new Int32Array(rows.length * k).fill(-1);
  rows.forEach((row, r) => items.set(row, r * k));
  return new TopKRecommendations(
    Int32Array.from(rows, (_, r) => r),
    k,
    items,
    new Float32Array(rows.length * k),
    Int32Array.from(rows, (row) => row.length),
  );
}

describe("eval/retrieval", () => {
  before(async () => {
    await initBackend();
  });

  describe("exact search", () => {
    it("ranks five items by inner product, ties to the lower index", async () => {
      const top = await assertNoLeak(() => exactTopK(QUERIES, ITEMS, 3));
      assert.deepEqual([...top.itemsOf(0)], [2, 4, 0]);
      assertClose(top.scoresOf(0), [1.5, 1.5, 1]);
      assert.deepEqual([...top.itemsOf(1)], [4, 0, 3]);
      assertClose(top.scoresOf(1), [1, 0, 0]);
      assert.deepEqual([...top.users], [0, 1]);
    });

    it("pads with -1 when k exceeds the items, and batches queries without changing the answer", () => {
      const top = exactTopK(QUERIES, ITEMS, 7);
      assert.deepEqual([...top.counts], [5, 5]);
      assert.deepEqual([...top.items.subarray(0, 7)], [2, 4, 0, 1, 3, -1, -1]);
      const index = new ExactIndex(ITEMS, { batchSize: 1 });
      assert.deepEqual([...index.search(QUERIES, 7).items], [...top.items]);
      index.dispose();
      assert.throws(() => index.search(QUERIES, 1), /disposed/);
    });

    it("rejects mismatched widths and ragged tables", () => {
      assert.throws(
        () => exactTopK(vectorTable(new Float32Array(3), 3), ITEMS, 1),
        /queries have dim 3 but the items have 2/,
      );
      assert.throws(() => vectorTable(new Float32Array(5), 2), /not a multiple of dim 2/);
      assert.throws(() => exactTopK(QUERIES, ITEMS, 0), /k must be a positive integer/);
    });

    it("reads a [rows, dim] tensor", () => {
      const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const table = vectorTable(t);
      t.dispose();
      assert.equal(table.dim, 2);
      assert.equal(tableRows(table), 3);
      assert.deepEqual([...table.values], [1, 2, 3, 4, 5, 6]);
    });
  });

  describe("approximate search (HNSW, usearch)", () => {
    it("finds the exact top 3 of the five items, with their inner products", () => {
      const index = ApproximateIndex.build(ITEMS, { M: 4, efConstruction: 16, efSearch: 16 });
      assert.equal(index.size, 5);
      const top = index.search(QUERIES, 3);
      // Ties may come in either order from the graph; compare as sets, and the scores as sorted lists.
      assert.deepEqual(new Set(top.itemsOf(0)), new Set([2, 4, 0]));
      assertClose(top.scoresOf(0), [1.5, 1.5, 1], { atol: 1e-6 });
      assert.equal(top.itemsOf(1)[0], 4);
      assertClose(top.scoresOf(1), [1, 0, 0], { atol: 1e-6 });
      const one = index.search(vectorTable(Float32Array.from([1, 0.5]), 2), 1); // usearch's one-query path
      assert.ok([2, 4].includes(one.itemsOf(0)[0]));
    });

    it("reaches recall 1 on a small set when efSearch covers every item", () => {
      const rng = new Rng(3);
      const items = randomTable(rng, 300, 8);
      const queries = randomTable(rng, 40, 8);
      const exact = exactTopK(queries, items, 10);
      const index = ApproximateIndex.build(items, { M: 8, efConstruction: 300, efSearch: 300 });
      const approximate = index.search(queries, 10);
      assert.equal(annRecall(approximate, exact), 1);
      assertClose(approximate.scores, exact.scores, { atol: 1e-4, rtol: 1e-5 });
    });

    it("withEfSearch searches the same graph with another efSearch", () => {
      const rng = new Rng(4);
      const items = randomTable(rng, 200, 4);
      const queries = randomTable(rng, 20, 4);
      const index = ApproximateIndex.build(items, { M: 8, efConstruction: 64, efSearch: 10 });
      const wide = index.withEfSearch(200);
      assert.equal(wide.config.efSearch, 200);
      assert.equal(wide.config.M, 8);
      assert.equal(index.config.efSearch, 10, "the original keeps its efSearch");
      assert.equal(annRecall(wide.search(queries, 5), exactTopK(queries, items, 5)), 1);
      assert.ok(index.serializedBytes() > 200 * 4 * 4, "the saved index holds at least the vectors");
    });

    it("builds the same graph twice with one thread", () => {
      const rng = new Rng(5);
      const items = randomTable(rng, 500, 6);
      const queries = randomTable(rng, 30, 6);
      const config = { M: 4, efConstruction: 8, efSearch: 4 }; // small, so that recall < 1 and the graph matters
      const a = ApproximateIndex.build(items, config).search(queries, 10);
      const b = ApproximateIndex.build(items, config).search(queries, 10);
      assert.deepEqual([...a.items], [...b.items]);
    });

    it("checks its parameters", () => {
      assert.throws(() => ApproximateIndex.build(ITEMS, { M: 1 }), /M must be an integer >= 2/);
      assert.throws(() => ApproximateIndex.build(ITEMS, { efSearch: 0 }), /efSearch must be a positive integer/);
      assert.throws(() => ApproximateIndex.build(vectorTable(new Float32Array(0), 2)), /no items/);
      const index = ApproximateIndex.build(ITEMS);
      assert.throws(() => index.search(vectorTable(new Float32Array(3), 3), 1), /queries have dim 3/);
    });
  });

  describe("annRecall", () => {
    it("averages |approximate ∩ exact| / |exact| over the queries", () => {
      const exact = lists(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        3,
      );
      const approximate = lists(
        [
          [1, 2, 9],
          [6, 5, 4],
        ],
        3,
      );
      assertClose(annRecall(approximate, exact), (2 / 3 + 1) / 2);
      assertClose(annRecall(approximate, exact, 1), (1 + 0) / 2, {}, "cut at 1: only the first items count");
    });

    it("skips queries without exact neighbours and checks the row counts", () => {
      assertClose(annRecall(lists([[], [1]], 2), lists([[], [1, 2]], 2)), 0.5);
      assert.ok(Number.isNaN(annRecall(lists([[]], 1), lists([[]], 1))));
      assert.throws(() => annRecall(lists([[1]], 1), lists([[1], [2]], 1)), /1 approximate lists but 2 exact/);
    });
  });

  describe("gaussianVectorsLike", () => {
    // Four corners of a 2 × 2 square around (2, 1): mean (2, 1), variances 4/3 (n − 1 = 3), no covariance.
    const corners = vectorTable(Float32Array.from([1, 0, 3, 0, 1, 2, 3, 2]), 2);

    it("draws from the rows' mean and covariance", () => {
      const n = 20000;
      const drawn = gaussianVectorsLike(corners, n, { seed: 1, normalize: false });
      assert.equal(tableRows(drawn), n);
      const moments = [0, 0, 0, 0, 0]; // Σx, Σy, Σx², Σy², Σxy
      for (let r = 0; r < n; r++) {
        const [x, y] = [drawn.values[2 * r], drawn.values[2 * r + 1]];
        [x, y, x * x, y * y, x * y].forEach((v, m) => (moments[m] += v / n));
      }
      const [mx, my, xx, yy, xy] = moments;
      assertClose([mx, my], [2, 1], { atol: 0.03 });
      assertClose([xx - mx * mx, yy - my * my, xy - mx * my], [4 / 3, 4 / 3, 0], { atol: 0.05 });
    });

    it("returns unit vectors by default, the same for the same seed", () => {
      const a = gaussianVectorsLike(corners, 50, { seed: 2 });
      for (let r = 0; r < 50; r++) assertClose(Math.hypot(a.values[2 * r], a.values[2 * r + 1]), 1, { atol: 1e-6 });
      assert.deepEqual([...gaussianVectorsLike(corners, 50, { seed: 2 }).values], [...a.values]);
      assert.throws(() => gaussianVectorsLike(vectorTable(new Float32Array(2), 2), 5, { seed: 1 }), /at least 2 rows/);
    });
  });

  describe("queriesPerSecond", () => {
    it("sends the queries in batches, cycling, and counts what was answered", () => {
      const rng = new Rng(6);
      const queries = randomTable(rng, 5, 3);
      const sizes: number[] = [];
      const report = queriesPerSecond((batch) => sizes.push(tableRows(batch)), queries, {
        batchSize: 2,
        minSeconds: 0.001,
        warmUp: 1,
      });
      assert.equal(sizes[0], 2, "the warm-up call");
      assert.deepEqual(sizes.slice(1, 4), [2, 2, 1], "after the warm-up, the timed calls start from query 0");
      assert.equal(
        report.queries,
        sizes.slice(1).reduce((a, b) => a + b, 0),
      );
      assert.equal(report.batchSize, 2);
      assert.ok(report.queriesPerSecond > 0 && report.seconds >= 0.001);
    });
  });
});
