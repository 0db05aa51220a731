import * as assert from "node:assert/strict";
import {
  labelledScatter,
  barChart,
  categoryScatter,
  ecdfChart,
  heatmap,
  histogram,
  lineChart,
} from "../../src/viz/charts";

describe("viz/charts", () => {
  it("builds grouped bars with titled axes", () => {
    const fig = barChart({ title: "t", xTitle: "rating", yTitle: "count", series: [{ x: [1, 2], y: [3, 4] }] });
    assert.equal(fig.data[0].type, "bar");
    assert.deepEqual(fig.layout.xaxis?.title, { text: "rating" });
    assert.equal(fig.layout.showlegend, false);
  });

  it("puts line charts on log axes when asked", () => {
    const fig = lineChart({
      title: "tail",
      series: [{ x: [1, 10], y: [100, 1] }],
      logX: true,
      logY: true,
      mode: "markers",
    });
    assert.equal(fig.layout.xaxis?.type, "log");
    assert.equal(fig.layout.yaxis?.type, "log");
    assert.equal(fig.data[0].mode, "markers");
    assert.equal(lineChart({ title: "lin", series: [{ x: [1], y: [1] }] }).layout.xaxis?.type, undefined);
  });

  it("draws empirical CDFs as steps, one point per distinct value", () => {
    const fig = ecdfChart({
      title: "ranks",
      series: [
        { name: "a", values: [3, 1, 3, 10] },
        { name: "b", values: [5] },
      ],
      logX: true,
    });
    assert.deepEqual(fig.data[0].x, [1, 3, 10]);
    assert.deepEqual(fig.data[0].y, [0.25, 0.75, 1]);
    assert.deepEqual(fig.data[0].line, { shape: "hv" });
    assert.deepEqual([fig.data[1].x, fig.data[1].y], [[5], [1]]);
    assert.equal(fig.layout.xaxis?.type, "log");
    assert.equal(fig.layout.showlegend, true);
  });

  it("bins histograms in the browser and shows matrices top to bottom", () => {
    const h = histogram({ title: "h", values: [1, 2, 2], bins: 10 });
    assert.equal(h.data[0].nbinsx, 10);
    const m = heatmap({ title: "m", z: [new Float32Array([1, 0]), new Float32Array([0, 1])], xLabels: ["a", "b"] });
    assert.deepEqual(m.data[0].z, [
      [1, 0],
      [0, 1],
    ]);
    assert.equal(m.layout.yaxis?.autorange, "reversed");
    // Long row and column labels (film titles) widen the margins instead of being cut off.
    assert.equal(m.layout.yaxis?.automargin, true);
    assert.equal(m.layout.xaxis?.automargin, true);
  });

  it("colours a labelled scatter by its most frequent labels and pools the rest", () => {
    const fig = categoryScatter({
      title: "s",
      points: [0, 0, 1, 1, 2, 2, 3, 3],
      labels: ["a", "b", "a", "c"],
      hoverTexts: ["w", "x", "y", "z"],
      maxCategories: 2,
    });
    // "a" is most frequent; "b" beats "c" only by name, so "c" goes to "other".
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ["a", "b", "other"],
    );
    assert.deepEqual(fig.data[0].x, [0, 2]);
    assert.deepEqual(fig.data[0].text, ["w", "y"]);
    assert.deepEqual(fig.data[2].y, [3]);
    assert.equal(
      categoryScatter({ title: "t", points: [0, 0], labels: ["a"] }).data.length,
      1,
      "no empty 'other' series",
    );
  });

  it("writes each point's name beside it, on a log x axis when asked", () => {
    const figure = labelledScatter({
      title: "cost",
      xTitle: "seconds",
      points: [
        { label: "MF", x: 2, y: 0.3 },
        { label: "SASRec", x: 60, y: 0.4 },
      ],
      logX: true,
    });
    assert.equal(figure.data.length, 1);
    assert.deepEqual(figure.data[0].x, [2, 60]);
    assert.deepEqual(figure.data[0].y, [0.3, 0.4]);
    assert.deepEqual(figure.data[0].text, ["MF", "SASRec"]);
    assert.equal(figure.data[0].mode, "markers+text");
    assert.equal(figure.layout.xaxis?.type, "log");
    assert.equal(figure.layout.yaxis?.type, undefined);
  });
});
