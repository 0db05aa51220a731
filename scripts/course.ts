// `npm run course`: opens the course in Jupyter (JupyterLab when installed, else the classic Notebook).
// Extra arguments go to Jupyter, e.g. `npm run course -- --no-browser --port 8899`.

import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { ensureJupyter, PROJECT_ROOT, userJupyterDataDir, writeKernelSpec } from "./lib/jupyter";

const python = ensureJupyter();
writeKernelSpec(userJupyterDataDir(python));

const hasLab = spawnSync(python, ["-c", "import jupyterlab"]).status === 0;
const app = hasLab ? "jupyterlab" : "notebook";
const notebooks = path.join(PROJECT_ROOT, "notebooks");
console.log(
  `Opening ${notebooks} in ${hasLab ? "JupyterLab" : "Jupyter Notebook"}; pick the kernel "TypeScript (recsys-ts)".`,
);

const args = [`--notebook-dir=${notebooks}`, ...process.argv.slice(2)];
// Jupyter refuses to start as root unless told; Docker users are root, and a container is the usual reason.
if (process.getuid?.() === 0 && !args.includes("--allow-root")) {
  console.log("Running as root (a container?): passing --allow-root to Jupyter.");
  args.push("--allow-root");
}
const child = spawn(python, ["-m", app, ...args], { stdio: "inherit" });
child.on("exit", (code) => process.exit(code ?? 0));
