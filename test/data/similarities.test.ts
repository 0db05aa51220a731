import * as assert from "node:assert/strict";
import { Interactions } from "../../src/data/interactions";
import { randomRatings, smallRatings } from "../models/ratingFixtures";
import { assertClose } from "../support/assertions";
import { Baselines, fitBaselines } from "../../src/train/baselineEstimates";
import { SparseRatings } from "../../src/data/sparseRatings";
import { SimilarityMatrix, SimilarityName, similarityMatrix } from "../../src/data/similarities";

const at = (s: SimilarityMatrix, a: number, b: number) => s.values[a * s.size + b];
const FLOAT32 = 1e-6;

/** Zero biases with a chosen μ: then pearson_baseline centres every rating on μ. */
function flatBaselines(ratings: SparseRatings, globalMean: number): Baselines {
  return { globalMean, userBias: new Float64Array(ratings.numUsers), itemBias: new Float64Array(ratings.numItems) };
}

describe("similarityMatrix on the hand-worked matrix (user-based)", () => {
  // Common items: u0–u1 {i0: 5/4, i3: 1/1}; u0–u2 {i0: 5/1, i1: 3/1}; u0–u3 {i1: 3/1, i3: 1/4};
  // u1–u2 {i0: 4/1}; u1–u3 {i3: 1/4}; u2–u3 {i1: 1/1, i2: 5/5}; u4 has no rating.
  const ratings = new SparseRatings(smallRatings());

  it("msd: 1 / (1 + mean squared difference)", () => {
    const s = similarityMatrix(ratings); // msd, user-based by default
    assert.equal(s.name, "msd");
    assert.equal(s.userBased, true);
    assert.equal(s.size, 5);
    assertClose(at(s, 0, 1), 1 / (1 + (1 + 0) / 2), { atol: FLOAT32, rtol: 0 }); // 2/3
    assertClose(at(s, 0, 2), 1 / (1 + (16 + 4) / 2), { atol: FLOAT32, rtol: 0 }); // 1/11
    assertClose(at(s, 0, 3), 1 / (1 + (4 + 9) / 2), { atol: FLOAT32, rtol: 0 }); // 2/15
    assertClose(at(s, 1, 2), 1 / (1 + 9), { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 1, 3), 1 / (1 + 9), { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 2, 3), 1, { atol: FLOAT32, rtol: 0 });
    assert.equal(at(s, 0, 4), 0); // no common item
    for (let a = 0; a < 5; a++) assert.equal(at(s, a, a), 1);
  });

  it("cosine: Σ r_u r_v / (‖r_u‖ ‖r_v‖) over the common items", () => {
    const s = similarityMatrix(ratings, { name: "cosine" });
    assertClose(at(s, 0, 1), 21 / Math.sqrt(26 * 17), { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 0, 2), 8 / Math.sqrt(34 * 2), { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 0, 3), 7 / Math.sqrt(10 * 17), { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 1, 2), 1, { atol: FLOAT32, rtol: 0 }); // one common item: always 1
    assertClose(at(s, 2, 3), 1, { atol: FLOAT32, rtol: 0 });
  });

  it("pearson: centred on the co-rated means; 0 for a constant side or a single common item", () => {
    const s = similarityMatrix(ratings, { name: "pearson" });
    // u0 (5, 1) and u1 (4, 1): deviations (2, −2) and (1.5, −1.5): ρ = 1.
    assertClose(at(s, 0, 1), 1, { atol: FLOAT32, rtol: 0 });
    // u0 (3, 1) and u3 (1, 4): (1, −1) and (−1.5, 1.5): ρ = −1.
    assertClose(at(s, 0, 3), -1, { atol: FLOAT32, rtol: 0 });
    assert.equal(at(s, 0, 2), 0); // u2 rated both common items 1
    assert.equal(at(s, 1, 2), 0); // one common item
    assertClose(at(s, 2, 3), 1, { atol: FLOAT32, rtol: 0 });
  });

  it("pearson_baseline: residuals r − b_ui, shrunk by (n − 1) / (n − 1 + λ)", () => {
    // With μ = 3 and zero biases, u0's residuals on {i0, i3} are (2, −2) and u1's (1, −2):
    // ρ = (2 + 4) / sqrt(8 · 5); n = 2 gives the factor 1 / (1 + 100).
    const flat = flatBaselines(ratings, 3);
    const s = similarityMatrix(ratings, { name: "pearson_baseline" }, flat);
    assertClose(at(s, 0, 1), 6 / Math.sqrt(40) / 101, { atol: FLOAT32, rtol: 0 });
    const unshrunk = similarityMatrix(ratings, { name: "pearson_baseline", shrinkage: 0 }, flat);
    assertClose(at(unshrunk, 0, 1), 6 / Math.sqrt(40), { atol: FLOAT32, rtol: 0 });
    // u1–u2 share one item: below pearson_baseline's minimum support of 2, whatever minSupport says.
    assert.equal(at(unshrunk, 1, 2), 0);
    assert.throws(() => similarityMatrix(ratings, { name: "pearson_baseline" }), /needs the baselines/);
  });

  it("minSupport zeroes pairs with fewer common items", () => {
    const s = similarityMatrix(ratings, { minSupport: 2 });
    assertClose(at(s, 0, 1), 2 / 3, { atol: FLOAT32, rtol: 0 });
    assert.equal(at(s, 1, 2), 0);
    assert.equal(at(s, 1, 3), 0);
    assert.equal(at(s, 1, 1), 1);
  });

  it("item-based: compares items over their common raters", () => {
    // i0–i1 common raters u0 (5/3), u2 (1/1): msd 2 → 1/3; i0–i3: u0 (5/1), u1 (4/1): 12.5 → 1/13.5;
    // i1–i3: u0 (3/1), u3 (1/4): 6.5 → 2/15; i2–i3: u3 (5/4): 1 → 1/2.
    const s = similarityMatrix(ratings, { userBased: false });
    assert.equal(s.userBased, false);
    assertClose(at(s, 0, 1), 1 / 3, { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 0, 3), 1 / 13.5, { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 1, 3), 2 / 15, { atol: FLOAT32, rtol: 0 });
    assertClose(at(s, 3, 2), 1 / 2, { atol: FLOAT32, rtol: 0 });
  });

  it("rejects unknown names and a minSupport below 1", () => {
    assert.throws(
      () => similarityMatrix(ratings, { name: "jaccard" as SimilarityName }),
      /similarity name must be one of msd, cosine, pearson, pearson_baseline/,
    );
    assert.throws(() => similarityMatrix(ratings, { minSupport: 0 }), /minSupport must be an integer >= 1/);
    assert.throws(
      () => similarityMatrix(ratings, { name: "pearson_baseline", shrinkage: -1 }, flatBaselines(ratings, 3)),
      /shrinkage/,
    );
  });
});

