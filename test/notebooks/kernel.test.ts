// The kernel's entry point: which checkout's tslab it starts. And the launcher's send queue: tslab fires
// ZeroMQ sends without awaiting them, which zeromq 6 rejects while a send is pending (EBUSY); the queue must
// deliver every message, in order.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT, writeKernelSpec } from "../../scripts/lib/jupyter";

const load = createRequire(__filename);
// The queue patches the prototype that all socket classes share; each test undoes it.
const zmq = load("zeromq") as typeof import("zeromq");
const { queueSends } = load("../../scripts/lib/queuedSends.cjs") as {
  queueSends: (module: typeof zmq, onError: (error: Error) => void) => void;
};

describe("kernel launcher: queued ZeroMQ sends", function () {
  this.timeout(10_000);
  const nativeSend = Object.getOwnPropertyDescriptor(zmq.Socket.prototype, "send")?.value as unknown;
  afterEach(() => {
    Object.defineProperty(zmq.Socket.prototype, "send", { value: nativeSend, writable: false, configurable: true });
  });

  /** A Push socket with no peer yet, so that its first send stays pending. */
  async function pushWithoutPeer(): Promise<{ push: import("zeromq").Push; address: string }> {
    const push = new zmq.Push();
    await push.bind("tcp://127.0.0.1:*");
    return { push, address: push.lastEndpoint as string };
  }

  it("without the queue, a second send while one is pending is rejected (the bug it works around)", async () => {
    const { push, address } = await pushWithoutPeer();
    const first = push.send("one");
    assert.throws(() => push.send("two"), /busy writing/i);
    const pull = new zmq.Pull();
    pull.connect(address);
    await first;
    push.close();
    pull.close();
  });

  it("with the queue, every send is delivered in order and none fails", async () => {
    const errors: Error[] = [];
    queueSends(zmq, (error) => errors.push(error));
    queueSends(zmq, (error) => errors.push(error)); // twice is a no-op
    const { push, address } = await pushWithoutPeer();
    const sends = ["one", "two", "three", "four"].map((text) => push.send(text));
    const pull = new zmq.Pull();
    pull.connect(address);
    await Promise.all(sends);
    const received: string[] = [];
    for (let i = 0; i < 4; i++) received.push(String((await pull.receive())[0]));
    assert.deepEqual(received, ["one", "two", "three", "four"]);
    assert.deepEqual(errors, []);
    push.close();
    pull.close();
  });

  it("a failed send is reported and does not block the next one", async () => {
    const errors: Error[] = [];
    queueSends(zmq, (error) => errors.push(error));
    const { push, address } = await pushWithoutPeer();
    const pull = new zmq.Pull();
    pull.connect(address);
    await push.send(Symbol("not a message") as unknown as string); // zeromq cannot send a symbol
    await push.send("after");
    assert.equal(errors.length, 1);
    assert.equal(String((await pull.receive())[0]), "after");
    push.close();
    pull.close();
  });
});

describe("kernel entry: which checkout's tslab starts", function () {
  this.timeout(20_000);
  const { resolveCheckout } = load("../../scripts/lib/kernelEntry.cjs") as {
    resolveCheckout: (cwd: string, registered: string) => { checkout?: string; error?: string };
  };
  let root: string;

  /** A fake checkout: package.json named recsys-ts, the launcher, and tslab when `installed`. */
  function makeCheckout(name: string, installed: boolean): string {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, "scripts"), { recursive: true });
    fs.mkdirSync(path.join(dir, "notebooks"), { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "recsys-ts" }));
    fs.writeFileSync(path.join(dir, "scripts", "tslab-kernel.cjs"), "");
    if (installed) {
      fs.mkdirSync(path.join(dir, "node_modules", "tslab"), { recursive: true });
      fs.writeFileSync(path.join(dir, "node_modules", "tslab", "package.json"), "{}");
    }
    return dir;
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-kernel-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("a notebook inside a checkout gets that checkout, whichever registered the kernel", () => {
    const a = makeCheckout("a", true);
    const b = makeCheckout("b", true);
    assert.deepEqual(resolveCheckout(path.join(a, "notebooks"), b), { checkout: a });
    assert.deepEqual(resolveCheckout(path.join(b, "notebooks"), a), { checkout: b });
  });

  it("the registering checkout deleted, the other still starts its own", () => {
    const a = makeCheckout("a", true);
    const b = makeCheckout("b", true);
    fs.rmSync(b, { recursive: true });
    assert.deepEqual(resolveCheckout(path.join(a, "notebooks"), b), { checkout: a });
  });

  it("a notebook outside any checkout gets the registered one, or a message saying what to run", () => {
    const a = makeCheckout("a", true);
    const elsewhere = fs.mkdtempSync(path.join(root, "elsewhere-"));
    assert.deepEqual(resolveCheckout(elsewhere, a), { checkout: a });
    fs.rmSync(a, { recursive: true });
    const { error } = resolveCheckout(elsewhere, a);
    assert.match(error ?? "", /is not inside a recsys-ts checkout/);
    assert.match(error ?? "", new RegExp(`\\(${a.replace(/[/\\]/g, "\\$&")}\\) is gone or not installed`));
    assert.match(error ?? "", /npm ci && npm run setup/);
  });

  it("a checkout without node_modules is named, not silently replaced by another", () => {
    const a = makeCheckout("a", false);
    const b = makeCheckout("b", true);
    const { error, checkout } = resolveCheckout(path.join(a, "notebooks"), b);
    assert.equal(checkout, undefined);
    assert.match(error ?? "", new RegExp(`checkout ${a.replace(/[/\\]/g, "\\$&")}, which has no node_modules`));
  });

  it("a folder named recsys-ts-like without the launcher is not a checkout", () => {
    const fake = path.join(root, "fake");
    fs.mkdirSync(fake);
    fs.writeFileSync(path.join(fake, "package.json"), JSON.stringify({ name: "recsys-ts" }));
    const a = makeCheckout("a", true);
    assert.deepEqual(resolveCheckout(fake, a), { checkout: a });
  });

  it("the entry point, started by Jupyter with no checkout to run, exits with that message", () => {
    const elsewhere = fs.mkdtempSync(path.join(root, "elsewhere-"));
    const entry = path.join(__dirname, "..", "..", "scripts", "lib", "kernelEntry.cjs");
    const result = spawnSync(
      process.execPath,
      [entry, "--registered", path.join(root, "gone"), "kernel", "--config-path", "x.json"],
      { cwd: elsewhere, encoding: "utf8" },
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^recsys-ts kernel cannot start: the notebook's folder .* is not inside/);
  });

  it("setup writes the entry point beside the spec, and the spec runs it", () => {
    writeKernelSpec(root);
    const dir = path.join(root, "kernels", "recsys-ts");
    const spec = JSON.parse(fs.readFileSync(path.join(dir, "kernel.json"), "utf8")) as { argv: string[] };
    assert.equal(spec.argv[1], path.join(dir, "entry.cjs"));
    assert.ok(fs.existsSync(spec.argv[1]));
    assert.deepEqual(spec.argv.slice(2), ["--registered", PROJECT_ROOT, "kernel", "--config-path", "{connection_file}"]);
    assert.equal(writeKernelSpec(root), false, "a second setup changes nothing");
  });
});

