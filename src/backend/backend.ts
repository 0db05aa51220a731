// Chooses the tfjs backend that every model in recsys-ts computes on, once per process.
//
// Fastest first: "tensorflow" (native TensorFlow through @tensorflow/tfjs-node, an optional
// dependency whose native install often fails), then "wasm" (@tensorflow/tfjs-backend-wasm, always
// installed), then tfjs's pure-JavaScript "cpu" backend, which is about 30x slower than wasm at matrix
// products. The backend choice is the one piece of global state the library keeps, because tfjs
// itself keeps it globally.

import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type * as tfjsBackendWasm from "@tensorflow/tfjs-backend-wasm";
import { registerWasmTrainingKernels } from "./kernels/index";
import { withSharedMemory } from "./sharedWasmMemory";

/** The tfjs backends recsys-ts knows how to start. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** Backends in the order `initBackend` tries them: fastest first. */
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** The environment variable that forces a backend, e.g. `RECSYS_BACKEND=cpu`. */
export const BACKEND_ENV_VAR = "RECSYS_BACKEND";

/** What `initBackend` chose and why. */
export interface BackendInfo {
  readonly name: BackendName;
  /** Threads the backend computes with; null where tfjs cannot tell (tfjs-node's TensorFlow pool). */
  readonly threads: number | null;
  /** The version of @tensorflow/tfjs-core in use. */
  readonly tfjsVersion: string;
  /** Set when the environment chose the backend, e.g. "RECSYS_BACKEND=cpu". */
  readonly forcedBy?: string;
  /** Why faster backends were passed over, one "name: reason" per backend, when any was. */
  readonly fallbackReason?: string;
}

export interface InitBackendOptions {
  /** Backend to try first; the others follow in the usual order. RECSYS_BACKEND overrides it. */
  prefer?: BackendName;
  /** Receives warnings (the cpu fallback, a preference that could not be honoured); console.warn by default. */
  warn?: (message: string) => void;
}

/**
 * Starts one backend (loads its package, registers it with tfjs, makes it the active backend) and
 * returns its thread count, or throws with the reason it cannot start.
 */
export type BackendStarter = (name: BackendName) => Promise<number | null>;

export interface ChooseBackendOptions extends InitBackendOptions {
  /** Where RECSYS_BACKEND is read from. */
  env: Readonly<Record<string, string | undefined>>;
}

// The choice made by the first initBackend call (or in flight), kept so that later calls return it.
let chosenBackend: Promise<BackendInfo> | null = null;

/**
 * Picks, starts and activates the fastest tfjs backend that works here, and returns what it chose.
 * Call it (awaited) before building any model. The first call decides; later calls return the same
 * `BackendInfo` object and register nothing again. RECSYS_BACKEND=tensorflow|wasm|cpu in the
 * environment forces a backend, and then failing to start it is an error rather than a fallback.
 * Falling back to "cpu" is warned about loudly.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const warn = options.warn ?? defaultWarn;
  const forced = forcedBackend(process.env); // a bad value is an error on every call, not just the first

  const choiceExisted = chosenBackend !== null;
  if (chosenBackend === null) {
    const attempt = chooseBackend({ ...options, warn, env: process.env });
    chosenBackend = attempt;
    // A failed choice is not remembered: the caller may fix the environment and call again.
    attempt.catch(() => {
      if (chosenBackend === attempt) chosenBackend = null;
    });
  }
  const info = await chosenBackend;

  if (forced !== undefined && forced !== info.name) {
    throw new Error(
      `${BACKEND_ENV_VAR}=${forced}, but this process already runs on the ${info.name} backend ` +
        `(initBackend chose it before the variable was set); restart the kernel or process to switch.`,
    );
  }
  const preferenceIgnored = options.prefer !== undefined && options.prefer !== info.name;
  if (choiceExisted && preferenceIgnored && info.forcedBy === undefined) {
    warn(
      `initBackend: the backend is chosen once per process and is already ${info.name}; ` +
        `prefer: "${options.prefer}" is ignored.`,
    );
  }
  if (tf.getBackend() !== info.name) {
    // Someone called tf.setBackend since: put back the backend that info describes.
    warn(`initBackend: the active tfjs backend was switched to ${tf.getBackend()}; switching back to ${info.name}.`);
    await activate(info.name);
  }
  return info;
}

/**
 * The selection behind `initBackend`, without its memory of an earlier choice: tries the backends in
 * order with `start` and describes the first that starts. Exposed for tests, which pass a fake starter.
 */
