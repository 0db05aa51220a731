import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import {
  auc,
  aucOfScores,
  logLoss,
  averagePrecisionAtK,
  catalogCoverage,
  cooccurrenceSimilarity,
  cosineFeatureSimilarity,
  dcgAtK,
  hitAtK,
  hitRateAtK,
  intraListDiversity,
  listDiversity,
  mae,
  mapAtK,
  meanNdcgAtK,
  meanPrecisionAtK,
  meanRecallAtK,
  mrrAtK,
  ndcgAtK,
  novelty,
  precisionAtK,
  recallAtK,
  reciprocalRankAtK,
  rmse,
} from "../../src/eval/metrics";
import { makeInteractions } from "./fixtures";

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

describe("rating metrics", () => {
  it("rmse and mae of a worked example", () => {
    // errors: 3−2.5 = 0.5, 4−4 = 0, 5−6 = −1
    // RMSE = sqrt((0.25 + 0 + 1) / 3) = sqrt(0.41667) = 0.645497; MAE = (0.5 + 0 + 1) / 3 = 0.5
    close(rmse([3, 4, 5], [2.5, 4, 6]), Math.sqrt(1.25 / 3));
    close(rmse([3, 4, 5], [2.5, 4, 6]), 0.645497, 1e-6);
    close(mae([3, 4, 5], [2.5, 4, 6]), 0.5);
  });

  it("a perfect prediction has zero error", () => {
    assert.equal(rmse(new Float32Array([1, 2]), new Float64Array([1, 2])), 0);
    assert.equal(mae([1, 2], [1, 2]), 0);
  });

  it("rejects mismatched, empty or NaN input", () => {
    assert.throws(() => rmse([1, 2], [1]), /rmse: 'actual' has 2 values but 'predicted' has 1/);
    assert.throws(() => mae([], []), /mae: no values/);
    assert.throws(() => rmse([1, 2], [1, NaN]), /'predicted\[1\]' is NaN/);
  });
});

// The running example: relevant items R = {1, 3, 4}; the list hits at ranks 2 and 4.
const ranked = [5, 1, 7, 3, 9];
const relevant = new Set([1, 3, 4]);

