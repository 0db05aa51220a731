// The recsys-ts kernel's entry point, copied by `npm run setup` next to kernel.json in the user's Jupyter
// folder. The spec is registered once per user, but a user may have several checkouts, or delete the one
// that registered it; so the kernel runs the tslab of the checkout the notebook lives in (Jupyter starts a
// kernel in the notebook's folder) and falls back to the checkout that last ran setup.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const LAUNCHER = path.join("scripts", "tslab-kernel.cjs");

/** True when `dir` is the root of a recsys-ts checkout. */
function isCheckout(dir) {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    return pkg.name === "recsys-ts" && fs.existsSync(path.join(dir, LAUNCHER));
  } catch {
    return false;
  }
}

/** The checkout that contains `dir`, or null. */
function enclosingCheckout(dir) {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (isCheckout(current)) return current;
    if (path.dirname(current) === current) return null;
  }
}

function isInstalled(checkout) {
  return fs.existsSync(path.join(checkout, "node_modules", "tslab", "package.json"));
}

/**
 * Which checkout's kernel to start: `{ checkout }`, or `{ error }` saying why none can start.
 * A notebook inside a checkout gets that checkout's tslab (its `./src` imports resolve against that
 * checkout's node_modules, so another checkout's would not do); elsewhere the registered one.
 */
function resolveCheckout(cwd, registered) {
  const enclosing = enclosingCheckout(cwd);
  if (enclosing) {
    if (isInstalled(enclosing)) return { checkout: enclosing };
    return { error: `the notebook is in the checkout ${enclosing}, which has no node_modules: run npm ci there.` };
  }
  if (registered && isCheckout(registered) && isInstalled(registered)) return { checkout: registered };
  return {
    error:
      `the notebook's folder ${cwd} is not inside a recsys-ts checkout, and the checkout that registered ` +
      `this kernel (${registered || "none recorded"}) is gone or not installed. ` +
      "Run npm ci && npm run setup in a checkout.",
  };
}

function main(argv) {
  // argv: --registered <checkout> kernel --config-path <connection file>
  const at = argv.indexOf("--registered");
  const registered = at >= 0 ? argv[at + 1] : "";
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  const found = resolveCheckout(process.cwd(), registered);
  if (found.error) {
    process.stderr.write(`recsys-ts kernel cannot start: ${found.error}\n`);
    process.exit(1);
  }
  const launcher = path.join(found.checkout, LAUNCHER);
  process.argv = [process.argv[0], launcher, ...rest];
  require(launcher);
}

module.exports = { resolveCheckout };

if (require.main === module) main(process.argv.slice(2));
