import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { Interactions } from "../../src/data/interactions";
import {
  ItemScorer,
  compareProtocols,
  evaluateRanking,
  evaluateRatings,
  formatReports,
  recommendTopK,
} from "../../src/eval/protocols";
import { functionScorer, makeInteractions } from "./fixtures";

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

/** Reference top-K: a full stable sort by (score desc, item asc). */
function sortTopK(scores: ArrayLike<number>, k: number, excluded: Set<number>): number[] {
  const items = Array.from({ length: scores.length }, (_, i) => i).filter((i) => !excluded.has(i));
  items.sort((a, b) => scores[b] - scores[a] || a - b);
  return items.slice(0, k);
}

/** A model that records the (user, item) pairs it is asked to score; scores come from `score`. */
function pairSpy(numItems: number, score: (user: number, item: number) => number) {
  const asked = new Map<number, number[]>();
  const model: ItemScorer = {
    ...functionScorer(numItems, score),
    scorePairs(users: Int32Array, items: Int32Array): Float32Array {
      const out = new Float32Array(users.length);
      for (let j = 0; j < users.length; j++) {
        if (!asked.has(users[j])) asked.set(users[j], []);
        (asked.get(users[j]) as number[]).push(items[j]);
        out[j] = score(users[j], items[j]);
      }
      return out;
    },
  };
  return { model, asked };
}

/**
 * numUsers users over numItems items; each user has `trainPerUser` train items and one test item,
 * all distinct, drawn with a fixed seed.
 */
function randomSplit(numUsers: number, numItems: number, trainPerUser: number, seed: number) {
  const rng = new Rng(seed);
  const trainRows: [number, number][] = [];
  const testRows: [number, number][] = [];
  for (let u = 0; u < numUsers; u++) {
    const items = rng.permutation(numItems);
    for (let j = 0; j < trainPerUser; j++) trainRows.push([u, items[j]]);
    testRows.push([u, items[trainPerUser]]);
  }
  return {
    train: makeInteractions(trainRows, numUsers, numItems, "train"),
    test: makeInteractions(testRows, numUsers, numItems, "test"),
  };
}

function itemsOfUser(data: Interactions, user: number): Set<number> {
  const out = new Set<number>();
  for (let r = 0; r < data.length; r++) if (data.users[r] === user) out.add(data.items[r]);
  return out;
}

