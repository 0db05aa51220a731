import * as assert from "node:assert/strict";
import { checkHistory, checkTarget, rankPositions } from "../../src/explain/explanation";

describe("explain/explanation", () => {
  it("ranks positions by importance, ties to the earlier position", () => {
    const ranked = rankPositions([7, 3, 9, 3], [0.2, 0.5, 0.2, 0]);
    assert.deepEqual(
      ranked.map((a) => [a.position, a.item, a.importance]),
      [
        [1, 3, 0.5],
        [0, 7, 0.2],
        [2, 9, 0.2],
        [3, 3, 0],
      ],
    );
    // Nothing found still gives one order: the history's.
    assert.deepEqual(
      rankPositions([4, 5, 6], [0, 0, 0]).map((a) => a.position),
      [0, 1, 2],
    );
    assert.deepEqual(rankPositions([], []), []);
  });

  it("rejects misaligned or NaN importances and bad items", () => {
    assert.throws(() => rankPositions([1, 2], [1]), /rankPositions: 1 importances for a history of 2 items/);
    assert.throws(() => rankPositions([1, 2], [1, NaN]), /importance of position 1 is NaN/);
    assert.throws(() => checkHistory("f", [0, 4], 4), /f: history\[1\] = 4 is outside the items \[0, 4\)/);
    assert.throws(() => checkHistory("f", [0.5], 4), /history\[0\] = 0.5/);
    assert.throws(() => checkTarget("f", 4, 4), /f: target 4 is outside the items \[0, 4\)/);
    assert.throws(() => checkTarget("f", -1, 4), /f: target must be an integer >= 0, got -1/);
    assert.equal(checkTarget("f", 3, 4), 3);
  });
});
