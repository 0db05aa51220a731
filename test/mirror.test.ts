// Tests mirror src: every module of the layers below the models has its own test file, so a module's
// tests are found where its path says, not inside the test of some model that happens to use it.

import * as assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";

const MIRRORED = ["data", "train"];

describe("tests mirror src", () => {
  for (const folder of MIRRORED) {
    it(`every file of src/${folder} has test/${folder}/<name>.test.ts`, () => {
      const modules = readdirSync(path.join(__dirname, "../src", folder)).filter(
        (f) => f.endsWith(".ts") && f !== "index.ts",
      );
      assert.ok(modules.length > 5, `src/${folder} lists ${modules.length} modules`);
      const missing = modules.filter((f) => !existsSync(path.join(__dirname, folder, f.replace(/\.ts$/, ".test.ts"))));
      assert.deepEqual(missing, []);
    });
  }
});
