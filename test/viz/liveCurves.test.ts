import * as assert from "node:assert/strict";
import type { Figure } from "../../src/viz/plotly";
import { liveLearningCurves, liveLossComparison } from "../../src/viz/liveCurves";

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

  it("compares runs in one figure, shown at the first epoch's end and then redrawn in place", async () => {
    const { shown, display } = recorder();
    const comparison = liveLossComparison(display, { title: "losses" });
    const gmf = comparison.run("GMF");
    const mlp = comparison.run("MLP");
    assert.equal(shown.length, 0, "nothing to show before an epoch ends");
    for (const epoch of [1, 2, 3]) await gmf.onEpochEnd!(epochLogs(epoch, {}));
    for (const epoch of [1, 2]) await mlp.onEpochEnd!({ epoch, loss: 10 * epoch, seconds: 1 });
    assert.equal(shown.length, 5, "one showLive, then one redraw per epoch");
    const last = shown[shown.length - 1];
    assert.deepEqual(
      last.data.map((t) => t.name),
      ["GMF", "MLP"],
    );
    assert.deepEqual(Array.from(last.data[0].x as number[]), [1, 2, 3]);
    assert.deepEqual(Array.from(last.data[0].y as number[]), [2, 1, 2 / 3]);
    assert.deepEqual(Array.from(last.data[1].y as number[]), [10, 20]);
    assert.equal(last.layout.xaxis?.title?.text, "epoch");
    assert.throws(() => comparison.run("GMF"), /a run named 'GMF' is already in 'losses'/);
  });

  it("rejects bad settings", () => {
    const { display } = recorder();
    assert.throws(() => liveLearningCurves(display, { title: "t", smoothSteps: -1 }), /smoothSteps/);
    assert.throws(() => liveLearningCurves(display, { title: "t", redrawEvery: 0 }), /redrawEvery/);
  });
});
