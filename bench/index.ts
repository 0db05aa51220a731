// `npm run bench`: runs every benchmark in turn; `--json` makes each print one JSON object per line.
// Timing targets live here, never in the tests.

import { spawnSync } from "node:child_process";
import * as path from "node:path";

const BENCHMARKS = ["dataLoading.ts", "loading.ts", "engine.ts"];

let failed = false;
for (const file of BENCHMARKS) {
  const result = spawnSync(
    process.execPath,
    [require.resolve("tsx/cli"), path.join(__dirname, file), ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
