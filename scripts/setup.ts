// `npm run setup`: makes sure Jupyter is installed and registers this checkout's tslab kernel.
// `--browser` (run before `npm run test:site`) also makes sure Chromium is there for the site's browser test.
// Idempotent, and fast (about a second) when everything is already in place.

import { ensureChromium } from "./lib/chromium";
import { ensureJupyter, KERNEL_NAME, userJupyterDataDir, writeKernelSpec } from "./lib/jupyter";

function main(): void {
  const python = ensureJupyter();
  const dataDir = userJupyterDataDir(python);
  const changed = writeKernelSpec(dataDir);
  console.log(
    `Jupyter: ${python}. Kernel '${KERNEL_NAME}' ${changed ? "registered" : "already registered"} in ${dataDir}/kernels.`,
  );
  if (process.argv.includes("--browser")) console.log(`Chromium: ${ensureChromium()}.`);
}

try {
  main();
} catch (error) {
  console.error(`setup failed: ${(error as Error).message}`);
  process.exit(1);
}
