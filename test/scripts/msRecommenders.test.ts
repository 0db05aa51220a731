// `npm run reproduce -- ms-recommenders-ml100k`: its arguments, and the rows it prints, on a small
// synthetic log (the command itself runs on MovieLens 100K).

import * as assert from "node:assert/strict";
import { initBackend } from "../../src/backend/backend";
import { generateSynthetic } from "../../src/data/synthetic";
import { stratifiedSplit } from "../../src/data/splitters";
import { MS_RECOMMENDERS_ML100K_TOP10 } from "../../src/eval/published";
import { evaluateRanking } from "../../src/eval/ranking";
import { Sar } from "../../src/models/sar";
import {
  EASE_DROPOUTS,
  EASE_LAMBDAS,
  HYBRID_WEIGHTS,
  parseMsArgs,
  RECIPES,
  runMsComparison,
} from "../../scripts/lib/msRecommenders";

describe("scripts/lib/msRecommenders (reproduce ms-recommenders-ml100k)", () => {
  before(() => initBackend());

  it("runs every model by default, or those --models names in table order; rejects what it does not know", () => {
    assert.deepEqual(parseMsArgs([]), { json: false, models: RECIPES.map((r) => r.key), splitSeed: 42 });
    assert.deepEqual(
      RECIPES.map((r) => r.key),
      ["popularity", "sar", "ease", "bpr", "bpr-learnbpr", "wals", "svd", "neumf", "lightgcn", "multvae", "hybrid"],
    );
    assert.deepEqual(parseMsArgs(["--models", "ease,sar", "--json"]), {
      json: true,
      models: ["sar", "ease"],
      splitSeed: 42,
    });
    assert.equal(parseMsArgs(["--split-seed", "3"]).splitSeed, 3);
    assert.throws(() => parseMsArgs(["--split-seed", "x"]), /--split-seed needs an integer >= 0, got 'x'/);
    assert.throws(() => parseMsArgs(["--models", "sar,bivae"]), /unknown model bivae; models: popularity, sar/);
    assert.throws(() => parseMsArgs(["--models"]), /--models needs a comma-separated list/);
    assert.throws(() => parseMsArgs(["--models", "--json"]), /--models needs a comma-separated list/);
    assert.throws(() => parseMsArgs(["--tune"]), /unknown option --tune/);
  });

  it("prints one JSON record per model with Microsoft's metrics, the fit time and the published row beside it", async () => {
    const data = generateSynthetic({ seed: 3, numUsers: 80, numItems: 60 }).interactions;
    const lines: string[] = [];
    const records = await runMsComparison(data, parseMsArgs(["--json", "--models", "popularity,sar,ease"]), (l) =>
      lines.push(l),
    );
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      records,
    );
    for (const record of records) {
      assert.deepEqual(Object.keys(record), [
        "model",
        "ndcg10",
        "precision10",
        "recall10",
        "map10",
        "seconds",
        "selectionSeconds",
        "settings",
        "published",
        "publishedNdcg10",
      ]);
      for (const metric of [record.ndcg10, record.precision10, record.recall10, record.map10])
        assert.ok(metric > 0 && metric <= 1, `${record.model}: ${metric}`);
      assert.ok(record.seconds >= 0);
    }
    const [popularity, sar, ease] = records;
    assert.deepEqual(
      [popularity.model, popularity.published, popularity.publishedNdcg10, popularity.selectionSeconds],
      ["popularity", null, null, 0],
    );
    assert.deepEqual([sar.published, sar.publishedNdcg10], ["SAR", MS_RECOMMENDERS_ML100K_TOP10.SAR.ndcg]);
    // EASE's λ is one of the grid's, chosen on validation.
    assert.ok(EASE_LAMBDAS.includes(ease.settings.lambda as number));
    assert.ok(EASE_DROPOUTS.includes(ease.settings.dropout as number));
    // The row is SAR on Microsoft's split and metrics (MAP over the relevant items), rounded to 4 digits.
    const { train, test } = stratifiedSplit(data, { ratio: 0.75, seed: 42 });
    const direct = evaluateRanking(new Sar({ similarity: "jaccard", timeDecay: true, halfLifeDays: 30 }).fit(train), {
      train,
      test,
      k: 10,
      metrics: ["ndcg", "map"],
      mapNormalization: "numRelevant",
    }).metrics;
    assert.equal(sar.ndcg10, Number(direct["ndcg@10"].toFixed(4)));
    assert.equal(sar.map10, Number(direct["map@10"].toFixed(4)));
  });

  it("weighs the hybrid's parts by a point of the simplex chosen on validation; LearnBPR stands beside Cornac's BPR", async () => {
    assert.equal(HYBRID_WEIGHTS.length, 66);
    for (const w of HYBRID_WEIGHTS) assert.ok(Math.abs(w[0] + w[1] + w[2] - 1) < 1e-12 && Math.min(...w) >= 0);
    const data = generateSynthetic({ seed: 3, numUsers: 80, numItems: 60 }).interactions;
    const [bpr, hybrid] = await runMsComparison(
      data,
      parseMsArgs(["--json", "--models", "bpr-learnbpr,hybrid"]),
      () => {},
    );
    assert.deepEqual([bpr.model, bpr.published], ["BPR-MF (LearnBPR)", "BPR"]);
    assert.deepEqual(bpr.settings, { factors: 200, epochs: 200, learningRate: 0.01, regularization: 0.001 });
    assert.equal(hybrid.model, "EASE+VAE+LightGCN");
    const weights = hybrid.settings.weights as Record<string, number>;
    assert.deepEqual(Object.keys(weights), ["EASE", "Mult-VAE", "LightGCN"]);
    assert.ok(
      HYBRID_WEIGHTS.some((w) => w[0] === weights.EASE && w[1] === weights["Mult-VAE"] && w[2] === weights.LightGCN),
    );
    assert.ok(hybrid.selectionSeconds > 0 && hybrid.ndcg10 > 0);
  });

  it("prints a table: the protocol, a header, one row per model with the published numbers, the settings", async () => {
    const data = generateSynthetic({ seed: 3, numUsers: 80, numItems: 60 }).interactions;
    const lines: string[] = [];
    await runMsComparison(data, parseMsArgs(["--models", "sar,popularity"]), (l) => lines.push(l));
    assert.equal(lines.length, 5);
    assert.match(lines[0], /stratified 75\/25 per user \(seed 42\)/);
    assert.match(lines[1], /^model\s+nDCG@10\s+P@10\s+R@10\s+MAP@10\s+seconds\s+published/);
    assert.match(lines[2], /^popularity\s+(0\.\d{4}\s+){4}\d+\.\d\s*$/);
    assert.match(
      lines[3],
      new RegExp(`^SAR\\s+(0\\.\\d{4}\\s+){4}\\d+\\.\\d\\s+SAR ${MS_RECOMMENDERS_ML100K_TOP10.SAR.ndcg.toFixed(4)}`),
    );
    assert.match(lines[4], /Settings: popularity \{\}; SAR \{"similarity":"jaccard"/);
  });
});
