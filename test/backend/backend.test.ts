import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  BACKEND_ENV_VAR,
  chooseBackend,
  describeBackend,
  initBackend,
  type BackendInfo,
  type BackendName,
  type BackendStarter,
} from "../../src/backend/backend";

// A starter that succeeds for the backends in `threads` (with that thread count) and fails for the
// rest with `reasons`; it records the order in which backends were tried.
function fakeStarter(
  threads: Partial<Record<BackendName, number | null>>,
  reasons: Partial<Record<BackendName, string>> = {},
): { start: BackendStarter; tried: BackendName[] } {
  const tried: BackendName[] = [];
  const start: BackendStarter = async (name) => {
    tried.push(name);
    const count = threads[name];
    if (count === undefined) throw new Error(reasons[name] ?? `${name} is unavailable`);
    return count;
  };
  return { start, tried };
}

function collectWarnings(): { warn: (message: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warn: (message) => warnings.push(message), warnings };
}

function canResolve(moduleName: string): boolean {
  try {
    require.resolve(moduleName);
    return true;
  } catch {
    return false;
  }
}

describe("chooseBackend (selection logic, with a fake starter)", () => {
  it("takes tensorflow when it starts, without warnings", async () => {
    const { start, tried } = fakeStarter({ tensorflow: null, wasm: 1, cpu: 1 });
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, warn }, start);
    assert.deepEqual(info, { name: "tensorflow", threads: null, tfjsVersion: tf.version_core });
    assert.deepEqual(tried, ["tensorflow"]);
    assert.deepEqual(warnings, []);
    assert.ok(Object.isFrozen(info));
  });

  it("falls back to wasm quietly, recording why tensorflow was passed over", async () => {
    const { start, tried } = fakeStarter(
      { wasm: 1, cpu: 1 },
      { tensorflow: "Cannot find module '@tensorflow/tfjs-node'" },
    );
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, warn }, start);
    assert.equal(info.name, "wasm");
    assert.equal(info.threads, 1);
    assert.equal(info.fallbackReason, "tensorflow: Cannot find module '@tensorflow/tfjs-node'");
    assert.equal(info.forcedBy, undefined);
    assert.deepEqual(tried, ["tensorflow", "wasm"]);
    assert.deepEqual(warnings, []);
  });

  it("falls back to cpu with one loud warning that gives the reasons", async () => {
    const { start, tried } = fakeStarter({ cpu: 1 }, { tensorflow: "no tfjs-node", wasm: "no wasm binary" });
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, warn }, start);
    assert.equal(info.name, "cpu");
    assert.equal(info.fallbackReason, "tensorflow: no tfjs-node; wasm: no wasm binary");
    assert.deepEqual(tried, ["tensorflow", "wasm", "cpu"]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /WARNING/);
    assert.match(warnings[0], /30x slower/);
    assert.match(warnings[0], /wasm: no wasm binary/);
    assert.match(warnings[0], new RegExp(`${BACKEND_ENV_VAR}=cpu`));
  });

  it("fails, naming every reason, when no backend starts", async () => {
    const { start } = fakeStarter({}, { tensorflow: "t broke", wasm: "w broke", cpu: "c broke" });
    await assert.rejects(chooseBackend({ env: {}, warn: () => {} }, start), /t broke.*w broke.*c broke/);
  });

  it("tries the preferred backend first, and a preferred cpu is not warned about", async () => {
    const { start, tried } = fakeStarter({ tensorflow: null, wasm: 1, cpu: 1 });
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, prefer: "cpu", warn }, start);
    assert.equal(info.name, "cpu");
    assert.deepEqual(tried, ["cpu"]);
    assert.deepEqual(warnings, []);
  });

  it("warns when the preferred backend cannot start and goes on in the usual order", async () => {
    const { start, tried } = fakeStarter({ tensorflow: null, cpu: 1 }, { wasm: "wasm broke" });
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, prefer: "wasm", warn }, start);
    assert.equal(info.name, "tensorflow");
    assert.deepEqual(tried, ["wasm", "tensorflow"]);
    assert.equal(info.fallbackReason, "wasm: wasm broke");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /preferred wasm backend cannot start \(wasm: wasm broke\); using tensorflow/);
  });

  it("rejects an unknown preference", async () => {
    const { start, tried } = fakeStarter({ wasm: 1 });
    const prefer = "webgl" as BackendName;
    await assert.rejects(chooseBackend({ env: {}, prefer, warn: () => {} }, start), /prefer must be one of/);
    assert.deepEqual(tried, []);
  });

  it(`${BACKEND_ENV_VAR} forces a backend over the preference, without the cpu warning`, async () => {
    const { start, tried } = fakeStarter({ tensorflow: null, wasm: 1, cpu: 1 });
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: { [BACKEND_ENV_VAR]: "cpu" }, prefer: "wasm", warn }, start);
    assert.deepEqual(info, { name: "cpu", threads: 1, tfjsVersion: tf.version_core, forcedBy: "RECSYS_BACKEND=cpu" });
    assert.deepEqual(tried, ["cpu"]);
    assert.deepEqual(warnings, []);
  });

  it(`reads ${BACKEND_ENV_VAR} case-insensitively and treats an empty value as unset`, async () => {
    const forced = await chooseBackend({ env: { [BACKEND_ENV_VAR]: " WASM " } }, fakeStarter({ wasm: 1 }).start);
    assert.equal(forced.name, "wasm");
    assert.equal(forced.forcedBy, "RECSYS_BACKEND=wasm");
    const unset = await chooseBackend({ env: { [BACKEND_ENV_VAR]: "" } }, fakeStarter({ tensorflow: null }).start);
    assert.equal(unset.name, "tensorflow");
    assert.equal(unset.forcedBy, undefined);
  });

  it(`is an error, naming ${BACKEND_ENV_VAR}, when the forced backend cannot start; nothing else is tried`, async () => {
    const { start, tried } = fakeStarter({ tensorflow: null, cpu: 1 }, { wasm: "binary missing" });
    await assert.rejects(
      chooseBackend({ env: { [BACKEND_ENV_VAR]: "wasm" }, warn: () => {} }, start),
      (error: Error) => {
        assert.match(error.message, /RECSYS_BACKEND=wasm is set, but the wasm backend cannot start: binary missing/);
        return true;
      },
    );
    assert.deepEqual(tried, ["wasm"]);
  });

  it(`rejects a bad ${BACKEND_ENV_VAR} value before trying any backend`, async () => {
    const { start, tried } = fakeStarter({ wasm: 1 });
    await assert.rejects(
      chooseBackend({ env: { [BACKEND_ENV_VAR]: "gpu" }, warn: () => {} }, start),
      /Environment variable RECSYS_BACKEND must be one of tensorflow, wasm, cpu \(or unset\), got "gpu"/,
    );
    assert.deepEqual(tried, []);
  });
});

