import * as assert from "node:assert/strict";
import type { HistoryScorer } from "../../src/explain/explanation";
import { occlusionExplainer } from "../../src/explain/occlusion";
import { assertClose } from "../support/assertions";

describe("explain/occlusion", () => {
  it("ranks items by the score drop of deleting each alone", () => {
    // Item 3's score: 1 per history item, plus 5 when items 0 and 1 are both there (an interaction that
    // no per-item weight can express).
    const score: HistoryScorer = (history) => {
      const has = (i: number) => history.includes(i);
      return Float32Array.of(0, 0, 0, history.length + (has(0) && has(1) ? 5 : 0));
    };
    const ranked = occlusionExplainer(score)([2, 0, 1], 3, 0);
    assert.deepEqual(
      ranked.map((a) => a.item),
      [0, 1, 2],
    );
    assertClose(
      ranked.map((a) => a.importance),
      [6, 6, 1],
    );
    assert.throws(
      () => occlusionExplainer(score)([0], 4, 0),
      /occlusionExplainer: target 4 is outside the 4 scored items/,
    );
  });
});
