// What the demo bundle gets for the two Node modules the library's kernels import at load
// (src/backend/kernels/simd.ts: node:v8; gemmPool.ts: node:worker_threads). The page runs the gemm on one
// thread, so no pool is built there, and a browser's engine takes no V8 flags (Chromium runs relaxed SIMD
// without one).

/** node:worker_threads' Worker: building one in the page says why it cannot be. */
export class Worker {
  constructor() {
    throw new Error("the demo page runs the gemm on one thread: there are no worker_threads in a browser");
  }
}

/** node:v8's setFlagsFromString: a browser sets no engine flags. */
export function setFlagsFromString(): void {}
