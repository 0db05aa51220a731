// Rich output in the tslab kernel: one Jupyter display message carrying several MIME types at once.
//
// tslab's public `display` sends one MIME type per message, but a figure must carry three
// (application/vnd.plotly.v1+json, text/html, text/plain) so that each front end picks the one it
// renders. That needs tslab's internal `lastWriteDisplayData`, which is why package.json pins tslab
// exactly. The same channel, with a display id, updates a live progress line in place.

/** MIME type → content, as in a Jupyter `display_data` message. */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Names the output so that later calls with `update: true` replace it in place. */
  displayId?: string;
  /** Replace the output named by `displayId` instead of adding a new one. */
  update?: boolean;
}

type WriteDisplayData = (content: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

function tslabWriter(): WriteDisplayData | null {
  try {
    // The kernel's own instance: the kernel spec runs this checkout's tslab, so this resolves to it.
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/** True inside a running tslab kernel (a notebook), false in plain Node (tests, scripts). */
export function isNotebook(): boolean {
  return tslabWriter() !== null;
}

/** Sends one display message with every MIME type in `bundle`. Throws outside a notebook. */
export function displayMimeBundle(bundle: MimeBundle, options: DisplayOptions = {}): void {
  const write = tslabWriter();
  if (write === null) {
    throw new Error("displayMimeBundle: no tslab kernel is running (this works only inside a notebook)");
  }
  if (options.update && !options.displayId) {
    throw new Error("displayMimeBundle: update needs a displayId");
  }
  const transient = options.displayId ? { display_id: options.displayId } : {};
  write({ data: bundle, metadata: {}, transient }, Boolean(options.update));
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** FNV-1a hash of a string, as 8 hex digits: deterministic ids for output elements. */
export function stableHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
