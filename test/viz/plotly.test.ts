import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  describeFigure,
  Figure,
  figureHtml,
  figureToJson,
  NotebookPlotter,
  plotlyBundlePath,
  plotlyBundleScript,
} from "../../src/viz/plotly";
import { withFakeKernel } from "../support/fakeKernel";

const figure: Figure = {
  data: [{ type: "bar", name: "counts", x: [1, 2, 3], y: new Float32Array([5, 0.5, 2]) }],
  layout: { title: { text: "Ratings </script>" } },
};

describe("viz/plotly", () => {
  it("turns typed arrays into plain arrays in the figure JSON", () => {
    const json = figureToJson(figure) as { data: Array<{ y: unknown }> };
    assert.deepEqual(json.data[0].y, [5, 0.5, 2]);
  });

  it("describes a figure in one line of text", () => {
    assert.equal(describeFigure(figure), "Figure: Ratings </script> [1 trace: bar 'counts']");
  });

  it("draws into a div through window.Plotly, and cannot be cut short by '</script>' in the data", () => {
    const html = figureHtml(figure, "plot-1");
    assert.match(html, /<div id="plot-1"/);
    assert.match(html, /window\.Plotly\.newPlot\("plot-1"/);
    assert.equal(html.match(/<\/script>/g)?.length, 1, "only the closing tag of the script itself");
  });

  it("inlines the installed plotly.js bundle, which defines window.Plotly and needs no network", () => {
    const source = fs.readFileSync(plotlyBundlePath(), "utf8");
    assert.match(source, /window\.Plotly\s*=\s*Plotly/);
    assert.ok(!/https?:\/\/cdn/.test(plotlyBundleScript(source).slice(0, 2000)));
    assert.throws(() => plotlyBundleScript("var a = '</script>';"), /cannot be inlined/);
  });

  it("sends three MIME types per figure and the bundle only with the first", () => {
    const plotter = new NotebookPlotter(() => "/*BUNDLE*/");
    const messages = withFakeKernel(() => {
      plotter.show(figure);
      plotter.show(figure);
    });
    assert.equal(messages.length, 2);
    assert.equal(plotter.figureCount, 2);
    for (const m of messages) {
      assert.deepEqual(Object.keys(m.content.data).sort(), [
        "application/vnd.plotly.v1+json",
        "text/html",
        "text/plain",
      ]);
      assert.equal(typeof m.content.data["application/vnd.plotly.v1+json"], "object");
    }
    const html = messages.map((m) => m.content.data["text/html"] as string);
    assert.ok(html[0].includes("/*BUNDLE*/"));
    assert.ok(!html[1].includes("/*BUNDLE*/"));
    const ids = html.map((h) => /<div id="([^"]+)"/.exec(h)![1]);
    assert.notEqual(ids[0], ids[1], "each figure has its own element id");
  });

  it("gives the same element ids on every run (deterministic outputs)", () => {
    const a = new NotebookPlotter(() => "").render(figure)["text/html"];
    const b = new NotebookPlotter(() => "").render(figure)["text/html"];
    assert.equal(a, b);
  });
});