describe("per-user ranking metrics", () => {
  it("precision@K divides by K, even past the end of the list", () => {
    close(precisionAtK(ranked, relevant, 5), 2 / 5);
    close(precisionAtK(ranked, relevant, 3), 1 / 3); // one hit (rank 2) in the top 3
    close(precisionAtK(ranked, relevant, 10), 2 / 10); // 5 entries, still divided by 10
  });

  it("recall@K divides by |R|", () => {
    close(recallAtK(ranked, relevant, 5), 2 / 3);
    close(recallAtK(ranked, relevant, 2), 1 / 3);
    assert.equal(recallAtK(ranked, relevant, 1), 0);
  });

  it("hit@K and reciprocal rank@K look for the first hit (rank 2)", () => {
    assert.equal(hitAtK(ranked, relevant, 1), 0);
    assert.equal(hitAtK(ranked, relevant, 2), 1);
    assert.equal(reciprocalRankAtK(ranked, relevant, 1), 0);
    close(reciprocalRankAtK(ranked, relevant, 5), 1 / 2);
  });

  it("average precision@K with both normalisations", () => {
    // Hits at ranks 2 and 4: P@2 = 1/2, P@4 = 2/4. Sum = 1.
    // K = 5: min(K, |R|) = min(5, 3) = 3 = |R|, so both give 1/3.
    close(averagePrecisionAtK(ranked, relevant, 5), 1 / 3);
    close(averagePrecisionAtK(ranked, relevant, 5, { normalization: "numRelevant" }), 1 / 3);
    // K = 2: only the hit at rank 2 counts, sum = 1/2; min(2, 3) = 2 gives 1/4, |R| = 3 gives 1/6.
    close(averagePrecisionAtK(ranked, relevant, 2), 1 / 4);
    close(averagePrecisionAtK(ranked, relevant, 2, { normalization: "numRelevant" }), 1 / 6);
  });

  it("binary NDCG@K with the ideal DCG over min(K, |R|) positions", () => {
    // DCG@5 = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606
    // IDCG@5 = 1/log2(2) + 1/log2(3) + 1/log2(4) = 1 + 0.630930 + 0.5 = 2.130930 (min(5, 3) = 3 terms)
    close(ndcgAtK(ranked, relevant, 5), 1.061606 / 2.13093, 1e-6);
    close(ndcgAtK(ranked, relevant, 5), 0.498189, 1e-6);
    // K = 2: DCG = 1/log2(3) = 0.630930; IDCG = 1 + 0.630930 (min(2, 3) = 2 terms); NDCG = 0.386853
    close(ndcgAtK(ranked, relevant, 2), 0.63093 / 1.63093, 1e-6);
  });

  it("accepts relevant items as an array as well as a set", () => {
    close(ndcgAtK(new Int32Array(ranked), [4, 3, 1], 5), ndcgAtK(ranked, relevant, 5));
    close(recallAtK(ranked, new Int32Array([1, 3, 4]), 5), 2 / 3);
  });

  it("reproduces Wikipedia's graded DCG example", () => {
    // Relevances in rank order 3, 2, 3, 0, 1, 2:
    // DCG@6 = 3/log2(2) + 2/log2(3) + 3/log2(4) + 0/log2(5) + 1/log2(6) + 2/log2(7)
    //       = 3 + 1.261860 + 1.5 + 0 + 0.386853 + 0.712414 = 6.861127
    const dcg = dcgAtK([3, 2, 3, 0, 1, 2], 6);
    close(dcg, 3 + 2 / Math.log2(3) + 3 / 2 + 0 + 1 / Math.log2(6) + 2 / Math.log2(7));
    close(dcg, 6.861, 5e-4);
    // Two more documents of grades 3 and 2 exist, so the ideal order is 3, 3, 3, 2, 2, 2:
    // IDCG@6 = 3 + 3/log2(3) + 3/2 + 2/log2(5) + 2/log2(6) + 2/log2(7)
    //        = 3 + 1.892789 + 1.5 + 0.861353 + 0.773706 + 0.712414 = 8.740262
    const idcg = dcgAtK([3, 3, 3, 2, 2, 2], 6);
    close(idcg, 8.74, 5e-4);
    // The same through ndcgAtK: items 0..5 ranked with those grades, items 6 (grade 3) and 7 (grade 2) unranked.
    const grades = new Map([
      [0, 3],
      [1, 2],
      [2, 3],
      [3, 0],
      [4, 1],
      [5, 2],
      [6, 3],
      [7, 2],
    ]);
    close(ndcgAtK([0, 1, 2, 3, 4, 5], grades, 6), dcg / idcg);
    close(ndcgAtK([0, 1, 2, 3, 4, 5], grades, 6), 0.785, 5e-4);
  });

  it("graded NDCG with exponential gains 2^g − 1", () => {
    // grades a = 1, b = 2 → gains 1 and 3. Ranked [a, b]: DCG = 1 + 3/log2(3) = 2.892789;
    // ideal [b, a]: IDCG = 3 + 1/log2(3) = 3.630930; NDCG = 0.796708.
    const grades = new Map([
      [10, 1],
      [20, 2],
    ]);
    close(ndcgAtK([10, 20], grades, 2, { gain: "exponential" }), (1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3)));
    close(ndcgAtK([10, 20], grades, 2, { gain: "exponential" }), 0.796708, 1e-6);
    // Linear gains: DCG = 1 + 2/log2(3) = 2.261860; IDCG = 2 + 1/log2(3) = 2.630930.
    close(ndcgAtK([10, 20], grades, 2), (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)));
    assert.throws(() => ndcgAtK([10], new Map([[10, -1]]), 1), /grades must be >= 0/);
  });

  describe("edge cases", () => {
    it("a user with no relevant items scores 0 everywhere", () => {
      const none = new Set<number>();
      for (const metric of [precisionAtK, recallAtK, hitAtK, reciprocalRankAtK, averagePrecisionAtK, ndcgAtK]) {
        assert.equal(metric(ranked, none, 3), 0, metric.name);
      }
      assert.equal(ndcgAtK(ranked, new Map([[5, 0]]), 3), 0); // grades all zero
    });

    it("an empty list scores 0", () => {
      for (const metric of [precisionAtK, recallAtK, hitAtK, reciprocalRankAtK, averagePrecisionAtK, ndcgAtK]) {
        assert.equal(metric([], relevant, 3), 0, metric.name);
      }
      assert.equal(dcgAtK([], 3), 0);
    });

    it("K larger than the list reads the whole list", () => {
      // [1] with R = {1}: DCG = 1, IDCG over min(10, 1) = 1 position = 1.
      assert.equal(ndcgAtK([1], [1], 10), 1);
      assert.equal(recallAtK([1], [1], 10), 1);
      close(precisionAtK([1], [1], 10), 0.1);
      assert.equal(averagePrecisionAtK([1], [1], 10), 1);
    });

    it("rejects a bad K and duplicated items", () => {
      assert.throws(() => ndcgAtK(ranked, relevant, 0), /ndcgAtK: k must be a positive integer, got 0/);
      assert.throws(() => precisionAtK(ranked, relevant, 2.5), /k must be a positive integer/);
      assert.throws(
        () => recallAtK([1, 2, 1], relevant, 3),
        /item 1 appears twice in the ranked list \(positions 1 and 3\)/,
      );
      // A duplicate beyond K is not read, so it is not an error.
      assert.equal(hitAtK([1, 2, 1], relevant, 2), 1);
    });
  });

  describe("properties", () => {
    const rng = new Rng(7);
    const cases = Array.from({ length: 200 }, () => {
      const n = 1 + rng.int(30);
      const list = Array.from(rng.permutation(40).subarray(0, n));
      const rel = new Set(Array.from(rng.permutation(40).subarray(0, 1 + rng.int(10))));
      const k = 1 + rng.int(35);
      return { list, rel, k };
    });

    it("every metric lies in [0, 1]", () => {
      for (const { list, rel, k } of cases) {
        for (const metric of [precisionAtK, recallAtK, hitAtK, reciprocalRankAtK, averagePrecisionAtK, ndcgAtK]) {
          const v = metric(list, rel, k);
          assert.ok(v >= 0 && v <= 1, `${metric.name} = ${v}`);
        }
        const v = averagePrecisionAtK(list, rel, k, { normalization: "numRelevant" });
        assert.ok(v >= 0 && v <= 1);
      }
    });

    it("a perfect ranking scores 1", () => {
      for (const { rel, k } of cases) {
        const perfect = [...rel, 100, 101, 102];
        for (const metric of [hitAtK, reciprocalRankAtK, averagePrecisionAtK, ndcgAtK]) {
          assert.equal(metric(perfect, rel, k), 1, metric.name);
        }
        if (rel.size <= k) assert.equal(recallAtK(perfect, rel, k), 1);
        if (rel.size >= k) assert.equal(precisionAtK(perfect, rel, k), 1);
      }
    });

    it("reversing a perfect ranking lowers NDCG", () => {
      for (const { rel } of cases) {
        const perfect = [...rel, 100, 101, 102];
        const reversed = perfect.slice().reverse();
        const k = perfect.length;
        assert.ok(ndcgAtK(reversed, rel, k) < ndcgAtK(perfect, rel, k));
      }
    });

    it("moving a hit up never lowers NDCG, AP or reciprocal rank", () => {
      for (const { list, rel, k } of cases) {
        for (let i = 1; i < list.length; i++) {
          if (!rel.has(list[i]) || rel.has(list[i - 1])) continue;
          const swapped = list.slice();
          [swapped[i - 1], swapped[i]] = [swapped[i], swapped[i - 1]];
          for (const metric of [ndcgAtK, averagePrecisionAtK, reciprocalRankAtK]) {
            assert.ok(metric(swapped, rel, k) >= metric(list, rel, k) - 1e-12, metric.name);
          }
        }
      }
    });

    it("NDCG does not depend on the log base (MS Recommenders' natural log gives the same value)", () => {
      // ln-discounted DCG = log2-discounted DCG / ln 2 term by term, so the ratio is unchanged.
      for (const { list, rel, k } of cases.slice(0, 20)) {
        let dcg = 0;
        for (let i = 0; i < Math.min(k, list.length); i++) if (rel.has(list[i])) dcg += 1 / Math.log(i + 2);
        let idcg = 0;
        for (let i = 0; i < Math.min(k, rel.size); i++) idcg += 1 / Math.log(i + 2);
        close(ndcgAtK(list, rel, k), dcg / idcg, 1e-12);
      }
    });
  });
});

