// The Jupyter kernel this checkout registers: tslab, with each ZeroMQ socket's sends put in a queue, and an
// error output for each failed cell.
//
// Why the queue: tslab 1.0.22 calls socket.send() without awaiting it, but zeromq 6 allows one pending send per socket
// and rejects a second one with EBUSY ("Socket is busy writing"). When a status message meets a display
// message at a cell boundary under load, that rejection reaches the wasm backend's uncaughtException handler,
// which rethrows it, and the kernel dies mid-notebook. Queuing keeps every message, in order.
// Why the error output: tslab reports a failed cell only on stderr and in a bare execute_reply, so front ends
// show no error, nbclient cannot say which error, and nbgrader's autograder (which looks for an error output)
// would give a failed check full marks.
"use strict";

const path = require("node:path");
const { queueSends } = require("./lib/queuedSends.cjs");
const { publishErrors } = require("./lib/errorOutputs.cjs");
const zmq = require(require.resolve("zeromq", { paths: [require.resolve("tslab")] }));

queueSends(zmq, (error) => {
  process.stderr.write(`recsys-ts kernel: a ZeroMQ send failed: ${error && error.message}\n`);
});

// Jupyter starts us as `tslab-kernel.cjs kernel --config-path <connection file>`, as it would start tslab.
const args = process.argv.slice(2);
const configAt = args.indexOf("--config-path");
if (args[0] !== "kernel" || configAt < 0 || configAt + 1 >= args.length) {
  process.stderr.write("usage: node scripts/tslab-kernel.cjs kernel --config-path <connection file>\n");
  process.exit(2);
}
const tslabDist = path.join(path.dirname(require.resolve("tslab/package.json")), "dist");
publishErrors(require(path.join(tslabDist, "jupyter.js")).ZmqServer);
const { startKernel } = require(path.join(tslabDist, "main.js"));
// enableFindLocal: false, so that the tslab (and zeromq) patched here is the one that runs, whatever the cwd.
startKernel({ configPath: args[configAt + 1], enableFindLocal: false, jsKernel: false });
