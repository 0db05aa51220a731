// Learning-rate schedules: BERT's linear warm-up then linear decay, checked step by step.

import * as assert from "node:assert/strict";
import { linearWarmupDecay } from "../../src/train/schedules";
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
});