describe("recommendTopK", () => {
  // User 0's scores: item 1 and item 3 tie at 0.9; the lower index comes first.
  const table = [
    [0.1, 0.9, 0.5, 0.9, 0.3, 0.7],
    [0.6, 0.2, 0.2, 0.8, 0.2, 0.0],
  ];
  const model = functionScorer(6, (u, i) => table[u][i]);

  it("returns the best K, best first, ties broken by item index", () => {
    const top = recommendTopK(model, [0, 1], { k: 3 });
    assert.deepEqual(Array.from(top.itemsOf(0)), [1, 3, 5]);
    // user 1: 0.8 (item 3), 0.6 (item 0), then items 1, 2 and 4 tie at 0.2 → item 1
    assert.deepEqual(Array.from(top.itemsOf(1)), [3, 0, 1]);
    assert.deepEqual(Array.from(top.scoresOf(0)), [0.9, 0.9, 0.7].map(Math.fround));
  });

  it("never recommends a seen item", () => {
    const seen = makeInteractions(
      [
        [0, 1],
        [0, 5],
        [1, 3],
      ],
      2,
      6,
    );
    const top = recommendTopK(model, [0, 1], { k: 3, excludeSeen: seen });
    assert.deepEqual(Array.from(top.itemsOf(0)), [3, 2, 4]);
    assert.deepEqual(Array.from(top.itemsOf(1)), [0, 1, 2]);
  });

  it("pads with -1 when fewer than K items are left", () => {
    const seen = makeInteractions(
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
      ],
      1,
      6,
    );
    const top = recommendTopK(model, [0], { k: 4, excludeSeen: seen });
    assert.deepEqual(Array.from(top.itemsOf(0)), [5, 4]);
    assert.deepEqual(Array.from(top.items), [5, 4, -1, -1]);
    assert.equal(top.counts[0], 2);
    assert.deepEqual(
      top.lists().map((l) => Array.from(l)),
      [[5, 4]],
    );
  });

  it("matches a full sort on random scores with many ties, whatever the batch size", () => {
    const rng = new Rng(11);
    const numItems = 57;
    const scores = Array.from({ length: 40 }, () => Array.from({ length: numItems }, () => rng.int(5) / 4));
    const tied = functionScorer(numItems, (u, i) => scores[u][i]);
    const rows: [number, number][] = [];
    for (let u = 0; u < 40; u++) for (let j = 0; j < rng.int(20); j++) rows.push([u, rng.int(numItems)]);
    const seen = makeInteractions(rows, 40, numItems);
    const users = Array.from({ length: 40 }, (_, u) => u);
    for (const k of [1, 7, 60]) {
      const a = recommendTopK(tied, users, { k, excludeSeen: seen, batchSize: 1 });
      const b = recommendTopK(tied, users, { k, excludeSeen: seen, batchSize: 16 });
      for (let u = 0; u < 40; u++) {
        const expected = sortTopK(Float32Array.from(scores[u]), k, itemsOfUser(seen, u));
        assert.deepEqual(Array.from(a.itemsOf(u)), expected);
        assert.deepEqual(Array.from(b.itemsOf(u)), expected);
      }
    }
  });

  it("rejects NaN scores, a wrong-sized score buffer and bad options", () => {
    assert.throws(
      () =>
        recommendTopK(
          functionScorer(3, () => NaN),
          [0],
          { k: 1 },
        ),
      /score of item 0 for user 0 is NaN/,
    );
    const short: ItemScorer = { numItems: 4, scoreItems: (users) => new Float32Array(users.length * 3) };
    assert.throws(() => recommendTopK(short, [0, 1], { k: 1 }), /scoreItems returned 6 scores for 2 users × 4 items/);
    assert.throws(() => recommendTopK(model, [0], { k: 0 }), /k must be a positive integer, got 0/);
    assert.throws(() => recommendTopK(model, [-1], { k: 1 }), /users\[0\] is -1/);
    // 2^32 would wrap to user 0 in an Int32Array and silently return user 0's list.
    assert.throws(
      () => recommendTopK(model, [0, 2 ** 32], { k: 1 }),
      /recommendTopK: users\[1\] is 4294967296, not a user index/,
    );
    assert.throws(() => recommendTopK(model, [1.5], { k: 1 }), /users\[0\] is 1.5, not a user index/);
    // A scorer that says how many users it knows gets the range checked too.
    const sized: ItemScorer = { ...functionScorer(6, () => 0), numUsers: 3 };
    assert.equal(recommendTopK(sized, [2], { k: 1 }).users.length, 1);
    assert.throws(
      () => recommendTopK(sized, [3], { k: 1 }),
      /recommendTopK: users\[0\] is 3, outside the 3 users of the data/,
    );
    const other = makeInteractions([[0, 0]], 1, 5);
    assert.throws(
      () => recommendTopK(model, [0], { k: 1, excludeSeen: other }),
      /'excludeSeen' has 5 items but the model scores 6/,
    );
  });
});

