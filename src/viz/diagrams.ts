// Architecture diagrams drawn from a plain description: boxes placed on a grid of rows and columns, arrows
// between them, rendered as an SVG string (image/svg+xml, with a text fallback) that a notebook shows with
// `showDiagram`. The layout is computed, not drawn by hand, so a diagram is code that tests can check: every
// label inside its box, no two boxes overlapping, every arrow between boxes that exist.

import { displayMimeBundle, escapeHtml, isNotebook, type MimeBundle } from "./display";

/** How a box is filled: what flows in, what is learned, what computes, what comes out. */
export type DiagramNodeKind = "input" | "parameter" | "operation" | "output";

export interface DiagramNode {
  id: string;
  /** The text in the box; "\n" breaks lines. */
  label: string;
  /** Grid row, 0 at the top (fractions allowed). */
  row: number;
  /** Grid column of the box's left edge, 0 at the left (fractions allowed, to centre a box under two). */
  column: number;
  /** Columns the box spans (default 1). */
  span?: number;
  /** Default "operation". */
  kind?: DiagramNodeKind;
}

export interface DiagramEdge {
  from: string;
  to: string;
  /** A few words beside the arrow's middle. */
  label?: string;
  /**
   * "side": leave the source on its right, run down (or up) beside the boxes and enter the target on its right,
   * as a residual connection is drawn; default "straight".
   */
  route?: "straight" | "side";
}

