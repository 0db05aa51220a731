import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

// A model file reads top to bottom on its own: what several models share (layers, losses, batches,
// checks, sparse rows) lives in nn/, train/, data/ or checks.ts, never in another model's file.
describe("src/models imports", () => {
  const dir = path.join(__dirname, "../../src/models");
  // index.ts is the folder's export list, not a model.
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts");

  it("finds the model files", () => {
    assert.ok(files.includes("matrixFactorization.ts") && files.length >= 10, files.join(", "));
  });

  it("no file in src/models imports another file in src/models", () => {
    const offences: string[] = [];
    for (const file of files) {
      const source = readFileSync(path.join(dir, file), "utf8");
      // Every module specifier of an import or re-export, single- or multi-line.
      for (const match of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gms)) {
        const target = path.resolve(dir, match[1]);
        if (match[1].startsWith(".") && path.dirname(target) === dir) offences.push(`${file} imports ${match[1]}`);
      }
      for (const match of source.matchAll(/\b(?:import|require)\(\s*["'](\.[^"']+)["']\s*\)/g)) {
        if (path.dirname(path.resolve(dir, match[1])) === dir) offences.push(`${file} imports ${match[1]} dynamically`);
      }
    }
    assert.deepEqual(offences, []);
  });
});