describe("AUC", () => {
  it("counts correctly ordered pairs, ties as one half", () => {
    // positives 0.9, 0.4, 0.1; negatives 0.8, 0.4.
    // (0.9,0.8)=1 (0.9,0.4)=1 (0.4,0.8)=0 (0.4,0.4)=½ (0.1,0.8)=0 (0.1,0.4)=0 → 2.5 / 6
    close(auc([1, 0, 1, 0, 1], [0.9, 0.8, 0.4, 0.4, 0.1]), 2.5 / 6);
    close(aucOfScores([0.9, 0.4, 0.1], [0.8, 0.4]), 2.5 / 6);
  });

  it("is 1 for a perfect separation, 0 for a reversed one, ½ for constant scores", () => {
    assert.equal(auc([1, 1, 0, 0], [4, 3, 2, 1]), 1);
    assert.equal(auc([1, 1, 0, 0], [1, 2, 3, 4]), 0);
    assert.equal(auc([1, 0, 0], [5, 5, 5]), 0.5);
  });

  it("agrees with the brute-force pair count on random scores with ties", () => {
    const rng = new Rng(3);
    for (let t = 0; t < 50; t++) {
      const pos = Array.from({ length: 1 + rng.int(20) }, () => rng.int(6));
      const neg = Array.from({ length: 1 + rng.int(20) }, () => rng.int(6));
      let wins = 0;
      for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
      close(aucOfScores(pos, neg), wins / (pos.length * neg.length), 1e-12);
    }
  });

  it("is undefined with a single class (throws, as sklearn does)", () => {
    assert.throws(() => auc([1, 1], [0.2, 0.3]), /needs at least one positive and one negative, got 2 and 0/);
    assert.throws(() => auc([1, 0], [0.2]), /'labels' has 2 values but 'scores' has 1/);
    assert.throws(() => aucOfScores([NaN], [1]), /positive score 0 is NaN/);
  });
});

