import * as assert from "node:assert/strict";
import { klAnnealing } from "../../src/train/schedules";
import { assertClose } from "../support/assertions";

describe("train/schedules", () => {
  describe("klAnnealing", () => {
    it("rises from 0 with slope 1/totalSteps and stays at the cap from step cap·totalSteps", () => {
      const beta = klAnnealing({ cap: 0.2, totalSteps: 1000 });
      assert.equal(beta(0), 0);
      assertClose(beta(100), 0.1); // midway to the cap
      assertClose(beta(200), 0.2);
      assert.equal(beta(5000), 0.2);
      // With cap 1, β reaches 1 at totalSteps: the plain linear schedule.
      const full = klAnnealing({ cap: 1, totalSteps: 10 });
      assert.deepEqual([0, 5, 10, 11].map(full), [0, 0.5, 1, 1]);
    });

    it("rejects a bad cap, totalSteps or step", () => {
      assert.throws(() => klAnnealing({ cap: -1, totalSteps: 10 }), /cap must be a finite number >= 0/);
      assert.throws(() => klAnnealing({ cap: 0.2, totalSteps: 0 }), /totalSteps must be an integer >= 1/);
      assert.throws(() => klAnnealing({ cap: 0.2, totalSteps: 10 })(-1), /step must be an integer >= 0/);
    });
  });
});
