import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { rankPositions } from "../../src/explain/explanation";
import type { HistoryExplainer, HistoryScorer } from "../../src/explain/explanation";
import { deletionTest, RANDOM_DELETION, recencyExplainer } from "../../src/explain/faithfulness";
import { itemKnnExplainer, itemKnnHistoryScorer } from "../../src/explain/neighbours";
import { ItemKnnRecommender } from "../../src/models/itemKnn";
import { pairs } from "../models/implicitFixtures";
import { assertClose } from "../support/assertions";

// A hand-made additive model over 6 items: s(j) = Σ_{h ∈ H} W[h][j]. Items 0–3 make up the histories; item 4
// is the top item of the full history (1 + 4 + 2 + 3 = 10 against item 5's 6.5).
const W = [
  [0, 0, 0, 0, 1, 2],
  [0, 0, 0, 0, 4, 0],
  [0, 0, 0, 0, 2, 2.5],
  [0, 0, 0, 0, 3, 2],
];
const additive: HistoryScorer = (history) => {
  const scores = new Float32Array(6);
  for (const h of history) for (let j = 0; j < 6; j++) scores[j] += W[h][j];
  return scores;
};
/** The exact decomposition: each history item's weight for the target. */
const oracle: HistoryExplainer = (history, target) =>
  rankPositions(
    history,
    history.map((h) => W[h][target]),
  );
/** The opposite: least important first. */
const backwards: HistoryExplainer = (history, target) =>
  rankPositions(
    history,
    history.map((h) => -W[h][target]),
  );

