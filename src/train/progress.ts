// Progress of long loops (training epochs, evaluation): a live line in notebooks, a cli-progress bar in
// terminals, and a single line per loop in CI logs and other non-interactive output.

import { SingleBar, Presets } from "cli-progress";
import { displayMimeBundle, escapeHtml, isNotebook } from "../viz/display";

export type ProgressMode = "notebook" | "terminal" | "log" | "silent";

export interface ProgressOptions {
  /** Number of steps the loop will take. */
  total: number;
  /** What is running, e.g. "epoch 3/10". */
  label: string;
  /** Where to report; by default the notebook when in one, a bar on an interactive terminal, else a log line. */
  mode?: ProgressMode;
  /** The most often a notebook line or terminal bar is redrawn, in ms. */
  minIntervalMs?: number;
  /** Where log lines go (tests pass their own). */
  log?: (line: string) => void;
  /** Clock in ms (tests pass their own). */
  now?: () => number;
}

/** Metrics shown beside the bar, e.g. { loss: 0.53 }. */
export type ProgressMetrics = Record<string, number>;

export interface Progress {
  /** Advances by `steps` and updates the shown metrics. */
  tick(steps?: number, metrics?: ProgressMetrics): void;
  /** Ends the loop; in log mode this prints its one line. In a notebook it only redraws, so a loop may go on. */
  done(metrics?: ProgressMetrics): void;
  /**
   * Renames the loop and, when given, changes its total, keeping the count: one display for a loop of loops
   * (`fit`'s epochs in a notebook, where the label says which epoch runs and the total counts every step).
   */
  relabel(label: string, total?: number): void;
}

/** The mode `createProgress` picks when none is given. */
export function defaultProgressMode(
  env: NodeJS.ProcessEnv = process.env,
  stderrIsTTY = Boolean(process.stderr.isTTY),
): ProgressMode {
  if (isNotebook()) return "notebook";
  if (stderrIsTTY && !env.CI) return "terminal";
  return "log";
}

export function formatMetrics(metrics: ProgressMetrics): string {
  return Object.entries(metrics)
    .map(([name, value]) => `${name}=${Number.isInteger(value) ? value : value.toPrecision(4)}`)
    .join(" ");
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const mm = String(Math.floor(s / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${mm}:${ss}`;
}

/** One text line: "label  45% 450/1000 [00:03<00:04] loss=0.5300". */
export function progressLine(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
  metrics: ProgressMetrics,
): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const remainingMs = done > 0 ? (elapsedMs / done) * (total - done) : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const timing = `[${formatDuration(elapsedMs)}<${formatDuration(remainingMs)}]`;
  return [label, percent, `${done}/${total}`, timing, formatMetrics(metrics)].filter((part) => part !== "").join(" ");
}

export function createProgress(options: ProgressOptions): Progress {
  const mode = options.mode ?? defaultProgressMode();
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  // Notebook redraws are messages to the front end: a few a second are plenty.
  const minInterval = options.minIntervalMs ?? 500;
  const started = now();
  let label = options.label;
  let total = options.total;
  let count = 0;
  let metrics: ProgressMetrics = {};
  let lastDraw = -Infinity;

  if (mode === "silent") {
    return { tick() {}, done() {}, relabel() {} };
  }

  if (mode === "terminal") {
    const bar = new SingleBar(
      {
        format: `{label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} {metrics}`,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { label, metrics: "" });
    return {
      tick(steps = 1, m) {
        count += steps;
        if (m) metrics = m;
        bar.update(count, { metrics: formatMetrics(metrics) });
      },
      done(m) {
        if (m) metrics = m;
        bar.update(count, { metrics: formatMetrics(metrics) });
        bar.stop();
      },
      relabel(next, nextTotal) {
        if (nextTotal !== undefined) bar.setTotal(nextTotal);
        bar.update(count, { label: next });
      },
    };
  }

  if (mode === "log") {
    return {
      tick(steps = 1, m) {
        count += steps;
        if (m) metrics = m;
      },
      done(m) {
        if (m) metrics = m;
        log(
          `${label}: ${count}/${total} in ${((now() - started) / 1000).toFixed(1)}s ${formatMetrics(metrics)}`.trimEnd(),
        );
      },
      relabel(next, nextTotal) {
        label = next;
        if (nextTotal !== undefined) total = nextTotal;
      },
    };
  }

  // Notebook: one output, redrawn in place through its display id.
  // hrtime is unique within the kernel process, which is all a display id must be.
  const displayId = `recsys-progress-${process.hrtime.bigint()}`;
  const draw = (update: boolean) => {
    const line = progressLine(label, count, total, now() - started, metrics);
    const html = `<div style="font-family:monospace"><progress value="${count}" max="${total}" style="width:240px;vertical-align:middle"></progress> ${escapeHtml(line)}</div>`;
    displayMimeBundle({ "text/plain": line, "text/html": html }, { displayId, update });
    lastDraw = now();
  };
  draw(false);
  return {
    tick(steps = 1, m) {
      count += steps;
      if (m) metrics = m;
      if (now() - lastDraw >= minInterval) draw(true);
    },
    done(m) {
      if (m) metrics = m;
      draw(true);
    },
    relabel(next, nextTotal) {
      label = next;
      if (nextTotal !== undefined) total = nextTotal;
    },
  };
}