describe("describeBackend", () => {
  const base = { tfjsVersion: "4.22.0" };

  it("says that tfjs's wasm kernels run on one thread in Node and why", () => {
    assert.equal(
      describeBackend({ ...base, name: "wasm", threads: 1 }),
      "wasm backend, tfjs's kernels on 1 thread (its multi-threaded build does not start in Node, tfjs issue #3830), tfjs 4.22.0",
    );
    assert.equal(describeBackend({ ...base, name: "wasm", threads: 4 }), "wasm backend, 4 threads, tfjs 4.22.0");
  });

  it("handles an unknown thread count, a forced backend and a cpu fallback", () => {
    assert.match(
      describeBackend({ ...base, name: "tensorflow", threads: null }),
      /^tensorflow backend .*threads managed by TensorFlow, tfjs 4\.22\.0$/,
    );
    assert.match(
      describeBackend({ ...base, name: "cpu", threads: 1, forcedBy: "RECSYS_BACKEND=cpu" }),
      /cpu backend .*1 thread, tfjs 4\.22\.0, forced by RECSYS_BACKEND=cpu$/,
    );
    const fellBack = describeBackend({ ...base, name: "cpu", threads: 1, fallbackReason: "wasm: broke" });
    assert.match(fellBack, /30x slower/);
    assert.match(fellBack, /fell back because wasm: broke$/);
    assert.doesNotMatch(fellBack, /\n/);
  });
});

