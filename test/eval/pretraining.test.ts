import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { PretrainingBatch } from "../../src/data/bertPretraining";
import { evaluatePretraining, mostFrequentTokenBaseline } from "../../src/eval/pretraining";
import { BertForPretraining } from "../../src/models/bert";

function batchOf(maskedLabels: number[], isNext: number[] = [1]): PretrainingBatch {
  const size = isNext.length;
  const length = 6;
  const tokenIds = new Int32Array(size * length).fill(7);
  const positions = maskedLabels.map((_, i) => (i % size) * length + 1 + Math.floor(i / size));
  return {
    batchSize: size,
    length,
    tokenIds,
    tokenTypeIds: new Int32Array(size * length),
    attentionMask: new Int32Array(size * length).fill(1),
    maskedPositions: Int32Array.from(positions),
    maskedLabels: Int32Array.from(maskedLabels),
    isNext: Int32Array.from(isNext),
  };
}

describe("eval/pretraining", () => {
  before(async () => {
    await initBackend();
  });

  it("mostFrequentTokenBaseline takes the training batches' most frequent label and scores it on held-out ones", () => {
    const train = [batchOf([5, 6, 6]), batchOf([6, 7])];
    const heldOut = [batchOf([6, 5, 5, 6]), batchOf([8])];
    assert.deepEqual(mostFrequentTokenBaseline(train, heldOut), { tokenId: 6, accuracy: 2 / 5 });
    // Ties go to the smaller id.
    assert.equal(mostFrequentTokenBaseline([batchOf([9, 8])], heldOut).tokenId, 8);
    assert.throws(() => mostFrequentTokenBaseline([batchOf([])], heldOut), /no masked token/);
  });

  it("evaluatePretraining counts top-1 hits and mean losses, as computed from the logits by hand", () => {
    const model = new BertForPretraining({
      vocabSize: 12,
      hiddenSize: 8,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 6,
      dropout: 0,
      seed: 4,
    });
    const batches = [batchOf([5, 6, 9, 10], [1, 0]), batchOf([11, 5], [0])];
    let hits = 0;
    let loss = 0;
    let nspHits = 0;
    for (const batch of batches) {
      const { maskedLm, nextSentence } = model.logits(batch, false);
      const rows = maskedLm.arraySync() as number[][];
      rows.forEach((row, i) => {
        const top = Math.max(...row);
        if (row.indexOf(top) === batch.maskedLabels[i]) hits += 1;
        loss += Math.log(row.reduce((s, z) => s + Math.exp(z - top), 0)) + top - row[batch.maskedLabels[i]];
      });
      (nextSentence.arraySync() as number[][]).forEach((row, b) => {
        if ((row[1] > row[0] ? 1 : 0) === batch.isNext[b]) nspHits += 1;
      });
      tf.dispose([maskedLm, nextSentence]);
    }
    const result = evaluatePretraining(model, batches);
    assert.equal(result.maskedTokens, 6);
    assert.equal(result.pairs, 3);
    assert.equal(result.maskedLmAccuracy, hits / 6);
    assert.equal(result.nextSentenceAccuracy, nspHits / 3);
    assert.ok(Math.abs(result.maskedLmLoss - loss / 6) < 1e-5, `${result.maskedLmLoss} vs ${loss / 6}`);
    assert.throws(() => evaluatePretraining(model, []), /no masked token or no pair/);
    model.dispose();
  });
});
