// `npm run course`, tried as a new user would: it starts Jupyter on the course's notebooks (as root too, where
// Jupyter refuses to start unless told), prints the URL with its token, serves the notebook list and the kernel
// over HTTP, and stops when asked.

import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findJupyterPython, KERNEL_NAME, PROJECT_ROOT } from "../../scripts/lib/jupyter";
import { freePort } from "../../scripts/lib/staticServer";

/** Resolves with the first URL Jupyter prints for `port` (with its token, when it has one). */
function urlPrinted(child: ChildProcess, port: number, output: { text: string }): Promise<URL> {
  return new Promise((resolve, reject) => {
    const pattern = new RegExp(`http://(?:127\\.0\\.0\\.1|localhost):${port}/\\S*`);
    const onData = (chunk: Buffer) => {
      output.text += chunk.toString();
      const match = pattern.exec(output.text);
      if (match) resolve(new URL(match[0]));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`npm run course exited (${code}) before serving:\n${output.text}`)));
  });
}

describe("npm run course", function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let dataDir: string;

  before(function () {
    if (!findJupyterPython()) throw new Error("no Python with Jupyter was found: run npm run setup");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-course-"));
  });

  after(() => {
    // The launcher and Jupyter share a process group: stop both.
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves the course's notebooks and its kernel, and says how to open them", async () => {
    const port = await freePort();
    const tsx = require.resolve("tsx/cli");
    child = spawn(process.execPath, [tsx, path.join(PROJECT_ROOT, "scripts", "course.ts"), "--no-browser", `--port=${port}`], {
      cwd: PROJECT_ROOT,
      // A private Jupyter folder for the kernel spec and runtime files: the user's stay untouched.
      env: { ...process.env, JUPYTER_DATA_DIR: dataDir, JUPYTER_RUNTIME_DIR: path.join(dataDir, "runtime") },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = { text: "" };
    const url = await urlPrinted(child, port, output);
    if (process.getuid?.() === 0) assert.match(output.text, /Running as root .*passing --allow-root/);
    const token = url.searchParams.get("token");
    const api = async (route: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${route}`, {
        headers: token ? { Authorization: `token ${token}` } : {},
      });
      assert.equal(response.status, 200, `GET ${route}: ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    // Jupyter prints the URL a moment before it accepts requests on some versions: retry briefly.
    let contents: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 20 && !contents; attempt++) {
      contents = await api("/api/contents").catch(async () => {
        await new Promise((r) => setTimeout(r, 250));
        return undefined;
      });
    }
    assert.ok(contents, `the server did not answer:\n${output.text}`);
    const names = (contents.content as Array<{ name: string }>).map((entry) => entry.name);
    const notebooks = fs.readdirSync(path.join(PROJECT_ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"));
    assert.ok(notebooks.length > 0);
    for (const notebook of notebooks) assert.ok(names.includes(notebook), `${notebook} is listed`);
    const specs = (await api("/api/kernelspecs")).kernelspecs as Record<string, unknown>;
    assert.ok(KERNEL_NAME in specs, `the ${KERNEL_NAME} kernel is offered: ${Object.keys(specs).join(", ")}`);

    process.kill(-child.pid!, "SIGTERM");
    // It stops when asked (the test's timeout fails it otherwise).
    await new Promise((resolve) => child!.on("exit", resolve));
  });
});
