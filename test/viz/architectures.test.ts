// The course's architecture diagrams: each lays out without overlapping boxes, its SVG is well-formed and holds
// every label, and no straight arrow runs through a box other than the two it joins.

import * as assert from "node:assert/strict";
import { assertWellFormedXml } from "../support/wellFormedXml";
import {
  ENCODER_BLOCK_DIAGRAM,
  MATRIX_FACTORIZATION_DIAGRAM,
  NEUMF_DIAGRAM,
  TWO_TOWER_DIAGRAM,
} from "../../src/viz/architectures";
import { type DiagramBox, diagramSvg, escapeHtml, layoutDiagram } from "../../src/viz/index";

/** Whether the segment (x1, y1)–(x2, y2) passes through the inside of `box` (sampled finely). */
function crosses(box: DiagramBox, x1: number, y1: number, x2: number, y2: number): boolean {
  for (let t = 0.01; t < 1; t += 0.01) {
    const x = x1 + t * (x2 - x1);
    const y = y1 + t * (y2 - y1);
    if (x > box.x + 1 && x < box.x + box.width - 1 && y > box.y + 1 && y < box.y + box.height - 1) return true;
  }
  return false;
}

describe("viz/architectures", () => {
  const diagrams = {
    "matrix factorisation": MATRIX_FACTORIZATION_DIAGRAM,
    NeuMF: NEUMF_DIAGRAM,
    "two-tower": TWO_TOWER_DIAGRAM,
    "encoder block": ENCODER_BLOCK_DIAGRAM,
  };
  for (const [name, diagram] of Object.entries(diagrams)) {
    it(`${name}: well-formed SVG with every label, boxes apart, arrows clear of other boxes`, () => {
      const svg = diagramSvg(diagram);
      assertWellFormedXml(svg);
      for (const node of diagram.nodes) {
        for (const line of node.label.split("\n"))
          assert.ok(svg.includes(`>${escapeHtml(line)}</text>`), `${name}: '${line}'`);
      }
      const layout = layoutDiagram(diagram); // throws on overlapping boxes
      for (const edge of diagram.edges.filter((e) => e.route !== "side")) {
        const d = new RegExp(
          `data-from="${edge.from}" data-to="${edge.to}" d="M ([\\d.]+) ([\\d.]+) L ([\\d.]+) ([\\d.]+)"`,
        ).exec(svg);
        assert.ok(d, `${name}: no arrow ${edge.from} → ${edge.to}`);
        const [x1, y1, x2, y2] = d.slice(1).map(Number);
        for (const box of layout.boxes) {
          if (box.id === edge.from || box.id === edge.to) continue;
          assert.equal(
            crosses(box, x1, y1, x2, y2),
            false,
            `${name}: ${edge.from} → ${edge.to} runs through '${box.id}'`,
          );
        }
      }
    });
  }
});
