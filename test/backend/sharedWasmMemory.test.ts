// withSharedMemory on hand-assembled modules (a memory section and an export of it), and on the tfjs
// build that initBackend loads.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../../src/backend/backend";
import { wasmMemoryOf } from "../../src/backend/kernels/simd";
import { withSharedMemory } from "../../src/backend/sharedWasmMemory";

interface Memory {
  buffer: ArrayBufferLike;
  grow(pages: number): number;
}
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      validate(bytes: Uint8Array): boolean;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: { m: Memory } };
    };
  }
).WebAssembly;

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const EXPORT_MEMORY_M = [0x07, 0x05, 0x01, 0x01, 0x6d, 0x02, 0x00]; // export "m" = memory 0

/** A module with one memory of `limits` (the section's entry after its count), exported as "m". */
function moduleWithMemory(limits: number[]): Uint8Array {
  return Uint8Array.from([...HEADER, 0x05, limits.length + 1, 0x01, ...limits, ...EXPORT_MEMORY_M]);
}

const memoryOf = (bytes: Uint8Array) => new wasmApi.Instance(new wasmApi.Module(bytes), {}).exports.m;

describe("backend/sharedWasmMemory", () => {
  it("declares a memory with a maximum shared, keeping its limits", () => {
    const plain = moduleWithMemory([0x01, 0x01, 0x02]); // min 1 page, max 2
    assert.ok(!(memoryOf(plain).buffer instanceof SharedArrayBuffer));
    const memory = memoryOf(withSharedMemory({ name: "tiny.wasm", bytes: plain }));
    assert.ok(memory.buffer instanceof SharedArrayBuffer);
    assert.equal(memory.buffer.byteLength, 65536);
    assert.equal(memory.grow(1), 1);
    assert.throws(() => memory.grow(1), RangeError, "the maximum of 2 pages is kept");
  });

  it("gives a memory without a maximum the 32-bit one (a shared memory needs one), in a longer section", () => {
    const plain = moduleWithMemory([0x00, 0x03]); // min 3 pages, no max
    const shared = withSharedMemory({ name: "tiny.wasm", bytes: plain });
    assert.deepEqual(Array.from(shared.subarray(8, 16)), [0x05, 0x06, 0x01, 0x03, 0x03, 0x80, 0x80, 0x04]);
    const memory = memoryOf(shared);
    assert.ok(memory.buffer instanceof SharedArrayBuffer);
    assert.equal(memory.buffer.byteLength, 3 * 65536);
  });

  it("leaves a shared memory as it is", () => {
    const shared = moduleWithMemory([0x03, 0x01, 0x02]);
    assert.deepEqual(withSharedMemory({ name: "tiny.wasm", bytes: shared }), shared);
  });

  it("names the file and the reason when it cannot", () => {
    const share = (bytes: number[]) => () => withSharedMemory({ name: "x.wasm", bytes: Uint8Array.from(bytes) });
    assert.throws(share([1, 2, 3]), /^Error: x\.wasm: cannot share its memory: not a WebAssembly version-1 binary$/);
    assert.throws(share(HEADER), /x\.wasm: cannot share its memory: it defines no memory of its own/);
    assert.throws(share([...HEADER, 0x05, 0x09, 0x01]), /section 5 at byte 8 runs past the end of the file/);
    assert.throws(share([...HEADER, 0x05, 0x03, 0x02, 0x00, 0x01]), /it defines 2 memories, not one/);
    assert.throws(share([...HEADER, 0x05, 0x03, 0x01, 0x04, 0x01]), /unsupported memory limits \(flags 4\)/);
  });

  it("shares the memory of tfjs's SIMD build, which initBackend starts, and tfjs runs on it", async () => {
    const dist = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    const file = path.join(dist, "tfjs-backend-wasm-simd.wasm");
    assert.ok(wasmApi.validate(withSharedMemory({ name: file, bytes: new Uint8Array(fs.readFileSync(file)) })));

    const previous = tf.getBackend();
    const info = await initBackend();
    if (info.name !== "wasm") return; // tfjs-node is installed: its heap is TensorFlow's
    await tf.setBackend("wasm");
    try {
      const memory = wasmMemoryOf(tf.backend() as BackendWasm)!;
      assert.ok(memory.buffer instanceof SharedArrayBuffer);
      // A tensor larger than the heap grows it; reads return ordinary (unshared) arrays.
      const size = memory.buffer.byteLength / 4 + 1;
      const values = tf.tidy(() => tf.fill([size], 2).sum().dataSync());
      assert.equal(values[0], 2 * size);
      assert.ok(!(values.buffer instanceof SharedArrayBuffer));
      assert.ok(wasmMemoryOf(tf.backend() as BackendWasm)!.buffer.byteLength > 4 * size);
    } finally {
      if (previous) await tf.setBackend(previous);
    }
  });
});
