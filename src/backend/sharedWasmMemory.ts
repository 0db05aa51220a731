// tfjs's wasm module rewritten to define a shared memory, so that worker threads can run kernels on
// tensors where they lie.
//
// tfjs-backend-wasm's single-threaded build (the one Node runs: its threaded build starts its
// pthreads from blob: URLs, which Node's worker_threads refuse, tfjs issue #3830) defines its own
// memory, unshared: another thread cannot see the heap, and the first worker pool (for the gemm) had
// to copy each product's operands into a memory of its own and the result back. Changing the one
// memory's limits to "shared" (WebAssembly's threads proposal, on in every Node ≥ 16) makes
// `memory.buffer` a SharedArrayBuffer that the workers instantiate their kernels on, with no copies.
// Nothing else in the module changes: its code never uses atomics, and one thread at a time runs
// tfjs's kernels.

/** A wasm binary's bytes as read from a file, for error messages. */
interface NamedBinary {
  name: string;
  bytes: Uint8Array;
}

/** Memories larger than 4 GiB (memory64) have other limits; tfjs builds use 32-bit memories. */
const MAX_PAGES_32 = 65536;

const MEMORY_SECTION = 5;

/**
 * `binary` (a WebAssembly module that defines one memory, as Emscripten builds do) with that memory
 * declared shared, its minimum kept and its maximum kept (or 4 GiB where it had none: a shared
 * memory needs one). A memory already shared is returned as it is. Errors name the file.
 */
export function withSharedMemory({ name, bytes }: NamedBinary): Uint8Array {
  const fail = (why: string): never => {
    throw new Error(`${name}: cannot share its memory: ${why}`);
  };
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) fail("not a WebAssembly version-1 binary");

  for (let at = 8; at < bytes.length;) {
    const id = bytes[at];
    const [size, body] = readLeb(bytes, at + 1, fail);
    const end = body + size;
    if (end > bytes.length) fail(`section ${id} at byte ${at} runs past the end of the file`);
    if (id === MEMORY_SECTION) {
      const [count, limits] = readLeb(bytes, body, fail);
      if (count !== 1) fail(`it defines ${count} memories, not one`);
      const flags = bytes[limits];
      if (flags > 1 && flags !== 3) fail(`unsupported memory limits (flags ${flags})`);
      if (flags === 3) return bytes.slice();
      const [minimum, next] = readLeb(bytes, limits + 1, fail);
      const maximum = flags === 1 ? readLeb(bytes, next, fail)[0] : MAX_PAGES_32;
      const entry = [...writeLeb(1), 0x03, ...writeLeb(minimum), ...writeLeb(maximum)];
      const section = [MEMORY_SECTION, ...writeLeb(entry.length), ...entry];
      const out = new Uint8Array(at + section.length + bytes.length - end);
      out.set(bytes.subarray(0, at));
      out.set(section, at);
      out.set(bytes.subarray(end), at + section.length);
      return out;
    }
    at = end;
  }
  return fail("it defines no memory of its own (an imported memory is shared by whoever creates it)");
}

/** An unsigned LEB128 number at `at`: its value and the offset after it. */
function readLeb(bytes: Uint8Array, at: number, fail: (why: string) => never): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) break;
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  return fail(`a malformed number before byte ${at}`);
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}
