import * as assert from "node:assert/strict";
import type { Figure } from "../../src/viz/plotly";
import { liveLearningCurves } from "../../src/viz/liveCurves";

/** Records what a live figure would show. */
function recorder() {
  const shown: Figure[] = [];
  return {
    shown,
    display: {
      showLive: (figure: Figure) => {
        shown.push(figure);
        return (next: Figure) => void shown.push(next);
      },
    },
  };
}

const epochLogs = (epoch: number, extra: Record<string, number>) => ({ epoch, loss: 2 / epoch, seconds: 1, ...extra });

describe("viz/liveCurves", () => {
  it("averages the training loss over smoothSteps, adds epoch metrics at the epoch's last step, and redraws in place", async () => {
    const { shown, display } = recorder();
    const curves = liveLearningCurves(display, {
      title: "t",
      smoothSteps: 2,
      redrawEvery: 1,
      epochSeries: { "held-out": (l) => l.heldOut },
    });
    assert.equal(shown.length, 1, "shown when created");
    for (let step = 1; step <= 4; step++) await curves.onStepEnd!({ epoch: 1, step, loss: step });
    await curves.onEpochEnd!(epochLogs(1, { heldOut: 0.5 }));
    const last = shown[shown.length - 1];
    assert.deepEqual(
      last.data.map((t) => t.name),
      ["train (mean of 2 steps)", "held-out"],
    );
    assert.deepEqual(Array.from(last.data[0].x as number[]), [2, 4]);
    assert.deepEqual(Array.from(last.data[0].y as number[]), [1.5, 3.5]);
    assert.deepEqual(Array.from(last.data[1].x as number[]), [4], "at the epoch's last global step");
    assert.deepEqual(Array.from(last.data[1].y as number[]), [0.5]);
    assert.equal(shown.length, 4, "two loss points and the epoch end redraw");
  });

  it("plots by epoch with each epoch's mean training loss", async () => {
    const { shown, display } = recorder();
    const curves = liveLearningCurves(display, { title: "t", x: "epoch", epochSeries: { acc: (l) => l.acc } });
    for (const epoch of [1, 2]) {
      await curves.onStepEnd!({ epoch, step: epoch, loss: 9 });
      await curves.onEpochEnd!(epochLogs(epoch, { acc: epoch / 10 }));
    }
    const last = shown[shown.length - 1];
    assert.deepEqual(Array.from(last.data[0].x as number[]), [1, 2]);
    assert.deepEqual(Array.from(last.data[0].y as number[]), [2, 1]);
    assert.deepEqual(Array.from(last.data[1].y as number[]), [0.1, 0.2]);
    assert.equal(last.layout.xaxis?.title?.text, "epoch");
  });

  it("rejects bad settings", () => {
    const { display } = recorder();
    assert.throws(() => liveLearningCurves(display, { title: "t", smoothSteps: -1 }), /smoothSteps/);
    assert.throws(() => liveLearningCurves(display, { title: "t", redrawEvery: 0 }), /redrawEvery/);
  });
});