describe("averages over users", () => {
  // User A: ranked [1, 2, 3], R = {2}    → P@2 = 1/2, R@2 = 1, HR@2 = 1, RR = 1/2, AP@2 = (1/2)/1, NDCG@2 = 1/log2(3)
  // User B: ranked [4, 5, 6], R = {4, 9} → P@2 = 1/2, R@2 = 1/2, HR@2 = 1, RR = 1, AP@2 = 1/min(2,2) = 1/2, NDCG@2 = 1/(1 + 1/log2(3))
  // User C: ranked [7, 8], R = {}        → left out of every mean
  const rankings = [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8],
  ];
  const rel = [[2], new Set([4, 9]), []];

  it("average the per-user values of users with relevant items", () => {
    close(meanPrecisionAtK(rankings, rel, 2), (1 / 2 + 1 / 2) / 2);
    close(meanRecallAtK(rankings, rel, 2), (1 + 1 / 2) / 2);
    close(hitRateAtK(rankings, rel, 2), 1);
    close(mrrAtK(rankings, rel, 2), (1 / 2 + 1) / 2);
    close(mapAtK(rankings, rel, 2), (1 / 2 + 1 / 2) / 2);
    // With |R| normalisation user B's AP@2 is 1/2 as well (one hit at rank 1, divided by |R| = 2).
    close(mapAtK(rankings, rel, 2, { normalization: "numRelevant" }), (1 / 2 + 1 / 2) / 2);
    close(meanNdcgAtK(rankings, rel, 2), (1 / Math.log2(3) + 1 / (1 + 1 / Math.log2(3))) / 2);
  });

  it("is NaN over no users, and rejects misaligned input", () => {
    assert.ok(Number.isNaN(meanNdcgAtK([[1]], [[]], 1)));
    assert.ok(Number.isNaN(hitRateAtK([], [], 1)));
    assert.throws(() => mrrAtK([[1]], [], 1), /mrrAtK: 1 rankings but 0 relevant-item lists/);
  });
});