export async function chooseBackend(
  options: ChooseBackendOptions,
  start: BackendStarter = startBackend,
): Promise<BackendInfo> {
  const warn = options.warn ?? defaultWarn;
  const forced = forcedBackend(options.env);
  const tfjsVersion = tf.version_core;

  if (forced !== undefined) {
    const forcedBy = `${BACKEND_ENV_VAR}=${forced}`;
    let threads: number | null;
    try {
      threads = await start(forced);
    } catch (error) {
      throw new Error(
        `${forcedBy} is set, but the ${forced} backend cannot start: ${reasonOf(error)}. ` +
          `Unset ${BACKEND_ENV_VAR} to let recsys-ts choose a backend.`,
      );
    }
    return Object.freeze({ name: forced, threads, tfjsVersion, forcedBy });
  }

  const order = options.prefer === undefined ? BACKEND_NAMES : preferredOrder(options.prefer);
  const failures: string[] = [];
  for (const name of order) {
    let threads: number | null;
    try {
      threads = await start(name);
    } catch (error) {
      failures.push(`${name}: ${reasonOf(error)}`);
      continue;
    }
    const fallbackReason = failures.length > 0 ? failures.join("; ") : undefined;
    if (options.prefer !== undefined && name !== options.prefer) {
      warn(`initBackend: the preferred ${options.prefer} backend cannot start (${failures[0]}); using ${name}.`);
    }
    if (name === "cpu" && options.prefer !== "cpu") warn(cpuFallbackWarning(fallbackReason));
    const info: BackendInfo =
      fallbackReason === undefined ? { name, threads, tfjsVersion } : { name, threads, tfjsVersion, fallbackReason };
    return Object.freeze(info);
  }
  throw new Error(`initBackend: no tfjs backend could start. ${failures.join("; ")}`);
}

/**
 * One line for a notebook's output, e.g. "wasm backend, tfjs's kernels on 1 thread (its
 * multi-threaded build does not start in Node, tfjs issue #3830), tfjs 4.22.0".
 */
export function describeBackend(info: BackendInfo): string {
  const parts: string[] = [];
  switch (info.name) {
    case "tensorflow":
      parts.push("tensorflow backend (native TensorFlow via @tensorflow/tfjs-node)");
      break;
    case "wasm":
      parts.push("wasm backend");
      break;
    case "cpu":
      parts.push("cpu backend (pure JavaScript, about 30x slower than wasm at matrix products)");
      break;
  }
  if (info.threads === null) {
    parts.push("threads managed by TensorFlow");
  } else {
    const threads = `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
    // recsys-ts's own kernels run on every core (describeMatrixProducts says how many); tfjs's do not.
    parts.push(
      info.name === "wasm" && info.threads === 1
        ? `tfjs's kernels on ${threads} (its multi-threaded build does not start in Node, tfjs issue #3830)`
        : threads,
    );
  }
  parts.push(`tfjs ${info.tfjsVersion}`);
  if (info.forcedBy !== undefined) parts.push(`forced by ${info.forcedBy}`);
  if (info.name === "cpu" && info.fallbackReason !== undefined) parts.push(`fell back because ${info.fallbackReason}`);
  return parts.join(", ");
}

/** The backend RECSYS_BACKEND names in `env`, undefined when it is unset or empty. */
function forcedBackend(env: Readonly<Record<string, string | undefined>>): BackendName | undefined {
  const raw = env[BACKEND_ENV_VAR];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = raw.trim().toLowerCase();
  const name = BACKEND_NAMES.find((candidate) => candidate === value);
  if (name === undefined) {
    throw new Error(
      `Environment variable ${BACKEND_ENV_VAR} must be one of ${BACKEND_NAMES.join(", ")} (or unset), ` +
        `got ${JSON.stringify(raw)}.`,
    );
  }
  return name;
}

function preferredOrder(prefer: BackendName): BackendName[] {
  if (!BACKEND_NAMES.includes(prefer)) {
    throw new Error(`initBackend: prefer must be one of ${BACKEND_NAMES.join(", ")}, got ${JSON.stringify(prefer)}.`);
  }
  return [prefer, ...BACKEND_NAMES.filter((name) => name !== prefer)];
}

