// Stands in for a running tslab kernel: captures what the library sends through tslab's internal
// display channel, so that notebook-only code paths can be tested in plain Node.

const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };

export interface DisplayMessage {
  content: { data: Record<string, unknown>; metadata: object; transient: { display_id?: string } };
  update: boolean;
}

/** Runs `body` with a fake kernel attached; returns the display messages it sent. */
export function withFakeKernel(body: () => void): DisplayMessage[] {
  const messages: DisplayMessage[] = [];
  const previous = jupyter.lastWriteDisplayData;
  jupyter.lastWriteDisplayData = (content: DisplayMessage["content"], update: boolean) =>
    messages.push({ content, update });
  try {
    body();
  } finally {
    jupyter.lastWriteDisplayData = previous;
  }
  return messages;
}

/** `withFakeKernel` for an async body (a training loop): the kernel stays attached until it settles. */
export async function withFakeKernelAsync(body: () => Promise<void>): Promise<DisplayMessage[]> {
  const messages: DisplayMessage[] = [];
  const previous = jupyter.lastWriteDisplayData;
  jupyter.lastWriteDisplayData = (content: DisplayMessage["content"], update: boolean) =>
    messages.push({ content, update });
  try {
    await body();
  } finally {
    jupyter.lastWriteDisplayData = previous;
  }
  return messages;
}
