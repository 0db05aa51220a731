// Finding (or installing) Jupyter and registering this checkout's tslab as a Jupyter kernel.
// Used by `npm run setup`, `npm run course` and the notebook tests.

import { spawnSync, SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
/** Where setup installs Jupyter with pip: a virtual environment of the project's own (git-ignored). */
export const JUPYTER_VENV = path.join(PROJECT_ROOT, ".venv");
export const KERNEL_NAME = "recsys-ts";
export const KERNEL_DISPLAY_NAME = "TypeScript (recsys-ts)";

/** The Python modules that running and executing the course needs. */
const JUPYTER_MODULES = ["notebook", "nbclient", "nbformat", "nbconvert", "ipykernel"];
const DEBIAN_PACKAGES = ["jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "python3-ipykernel"];

function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; inherit?: boolean } = {},
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    encoding: "utf8",
    timeout: options.timeoutMs,
    stdio: options.inherit ? "inherit" : "pipe",
  });
}

function venvPython(): string {
  return path.join(JUPYTER_VENV, process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
}

function pythonCandidates(): string[] {
  const fromEnv = process.env.RECSYS_PYTHON ? [process.env.RECSYS_PYTHON] : [];
  const venv = fs.existsSync(venvPython()) ? [venvPython()] : [];
  // Debian's Jupyter lives in the system interpreter, which a pyenv or venv python3 earlier on PATH hides.
  return [...fromEnv, ...venv, "python3", "/usr/bin/python3", "python"];
}

function hasJupyterModules(python: string): boolean {
  const probe = run(python, ["-c", `import ${JUPYTER_MODULES.join(", ")}`], { timeoutMs: 60_000 });
  return probe.status === 0;
}

/** The first Python interpreter that can run Jupyter and execute notebooks, or null. */
export function findJupyterPython(): string | null {
  for (const python of pythonCandidates()) {
    if (hasJupyterModules(python)) return python;
  }
  return null;
}

/**
 * Installs Jupyter with pip into the project's own virtual environment, so that nothing outside the
 * checkout changes (a `--user` install would shadow the system Python's packages). A failed attempt
 * removes the environment again.
 */
function tryPipInstall(log: (line: string) => void): boolean {
  for (const python of ["python3", "python"]) {
    if (run(python, ["-m", "venv", "--help"]).status !== 0) continue;
    log(`Installing Jupyter with pip into ${JUPYTER_VENV} ...`);
    const venv = run(python, ["-m", "venv", JUPYTER_VENV], { timeoutMs: 5 * 60_000 });
    if (venv.status !== 0) {
      log(`could not create a virtual environment (${lastLine(venv.stderr)}).`);
      fs.rmSync(JUPYTER_VENV, { recursive: true, force: true });
      continue;
    }
    // No retries and a short timeout, so that a machine without PyPI falls through to apt quickly.
    const pip = run(venvPython(), ["-m", "pip", "install", "--retries", "0", "--timeout", "15", ...JUPYTER_MODULES], {
      timeoutMs: 15 * 60_000,
    });
    if (pip.status === 0) return true;
    log(`pip could not install Jupyter (${lastLine(pip.stderr)}).`);
    fs.rmSync(JUPYTER_VENV, { recursive: true, force: true });
    return false;
  }
  return false;
}

function tryAptInstall(log: (line: string) => void): boolean {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || run("apt-get", ["--version"]).status !== 0) return false;
  log(`Installing Jupyter from Debian's packages: ${DEBIAN_PACKAGES.join(" ")} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  if (update.status !== 0) return false;
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...DEBIAN_PACKAGES], {
    stdio: "inherit",
    env,
  });
  return install.status === 0;
}

/** Returns a Python that runs Jupyter, installing Jupyter first (pip, else apt as root) when none does. */
export function ensureJupyter(log: (line: string) => void = console.log): string {
  const found = findJupyterPython();
  if (found) return found;
  if (tryPipInstall(log) || tryAptInstall(log)) {
    const installed = findJupyterPython();
    if (installed) return installed;
  }
  throw new Error(
    "Jupyter is not installed and could not be installed automatically.\n" +
      `Install it with pip (python3 -m pip install ${JUPYTER_MODULES.join(" ")}) or, on Debian/Ubuntu, ` +
      `with apt (sudo apt-get install ${DEBIAN_PACKAGES.join(" ")}), then run npm run setup again. ` +
      "Set RECSYS_PYTHON to choose the Python interpreter.",
  );
}

const KERNEL_ENTRY = path.join(PROJECT_ROOT, "scripts", "lib", "kernelEntry.cjs");

/**
 * The kernel spec: this Node.js runs `entry.cjs` (a copy of scripts/lib/kernelEntry.cjs kept beside the spec),
 * which starts the tslab of the checkout the notebook lives in, else of this one, through that checkout's
 * `scripts/tslab-kernel.cjs` (which queues tslab's ZeroMQ sends; see there why). The copy outlives this
 * checkout, so deleting one checkout does not break the others.
 */
export function kernelSpec(kernelDir: string): object {
  const tslab = path.join(PROJECT_ROOT, "node_modules", "tslab", "dist", "main.js");
  if (!fs.existsSync(tslab)) {
    throw new Error(`tslab is not installed at ${tslab}: run npm ci first.`);
  }
  const entry = path.join(kernelDir, "entry.cjs");
  return {
    argv: [process.execPath, entry, "--registered", PROJECT_ROOT, "kernel", "--config-path", "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    metadata: { project: PROJECT_ROOT },
  };
}

/** Writes `text` to `file` unless it already holds it (atomically); true when it wrote. */
function writeIfChanged(file: string, text: string): boolean {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return true;
}

/**
 * Writes the kernel spec and its entry point under `<dataDir>/kernels/recsys-ts/`. Returns false when both
 * are already there as they would be written, so that setup is idempotent and fast.
 */
export function writeKernelSpec(dataDir: string): boolean {
  const dir = path.join(dataDir, "kernels", KERNEL_NAME);
  const spec = JSON.stringify(kernelSpec(dir), null, 2) + "\n";
  fs.mkdirSync(dir, { recursive: true });
  const entryChanged = writeIfChanged(path.join(dir, "entry.cjs"), fs.readFileSync(KERNEL_ENTRY, "utf8"));
  return writeIfChanged(path.join(dir, "kernel.json"), spec) || entryChanged;
}

/** The per-user Jupyter data directory of `python`'s Jupyter (where `--user` kernel specs go). */
export function userJupyterDataDir(python: string): string {
  const probe = run(python, ["-c", "from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())"]);
  if (probe.status !== 0) {
    return path.join(os.homedir(), ".local", "share", "jupyter");
  }
  return probe.stdout.trim();
}

function lastLine(text: string | null): string {
  const lines = (text ?? "").trim().split("\n");
  return lines[lines.length - 1] || "no output";
}
