import * as assert from "node:assert/strict";
import { initBackend } from "../../src/backend/backend";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { UserSequences } from "../../src/data/sequences";
import { evaluateRanking } from "../../src/eval/protocols";
import { Bert4Rec } from "../../src/models/bert4rec";
import { SasRec } from "../../src/models/sasrec";
import { trainSequentialRecommender } from "../../src/train/sequentialTraining";

const N = 10;

/** Users walk the items in runs (u, u+1, …): train holds 6 steps, the test the 7th. */
function runs(numUsers: number): { sequences: UserSequences; train: Interactions; test: Interactions } {
  const rows = (from: number, to: number) => {
    const users: number[] = [];
    const items: number[] = [];
    for (let u = 0; u < numUsers; u++)
      for (let k = from; k < to; k++) {
        users.push(u);
        items.push((u + k) % N);
      }
    return new Interactions({
      users: Int32Array.from(users),
      items: Int32Array.from(items),
      ratings: new Float32Array(users.length).fill(1),
      timestamps: Float64Array.from(users, (_, j) => j),
      userIndex: IdIndex.from(Array.from({ length: numUsers }, (_, u) => `u${u}`)),
      itemIndex: IdIndex.from(Array.from({ length: N }, (_, i) => `i${i}`)),
    });
  };
  const train = rows(0, 6);
  return { sequences: UserSequences.from(train), train, test: rows(6, 7) };
}

describe("train/sequentialTraining", () => {
  before(async () => {
    await initBackend();
  });

  it("trains BERT4Rec on Cloze batches, validates every few epochs and keeps the best weights", async () => {
    const { sequences, train, test } = runs(30);
    const model = new Bert4Rec(
      { numItems: N, maxLength: 8, hiddenSize: 16, numLayers: 1, numHeads: 2, dropout: 0, seed: 3 },
      sequences,
    );
    const untrained = evaluateRanking(model, { train, test, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
    const result = await trainSequentialRecommender(model, sequences, {
      epochs: 24,
      batchSize: 4,
      learningRate: 0.01,
      seed: 4,
      progress: "silent",
      validation: { train, test, every: 6 },
    });
    assert.equal(result.history.length, 24);
    const validated = result.history.filter((l) => l["valid_ndcg@10"] !== undefined);
    assert.deepEqual(
      validated.map((l) => l.epoch),
      [6, 12, 18, 24],
    );
    const best = validated.reduce((a, b) => (b["valid_ndcg@10"] > a["valid_ndcg@10"] ? b : a));
    assert.equal(result.bestEpoch, best.epoch);
    // The model holds the best epoch's weights: evaluating again gives the logged value.
    const again = evaluateRanking(model, { train, test, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
    assert.ok(Math.abs(again - best["valid_ndcg@10"]) < 1e-12, `${again} vs ${best["valid_ndcg@10"]}`);
    assert.ok(
      best["valid_ndcg@10"] > untrained + 0.1,
      `the runs are learned: NDCG@10 ${untrained} → ${best["valid_ndcg@10"]}`,
    );
    assert.ok(result.history[23].loss < result.history[0].loss);
    assert.ok(result.tokensPerSecond > 0 && result.seconds > 0);
    model.dispose();
  });

  it("trains SASRec on next-item batches, and refuses BERT4Rec's masking for it", async () => {
    const { sequences } = runs(20);
    const model = new SasRec(
      { numItems: N, maxLength: 8, hiddenSize: 16, numLayers: 1, numHeads: 1, dropout: 0, seed: 3 },
      sequences,
    );
    await assert.rejects(
      () =>
        trainSequentialRecommender(model, sequences, { epochs: 1, seed: 1, masking: "lastItem", progress: "silent" }),
      /masking is BERT4Rec's; SasRec predicts every next item/,
    );
    const result = await trainSequentialRecommender(model, sequences, {
      epochs: 6,
      batchSize: 10,
      learningRate: 0.01,
      seed: 4,
      progress: "silent",
    });
    assert.equal(result.bestEpoch, 6);
    assert.ok(
      result.history[5].loss < 0.7 * result.history[0].loss,
      `${result.history[0].loss} → ${result.history[5].loss}`,
    );
    model.dispose();
  });
});
