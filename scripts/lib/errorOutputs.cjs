// Error outputs for failed cells, for tslab (see scripts/tslab-kernel.cjs for why).
"use strict";

/**
 * The `error` content (ename, evalue, traceback) for a cell whose execution failed, read from what the cell
 * wrote to stderr: tslab prints a thrown error as the failing source line, a caret, then "Name: message" and
 * its stack, and a compile error as "line:column - message". The traceback repeats only that line: the full
 * text is already in the cell's stderr output.
 */
function errorContent(stderrText) {
  const lines = stderrText.split("\n");
  const thrownPattern = /^((?:[A-Za-z_$][\w$]*)?(?:Error|Exception)): ?(.*)$/;
  const thrown = lines.map((line) => thrownPattern.exec(line)).find((match) => match !== null);
  const compile = lines.find((line) => /^\d+:\d+ - /.test(line));
  let ename = "Error";
  let evalue = lines.find((line) => line.trim() !== "")?.trim() || "the cell failed (no message)";
  if (thrown) [ename, evalue] = [thrown[1], thrown[2]];
  else if (compile) [ename, evalue] = ["CompileError", compile];
  return { ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

/**
 * Wraps tslab's `ZmqServer.prototype.handleExecute` so that a failed execution also publishes an `error`
 * message on IOPub and carries ename/evalue/traceback in its execute_reply, as the Jupyter protocol asks.
 * Applying it twice is a no-op.
 */
function publishErrors(ZmqServer) {
  const proto = ZmqServer.prototype;
  if (proto.handleExecute.publishesErrors) return;
  async function handleExecute(sock, msg) {
    let stderr = "";
    const handler = this.handler;
    // Record this execution's stderr on its way to the cell.
    const recordingHandler = Object.create(handler, {
      handleExecute: {
        value: (content, writeStream, writeDisplayData) =>
          handler.handleExecute(
            content,
            (name, text) => {
              if (name === "stderr") stderr += text;
              writeStream(name, text);
            },
            writeDisplayData,
          ),
      },
    });
    const reply = msg.createReply();
    reply.header.msg_type = "execute_reply";
    const writeStream = (name, text) => {
      const out = msg.createReply();
      out.header.msg_type = "stream";
      out.content = { name, text };
      out.signAndSend(this.connInfo.key, this.iopub);
    };
    const writeDisplayData = (data, update) => {
      const out = msg.createReply();
      out.header.msg_type = update ? "update_display_data" : "display_data";
      out.content = data;
      out.signAndSend(this.connInfo.key, this.iopub);
    };
    const content = await recordingHandler.handleExecute(msg.content, writeStream, writeDisplayData);
    if (content.status === "error") {
      const error = errorContent(stderr);
      const out = msg.createReply();
      out.header.msg_type = "error";
      out.content = error;
      out.signAndSend(this.connInfo.key, this.iopub);
      Object.assign(content, error);
    }
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  }
  handleExecute.publishesErrors = true;
  proto.handleExecute = handleExecute;
}

module.exports = { errorContent, publishErrors };
