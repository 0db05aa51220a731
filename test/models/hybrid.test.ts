import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ItemScorer, recommendTopK } from "../../src/eval/protocols";
import { PopularityRecommender } from "../../src/models/baselines";
import { SwitchingHybrid, WeightedHybrid, normalizeScoreRows } from "../../src/models/hybrid";
import { pairs } from "./implicitFixtures";
import { assertClose } from "../support/assertions";

/** A scorer with fixed scores per user (row u of `table`), counting the users it was asked about. */
class TableScorer implements ItemScorer {
  readonly asked: number[] = [];
  constructor(private readonly table: number[][]) {}
  get numItems(): number {
    return this.table[0].length;
  }
  scoreItems(users: Int32Array): Float32Array {
    this.asked.push(...users);
    const out = new Float32Array(users.length * this.numItems);
    users.forEach((u, b) => out.set(this.table[u], b * this.numItems));
    return out;
  }
}

function ranking(model: ItemScorer, user: number): number[] {
  return Array.from(recommendTopK(model, [user], { k: model.numItems }).itemsOf(0));
}

describe("models/hybrid", () => {
  describe("normalizeScoreRows", () => {
    it("z-scores, min-max scales or copies each row on its own", () => {
      // Row 0: mean 2, population std 1. Row 1: mean 20, std 10.
      const scores = [3, 1, 1, 3, 10, 30, 10, 30];
      assertClose(normalizeScoreRows(scores, 4, "zscore"), [1, -1, -1, 1, -1, 1, -1, 1], { atol: 1e-6, rtol: 0 });
      assertClose(normalizeScoreRows(scores, 4, "minmax"), [1, 0, 0, 1, 0, 1, 0, 1], { atol: 1e-6, rtol: 0 });
      assertClose(normalizeScoreRows(scores, 4, "none"), scores, { atol: 1e-6, rtol: 0 });
      // Mean 1, variance (1 + 1 + 1 + 9) / 4 = 3.
      const s = Math.sqrt(3);
      assertClose(normalizeScoreRows([0, 0, 0, 4], 4, "zscore"), [-1 / s, -1 / s, -1 / s, 3 / s], {
        atol: 1e-6,
        rtol: 0,
      });
    });

    it("turns a constant row into zeros", () => {
      assertClose(normalizeScoreRows([5, 5, 5, 2, 4, 6], 3, "zscore"), [0, 0, 0, -Math.sqrt(1.5), 0, Math.sqrt(1.5)], {
        atol: 1e-6,
        rtol: 0,
      });
      assertClose(normalizeScoreRows([5, 5, 5], 3, "minmax"), [0, 0, 0], { atol: 1e-6, rtol: 0 });
    });

    it("rejects ragged rows, non-finite scores and unknown methods", () => {
      assert.throws(() => normalizeScoreRows([1, 2, 3], 2, "zscore"), /not whole rows/);
      assert.throws(() => normalizeScoreRows([1, NaN, 3, 4], 2, "zscore"), /score NaN at row 0, item 1/);
      assert.throws(() => normalizeScoreRows([1, 2, 3, -Infinity], 2, "none"), /row 1, item 1/);
      assert.throws(() => normalizeScoreRows([1, 2], 2, "rank" as "zscore"), /normalization must be/);
    });
  });

  describe("WeightedHybrid", () => {
    // Model A (small scale): z-scores [1, −1, −1, 1]. Model B (large scale): z-scores [−1, 1, −1, 1].
    const a = new TableScorer([[3, 1, 1, 3]]);
    const b = new TableScorer([[10, 30, 10, 30]]);

    it("ranks by the weighted sum of z-scores", () => {
      // 0.7·A + 0.3·B = [0.4, −0.4, −1, 1]: items 3, 0, 1, 2.
      const hybrid = new WeightedHybrid({
        components: [
          { scorer: a, weight: 0.7 },
          { scorer: b, weight: 0.3 },
        ],
      });
      assertClose(hybrid.scoreItems(Int32Array.of(0)), [0.4, -0.4, -1, 1], { atol: 1e-6, rtol: 0 });
      assert.deepEqual(ranking(hybrid, 0), [3, 0, 1, 2]);
      // Weights 0.3 / 0.7: [−0.4, 0.4, −1, 1]: items 3, 1, 0, 2.
      const flipped = new WeightedHybrid({
        components: [
          { scorer: a, weight: 0.3 },
          { scorer: b, weight: 0.7 },
        ],
      });
      assert.deepEqual(ranking(flipped, 0), [3, 1, 0, 2]);
    });

    it("without normalisation lets the larger scale override the weights", () => {
      // 0.7·A + 0.3·B raw = [5.1, 9.7, 3.7, 11.1]: B's order (items 3, 1, 0, 2) despite A's larger weight.
      const raw = new WeightedHybrid({
        components: [
          { scorer: a, weight: 0.7 },
          { scorer: b, weight: 0.3 },
        ],
        normalization: "none",
      });
      assertClose(raw.scoreItems(Int32Array.of(0)), [5.1, 9.7, 3.7, 11.1], { atol: 1e-5, rtol: 0 });
      assert.deepEqual(ranking(raw, 0), [3, 1, 0, 2]);
    });

    it("mixes min-max scaled scores", () => {
      // C → [1, 0, 0.5, 1] (min 1, max 5), D → [0, 1, 0, 0.5]; C + D = [1, 1, 0.5, 1.5], ties by lower index.
      const c = new TableScorer([[5, 1, 3, 5]]);
      const d = new TableScorer([[0, 8, 0, 4]]);
      const hybrid = new WeightedHybrid({
        components: [
          { scorer: c, weight: 1 },
          { scorer: d, weight: 1 },
        ],
        normalization: "minmax",
      });
      assertClose(hybrid.scoreItems(Int32Array.of(0)), [1, 1, 0.5, 1.5], { atol: 1e-6, rtol: 0 });
      assert.deepEqual(ranking(hybrid, 0), [3, 0, 1, 2]);
    });

    it("normalises per user: each user's row on its own", () => {
      // User 1's rows are user 0's times 100 plus 7: the same z-scores, the same mix.
      const a2 = new TableScorer([
        [3, 1, 1, 3],
        [307, 107, 107, 307],
      ]);
      const b2 = new TableScorer([
        [10, 30, 10, 30],
        [1007, 3007, 1007, 3007],
      ]);
      const hybrid = new WeightedHybrid({
        components: [
          { scorer: a2, weight: 2 },
          { scorer: b2, weight: 1 },
        ],
      });
      const scores = hybrid.scoreItems(Int32Array.of(0, 1));
      assertClose(scores, [1, -1, -3, 3, 1, -1, -3, 3], { atol: 1e-5, rtol: 0 });
    });

    it("gives a model with a constant row (no opinion of this user) no say", () => {
      const flat = new TableScorer([[0, 0, 0, 0]]);
      const hybrid = new WeightedHybrid({
        components: [
          { scorer: flat, weight: 10 },
          { scorer: b, weight: 1 },
        ],
      });
      assertClose(hybrid.scoreItems(Int32Array.of(0)), [-1, 1, -1, 1], { atol: 1e-6, rtol: 0 });
    });

    it("rejects no components, bad weights and models of different catalogues", () => {
      const small = new TableScorer([[1, 2, 3]]);
      assert.throws(() => new WeightedHybrid({ components: [] }), /at least one model/);
      assert.throws(() => new WeightedHybrid({ components: [{ scorer: a, weight: -1 }] }), /component 0 has weight -1/);
      assert.throws(
        () =>
          new WeightedHybrid({
            components: [
              { scorer: a, weight: 0, name: "x" },
              { scorer: b, weight: NaN, name: "cf" },
            ],
          }),
        /component 1 \('cf'\)/,
      );
      assert.throws(() => new WeightedHybrid({ components: [{ scorer: a, weight: 0 }] }), /every weight is 0/);
      assert.throws(
        () =>
          new WeightedHybrid({
            components: [
              { scorer: a, weight: 1 },
              { scorer: small, weight: 1 },
            ],
          }),
        /scores 3 items, component 0 scores 4/,
      );
    });
  });

  describe("SwitchingHybrid", () => {
    // 3 users × 5 items. Train: user 0 has 3 interactions, user 1 one, user 2 none; item 4 has none.
    const train = pairs(
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 3],
        [0, 3],
      ],
      3,
      5,
    ).select([0, 1, 2, 3]);
    // Primary (CF) ranks items 0 > 1 > 2 > 3 > 4 for everyone; fallback (content) the other way round.
    const cfRow = [5, 4, 3, 2, 1];
    const contentRow = [1, 2, 3, 4, 5];
    const make = () => ({
      primary: new TableScorer([cfRow, cfRow, cfRow]),
      fallback: new TableScorer([contentRow, contentRow, contentRow]),
    });

    it("routes cold users to the fallback and cold items of warm users to the fallback", () => {
      const { primary, fallback } = make();
      const hybrid = new SwitchingHybrid({ primary, fallback, train });
      assert.deepEqual(Array.from(hybrid.fallbackUsers), [0, 0, 1]);
      assert.deepEqual(Array.from(hybrid.fallbackItems), [0, 0, 0, 0, 1]);
      // z-scores: CF row → [√2, √2/2, 0, −√2/2, −√2]; content row is its negation.
      const r = Math.SQRT2;
      const scores = hybrid.scoreItems(Int32Array.of(0, 2));
      // User 0 (warm): CF for items 0–3, content's z-score √2 for cold item 4.
      assertClose(scores.subarray(0, 5), [r, r / 2, 0, -r / 2, r], { atol: 1e-6, rtol: 0 });
      // User 2 (no training interactions): content for every item.
      assertClose(scores.subarray(5, 10), [-r, -r / 2, 0, r / 2, r], { atol: 1e-6, rtol: 0 });
      assert.equal(hybrid.usesFallback(0, 4), true);
      assert.equal(hybrid.usesFallback(0, 1), false);
      assert.equal(hybrid.usesFallback(2, 1), true);
    });

    it("applies the thresholds: users with fewer than n interactions and rarely seen items", () => {
      const { primary, fallback } = make();
      const hybrid = new SwitchingHybrid({ primary, fallback, train, minUserInteractions: 2, minItemInteractions: 2 });
      assert.deepEqual(Array.from(hybrid.fallbackUsers), [0, 1, 1]); // user 1 has one interaction
      assert.deepEqual(Array.from(hybrid.fallbackItems), [1, 1, 1, 1, 1]); // no item has two
      assert.deepEqual(ranking(hybrid, 0), [4, 3, 2, 1, 0]);
    });

    it("asks each model only about the users it scores", () => {
      const { primary, fallback } = make();
      const warmItems = pairs(
        [
          [0, 0],
          [0, 1],
          [0, 2],
          [0, 3],
          [0, 4],
        ],
        3,
        5,
      );
      const hybrid = new SwitchingHybrid({ primary, fallback, train: warmItems });
      const scores = hybrid.scoreItems(Int32Array.of(2, 0, 1));
      assert.deepEqual(primary.asked, [0]);
      assert.deepEqual(fallback.asked, [2, 1]);
      // Rows stay in the order asked: users 2 and 1 get content's order, user 0 CF's.
      assert.ok(scores[4] > scores[0] && scores[5] > scores[9] && scores[14] > scores[10]);
    });

    it("with no cold user or item is the primary model", () => {
      const { primary, fallback } = make();
      const all = pairs(
        [
          [0, 0],
          [1, 1],
          [2, 2],
          [0, 3],
          [1, 4],
        ],
        3,
        5,
      );
      const hybrid = new SwitchingHybrid({ primary, fallback, train: all });
      assert.deepEqual(ranking(hybrid, 1), [0, 1, 2, 3, 4]);
      assert.deepEqual(fallback.asked, []);
    });

    it("rejects mismatched catalogues, bad thresholds and unknown users", () => {
      const { primary, fallback } = make();
      const small = new TableScorer([[1, 2]]);
      assert.throws(
        () => new SwitchingHybrid({ primary, fallback: small, train }),
        /primary scores 5 items but fallback scores 2/,
      );
      assert.throws(
        () => new SwitchingHybrid({ primary, fallback, train: pairs([[0, 0]], 1, 2) }),
        /has 2 items but the models score 5/,
      );
      assert.throws(
        () => new SwitchingHybrid({ primary, fallback, train, minUserInteractions: 1.5 }),
        /minUserInteractions must be an integer >= 0/,
      );
      const hybrid = new SwitchingHybrid({ primary, fallback, train });
      assert.throws(() => hybrid.scoreItems(Int32Array.of(3)), /user 3 is outside the 3 users/);
    });

    it("takes its rule as given instead of counting it: either train or rule", () => {
      const { primary, fallback } = make();
      const rule = { fallbackUsers: Uint8Array.of(0, 0, 1), fallbackItems: Uint8Array.of(0, 0, 0, 0, 1) };
      const counted = new SwitchingHybrid({ primary, fallback, train });
      const given = new SwitchingHybrid({ primary, fallback, rule });
      assert.deepEqual(given.scoreItems(Int32Array.of(0, 1, 2)), counted.scoreItems(Int32Array.of(0, 1, 2)));
      rule.fallbackUsers[0] = 1;
      assert.equal(given.fallbackUsers[0], 0, "the rule is copied");
      assert.throws(() => new SwitchingHybrid({ primary, fallback, train, rule }), /either 'train' .* or 'rule'/);
      assert.throws(() => new SwitchingHybrid({ primary, fallback }), /either 'train' .* or 'rule'/);
      assert.throws(
        () => new SwitchingHybrid({ primary, fallback, rule: { ...rule, fallbackItems: Uint8Array.of(0, 1) } }),
        /rule.fallbackItems has 2 items but the models score 5/,
      );
      assert.throws(
        () => new SwitchingHybrid({ primary, fallback, rule: { ...rule, fallbackUsers: Uint8Array.of(0, 2, 1) } }),
        /rule.fallbackUsers\[1\] is 2; flags are 0 or 1/,
      );
    });
  });

  describe("saving", () => {
    // The contract suite (modelContract.test.ts) saves and loads both hybrids; here, what only they do.
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-hybrid-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const train = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 1],
        [1, 2],
      ],
      2,
      3,
    );

    it("saves its own settings beside its parts, and loads each part with the loader for its class", async () => {
      const popular = new PopularityRecommender().fit(train);
      const hybrid = new WeightedHybrid({ components: [{ scorer: popular, weight: 2, name: "pop" }] });
      const dir = path.join(root, "weighted");
      await hybrid.save(dir);
      assert.deepEqual(fs.readdirSync(dir).sort(), ["checkpoint.json", "parts", "weights.bin"]);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8")).state, {
        model: "WeightedHybrid",
        config: { normalization: "zscore", components: [{ weight: 2, name: "pop" }] },
      });
      assert.equal(
        JSON.parse(fs.readFileSync(path.join(dir, "parts", "0", "checkpoint.json"), "utf8")).state.model,
        "PopularityRecommender",
      );
      const loaded = await WeightedHybrid.load(dir, { PopularityRecommender: (d) => PopularityRecommender.load(d) });
      assert.deepEqual(
        loaded.components.map(({ weight, name }) => [weight, name]),
        [[2, "pop"]],
      );
      assert.deepEqual(loaded.scoreItems(Int32Array.of(0, 1)), hybrid.scoreItems(Int32Array.of(0, 1)));
      await assert.rejects(
        WeightedHybrid.load(dir, {}),
        /WeightedHybrid.load: part '0' \(.*parts\/0\) is a PopularityRecommender; pass a loader for it, e.g. \{ PopularityRecommender: \(dir\) => PopularityRecommender.load\(dir\) \}/,
      );
    });

    it("refuses to save a part that cannot save itself, before writing anything", async () => {
      const table = new TableScorer([[1, 2, 3]]);
      const hybrid = new WeightedHybrid({
        components: [
          { scorer: new PopularityRecommender().fit(train), weight: 1 },
          { scorer: table, weight: 1, name: "table" },
        ],
      });
      const dir = path.join(root, "unsaveable");
      await assert.rejects(
        hybrid.save(dir),
        /WeightedHybrid.save: component 1 \('table'\) has no save\(dir\), so the hybrid cannot be saved/,
      );
      assert.equal(fs.existsSync(dir), false);
      const switching = new SwitchingHybrid({
        primary: table,
        fallback: table,
        rule: {
          fallbackUsers: Uint8Array.of(0),
          fallbackItems: Uint8Array.of(0, 0, 0),
        },
      });
      await assert.rejects(switching.save(dir), /SwitchingHybrid.save: the primary model has no save\(dir\)/);
    });
  });
});