describe("kernel launcher: an error output for each failed cell", () => {
  const { errorContent, publishErrors } = load("../../scripts/lib/errorOutputs.cjs") as {
    errorContent: (stderr: string) => { ename: string; evalue: string; traceback: string[] };
    publishErrors: (server: unknown) => void;
  };

  it("reads the error's name and message from what tslab wrote to stderr", () => {
    assert.deepEqual(errorContent("Error: Exercise 05.1: not done yet\n    at <anonymous>:3:7\n"), {
      ename: "Error",
      evalue: "Exercise 05.1: not done yet",
      traceback: ["Error: Exercise 05.1: not done yet"],
    });
    assert.equal(errorContent("\nTypeError: x is not a function\n").ename, "TypeError");
    // What tslab writes for a runtime error: where, the source line, a caret, then the error and its stack.
    const runtime = 'evalmachine.<anonymous>:2\nthrow new RangeError("boom");\n^\n\nRangeError: boom\n    at f\n';
    assert.deepEqual(errorContent(runtime), { ename: "RangeError", evalue: "boom", traceback: ["RangeError: boom"] });
    assert.deepEqual(errorContent("3:7 - Cannot find name 'answer'.\n"), {
      ename: "CompileError",
      evalue: "3:7 - Cannot find name 'answer'.",
      traceback: ["CompileError: 3:7 - Cannot find name 'answer'."],
    });
    assert.equal(errorContent("").evalue, "the cell failed (no message)");
  });

  /** A stand-in for tslab's ZmqServer: records what it sends, runs `cell` as its handler's execution. */
  function fakeServer(cell: (writeStream: (name: string, text: string) => void) => string) {
    const sent: Array<{ channel: string; type: string; content: Record<string, unknown> }> = [];
    class ZmqServer {
      connInfo = { key: "k" };
      iopub = "iopub";
      handler = {
        handleExecute: async (_content: unknown, writeStream: (name: string, text: string) => void) => ({
          status: cell(writeStream),
          execution_count: 1,
        }),
      };
      async handleExecute(): Promise<void> {
        throw new Error("tslab's own handleExecute must have been replaced");
      }
    }
    publishErrors(ZmqServer);
    publishErrors(ZmqServer); // applying it twice changes nothing
    const msg = {
      content: { code: "" },
      createReply() {
        const reply = {
          header: { msg_type: "" },
          content: {} as Record<string, unknown>,
          signAndSend: (_key: string, channel: string) =>
            sent.push({ channel, type: reply.header.msg_type, content: reply.content }),
        };
        return reply;
      },
    };
    const server = new ZmqServer() as unknown as { handleExecute: (sock: string, m: unknown) => Promise<void> };
    return { run: () => server.handleExecute("shell", msg), sent };
  }

  it("a failed cell publishes its stderr, then an error output, then an execute_reply that names the error", async () => {
    const { run, sent } = fakeServer((write) => {
      write("stderr", "RangeError: k must be positive\n    at f\n");
      return "error";
    });
    await run();
    assert.deepEqual(
      sent.map((m) => `${m.channel}:${m.type}`),
      ["iopub:stream", "iopub:error", "shell:execute_reply"],
    );
    assert.equal(sent[1].content.ename, "RangeError");
    assert.equal(sent[1].content.evalue, "k must be positive");
    assert.equal(sent[2].content.status, "error");
    assert.equal(sent[2].content.ename, "RangeError");
  });

  it("a cell that succeeds publishes no error, even when it wrote to stderr", async () => {
    const { run, sent } = fakeServer((write) => {
      write("stderr", "Error: a warning printed on purpose\n");
      return "ok";
    });
    await run();
    assert.deepEqual(
      sent.map((m) => m.type),
      ["stream", "execute_reply"],
    );
    assert.equal(sent[1].content.ename, undefined);
  });
});
