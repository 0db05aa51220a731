// Row batches: the order every training loop visits its rows in.

import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { rowBatches } from "../../src/train/batches";

describe("train/batches", () => {
  it("cuts rows into batches, shuffled by a seeded Rng", () => {
    assert.deepEqual(
      rowBatches(5, { batchSize: 2 }).map((b) => Array.from(b)),
      [[0, 1], [2, 3], [4]],
    );
    assert.equal(rowBatches(5, { batchSize: 2, dropLast: true }).length, 2);
    const shuffled = rowBatches(10, { batchSize: 4, rng: new Rng(3) }).flatMap((b) => Array.from(b));
    assert.deepEqual(
      [...shuffled].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.notDeepEqual(shuffled, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(
      rowBatches(10, { batchSize: 4, rng: new Rng(3) }).flatMap((b) => Array.from(b)),
      shuffled,
    );
    assert.throws(() => rowBatches(3, { batchSize: 0 }), /batchSize/);
  });
});