describe("initBackend (the real backends)", () => {
  const quiet = { warn: () => {} };
  let savedEnv: string | undefined;
  let previousBackend: string | undefined; // undefined when no test before this one touched tfjs

  before(() => {
    savedEnv = process.env[BACKEND_ENV_VAR];
    previousBackend = tf.getBackend();
  });
  beforeEach(() => {
    delete process.env[BACKEND_ENV_VAR];
  });
  afterEach(() => {
    if (savedEnv === undefined) delete process.env[BACKEND_ENV_VAR];
    else process.env[BACKEND_ENV_VAR] = savedEnv;
  });
  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  it("starts wasm here, where tfjs-node is not installed (tensorflow where it is)", async function () {
    // chooseBackend with the real starter, so that the answer does not depend on earlier initBackend calls.
    const { warn, warnings } = collectWarnings();
    const info = await chooseBackend({ env: {}, warn });
    if (canResolve("@tensorflow/tfjs-node")) {
      // Installed: it starts, unless its native library fails to load.
      assert.ok(info.name === "tensorflow" || /tfjs-node/.test(info.fallbackReason ?? ""), JSON.stringify(info));
      return;
    }
    assert.equal(info.name, "wasm");
    assert.equal(info.threads, 1); // tfjs disables wasm threads in Node
    assert.equal(info.tfjsVersion, tf.version_core);
    assert.match(info.fallbackReason ?? "", /^tensorflow: @tensorflow\/tfjs-node is not installed/);
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(warnings, []);
  });

  it("is idempotent: the same info object, concurrent calls included, and its backend active", async () => {
    const [first, concurrent] = await Promise.all([initBackend(quiet), initBackend(quiet)]);
    const again = await initBackend(quiet);
    assert.equal(concurrent, first);
    assert.equal(again, first);
    assert.equal(tf.getBackend(), first.name);
  });

  it("registers the wasm training kernels exactly once however often it is called", async () => {
    await initBackend(quiet);
    await initBackend(quiet);
    await chooseBackend({ env: {}, prefer: "wasm", ...quiet });
    const registered = tf.getKernelsForBackend("wasm").filter((kernel) => kernel.kernelName === "UnsortedSegmentSum");
    assert.equal(registered.length, 1);
  });

  it("puts its backend back, with a warning, when tf.setBackend switched away from it", async () => {
    const info = await initBackend(quiet);
    const other = info.name === "cpu" ? "wasm" : "cpu";
    await chooseBackend({ env: {}, prefer: other, ...quiet }); // registers and activates `other`
    const { warn, warnings } = collectWarnings();
    assert.equal(await initBackend({ warn }), info);
    assert.equal(tf.getBackend(), info.name);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`switched to ${other}; switching back to ${info.name}`));
  });

  it("warns that a preference is ignored once the backend is chosen", async () => {
    const info = await initBackend(quiet);
    const other: BackendName = info.name === "cpu" ? "wasm" : "cpu";
    const { warn, warnings } = collectWarnings();
    const again: BackendInfo = await initBackend({ prefer: other, warn });
    assert.equal(again, info);
    if (info.forcedBy !== undefined) {
      assert.deepEqual(warnings, []); // the environment overrides preferences without comment
      return;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`prefer: "${other}" is ignored`));
  });

  it(`rejects a bad ${BACKEND_ENV_VAR} value even after the backend is chosen`, async () => {
    await initBackend(quiet);
    process.env[BACKEND_ENV_VAR] = "gpu";
    await assert.rejects(initBackend(quiet), /RECSYS_BACKEND must be one of tensorflow, wasm, cpu/);
  });

  it(`refuses a ${BACKEND_ENV_VAR} that contradicts the backend already chosen`, async () => {
    const info = await initBackend(quiet);
    const other = info.name === "cpu" ? "wasm" : "cpu";
    process.env[BACKEND_ENV_VAR] = other;
    await assert.rejects(
      initBackend(quiet),
      new RegExp(`RECSYS_BACKEND=${other}, but this process already runs on the ${info.name} backend`),
    );
    process.env[BACKEND_ENV_VAR] = info.name;
    assert.equal(await initBackend(quiet), info);
  });
});