/**
 * Surprise's definitions evaluated directly on a dense matrix (NaN = no rating): for every pair, the
 * common columns, then the formula. O(n² m), for checking the fast kernels on random logs.
 */
function referenceSimilarity(
  data: Interactions,
  name: SimilarityName,
  userBased: boolean,
  minSupport: number,
  shrinkage: number,
  b?: Baselines,
): number[][] {
  const nx = userBased ? data.numUsers : data.numItems;
  const ny = userBased ? data.numItems : data.numUsers;
  const dense = Array.from({ length: nx }, () => new Array<number>(ny).fill(NaN));
  for (let r = 0; r < data.length; r++) {
    const [x, y] = userBased ? [data.users[r], data.items[r]] : [data.items[r], data.users[r]];
    dense[x][y] = data.ratings[r];
  }
  const baseline = (x: number, y: number) => {
    const [u, i] = userBased ? [x, y] : [y, x];
    return b!.globalMean + b!.userBias[u] + b!.itemBias[i];
  };
  const sim = Array.from({ length: nx }, () => new Array<number>(nx).fill(0));
  for (let a = 0; a < nx; a++) {
    sim[a][a] = 1;
    for (let c = 0; c < nx; c++) {
      if (c === a) continue;
      const ys = [...Array(ny).keys()].filter((y) => !Number.isNaN(dense[a][y]) && !Number.isNaN(dense[c][y]));
      const n = ys.length;
      if (n < (name === "pearson_baseline" ? Math.max(2, minSupport) : minSupport)) continue;
      const ra = ys.map((y) => dense[a][y]);
      const rc = ys.map((y) => dense[c][y]);
      const dot = (p: number[], q: number[]) => p.reduce((s, v, j) => s + v * q[j], 0);
      const corr = (p: number[], q: number[]) => {
        const den = Math.sqrt(dot(p, p) * dot(q, q));
        return den === 0 ? 0 : dot(p, q) / den;
      };
      if (name === "msd") sim[a][c] = 1 / (1 + ra.reduce((s, v, j) => s + (v - rc[j]) ** 2, 0) / n);
      else if (name === "cosine") sim[a][c] = corr(ra, rc);
      else if (name === "pearson") {
        const ma = ra.reduce((s, v) => s + v, 0) / n;
        const mc = rc.reduce((s, v) => s + v, 0) / n;
        sim[a][c] = corr(
          ra.map((v) => v - ma),
          rc.map((v) => v - mc),
        );
      } else {
        const da = ys.map((y) => dense[a][y] - baseline(a, y));
        const dc = ys.map((y) => dense[c][y] - baseline(c, y));
        sim[a][c] = ((n - 1) / (n - 1 + shrinkage)) * corr(da, dc);
      }
    }
  }
  return sim;
}

