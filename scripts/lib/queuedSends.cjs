// Puts each ZeroMQ socket's sends in a queue, for tslab (see scripts/tslab-kernel.cjs for why).
"use strict";

/**
 * Replaces `zmq.Socket.prototype.send` so that a send waits for the socket's previous send. A failed send
 * is passed to `onError` and does not block the sends queued after it. Applying it twice is a no-op.
 */
function queueSends(zmq, onError) {
  const proto = zmq.Socket.prototype;
  if (proto.send.queued) return;
  const nativeSend = proto.send;
  const pending = new WeakMap();
  function queuedSend(message) {
    const previous = pending.get(this) ?? Promise.resolve();
    const settled = previous.then(() => nativeSend.call(this, message)).catch(onError);
    pending.set(this, settled);
    return settled;
  }
  queuedSend.queued = true;
  // The native method is read-only but configurable, so it is redefined rather than assigned.
  Object.defineProperty(proto, "send", { value: queuedSend, writable: false, enumerable: false, configurable: true });
}

module.exports = { queueSends };
