// Schedules: BERT's linear warm-up then linear decay of the learning rate, and Mult-VAE's KL annealing,
// checked step by step.

import * as assert from "node:assert/strict";
import { klAnnealing, linearWarmupDecay } from "../../src/train/schedules";
import { assertClose } from "../support/assertions";

describe("train/schedules", () => {
  it("warms up linearly to the peak, decays linearly to the final rate, then stays", () => {
    const lr = linearWarmupDecay({ peakLearningRate: 1, warmupSteps: 4, totalSteps: 12, finalLearningRate: 0.2 });
    const at = [0, 1, 2, 4, 6, 8, 12, 20].map(lr);
    assertClose(at, [0, 0.25, 0.5, 1, 0.8, 0.6, 0.2, 0.2], { atol: 1e-12, rtol: 1e-12 }, "lr");
    const bert = linearWarmupDecay({ peakLearningRate: 1e-4, warmupSteps: 10, totalSteps: 100 });
    assert.equal(bert(0), 0);
    assert.equal(bert(10), 1e-4);
    assert.ok(Math.abs(bert(55) - 5e-5) < 1e-15);
    assert.equal(bert(100), 0);
    const noWarmup = linearWarmupDecay({ peakLearningRate: 2, warmupSteps: 0, totalSteps: 4 });
    assert.deepEqual([0, 2, 4].map(noWarmup), [2, 1, 0]);
  });

  it("rejects bad arguments, naming the field", () => {
    assert.throws(
      () => linearWarmupDecay({ peakLearningRate: 0, warmupSteps: 1, totalSteps: 2 }),
      /linearWarmupDecay: peakLearningRate must be a finite number > 0/,
    );
    assert.throws(
      () => linearWarmupDecay({ peakLearningRate: 1, warmupSteps: 1.5, totalSteps: 2 }),
      /warmupSteps must be an integer >= 0, got 1.5/,
    );
    assert.throws(
      () => linearWarmupDecay({ peakLearningRate: 1, warmupSteps: 5, totalSteps: 4 }),
      /totalSteps must be an integer >= warmupSteps/,
    );
    assert.throws(
      () => linearWarmupDecay({ peakLearningRate: 1, warmupSteps: 1, totalSteps: 4, finalLearningRate: 2 }),
      /finalLearningRate must be a number in \[0, peakLearningRate = 1\]/,
    );
    const lr = linearWarmupDecay({ peakLearningRate: 1, warmupSteps: 1, totalSteps: 4 });
    assert.throws(() => lr(-1), /linearWarmupDecay: step must be an integer >= 0, got -1/);
  });

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
