import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { IntIdMap } from "../../src/data/intIds";

describe("data/intIds", () => {
  it("maps small, large and negative ids, and answers -1 for unknown ones", () => {
    const map = new IntIdMap();
    map.set(0, 5);
    map.set(3000, 0);
    map.set(33_000_000, 7);
    map.set(-4, 2);
    assert.deepEqual(
      [0, 3000, 33_000_000, -4].map((id) => map.get(id)),
      [5, 0, 7, 2],
    );
    assert.deepEqual(
      [1, 2999, 5000, 33_000_001, -5].map((id) => map.get(id)),
      [-1, -1, -1, -1, -1],
    );
    map.set(0, 9);
    assert.equal(map.get(0), 9);
  });

  it("agrees with a Map on random ids", () => {
    const rng = new Rng(3);
    const map = new IntIdMap();
    const reference = new Map<number, number>();
    for (let k = 0; k < 5000; k++) {
      const id = rng.next() < 0.8 ? rng.int(100_000) : rng.int(2 ** 30);
      map.set(id, k);
      reference.set(id, k);
    }
    for (const [id, value] of reference) assert.equal(map.get(id), value);
    for (let k = 0; k < 1000; k++) {
      const id = rng.int(2 ** 30);
      assert.equal(map.get(id), reference.get(id) ?? -1);
    }
  });
});
