// The kernel launcher's send queue: tslab fires ZeroMQ sends without awaiting them, which zeromq 6 rejects
// while a send is pending (EBUSY). The queue must deliver every message, in order.

import * as assert from "node:assert/strict";
import { createRequire } from "node:module";

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