export interface Diagram {
  title?: string;
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

export interface DiagramOptions {
  /** Smallest width of one grid column in px (default 150); widened to fit the longest label. */
  columnWidth?: number;
  /** Height of one grid row in px (default 64). */
  rowHeight?: number;
  /** Empty space between neighbouring boxes in px (default 24 across, 26 down). */
  gapX?: number;
  gapY?: number;
  /** Font size in px (default 13). */
  fontSize?: number;
}

/** A box as laid out, in px from the top left of the drawing. */
export interface DiagramBox {
  id: string;
  lines: string[];
  kind: DiagramNodeKind;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DiagramLayout {
  boxes: DiagramBox[];
  width: number;
  height: number;
  /** The px height of the title band (0 without a title). */
  titleHeight: number;
  fontSize: number;
  /** Estimated px width of one character: labels are sized with it. */
  charWidth: number;
}

const FILL: Record<DiagramNodeKind, string> = {
  input: "#dbeafe",
  parameter: "#fef3c7",
  operation: "#f3f4f6",
  output: "#dcfce7",
};
const MARGIN = 16;
const SIDE_LANE = 28;

function check(diagram: Diagram): void {
  const ids = new Set<string>();
  diagram.nodes.forEach((node, k) => {
    const where = `diagram${diagram.title ? ` '${diagram.title}'` : ""}: node ${k} ('${node.id}')`;
    if (ids.has(node.id)) throw new Error(`${where}: the id is used twice`);
    ids.add(node.id);
    for (const field of ["row", "column"] as const) {
      if (!(Number.isFinite(node[field]) && node[field] >= 0)) {
        throw new Error(`${where}: ${field} must be a number >= 0, got ${node[field]}`);
      }
    }
    if (node.span !== undefined && !(node.span > 0)) throw new Error(`${where}: span must be > 0, got ${node.span}`);
  });
  diagram.edges.forEach((edge, k) => {
    for (const end of [edge.from, edge.to]) {
      if (!ids.has(end)) throw new Error(`diagram: edge ${k} (${edge.from} → ${edge.to}) names no node '${end}'`);
    }
  });
}

/** Places every box; an error when an edge names a missing node or two boxes overlap. */
export function layoutDiagram(diagram: Diagram, options: DiagramOptions = {}): DiagramLayout {
  check(diagram);
  const fontSize = options.fontSize ?? 13;
  const charWidth = fontSize * 0.62;
  const lineHeight = fontSize * 1.3;
  const gapX = options.gapX ?? 24;
  const gapY = options.gapY ?? 26;
  const lines = diagram.nodes.map((node) => node.label.split("\n"));
  // A column is as wide as the widest label needs, shared out over the columns its box spans.
  const needed = diagram.nodes.map((node, k) => {
    const text = Math.max(...lines[k].map((line) => line.length)) * charWidth + 20;
    const span = node.span ?? 1;
    return (text - (span - 1) * gapX) / span;
  });
  const columnWidth = Math.ceil(Math.max(options.columnWidth ?? 150, ...needed));
  const tallest = Math.max(...lines.map((l) => l.length));
  const rowHeight = Math.max(options.rowHeight ?? 64, Math.ceil(tallest * lineHeight + 16 + gapY));
  const titleHeight = diagram.title ? fontSize * 2.2 : 0;
  const boxes = diagram.nodes.map((node, k) => ({
    id: node.id,
    lines: lines[k],
    kind: node.kind ?? "operation",
    x: MARGIN + node.column * (columnWidth + gapX),
    y: MARGIN + titleHeight + node.row * rowHeight,
    width: (node.span ?? 1) * (columnWidth + gapX) - gapX,
    height: rowHeight - gapY,
  }));
  for (let a = 0; a < boxes.length; a++) {
    for (let b = a + 1; b < boxes.length; b++) {
      if (overlap(boxes[a], boxes[b])) {
        throw new Error(
          `diagram: boxes '${boxes[a].id}' and '${boxes[b].id}' overlap; give them other rows or columns`,
        );
      }
    }
  }
  // Side routes run in a lane right of the boxes, their labels right of the lane.
  const side = diagram.edges.filter((e) => e.route === "side");
  const sideLabel = Math.max(
    0,
    ...side.map((e) => (e.label ?? "").length * charWidth * ((fontSize - 2) / fontSize) + 8),
  );
  const width = Math.max(...boxes.map((b) => b.x + b.width)) + MARGIN + (side.length > 0 ? SIDE_LANE + sideLabel : 0);
  const height = Math.max(...boxes.map((b) => b.y + b.height)) + MARGIN;
  return { boxes, width: Math.ceil(width), height: Math.ceil(height), titleHeight, fontSize, charWidth };
}

/** True when two boxes share interior area (touching edges do not count). */
export function overlap(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** The path of an edge, as SVG path data, and the point its label sits at. */
function edgePath(from: DiagramBox, to: DiagramBox, route: DiagramEdge["route"], lane: number) {
  if (route === "side") {
    const x1 = from.x + from.width;
    const y1 = from.y + from.height / 2;
    const x2 = to.x + to.width;
    const y2 = to.y + to.height / 2;
    return {
      d: `M ${round(x1)} ${round(y1)} H ${round(lane)} V ${round(y2)} H ${round(x2)}`,
      label: { x: lane + 4, y: (y1 + y2) / 2 },
    };
  }
  const fromCentre = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  const toCentre = { x: to.x + to.width / 2, y: to.y + to.height / 2 };
  let start: { x: number; y: number };
  let end: { x: number; y: number };
  if (to.y >= from.y + from.height) {
    start = { x: fromCentre.x, y: from.y + from.height };
    end = { x: toCentre.x, y: to.y };
  } else if (from.y >= to.y + to.height) {
    start = { x: fromCentre.x, y: from.y };
    end = { x: toCentre.x, y: to.y + to.height };
  } else if (to.x >= from.x + from.width) {
    start = { x: from.x + from.width, y: fromCentre.y };
    end = { x: to.x, y: toCentre.y };
  } else {
    start = { x: from.x, y: fromCentre.y };
    end = { x: to.x + to.width, y: toCentre.y };
  }
  return {
    d: `M ${round(start.x)} ${round(start.y)} L ${round(end.x)} ${round(end.y)}`,
    label: { x: (start.x + end.x) / 2 + 6, y: (start.y + end.y) / 2 },
  };
}

/** The diagram as a standalone SVG document (no script, no external resources). */
export function diagramSvg(diagram: Diagram, options: DiagramOptions = {}): string {
  const layout = layoutDiagram(diagram, options);
  const { fontSize, boxes } = layout;
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const lane = Math.max(...boxes.map((b) => b.x + b.width)) + SIDE_LANE;
  const lineHeight = fontSize * 1.3;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" ` +
      `viewBox="0 0 ${layout.width} ${layout.height}" font-family="Helvetica, Arial, sans-serif" font-size="${fontSize}">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
      `<path d="M 0 0 L 10 5 L 0 10 z" fill="#374151"/></marker></defs>`,
    `<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="#ffffff"/>`,
  ];
  if (diagram.title) {
    parts.push(
      `<text x="${MARGIN}" y="${round(MARGIN + fontSize)}" font-weight="bold" font-size="${fontSize + 1}">${escapeHtml(diagram.title)}</text>`,
    );
  }
  for (const box of boxes) {
    parts.push(
      `<g class="node" data-id="${escapeHtml(box.id)}"><rect x="${round(box.x)}" y="${round(box.y)}" width="${round(box.width)}" ` +
        `height="${round(box.height)}" rx="6" fill="${FILL[box.kind]}" stroke="#6b7280"/>`,
    );
    const top = box.y + box.height / 2 - ((box.lines.length - 1) * lineHeight) / 2;
    box.lines.forEach((line, k) => {
      parts.push(
        `<text x="${round(box.x + box.width / 2)}" y="${round(top + k * lineHeight)}" text-anchor="middle" ` +
          `dominant-baseline="central">${escapeHtml(line)}</text>`,
      );
    });
    parts.push("</g>");
  }
  for (const edge of diagram.edges) {
    const path = edgePath(byId.get(edge.from)!, byId.get(edge.to)!, edge.route, lane);
    parts.push(
      `<path class="edge" data-from="${escapeHtml(edge.from)}" data-to="${escapeHtml(edge.to)}" d="${path.d}" ` +
        `fill="none" stroke="#374151" stroke-width="1.4" marker-end="url(#arrow)"/>`,
    );
    if (edge.label) {
      parts.push(
        `<text x="${round(path.label.x)}" y="${round(path.label.y)}" font-size="${fontSize - 2}" fill="#374151" ` +
          `dominant-baseline="central">${escapeHtml(edge.label)}</text>`,
      );
    }
  }
  parts.push("</svg>");
  return parts.join("\n");
}

/** The diagram as text, for logs and front ends without SVG: the boxes row by row, then the arrows. */
export function diagramText(diagram: Diagram): string {
  check(diagram);
  const label = new Map(diagram.nodes.map((n) => [n.id, n.label.replace(/\n/g, " ")]));
  const rows = [...new Set(diagram.nodes.map((n) => n.row))].sort((a, b) => a - b);
  const lines = diagram.title ? [diagram.title] : [];
  for (const row of rows) {
    const inRow = diagram.nodes.filter((n) => n.row === row).sort((a, b) => a.column - b.column);
    lines.push(inRow.map((n) => `[${label.get(n.id)}]`).join("  "));
  }
  for (const edge of diagram.edges) {
    lines.push(`${label.get(edge.from)} → ${label.get(edge.to)}${edge.label ? ` (${edge.label})` : ""}`);
  }
  return lines.join("\n");
}

/** image/svg+xml and a text fallback, as a notebook display message carries them. */
export function diagramMimeBundle(diagram: Diagram, options: DiagramOptions = {}): MimeBundle {
  return { "image/svg+xml": diagramSvg(diagram, options), "text/plain": diagramText(diagram) };
}

/** Shows the diagram in a notebook (SVG), or prints its text form outside one. */
export function showDiagram(diagram: Diagram, options: DiagramOptions = {}): void {
  if (isNotebook()) displayMimeBundle(diagramMimeBundle(diagram, options));
  else console.log(diagramText(diagram));
}