describe("similarityMatrix on random logs", () => {
  const names: SimilarityName[] = ["msd", "cosine", "pearson", "pearson_baseline"];
  for (const userBased of [true, false]) {
    for (const name of names) {
      it(`${name}, ${userBased ? "user" : "item"}-based, agrees with the definition evaluated pair by pair`, () => {
        const data = randomRatings(name.length + (userBased ? 100 : 200), 14, 11, 0.45);
        const ratings = new SparseRatings(data);
        const b = fitBaselines(ratings);
        for (const [minSupport, shrinkage] of [
          [1, 100],
          [3, 7],
        ]) {
          const s = similarityMatrix(ratings, { name, userBased, minSupport, shrinkage }, b);
          const expected = referenceSimilarity(data, name, userBased, minSupport, shrinkage, b);
          for (let a = 0; a < s.size; a++) {
            for (let c = 0; c < s.size; c++)
              assertClose(at(s, a, c), expected[a][c], { atol: 1e-5, rtol: 0 }, `sim(${a}, ${c})`);
          }
        }
      });
    }
  }

  it("is symmetric with a unit diagonal, in (0, 1] for msd and in [−1, 1] otherwise", () => {
    const ratings = new SparseRatings(randomRatings(42, 40, 30, 0.3));
    const b = fitBaselines(ratings);
    for (const name of names) {
      for (const userBased of [true, false]) {
        const s = similarityMatrix(ratings, { name, userBased }, b);
        for (let a = 0; a < s.size; a++) {
          assert.equal(at(s, a, a), 1);
          for (let c = 0; c < s.size; c++) {
            const v = at(s, a, c);
            assert.equal(v, at(s, c, a));
            assert.ok(name === "msd" ? v >= 0 && v <= 1 : v >= -1 - FLOAT32 && v <= 1 + FLOAT32, `${name} sim ${v}`);
          }
        }
      }
    }
  });

  it("counts a repeated rating twice, as Surprise's co-rating loops do", () => {
    // u0 rated i0 twice (5 and 3), u1 once (5): two co-rating pairs, (5, 5) and (3, 5), so
    // msd = ((5 − 5)² + (3 − 5)²) / 2 = 2 and the similarity is 1/3.
    const data = randomRatings(1, 2, 1, 0); // empty log with the right id space
    const log = new Interactions({
      users: Int32Array.of(0, 0, 1),
      items: Int32Array.of(0, 0, 0),
      ratings: Float32Array.of(5, 3, 5),
      timestamps: new Float64Array(3).fill(NaN),
      userIndex: data.userIndex,
      itemIndex: data.itemIndex,
    });
    assertClose(at(similarityMatrix(new SparseRatings(log)), 0, 1), 1 / 3, { atol: FLOAT32, rtol: 0 });
  });
});