const defaultWarn = (message: string): void => console.warn(message);

function cpuFallbackWarning(reason: string | undefined): string {
  const rule = "=".repeat(78);
  return [
    rule,
    'recsys-ts WARNING: running on tfjs\'s pure-JavaScript "cpu" backend.',
    "It is about 30x slower than the wasm backend at matrix products, and its embedding",
    "gradient grows with (table rows x batch), so training cells will take far longer than",
    "the notebooks say.",
    `Why: ${reason ?? "the faster backends could not start"}.`,
    "Fix: reinstall the dependencies (npm ci) so that @tensorflow/tfjs-backend-wasm loads,",
    `or set ${BACKEND_ENV_VAR}=cpu to choose this backend on purpose.`,
    rule,
  ].join("\n");
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].replace(/\.$/, "");
}

/** The real starter used by initBackend. */
async function startBackend(name: BackendName): Promise<number | null> {
  switch (name) {
    case "tensorflow":
      return startTensorflow();
    case "wasm":
      return startWasm();
    case "cpu":
      await activate("cpu");
      return 1;
  }
}

async function startTensorflow(): Promise<null> {
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    throw new Error("@tensorflow/tfjs-node is not installed");
  }
  try {
    require("@tensorflow/tfjs-node"); // registers the "tensorflow" backend on load
  } catch (error) {
    throw new Error(`@tensorflow/tfjs-node is installed but does not load (${reasonOf(error)})`);
  }
  if (tf.findBackendFactory("tensorflow") == null) {
    // e.g. a shim package standing in for tfjs-node, or tfjs-node bound to another copy of tfjs-core
    throw new Error("@tensorflow/tfjs-node loaded but registered no tensorflow backend with this copy of tfjs");
  }
  await activate("tensorflow");
  // TensorFlow sizes its own intra-op thread pool (physical cores by default); tfjs-node does not report it.
  return null;
}

async function startWasm(): Promise<number> {
  let wasm: typeof tfjsBackendWasm;
  try {
    wasm = require("@tensorflow/tfjs-backend-wasm"); // registers the "wasm" backend on load
  } catch (error) {
    throw new Error(`@tensorflow/tfjs-backend-wasm does not load (${reasonOf(error)})`);
  }
  if (tf.findBackend("wasm") == null) {
    // Load the .wasm binaries from the package's own dist folder, next to its Node bundle, rather
    // than relative to whatever script or bundle happens to be running.
    const distFolder = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    if (!fs.existsSync(path.join(distFolder, "tfjs-backend-wasm.wasm"))) {
      throw new Error(`the wasm binaries are missing from ${distFolder}`);
    }
    wasm.setWasmPaths(wasmBinaryUrls(distFolder), true);
  }
  registerWasmTrainingKernels();
  await activate("wasm");
  return wasm.getThreadsCount();
}

// The WebAssembly API call used here (the project compiles without the DOM typings that declare it).
const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

/**
 * tfjs's three wasm builds as data: URLs (fetched by tfjs, so no file is written), the SIMD build,
 * which Node runs, with its memory shared so that the kernel pool's workers compute on the heap in
 * place (sharedWasmMemory.ts). Where this engine cannot compile a shared memory, the SIMD build as it is.
 */
function wasmBinaryUrls(distFolder: string): Record<string, string> {
  const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(distFolder, name)));
  const url = (bytes: Uint8Array) => `data:application/wasm;base64,${Buffer.from(bytes).toString("base64")}`;
  const simdFile = path.join(distFolder, "tfjs-backend-wasm-simd.wasm");
  const simd = read("tfjs-backend-wasm-simd.wasm");
  const shared = withSharedMemory({ name: simdFile, bytes: simd });
  return {
    "tfjs-backend-wasm.wasm": url(read("tfjs-backend-wasm.wasm")),
    "tfjs-backend-wasm-simd.wasm": url(wasmApi.validate(shared) ? shared : simd),
    "tfjs-backend-wasm-threaded-simd.wasm": url(read("tfjs-backend-wasm-threaded-simd.wasm")),
  };
}

async function activate(name: BackendName): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend("${name}") failed; tfjs printed the cause above`);
  }
}
