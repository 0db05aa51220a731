import * as assert from "node:assert/strict";
import { restrictCandidates } from "../../src/eval/candidates";
import { recommendTopK } from "../../src/eval/protocols";

describe("eval/candidates", () => {
  const model = {
    numItems: 4,
    scoreItems: (users: Int32Array) => Float32Array.from({ length: users.length * 4 }, (_, j) => 10 - (j % 4)),
  };

  it("sinks every item outside the allowed set, keeping the order of the rest", () => {
    const restricted = restrictCandidates(model, Uint8Array.of(0, 1, 0, 1));
    const top = recommendTopK(restricted, Int32Array.of(0), { k: 2 });
    assert.deepEqual(Array.from(top.itemsOf(0)), [1, 3]);
    const scores = restricted.scoreItems(Int32Array.of(0, 1));
    assert.deepEqual([scores[1], scores[3], scores[5]], [9, 7, 9]);
    assert.ok(Number.isFinite(scores[0]) && scores[0] < -1e29);
  });

  it("rejects a mask of the wrong size", () => {
    assert.throws(
      () => restrictCandidates(model, new Uint8Array(3)),
      /allowed has 3 entries, the model scores 4 items/,
    );
  });
});