describe("beyond-accuracy metrics", () => {
  it("catalogue coverage counts distinct recommended items", () => {
    // {0, 1, 2} of 5 items
    close(
      catalogCoverage(
        [
          [0, 1],
          [1, 2],
        ],
        5,
      ),
      3 / 5,
    );
    // Against training data (Microsoft Recommenders): the distinct train items {0, 1, 2, 3} are the catalogue.
    const train = makeInteractions(
      [
        [0, 0],
        [0, 1],
        [1, 2],
        [1, 3],
        [1, 0],
      ],
      2,
      6,
    );
    close(
      catalogCoverage(
        [
          [0, 1],
          [1, 2],
        ],
        train,
      ),
      3 / 4,
    );
    assert.throws(() => catalogCoverage([[0, 7]], 5), /list 0 entry 1 is 7, not an item index in \[0, 5\)/);
  });

  it("novelty is the mean self-information of the recommended items", () => {
    // counts 4, 2, 1, 1 of 8: p = 1/2, 1/4, 1/8, 1/8 → −log2 p = 1, 2, 3, 3 bits
    // lists [0, 1], [2, 0] → (1 + 2 + 3 + 1) / 4 = 1.75
    close(
      novelty(
        [
          [0, 1],
          [2, 0],
        ],
        [4, 2, 1, 1],
      ),
      1.75,
    );
    // An item never interacted with (count 0) is left out: only item 1 (2 bits) remains.
    close(novelty([[4, 1]], [4, 2, 1, 1, 0]), 2);
    assert.ok(Number.isNaN(novelty([[4]], [4, 2, 1, 1, 0])));
    // From interactions: item 0 twice, items 1 and 2 once (total 4) → item 0: 1 bit, item 2: 2 bits.
    const train = makeInteractions(
      [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 2],
      ],
      2,
      3,
    );
    close(novelty([[0, 2]], train), 1.5);
    assert.throws(() => novelty([[9]], [1, 1]), /item 9, outside the 2 counted items/);
  });

  it("intra-list diversity from a similarity function", () => {
    // sim(0,1) = 0.5, sim(0,2) = 0, sim(1,2) = 1 → list [0,1,2]: mean sim 0.5 → diversity 0.5
    const table: Record<string, number> = { "0,1": 0.5, "0,2": 0, "1,2": 1 };
    const sim = (a: number, b: number) => table[`${Math.min(a, b)},${Math.max(a, b)}`];
    close(listDiversity([0, 1, 2], sim), 0.5);
    close(listDiversity([2, 0], sim), 1);
    // A single item has no pair: 0 on its own, and left out of the mean.
    assert.equal(listDiversity([0], sim), 0);
    close(intraListDiversity([[0, 1, 2], [0], [0, 2]], sim), (0.5 + 1) / 2);
  });

  it("intra-list diversity from item features (cosine)", () => {
    // rows (1,0), (1,1), (0,1): cos(0,1) = cos(1,2) = 1/√2, cos(0,2) = 0 → mean sim √2/3 → 1 − 0.471405
    const features = { features: new Float32Array([1, 0, 1, 1, 0, 1]), dim: 2 };
    close(listDiversity([0, 1, 2], features), 1 - Math.SQRT2 / 3, 1e-7);
    const cosine = cosineFeatureSimilarity(new Float64Array([1, 0, 0, 0]), 2);
    assert.equal(cosine(0, 1), 0); // a zero vector is similar to nothing
    assert.throws(() => cosineFeatureSimilarity(new Float64Array(3), 2), /not a multiple of dim 2/);
  });

  it("co-occurrence similarity counts shared users once", () => {
    // u0: {0, 1} (item 0 listed twice), u1: {0, 1, 2}, u2: {2}
    // U0 = {u0, u1}, U1 = {u0, u1}, U2 = {u1, u2}
    // sim(0,1) = 2/√(2·2) = 1; sim(0,2) = 1/√(2·2) = 0.5; item 3 has no users → 0
    const data = makeInteractions(
      [
        [0, 0],
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
        [1, 2],
        [2, 2],
      ],
      3,
      4,
    );
    const sim = cooccurrenceSimilarity(data);
    close(sim(0, 1), 1);
    close(sim(0, 2), 0.5);
    close(sim(2, 1), 0.5);
    assert.equal(sim(0, 3), 0);
    close(intraListDiversity([[0, 1, 2]], sim), 1 - (1 + 0.5 + 0.5) / 3);
  });

  it("co-occurrence similarity agrees with a brute-force count, for small and large id spaces", () => {
    // 32768 users × 4097 items is past the bit-row budget (2^22 words), so the second log takes the
    // sorted-list path; both must give |U_a ∩ U_b| / sqrt(|U_a| |U_b|).
    const rng = new Rng(5);
    const rows: [number, number][] = Array.from({ length: 300 }, () => [rng.int(40), rng.int(12)]);
    for (const [numUsers, numItems] of [
      [40, 12],
      [32768, 4097],
    ]) {
      const sim = cooccurrenceSimilarity(makeInteractions(rows, numUsers, numItems));
      const usersOf = (i: number) => new Set(rows.filter((r) => r[1] === i).map((r) => r[0]));
      for (let a = 0; a < 12; a++) {
        for (let b = 0; b < 12; b++) {
          const ua = usersOf(a);
          const ub = usersOf(b);
          const common = [...ua].filter((u) => ub.has(u)).length;
          const expected = ua.size === 0 || ub.size === 0 ? 0 : common / Math.sqrt(ua.size * ub.size);
          close(sim(a, b), expected, 1e-12);
        }
      }
      assert.throws(() => sim(0, numItems), /is outside/);
    }
  });
});

