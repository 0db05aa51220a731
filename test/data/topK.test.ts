import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { TopKSelector, topKIndices } from "../../src/data/topK";

describe("data/topK", () => {
  it("returns the k largest, largest first, ties by lower position", () => {
    assert.deepEqual([...topKIndices([3, 9, 1, 9, 5], 3)], [1, 3, 4]);
    assert.deepEqual([...topKIndices([2, 2, 2], 2)], [0, 1]);
    assert.deepEqual([...topKIndices([1, 4], 5)], [1, 0], "k beyond n gives all n");
    assert.deepEqual([...topKIndices([], 3)], []);
  });

  it("agrees with a full stable sort on random scores with ties", () => {
    const rng = new Rng(7);
    for (const [n, k] of [
      [1, 1],
      [50, 7],
      [1000, 100],
      [300, 300],
    ]) {
      const values = Float64Array.from({ length: n }, () => rng.int(20));
      const expected = Array.from({ length: n }, (_, i) => i)
        .sort((a, b) => values[b] - values[a] || a - b)
        .slice(0, k);
      assert.deepEqual([...topKIndices(values, k)], expected, `n = ${n}, k = ${k}`);
    }
  });

  it("reads a slice, skips excluded positions and writes scores at an offset", () => {
    const selector = new TopKSelector(2);
    const scores = Float32Array.from([100, 1, 5, 3, 4, 100]);
    const exclude = Uint8Array.from([0, 1, 0, 0]); // position 1 of the slice (score 5) is excluded
    const positions = new Int32Array(5).fill(-1);
    const kept = new Float32Array(5);
    assert.equal(selector.select(scores, 1, 4, exclude, positions, kept, 3, 0), 2);
    assert.deepEqual([...positions], [-1, -1, -1, 3, 2]);
    assert.deepEqual([...kept], [0, 0, 0, 4, 3]);
    assert.equal(selector.select(scores, 1, 1, null, positions, null, 0, 0), 1, "fewer eligible than k");
  });

  it("names the user and item of a NaN score", () => {
    assert.throws(
      () => new TopKSelector(1).select([0, NaN], 0, 2, null, new Int32Array(1), null, 0, 4),
      /score of item 1 for user 4 is NaN/,
    );
  });
});
