import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { UserSequences } from "../../src/data/sequences";
import {
  attentionExplainer,
  attentionExplanation,
  attentionImportance,
  sequentialHistoryScorer,
} from "../../src/explain/attention";
import { Bert4Rec } from "../../src/models/bert4rec";
import { SasRec } from "../../src/models/sasrec";
import { assertClose, assertNoLeak } from "../support/assertions";

describe("explain/attention", () => {
  // Two positions. Layer 1: position 1 reads both halves; layer 2: heads [0, 1] and [0.4, 0.6], mean [0.2, 0.8].
  const layers = [
    [
      [
        [1, 0],
        [0.5, 0.5],
      ],
    ],
    [
      [
        [1, 0],
        [0, 1],
      ],
      [
        [1, 0],
        [0.4, 0.6],
      ],
    ],
  ];

  it("reads the last layer's row, the heads averaged", () => {
    assertClose(attentionImportance(layers, 1), [0.2, 0.8]);
    assertClose(attentionImportance(layers, 0, { method: "lastLayer" }), [1, 0]);
  });

  it("rolls attention out across layers (Abnar and Zuidema), by hand", () => {
    // Ã2 = ½A2 + ½I = [[1, 0], [0.1, 0.9]], Ã1 = [[1, 0], [0.25, 0.75]]; row 1 of Ã2·Ã1 = [0.325, 0.675].
    assertClose(attentionImportance(layers, 1, { method: "rollout" }), [0.325, 0.675]);
    // Without the residual term it is the plain product: [0.2, 0.8]·A1 = [0.6, 0.4].
    assertClose(attentionImportance(layers, 1, { method: "rollout", residualWeight: 0 }), [0.6, 0.4]);
    // One layer: the rollout is that layer with the identity mixed in.
    assertClose(attentionImportance([layers[1]], 1, { method: "rollout", residualWeight: 0.25 }), [0.15, 0.85]);
  });

  it("rejects bad maps and settings", () => {
    assert.throws(() => attentionImportance([], 0), /attentionImportance: no attention layers/);
    assert.throws(() => attentionImportance(layers, 2), /query 2 is outside the 2 positions/);
    assert.throws(() => attentionImportance([[[[1, 0]]]], 0), /layer 0, head 0 is 1 × 2, expected 1 × 1/);
    assert.throws(() => attentionImportance([layers[0], [[[1, 0]]]], 0), /layer 1, head 0 is 1 × 2, expected 2 × 2/);
    assert.throws(() => attentionImportance([[]], 0), /layer 0 has no heads|empty/);
    assert.throws(() => attentionImportance(layers, 0, { residualWeight: 1 }), /residualWeight must be in \[0, 1\)/);
    assert.throws(
      () => attentionImportance(layers, 0, { method: "max" as "rollout" }),
      /method must be one of "lastLayer", "rollout", got "max"/,
    );
  });

  describe("on the sequential models", () => {
    const N = 12;
    const T = 6;
    const histories = UserSequences.fromArrays(N, [
      [1, 2, 3],
      [4, 5, 6, 7, 8, 9, 10, 11],
    ]);
    const small = { numItems: N, maxLength: T, hiddenSize: 16, numLayers: 2, numHeads: 2, dropout: 0 };
    let sasrec: SasRec;
    let bert4rec: Bert4Rec;

    before(async () => {
      await initBackend();
      sasrec = new SasRec({ ...small, seed: 1, scoreBatchSize: 1 }, histories);
      bert4rec = new Bert4Rec({ ...small, seed: 2 }, histories);
    });

    after(() => {
      sasrec.dispose();
      bert4rec.dispose();
    });

    /** Row T − 1 of the last layer, heads averaged, read straight from the model. */
    function lastRow(model: SasRec | Bert4Rec, tokens: number[]): number[] {
      const weights = model.attentionWeights(Int32Array.from(tokens), 1);
      const heads = (weights[weights.length - 1].arraySync() as number[][][][])[0];
      tf.dispose(weights);
      return heads[0][T - 1].map((_, k) => heads.reduce((s, head) => s + head[T - 1][k], 0) / heads.length);
    }

    it("maps SASRec's last position's attention to the history, without leaking tensors", async () => {
      const history = [1, 2, 3];
      const ranked = await assertNoLeak(() => attentionExplanation(sasrec, history));
      const row = lastRow(sasrec, [0, 0, 0, 2, 3, 4]); // item i is token i + 1
      const byPosition = [0, 1, 2].map((p) => ranked.find((a) => a.position === p)!.importance);
      assertClose(byPosition, row.slice(3), { atol: 1e-6 });
      // The last item reads only real items, so their weights sum to 1; causal, it reads itself too.
      assertClose(
        byPosition.reduce((s, w) => s + w, 0),
        1,
        { atol: 1e-5 },
      );
      assert.deepEqual(ranked.map((a) => a.item).sort(), [1, 2, 3]);
      const rolled = await assertNoLeak(() => attentionExplainer(sasrec, { method: "rollout" })(history, 0, 0));
      assertClose(
        rolled.reduce((s, a) => s + a.importance, 0),
        1,
        { atol: 1e-5 },
      );
    });

    it("gives items outside the window 0, and skips BERT4Rec's [MASK]", async () => {
      const history = Array.from(histories.itemsOf(1)); // 8 items; BERT4Rec's window holds the last 5
      const ranked = await assertNoLeak(() => attentionExplanation(bert4rec, history));
      const row = lastRow(bert4rec, [...history.slice(-5).map((i) => i + 2), 1]); // [MASK] = 1 last
      const byPosition = history.map((_, p) => ranked.find((a) => a.position === p)!.importance);
      assertClose(byPosition, [0, 0, 0, ...row.slice(0, 5)], { atol: 1e-6 });
      // What [MASK] reads of itself is no history item's.
      assert.ok(byPosition.reduce((s, w) => s + w, 0) < 1 - 1e-4);
      assertClose(byPosition.reduce((s, w) => s + w, 0) + row[T - 1], 1, { atol: 1e-5 });
    });

    it("rescores a history as scoreItems scores the stored one", async () => {
      for (const model of [sasrec, bert4rec]) {
        const score = sequentialHistoryScorer(model);
        const expected = model.scoreItems(Int32Array.of(0, 1));
        for (let u = 0; u < 2; u++) {
          const scores = await assertNoLeak(() => score(Array.from(histories.itemsOf(u)), u));
          assertClose(scores, expected.subarray(u * N, (u + 1) * N), { atol: 1e-5 });
        }
        // In one batch (two forward passes of scoreBatchSize 1 for SASRec's config below, one for BERT4Rec).
        const both = await assertNoLeak(() =>
          score.many!([Array.from(histories.itemsOf(0)), Array.from(histories.itemsOf(1))], 0),
        );
        assertClose(both, expected, { atol: 1e-5 });
        assert.throws(() => score([N], 0), /sequentialHistoryScorer: history\[0\] = 12 is outside/);
      }
      assert.throws(() => attentionExplanation(sasrec, [-1]), /attentionExplanation: history\[0\] = -1 is outside/);
    });
  });
});