describe("evaluateRanking, full protocol", () => {
  // One user, 5 items; trained on item 0, test item 3.
  // Scores: item 0 = 0.9 (seen), 1 = 0.1, 2 = 0.5, 3 = 0.4, 4 = 0.2.
  // Ranking without item 0: [2, 3, 4, 1] → the test item is at rank 2.
  const train = makeInteractions([[0, 0]], 1, 5);
  const test = makeInteractions([[0, 3]], 1, 5);
  const scores = [0.9, 0.1, 0.5, 0.4, 0.2];
  const model = functionScorer(5, (_u, i) => scores[i]);

  it("ranks among unseen items only", () => {
    const report = evaluateRanking(model, { train, test, k: [1, 2] });
    assert.equal(report.numUsers, 1);
    assert.equal(report.metrics["hr@1"], 0);
    assert.equal(report.metrics["hr@2"], 1); // rank 2; with item 0 left in, it would be rank 3
    close(report.metrics["ndcg@2"], 1 / Math.log2(3));
    close(report.metrics["mrr@2"], 1 / 2);
    close(report.metrics["precision@2"], 1 / 2);
    assert.equal(report.metrics["recall@2"], 1);
    close(report.metrics["map@2"], 1 / 2); // P@2 = 1/2, divided by min(2, 1) = 1
    // AUC: positive 0.4 against the unseen negatives 0.1, 0.5, 0.2 → 2 of 3 pairs
    close(report.metrics.userAuc, 2 / 3);
    assert.match(report.protocol, /full ranking/);
    assert.equal(report.label, "full");
  });

  it("a perfect oracle scores 1 and seen items never appear in a user's list", () => {
    const { train: tr, test: te } = randomSplit(60, 40, 10, 5);
    const testItem = new Map<number, number>();
    for (let r = 0; r < te.length; r++) testItem.set(te.users[r], te.items[r]);
    // The oracle also loves every train item: only their exclusion lets the test item reach rank 1.
    const trainSets = Array.from({ length: 60 }, (_, u) => itemsOfUser(tr, u));
    const oracle = functionScorer(40, (u, i) => (i === testItem.get(u) ? 1 : trainSets[u].has(i) ? 2 : 0));
    const report = evaluateRanking(oracle, { train: tr, test: te, k: [1, 10] });
    assert.equal(report.numUsers, 60);
    for (const key of ["hr@1", "ndcg@1", "mrr@10", "ndcg@10", "recall@10", "map@10", "userAuc"]) {
      assert.equal(report.metrics[key], 1, key);
    }
    close(report.metrics["precision@10"], 0.1);
  });

  it("reports each user's values and honours a user subset", () => {
    const { train: tr, test: te } = randomSplit(30, 25, 5, 9);
    const model25 = functionScorer(25, (u, i) => ((u * 7 + i * 13) % 25) / 25);
    const all = evaluateRanking(model25, { train: tr, test: te, k: 5, metrics: ["ndcg", "hr"] });
    assert.deepEqual(Object.keys(all.metrics), ["ndcg@5", "hr@5"]);
    let sum = 0;
    for (const v of all.perUser["ndcg@5"]) sum += v;
    close(all.metrics["ndcg@5"], sum / 30);
    const some = evaluateRanking(model25, { train: tr, test: te, k: 5, metrics: ["ndcg"], users: [3, 4] });
    assert.deepEqual(Array.from(some.users), [3, 4]);
    close(some.metrics["ndcg@5"], (all.perUser["ndcg@5"][3] + all.perUser["ndcg@5"][4]) / 2);
  });

  it("graded NDCG reads the test ratings", () => {
    // Test items 1 (rating 5) and 2 (rating 1); model ranks 2 before 1.
    // DCG@2 = 1 + 5/log2(3); IDCG@2 = 5 + 1/log2(3).
    const tr = makeInteractions([[0, 0]], 1, 4);
    const te = makeInteractions(
      [
        [0, 1, 5],
        [0, 2, 1],
      ],
      1,
      4,
    );
    const m = functionScorer(4, (_u, i) => [0, 0.5, 0.9, 0.1][i]);
    const report = evaluateRanking(m, { train: tr, test: te, k: 2, metrics: ["ndcg"], ndcgGain: "linear" });
    close(report.metrics["ndcg@2"], (1 + 5 / Math.log2(3)) / (5 + 1 / Math.log2(3)));
    const binary = evaluateRanking(m, { train: tr, test: te, k: 2, metrics: ["ndcg"] });
    assert.equal(binary.metrics["ndcg@2"], 1);
  });

  it("coverage and novelty of the recommended lists", () => {
    // 4 items; train u0: {0}, u1: {1}, u2: {0, 2}; everyone's test item is 3. Scores 0.4, 0.3, 0.2, 0.1 for all.
    // Top-1 lists: u0 → 1, u1 → 0, u2 → 1.
    // coverage@1 = |{0, 1}| / |catalogue {0, 1, 2, 3}| = 1/2
    // novelty@1: train counts 2, 1, 1, 0 (total 4) → item 0: −log2(2/4) = 1, item 1: −log2(1/4) = 2 → (2 + 1 + 2)/3
    const tr = makeInteractions(
      [
        [0, 0],
        [1, 1],
        [2, 0],
        [2, 2],
      ],
      3,
      4,
    );
    const te = makeInteractions(
      [
        [0, 3],
        [1, 3],
        [2, 3],
      ],
      3,
      4,
    );
    const m = functionScorer(4, (_u, i) => [0.4, 0.3, 0.2, 0.1][i]);
    const report = evaluateRanking(m, { train: tr, test: te, k: 1, metrics: ["coverage", "novelty", "diversity"] });
    close(report.metrics["coverage@1"], 1 / 2);
    close(report.metrics["novelty@1"], 5 / 3);
    assert.ok(Number.isNaN(report.metrics["diversity@1"])); // single-item lists have no pairs
    const k2 = evaluateRanking(m, {
      train: tr,
      test: te,
      k: 2,
      metrics: ["diversity"],
      itemSimilarity: (a, b) => (a + b === 1 ? 0.25 : 0),
    });
    // Top-2 lists: u0 [1, 2] (sim 0), u1 [0, 2] (sim 0), u2 [1, 3] (sim 0) → diversity 1
    assert.equal(k2.metrics["diversity@2"], 1);
  });

  it("coverage cannot exceed 1 when the lists hold items nobody trained on", () => {
    // Train has one item (0); a content model recommends the 3 cold items 1..3 to u0 and u1. Divided
    // by the distinct train items, coverage@3 was 3/1 = 3; over the 4-item catalogue it is 3/4.
    const tr = makeInteractions(
      [
        [0, 0],
        [1, 0],
      ],
      2,
      4,
    );
    const te = makeInteractions(
      [
        [0, 1],
        [1, 2],
      ],
      2,
      4,
    );
    const cold = functionScorer(4, (_u, i) => i);
    const report = evaluateRanking(cold, { train: tr, test: te, k: 3, metrics: ["coverage"] });
    close(report.metrics["coverage@3"], 3 / 4);
  });

  it("fails, naming the test data, when no user has test items", () => {
    const empty = makeInteractions([], 1, 5);
    assert.throws(
      () => evaluateRanking(model, { train, test: empty, k: 1 }),
      /evaluateRanking: no user to evaluate: test '.*' \(0 rows\) has no test items for any user/,
    );
    assert.throws(
      () => evaluateRanking(model, { train, test, k: 1, users: [] }),
      /evaluateRanking: no user to evaluate: .* for the users given in 'users'/,
    );
  });

  it("rejects mismatched data and unknown metrics", () => {
    const other = makeInteractions([[0, 1]], 1, 6);
    assert.throws(
      () => evaluateRanking(model, { train: other, test, k: 1 }),
      /'train' has 6 items but the model scores 5/,
    );
    assert.throws(
      () => evaluateRanking(model, { train, test, k: 1, metrics: ["ndcg", "f1" as "ndcg"] }),
      /unknown metric 'f1'/,
    );
    // The per-user mean AUC is called userAuc, so that it is not taken for the pooled auc().
    assert.throws(
      () => evaluateRanking(model, { train, test, k: 1, metrics: ["auc" as "ndcg"] }),
      /'auc' is now 'userAuc'/,
    );
  });
});

