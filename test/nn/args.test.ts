import * as assert from "node:assert/strict";
import { shapeList } from "../../src/nn/args";

describe("nn/args", () => {
  it("lists input shapes whether tfjs passes one or several", () => {
    assert.deepEqual(shapeList([null, 3, 4]), [[null, 3, 4]]);
    assert.deepEqual(
      shapeList([
        [null, 3, 4],
        [null, 3],
      ]),
      [
        [null, 3, 4],
        [null, 3],
      ],
    );
  });
});
