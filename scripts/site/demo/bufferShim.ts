// The one use of Node's Buffer in the library files the demo bundles (src/backend/kernels/simd.ts decodes its
// base64 WebAssembly with Buffer.from at load), answered in the browser: esbuild injects this `Buffer` there.

import { base64ToBytes } from "./data";

export const Buffer = {
  from(text: string, encoding: string): Uint8Array {
    if (encoding !== "base64") throw new Error(`the demo's Buffer shim decodes base64 only, not ${encoding}`);
    return base64ToBytes(text);
  },
};