describe("evaluateRanking, sampled protocol", () => {
  const { train, test } = randomSplit(200, 300, 20, 1);

  it("ranks each positive among exactly N negatives outside the user's train and test items", () => {
    const { model, asked } = pairSpy(300, (u, i) => ((u * 31 + i * 17) % 300) / 300);
    const report = evaluateRanking(model, {
      train,
      test,
      k: [5, 10],
      protocol: { sampled: { negatives: 50, seed: 3 } },
    });
    assert.equal(report.numUsers, 200);
    for (let u = 0; u < 200; u++) {
      const candidates = asked.get(u) as number[];
      assert.equal(candidates.length, 51);
      assert.equal(new Set(candidates).size, 51, "distinct candidates");
      const positive = Array.from(itemsOfUser(test, u))[0];
      const trainItems = itemsOfUser(train, u);
      assert.ok(candidates.includes(positive));
      const negatives = candidates.filter((i) => i !== positive);
      assert.ok(negatives.every((i) => !trainItems.has(i)));
      // The positive's rank, counted independently: 1 + negatives scoring higher (scores here are distinct).
      const s = (i: number) => Math.fround(((u * 31 + i * 17) % 300) / 300);
      const rank = 1 + negatives.filter((i) => s(i) > s(positive)).length;
      assert.equal(report.perUser["hr@10"][u], rank <= 10 ? 1 : 0);
      close(report.perUser["ndcg@5"][u], rank <= 5 ? 1 / Math.log2(rank + 1) : 0);
      close(report.perUser.userAuc[u], (50 - (rank - 1)) / 50);
    }
    assert.match(report.protocol, /50 uniformly sampled negatives \(seed 3\)/);
    assert.equal(report.label, "sampled-50-uniform");
  });

  it("is reproducible: same seed, same result, whatever the batch size; another seed differs", () => {
    const score = (u: number, i: number) => Math.sin(u * 12.9898 + i * 78.233);
    const run = (seed: number, batchSize: number) => {
      const { model, asked } = pairSpy(300, score);
      const report = evaluateRanking(model, { train, test, k: 10, batchSize, protocol: { sampled: { seed } } });
      return { report, asked };
    };
    const a = run(42, 256);
    const b = run(42, 7);
    const c = run(43, 256);
    assert.deepEqual(a.report.metrics, b.report.metrics);
    assert.deepEqual([...a.asked.entries()], [...b.asked.entries()]);
    assert.notDeepEqual([...a.asked.entries()], [...c.asked.entries()]);
  });

  it("scoreItems and scorePairs give the same report", () => {
    const score = (u: number, i: number) => Math.cos(u * 3.1 + i * 0.7);
    const sampled = { sampled: { negatives: 30, strategy: "popularity" as const, seed: 8 } };
    const viaPairs = evaluateRanking(pairSpy(300, score).model, { train, test, k: [3, 10], protocol: sampled });
    const viaItems = evaluateRanking(functionScorer(300, score), { train, test, k: [3, 10], protocol: sampled });
    assert.deepEqual(viaItems.metrics, viaPairs.metrics);
  });

  it("popularity sampling follows training counts and never draws an item without any", () => {
    // User 0 (no test item, so not evaluated) sets the counts: item 1 × 200, item 2 × 20, items 4..9 × 10 each.
    // Users 1..1000 train on item 0 and are tested on item 3 (count 0). Each draws one negative from
    // items 1, 2, 4..9 with probabilities 200/280, 20/280 and 10/280 each: item 1 ≈ 10 × item 2.
    const rows: [number, number][] = [];
    for (let j = 0; j < 200; j++) rows.push([0, 1]);
    for (let j = 0; j < 20; j++) rows.push([0, 2]);
    for (let j = 0; j < 60; j++) rows.push([0, 4 + (j % 6)]);
    const testRows: [number, number][] = [];
    for (let u = 1; u <= 1000; u++) {
      rows.push([u, 0]);
      testRows.push([u, 3]);
    }
    const tr = makeInteractions(rows, 1001, 10);
    const te = makeInteractions(testRows, 1001, 10);
    const { model, asked } = pairSpy(10, (u, i) => (u + i) % 3);
    const report = evaluateRanking(model, {
      train: tr,
      test: te,
      k: 1,
      protocol: { sampled: { negatives: 1, strategy: "popularity", seed: 2 } },
    });
    assert.equal(report.numUsers, 1000);
    const drawn = new Array(10).fill(0);
    for (const [, items] of asked) {
      assert.equal(items.length, 2);
      for (const i of items) if (i !== 3) drawn[i]++;
    }
    assert.equal(drawn[0], 0); // every evaluated user trained on it
    assert.equal(drawn[3], 0); // the positive itself, and it has no training count
    const ratio = drawn[1] / drawn[2];
    assert.ok(ratio > 6 && ratio < 16, `item 1 drawn ${drawn[1]} times, item 2 ${drawn[2]} times`);
    close(drawn[1] / 1000, 200 / 280, 0.05);
  });

  it("a perfect oracle has hit rate 1 under both protocols", () => {
    const testItem = new Map<number, number>();
    for (let r = 0; r < test.length; r++) testItem.set(test.users[r], test.items[r]);
    const oracle = functionScorer(300, (u, i) => (i === testItem.get(u) ? 1 : 0));
    const reports = compareProtocols(oracle, {
      train,
      test,
      k: [1, 10],
      sampled: [{ seed: 1 }, { seed: 1, strategy: "popularity" }],
    });
    assert.deepEqual(
      reports.map((r) => r.label),
      ["full", "sampled-100-uniform", "sampled-100-popularity"],
    );
    for (const report of reports) {
      assert.equal(report.metrics["hr@1"], 1, report.label);
      assert.equal(report.metrics["ndcg@10"], 1, report.label);
    }
  });

  it("names the variant that ranks several test items per user together with the negatives", () => {
    // Users 0 and 1 each have two test items (users 2 and 3 one): 6 test items over 4 users, 1.5 on average.
    const tr = makeInteractions(
      [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      4,
      20,
    );
    const te = makeInteractions(
      [
        [0, 4],
        [0, 5],
        [1, 6],
        [1, 7],
        [2, 8],
        [3, 9],
      ],
      4,
      20,
    );
    const { model, asked } = pairSpy(20, (u, i) => i);
    const report = evaluateRanking(model, {
      train: tr,
      test: te,
      k: 5,
      protocol: { sampled: { negatives: 3, seed: 1 } },
    });
    assert.equal(report.label, "all-test+3-uniform");
    assert.match(report.protocol, /all of each user's test items \(1\.5 on average\) ranked together with 3 uniformly/);
    assert.equal(asked.get(0)!.length, 5, "both test items and 3 negatives");
    const single = makeInteractions(
      [
        [0, 4],
        [1, 6],
        [2, 8],
        [3, 9],
      ],
      4,
      20,
    );
    const one = evaluateRanking(model, {
      train: tr,
      test: single,
      k: 5,
      protocol: { sampled: { negatives: 3, seed: 1 } },
    });
    assert.equal(one.label, "sampled-3-uniform");
    assert.match(one.protocol, /each user's one held-out item among 3 uniformly sampled negatives/);
  });

  it("a random model's sampled HR@10 is close to 10/101", () => {
    const { train: tr, test: te } = randomSplit(3000, 500, 5, 21);
    const rng = new Rng(99);
    const random: ItemScorer = {
      numItems: 500,
      scoreItems: (users) => {
        const out = new Float32Array(users.length * 500);
        for (let j = 0; j < out.length; j++) out[j] = rng.next();
        return out;
      },
    };
    const [full, sampled] = compareProtocols(random, {
      train: tr,
      test: te,
      k: 10,
      metrics: ["hr", "userAuc"],
      sampled: { seed: 4 },
    });
    // Binomial(3000, 10/101): standard deviation sqrt(p(1−p)/3000) ≈ 0.0055.
    close(sampled.metrics["hr@10"], 10 / 101, 0.02);
    close(sampled.metrics.userAuc, 0.5, 0.02);
    // Full ranking among 495 unseen items: 10/495 ≈ 0.020.
    close(full.metrics["hr@10"], 10 / 495, 0.01);
    const table = formatReports([full, sampled]);
    assert.match(table, /^metric\s+full\s+sampled-100-uniform$/m);
    assert.match(table, /^hr@10\s+0\.0\d{3}\s+0\.\d{4}$/m);
    assert.match(table, /^users\s+3000\s+3000$/m);
  });

  it("rejects list metrics, impossible sample sizes and bad settings", () => {
    const m = functionScorer(300, () => 0);
    assert.throws(
      () => evaluateRanking(m, { train, test, k: 5, metrics: ["coverage"], protocol: { sampled: { seed: 1 } } }),
      /coverage describe\(s\) real recommendation lists and need protocol "full"/,
    );
    // 300 items − 20 train − 1 test = 279 available
    assert.throws(
      () => evaluateRanking(m, { train, test, k: 5, protocol: { sampled: { negatives: 280, seed: 1 } } }),
      /user 'u0' has only 279 unseen items, 280 distinct negatives were asked for/,
    );
    evaluateRanking(m, { train, test, k: 5, protocol: { sampled: { negatives: 279, seed: 1 } } });
    assert.throws(
      () =>
        evaluateRanking(m, { train, test, k: 5, protocol: { sampled: { seed: 1, strategy: "zipf" as "uniform" } } }),
      /strategy must be "uniform" or "popularity", got 'zipf'/,
    );
  });

  it("draws exactly when the user's own items hold most of the popularity mass", () => {
    // Item 0 holds 99.6% of the mass and is in every user's train set, so rejection almost always
    // fails. Rare items 1..20 are each in one user's train set, leaving 16 to draw 12 from.
    const rows: [number, number][] = [];
    for (let u = 0; u < 5; u++) for (let j = 0; j < 1000; j++) rows.push([u, 0]);
    for (let i = 1; i <= 20; i++) rows.push([i % 5, i]);
    const tr = makeInteractions(rows, 5, 22);
    const te = makeInteractions(
      [
        [0, 21],
        [1, 21],
        [2, 21],
        [3, 21],
        [4, 21],
      ],
      5,
      22,
    );
    const { model, asked } = pairSpy(22, (_u, i) => i);
    evaluateRanking(model, {
      train: tr,
      test: te,
      k: 1,
      protocol: { sampled: { negatives: 12, strategy: "popularity", seed: 6 } },
    });
    for (let u = 0; u < 5; u++) {
      const candidates = asked.get(u) as number[];
      assert.equal(new Set(candidates).size, 13);
      const own = itemsOfUser(tr, u);
      assert.ok(candidates.every((i) => i === 21 || !own.has(i)));
    }
  });
});

describe("evaluateRatings", () => {
  it("RMSE and MAE over every test rating, in batches", () => {
    // Predict 3 for ratings 1, 5, 3: errors −2, 2, 0 → RMSE = sqrt(8/3) = 1.632993, MAE = 4/3
    const te = makeInteractions(
      [
        [0, 0, 1],
        [0, 1, 5],
        [1, 0, 3],
      ],
      2,
      2,
    );
    const calls: number[] = [];
    const constant = {
      predict: (users: Int32Array) => {
        calls.push(users.length);
        return new Float32Array(users.length).fill(3);
      },
    };
    const report = evaluateRatings(constant, te, { batchSize: 2 });
    close(report.rmse, Math.sqrt(8 / 3));
    close(report.mae, 4 / 3);
    assert.equal(report.count, 3);
    assert.deepEqual(calls, [2, 1]);
  });

  it("rejects a model that returns the wrong number of predictions", () => {
    const te = makeInteractions([[0, 0, 1]], 1, 1);
    assert.throws(
      () => evaluateRatings({ predict: () => new Float32Array(2) }, te),
      /predict returned 2 values for 1 pairs/,
    );
  });
});