describe("logLoss", () => {
  it("is the mean binary cross-entropy, by hand", () => {
    const expected = -(Math.log(0.9) + Math.log(1 - 0.2) + Math.log(0.6)) / 3;
    assert.ok(Math.abs(logLoss([1, 0, 1], [0.9, 0.2, 0.6]) - expected) < 1e-15);
    // Always answering the base rate p costs the entropy of the labels.
    const p = 0.25;
    assert.ok(Math.abs(logLoss([1, 0, 0, 0], [p, p, p, p]) + (p * Math.log(p) + (1 - p) * Math.log(1 - p))) < 1e-15);
  });

  it("clips certainty, so a confident mistake is costly but finite", () => {
    assert.ok(Math.abs(logLoss([1], [0]) + Math.log(1e-15)) < 1e-9);
    assert.equal(logLoss([0, 1], [0, 1]), -Math.log(1 - 1e-15));
  });

  it("rejects mismatched or invalid input", () => {
    assert.throws(() => logLoss([1, 0], [0.5]), /'labels' has 2 values but 'probabilities' has 1/);
    assert.throws(() => logLoss([], []), /no examples/);
    assert.throws(() => logLoss([2], [0.5]), /label 0 is 2, expected 0 or 1/);
    assert.throws(() => logLoss([1], [NaN]), /probability 0 is NaN/);
  });
});
