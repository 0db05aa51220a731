import * as assert from "node:assert/strict";
import { createProgress, defaultProgressMode, formatDuration, progressLine } from "../../src/train/progress";
import { withFakeKernel } from "../support/fakeKernel";

function clock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

describe("train/progress", () => {
  it("formats a line with percent, counts, elapsed<remaining and metrics", () => {
    assert.equal(
      progressLine("epoch 1", 25, 100, 5000, { loss: 0.5 }),
      "epoch 1  25% 25/100 [00:05<00:15] loss=0.5000",
    );
    assert.equal(formatDuration(61_400), "01:01");
  });

  it("chooses a log line in CI and off a terminal, a bar on an interactive terminal", () => {
    assert.equal(defaultProgressMode({ CI: "true" }, true), "log");
    assert.equal(defaultProgressMode({}, false), "log");
    assert.equal(defaultProgressMode({}, true), "terminal");
  });

  it("prints exactly one line per loop in log mode", () => {
    const lines: string[] = [];
    let t = 0;
    const p = createProgress({ total: 3, label: "epoch 1/2", mode: "log", log: (l) => lines.push(l), now: () => t });
    t = 700;
    p.tick(1, { loss: 2 });
    t = 1500;
    p.tick(2, { loss: 1 });
    assert.equal(lines.length, 0);
    p.done();
    assert.deepEqual(lines, ["epoch 1/2: 3/3 in 1.5s loss=1"]);
  });

  it("updates one live display in a notebook, throttled", () => {
    const messages = withFakeKernel(() => {
      const p = createProgress({ total: 100, label: "train", mode: "notebook", minIntervalMs: 1000, now: clock(100) });
      for (let i = 0; i < 100; i++) p.tick();
      p.done({ loss: 0.25 });
    });
    const ids = new Set(messages.map((m) => m.content.transient.display_id));
    assert.equal(ids.size, 1, "every message targets the same display");
    assert.equal(messages[0].update, false);
    assert.ok(messages.slice(1).every((m) => m.update));
    // 100 ticks 100 ms apart with a 1 s throttle: about one redraw a second, not one per tick.
    assert.ok(messages.length > 5 && messages.length < 20, `${messages.length} messages`);
    const last = messages[messages.length - 1].content.data;
    assert.match(String(last["text/plain"]), /100% 100\/100 .* loss=0\.2500$/);
    assert.match(String(last["text/html"]), /<progress value="100" max="100"/);
  });

  it("relabels one display, keeping the count, and takes a new total", () => {
    const messages = withFakeKernel(() => {
      const p = createProgress({
        total: 4,
        label: "fit epoch 1/2",
        mode: "notebook",
        minIntervalMs: 0,
        now: clock(10),
      });
      p.tick(2, { loss: 1 });
      p.done();
      p.relabel("fit epoch 2/2", 5);
      p.tick(3, { loss: 0.5 });
      p.done();
    });
    assert.equal(new Set(messages.map((m) => m.content.transient.display_id)).size, 1);
    const last = String(messages[messages.length - 1].content.data["text/plain"]);
    assert.match(last, /^fit epoch 2\/2 100% 5\/5 .* loss=0\.5000$/);
    const lines: string[] = [];
    const log = createProgress({ total: 2, label: "a", mode: "log", log: (l) => lines.push(l), now: () => 0 });
    log.tick(1);
    log.relabel("b", 3);
    log.done();
    assert.deepEqual(lines, ["b: 1/3 in 0.0s"]);
  });

  it("stays quiet when silent", () => {
    const lines: string[] = [];
    const p = createProgress({ total: 1, label: "x", mode: "silent", log: (l) => lines.push(l) });
    p.tick();
    p.done();
    assert.deepEqual(lines, []);
  });
});
