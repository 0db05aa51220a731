// Finding (or installing) the Chromium that the site's browser test drives with playwright-core. Not
// Playwright's own browser download: that needs Playwright's CDN, which CI and offline machines cannot reach,
// whereas Debian's `chromium` package comes from the same mirror as everything else.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

/** Where Debian, Ubuntu and Chrome's own packages put the browser. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** The Chromium to drive: `RECSYS_CHROMIUM` when set, else the first installed candidate, else null. */
export function findChromium(): string | null {
  const fromEnv = process.env.RECSYS_CHROMIUM;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`RECSYS_CHROMIUM=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CANDIDATES.find((candidate) => fs.existsSync(candidate)) ?? null;
}

export const CHROMIUM_HINT =
  "install Chromium (Debian/Ubuntu: apt-get install chromium) or set RECSYS_CHROMIUM to a Chromium or Chrome binary";

/** Returns a Chromium, installing Debian's package first when none is found and this is root on apt. */
export function ensureChromium(log: (line: string) => void = console.log): string {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && spawnSync("apt-get", ["--version"]).status === 0) {
    log("Installing Chromium from Debian's packages (for the site's browser test) ...");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    const install =
      update.status === 0 && spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
    if (install && install.status === 0) {
      const installed = findChromium();
      if (installed) return installed;
    }
  }
  throw new Error(`no Chromium was found: ${CHROMIUM_HINT}`);
}