describe("explain/faithfulness", () => {
  const full = [0, 1, 2, 3];

  it("drops the score by exactly the deleted item's weight", () => {
    const report = deletionTest([full], additive, { oracle, backwards }, { k: 1, seed: 1 });
    const [best] = report.outcomes.oracle;
    assert.deepEqual(
      [best.user, best.target, best.historyLength, best.deleted, best.scoreBefore],
      [0, 4, 4, [[1]], 10],
    );
    // Without item 1 (weight 4): item 4 scores 6, item 5 still 6.5, so item 4 falls to second.
    assert.deepEqual([best.scoreDrop, best.rankDrop, best.leftTopK], [4, 1, 1]);
    const worst = report.outcomes.backwards[0];
    assert.deepEqual([worst.deleted, worst.scoreDrop, worst.rankDrop, worst.leftTopK], [[[0]], 1, 0, 0]);
    assert.deepEqual(
      report.summaries.map((s) => s.method),
      ["oracle", "backwards", RANDOM_DELETION],
    );
    assert.deepEqual(report.summaries[0], {
      method: "oracle",
      users: 1,
      meanScoreDrop: 4,
      meanRankDrop: 1,
      medianRankDrop: 1,
      leftTopK: 1,
    });
    assert.equal(report.k, 1);
    assert.equal(report.deletions, 1);
    assert.equal(report.skipped, 0);
  });

  it("drops it by the mean weight on average under random deletion, the same for the same seed", () => {
    const histories = Array.from({ length: 500 }, () => full);
    const report = deletionTest(histories, additive, { oracle }, { seed: 7, randomDraws: 8 });
    const random = report.summaries[1];
    assert.equal(random.users, 500);
    // E[drop] = (1 + 4 + 2 + 3)/4 = 2.5 (sd 1.12 over 4000 draws: se 0.02); rank 2 only when item 1 goes: 1/4.
    assertClose(random.meanScoreDrop, 2.5, { atol: 0.08 });
    assertClose(random.meanRankDrop, 0.25, { atol: 0.03 });
    assert.equal(random.leftTopK, 0); // rank 2 is still in the top 10
    assert.equal(report.summaries[0].meanScoreDrop, 4);
    for (const outcome of report.outcomes[RANDOM_DELETION]) {
      assert.equal(outcome.deleted.length, 8);
      assert.ok(outcome.deleted.every(([p]) => Number.isInteger(p) && p >= 0 && p < 4));
    }
    const again = deletionTest(histories, additive, { oracle }, { seed: 7, randomDraws: 8 });
    assert.deepEqual(again, report);
    const other = deletionTest(histories, additive, { oracle }, { seed: 8, randomDraws: 8 });
    assert.notDeepEqual(other.outcomes[RANDOM_DELETION], report.outcomes[RANDOM_DELETION]);
  });

  it("deletes a method's top n, or n distinct random items, and scores them in one batch when it can", () => {
    let batches = 0;
    const batched: HistoryScorer = Object.assign((history: readonly number[]) => additive(history, 0), {
      many: (histories: ReadonlyArray<readonly number[]>) => {
        batches++;
        const out = new Float32Array(histories.length * 6);
        histories.forEach((history, b) => out.set(additive(history, 0), b * 6));
        return out;
      },
    });
    const histories = Array.from({ length: 300 }, () => full);
    const report = deletionTest(histories, batched, { oracle }, { seed: 3, deletions: 2, randomDraws: 4 });
    assert.equal(batches, 300); // one batch per user: the oracle's deletion and the 4 random ones
    assert.equal(report.deletions, 2);
    // The oracle deletes items 1 and 3 (4 + 3); item 4 (3 left) falls below item 5 (4.5).
    assert.deepEqual(report.outcomes.oracle[0].deleted, [[1, 3]]);
    assert.deepEqual([report.summaries[0].meanScoreDrop, report.summaries[0].meanRankDrop], [7, 1]);
    // Two distinct random items drop 2 × 2.5 on average.
    assertClose(report.summaries[1].meanScoreDrop, 5, { atol: 0.1 });
    for (const { deleted } of report.outcomes[RANDOM_DELETION]) {
      assert.ok(deleted.every(([a, b]) => a < b));
    }
    // Two deletions need three items.
    assert.equal(deletionTest([[0, 1]], additive, {}, { seed: 1, deletions: 2 }).skipped, 1);
    assert.throws(
      () =>
        deletionTest(
          [full],
          additive,
          {
            short: (h) =>
              rankPositions(
                h,
                h.map(() => 0),
              ).slice(0, 1),
          },
          { seed: 1, deletions: 2 },
        ),
      /explainer "short" did not rank 2 distinct positions/,
    );
  });

  it("ranks among unseen items only, passes the users on and skips short histories", () => {
    const seen: number[] = [];
    const scorer: HistoryScorer = (history, user) => {
      seen.push(user);
      return additive(history, user);
    };
    const report = deletionTest(
      [[2], full, [3, 1]],
      scorer,
      { oracle },
      {
        seed: 1,
        users: [10, 11, 12],
        randomDraws: 1,
      },
    );
    assert.equal(report.skipped, 1); // [2]: nothing would be left
    assert.deepEqual(
      report.outcomes.oracle.map((o) => o.user),
      [11, 12],
    );
    assert.deepEqual([...new Set(seen)], [11, 12]);
    // A history of every item leaves nothing to recommend; with the history ranked too, item 4 is still top.
    const everything = [0, 1, 2, 3, 4, 5];
    const wide: HistoryScorer = (history) => {
      const scores = new Float32Array(6);
      for (const h of history) if (h < 4) for (let j = 0; j < 6; j++) scores[j] += W[h][j];
      return scores;
    };
    assert.equal(deletionTest([everything], wide, {}, { seed: 1 }).skipped, 1);
    const included = deletionTest([everything], wide, {}, { seed: 1, excludeHistory: false });
    assert.equal(included.outcomes[RANDOM_DELETION][0].target, 4);
  });

  it("puts item-kNN's neighbour explanation at or above random deletion for every user", () => {
    // 60 users, each with 4 to 11 of 30 items, popular (low) items likelier: uneven similarities.
    const rng = new Rng(5);
    const histories: number[][] = Array.from({ length: 60 }, () => {
      const items = new Set<number>();
      const length = 4 + rng.int(8);
      while (items.size < length) items.add(Math.floor(30 * rng.next() ** 2));
      return [...items];
    });
    const train = pairs(
      histories.flatMap((items, u) => items.map((i): [number, number] => [u, i])),
      60,
      30,
    );
    const model = new ItemKnnRecommender({ neighbours: 10 }).fit(train);
    const report = deletionTest(
      histories,
      itemKnnHistoryScorer(model),
      { neighbours: itemKnnExplainer(model) },
      { seed: 3 },
    );
    const random = report.outcomes[RANDOM_DELETION];
    report.outcomes.neighbours.forEach((outcome, u) => {
      // Item-kNN's score is the sum the explanation splits, so its top term is the largest drop there is.
      assert.ok(outcome.scoreDrop >= random[u].scoreDrop - 1e-6, `user ${u}`);
    });
    assert.ok(report.summaries[0].meanScoreDrop > report.summaries[1].meanScoreDrop);
  });

  it("has a recency baseline: the latest item first", () => {
    assert.deepEqual(
      recencyExplainer([5, 7, 6], 0, 0).map((a) => a.item),
      [6, 7, 5],
    );
    // On the additive model, the latest item (3, weight 3) drops item 4's score by 3.
    const report = deletionTest([full], additive, { recency: recencyExplainer }, { seed: 1 });
    assert.deepEqual(report.outcomes.recency[0].deleted, [[3]]);
    assert.equal(report.summaries[0].meanScoreDrop, 3);
  });

  it("rejects bad settings and bad explainers or scorers", () => {
    assert.throws(() => deletionTest([full], additive, { random: oracle }, { seed: 1 }), /"random" names the baseline/);
    assert.throws(
      () => deletionTest([full], additive, {}, { seed: 1, k: 0 }),
      /deletionTest: k must be a positive integer/,
    );
    assert.throws(
      () => deletionTest([full], additive, {}, { seed: 1, minHistory: 1 }),
      /minHistory must be an integer >= 2/,
    );
    assert.throws(() => deletionTest([full], additive, {}, { seed: 1, users: [1, 2] }), /2 users for 1 histories/);
    assert.throws(() => deletionTest([full], additive, {}, { seed: NaN }), /seed must be a finite number/);
    assert.throws(
      () => deletionTest([full], additive, { empty: () => [] }, { seed: 1 }),
      /explainer "empty" did not rank 1 distinct positions of a 4-item history first/,
    );
    assert.throws(
      () => deletionTest([full], () => new Float32Array(6).fill(NaN), {}, { seed: 1 }),
      /the scorer gave item 0 a NaN score \(the full history\)/,
    );
    assert.throws(
      () => deletionTest([full], (h) => new Float32Array(h.length + 2), {}, { seed: 1, randomDraws: 1 }),
      /the scorer returned 5 scores for the history less positions \d, 6 before/,
    );
  });
});
