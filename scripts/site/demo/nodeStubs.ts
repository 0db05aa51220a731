// What the demo bundle gets for the three Node modules the library's kernels import at load
// (src/backend/kernels/simd.ts: node:v8; kernelPool.ts: node:os and node:worker_threads). The page runs the
// kernels on one thread, so no pool is built there, and a browser's engine takes no V8 flags (Chromium runs
// relaxed SIMD without one).

/** node:worker_threads' Worker: building one in the page says why it cannot be. */
export class Worker {
  constructor() {
    throw new Error("the demo page runs the gemm on one thread: there are no worker_threads in a browser");
  }
}

/** node:os' availableParallelism: the page's kernels run on one thread. */
export function availableParallelism(): number {
  return 1;
}

/** node:v8's setFlagsFromString: a browser sets no engine flags. */
export function setFlagsFromString(): void {}
