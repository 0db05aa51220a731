// Diagrams from a description: the SVG is well-formed XML with every label in it, boxes never overlap and
// every label fits its box, arrows run between the boxes they name, and the display carries SVG and text.

import * as assert from "node:assert/strict";
import { withFakeKernel } from "../support/fakeKernel";
import { assertWellFormedXml } from "../support/wellFormedXml";
import {
  type Diagram,
  diagramMimeBundle,
  diagramSvg,
  diagramText,
  layoutDiagram,
  overlap,
  showDiagram,
} from "../../src/viz/diagrams";

describe("viz/diagrams", () => {
  const diagram: Diagram = {
    title: "A & B <toy>",
    nodes: [
      { id: "a", label: "input a", row: 0, column: 0, kind: "input" },
      { id: "b", label: "weights b\n(two lines)", row: 0, column: 1, kind: "parameter" },
      { id: "c", label: "a very long label that needs a wider column than the default", row: 1, column: 0, span: 2 },
      { id: "d", label: "output", row: 2, column: 0.5, kind: "output" },
    ],
    edges: [
      { from: "a", to: "c", label: "x" },
      { from: "b", to: "c" },
      { from: "c", to: "d" },
      { from: "a", to: "d", route: "side", label: "skip" },
    ],
  };

  it("writes a well-formed SVG document holding every label, escaped", () => {
    const svg = diagramSvg(diagram);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    assert.ok(svg.endsWith("</svg>"));
    assertWellFormedXml(svg);
    assert.ok(svg.includes(">A &amp; B &lt;toy&gt;</text>"));
    for (const text of ["input a", "weights b", "(two lines)", "output", ">x<", ">skip<"]) {
      assert.ok(svg.includes(text), `the SVG lacks '${text}'`);
    }
    assert.equal((svg.match(/<g class="node"/g) ?? []).length, 4);
    assert.equal((svg.match(/<path class="edge"/g) ?? []).length, 4);
    assert.doesNotMatch(svg, /<script|href=/);
  });

  it("lays boxes out without overlap, each label fitting its box, the columns widened to fit", () => {
    const layout = layoutDiagram(diagram, { columnWidth: 80 });
    for (const box of layout.boxes) {
      const widest = Math.max(...box.lines.map((l) => l.length)) * layout.charWidth;
      assert.ok(widest <= box.width - 8, `'${box.id}' is ${box.width} px wide for ${widest} px of text`);
      assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= layout.width && box.y + box.height <= layout.height);
    }
    for (const a of layout.boxes) for (const b of layout.boxes) if (a !== b) assert.equal(overlap(a, b), false);
    const [a, b, c, d] = layout.boxes;
    assert.equal(a.y, b.y, "one row, one height");
    assert.ok(c.y >= a.y + a.height && d.y >= c.y + c.height, "rows go down");
    assert.equal(c.width, b.x + b.width - a.x, "a box spanning two columns covers both");
    assert.equal(d.x + d.width / 2, c.x + c.width / 2, "column 0.5 centres a box under two");
  });

  it("draws an arrow from box to box, and a side route beside the boxes", () => {
    const layout = layoutDiagram(diagram);
    const box = (id: string) => layout.boxes.find((b) => b.id === id)!;
    const svg = diagramSvg(diagram);
    const path = (from: string, to: string) =>
      new RegExp(`data-from="${from}" data-to="${to}" d="([^"]+)"`)
        .exec(svg)![1]
        .split(" ")
        .filter((t) => /\d/.test(t))
        .map(Number);
    const [x1, y1, x2, y2] = path("c", "d");
    assert.deepEqual([x1, y1], [box("c").x + box("c").width / 2, box("c").y + box("c").height]);
    assert.deepEqual([x2, y2], [box("d").x + box("d").width / 2, box("d").y]);
    const side = path("a", "d");
    const right = Math.max(...layout.boxes.map((b) => b.x + b.width));
    assert.ok(side[2] > right, "the side lane runs right of every box");
  });

  it("rejects overlapping boxes, unknown nodes and repeated ids, naming them", () => {
    const clash: Diagram = {
      nodes: [
        { id: "wide", label: "w", row: 0, column: 0, span: 2 },
        { id: "under", label: "u", row: 0, column: 1 },
      ],
      edges: [],
    };
    assert.throws(() => layoutDiagram(clash), /boxes 'wide' and 'under' overlap/);
    assert.throws(
      () => diagramSvg({ nodes: [{ id: "a", label: "a", row: 0, column: 0 }], edges: [{ from: "a", to: "z" }] }),
      /edge 0 \(a → z\) names no node 'z'/,
    );
    assert.throws(
      () =>
        layoutDiagram({
          nodes: [
            { id: "a", label: "a", row: 0, column: 0 },
            { id: "a", label: "b", row: 1, column: 0 },
          ],
          edges: [],
        }),
      /node 1 \('a'\): the id is used twice/,
    );
    assert.throws(
      () => layoutDiagram({ nodes: [{ id: "a", label: "a", row: -1, column: 0 }], edges: [] }),
      /row must be/,
    );
  });

  it("has a text form, and shows SVG with it in a notebook", () => {
    assert.equal(
      diagramText(diagram),
      [
        "A & B <toy>",
        "[input a]  [weights b (two lines)]",
        "[a very long label that needs a wider column than the default]",
        "[output]",
        "input a → a very long label that needs a wider column than the default (x)",
        "weights b (two lines) → a very long label that needs a wider column than the default",
        "a very long label that needs a wider column than the default → output",
        "input a → output (skip)",
      ].join("\n"),
    );
    const messages = withFakeKernel(() => showDiagram(diagram));
    assert.equal(messages.length, 1);
    assert.deepEqual(messages[0].content.data, diagramMimeBundle(diagram));
    assert.deepEqual(Object.keys(messages[0].content.data), ["image/svg+xml", "text/plain"]);
  });
});
