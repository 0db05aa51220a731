// Assembles and optimises src/backend/kernels/simd.wat into src/backend/kernels/simdBinary.ts (the
// module's bytes as base64), so that the library needs no WebAssembly tool at run time:
//
//   npx tsx scripts/build-simd-kernels.ts
//
// Binaryen (a dev dependency) parses the text and runs its -O3 pipeline. Its inlining is what
// matters: V8 does not inline wasm calls, and the kernels' loops call small helpers ($exp, $erf,
// $fmix32) for every four floats; inlined, dropout runs ~3× and GELU ~1.6× faster. The output is
// deterministic; a test checks that the committed simdBinary.ts is what this script makes from the
// committed simd.wat.
//
// Four modules come out of the one text. The plain one runs on every Node ≥ 16. The FMA one is the same
// module with every multiply-add of the gemm's tiles, (f32x4.add (local.get $cI_J) (f32x4.mul x y)),
// rewritten as relaxed SIMD's (f32x4.relaxed_madd x y (local.get $cI_J)): one fused instruction where
// the CPU has FMA, which Node 20 compiles behind --experimental-wasm-relaxed-simd (simd.ts sets it);
// likewise each Horner step y·v + c of the exp and erf polynomials (GELU, softmax, cross-entropy,
// attention): 20-25% off GELU and its gradient.
// And each of those again importing a shared memory, for the kernel pool's worker threads (kernelPool.ts).

import * as fs from "node:fs";
import * as path from "node:path";

const KERNELS_DIR = path.join(__dirname, "..", "src", "backend", "kernels");
export const WAT_FILE = path.join(KERNELS_DIR, "simd.wat");
export const BINARY_FILE = path.join(KERNELS_DIR, "simdBinary.ts");

/**
 * The modules' bytes: plain, with the gemm's and the polynomials' multiply-adds fused (fma), and both
 * on a shared memory (sharedPlain, sharedFma).
 */
export interface SimdKernelBinaries {
  plain: Uint8Array;
  fma: Uint8Array;
  sharedPlain: Uint8Array;
  sharedFma: Uint8Array;
}

/** All four modules, assembled, validated and optimised from simd.wat. */
export async function assembleSimdKernels(): Promise<SimdKernelBinaries> {
  const text = fs.readFileSync(WAT_FILE, "utf8");
  const fused = fusedPolynomialSteps(fusedMultiplyAdds(text));
  return {
    plain: await assemble(text, false),
    fma: await assemble(fused, true),
    sharedPlain: await assemble(sharedMemory(text), false, true),
    sharedFma: await assemble(sharedMemory(fused), true, true),
  };
}

/** `text` importing a shared memory (up to 4 GiB) instead of a plain one. */
export function sharedMemory(text: string): string {
  const plainImport = '(import "env" "memory" (memory 1))';
  if (!text.includes(plainImport)) throw new Error(`${WAT_FILE}: no ${plainImport} to make shared`);
  return text.replace(plainImport, '(import "env" "memory" (memory 1 65536 shared))');
}

/**
 * `text` with each gemm accumulation (f32x4.add (local.get $cI_J) (f32x4.mul X Y)) turned into
 * (f32x4.relaxed_madd X Y (local.get $cI_J)); X and Y may be any balanced expressions. Throws when
 * there is none, so that a renamed accumulator cannot silently leave the FMA module plain.
 */
export function fusedMultiplyAdds(text: string): string {
  const head = /\(f32x4\.add \(local\.get (\$c\d+_\d+)\) \(f32x4\.mul /g;
  let out = "";
  let from = 0;
  let count = 0;
  for (let match = head.exec(text); match !== null; match = head.exec(text)) {
    let at = head.lastIndex;
    const operands: string[] = [];
    for (let o = 0; o < 2; o++) {
      const start = at;
      let depth = 0;
      do {
        if (text[at] === "(") depth++;
        else if (text[at] === ")") depth--;
        at++;
      } while (depth > 0);
      operands.push(text.slice(start, at));
      at++; // the space or closing parenthesis after the operand
    }
    if (text.slice(at - 1, at + 1) !== "))")
      throw new Error(`${WAT_FILE}: unexpected gemm accumulation at ${match.index}`);
    out += text.slice(from, match.index) + `(f32x4.relaxed_madd ${operands[0]} ${operands[1]} (local.get ${match[1]}))`;
    from = at + 1;
    head.lastIndex = from;
    count++;
  }
  if (count === 0)
    throw new Error(`${WAT_FILE}: no gemm accumulation (f32x4.add (local.get $cI_J) (f32x4.mul ...)) found`);
  return out + text.slice(from);
}

/**
 * `text` with each Horner step of a polynomial, (f32x4.add (f32x4.mul (local.get $y) (local.get $v))
 * (f32x4.splat (f32.const c))), turned into (f32x4.relaxed_madd (local.get $y) (local.get $v) (f32x4.splat
 * (f32.const c))). Throws when there is none, so that a renamed variable cannot silently leave the
 * polynomials plain.
 */
export function fusedPolynomialSteps(text: string): string {
  const step =
    /\(f32x4\.add \(f32x4\.mul \(local\.get (\$y)\) \(local\.get (\$\w+)\)\) (\(f32x4\.splat \(f32\.const [^()]+\)\))\)/g;
  let count = 0;
  const out = text.replace(step, (_match, y: string, v: string, c: string) => {
    count++;
    return `(f32x4.relaxed_madd (local.get ${y}) (local.get ${v}) ${c})`;
  });
  if (count === 0) throw new Error(`${WAT_FILE}: no polynomial step (f32x4.add (f32x4.mul (local.get $y) ...) found`);
  return out;
}

async function assemble(text: string, relaxedSimd: boolean, shared = false): Promise<Uint8Array> {
  // An ES module; import() keeps it out of the CommonJS require path.
  const binaryen = (await import("binaryen")).default;
  const module = binaryen.parseText(text);
  try {
    const F = binaryen.Features;
    // What Node ≥ 16 runs (plus relaxed SIMD in the FMA module): nothing newer may appear in the output.
    module.setFeatures(
      F.MVP |
        F.SIMD128 |
        F.BulkMemory |
        F.BulkMemoryOpt |
        F.Multivalue |
        F.NontrappingFPToInt |
        F.SignExt |
        F.MutableGlobals |
        (relaxedSimd ? F.RelaxedSIMD : 0) |
        (shared ? F.Atomics : 0),
    );
    if (!module.validate()) throw new Error(`${WAT_FILE}: the module does not validate (binaryen printed why above)`);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    // Large enough that every helper is inlined into the loops that call it.
    binaryen.setAlwaysInlineMaxSize(400);
    binaryen.setFlexibleInlineMaxSize(2000);
    module.optimize();
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The TypeScript source of simdBinary.ts for `binaries`. */
export function simdBinarySource(binaries: SimdKernelBinaries): string {
  const constant = (bytes: Uint8Array): string => {
    const base64 = Buffer.from(bytes).toString("base64");
    const lines: string[] = [];
    for (let i = 0; i < base64.length; i += 100) lines.push(`  "${base64.slice(i, i + 100)}"`);
    return lines.join(" +\n") + ";";
  };
  return [
    "// Generated by scripts/build-simd-kernels.ts from simd.wat: do not edit.",
    "",
    `/** The WebAssembly module assembled from simd.wat (${binaries.plain.length} bytes), base64. */`,
    "export const SIMD_KERNELS_BASE64 =",
    constant(binaries.plain),
    "",
    `/** The same module with the gemm's and the polynomials' multiply-adds fused (relaxed SIMD; ${binaries.fma.length} bytes), base64. */`,
    "export const SIMD_KERNELS_FMA_BASE64 =",
    constant(binaries.fma),
    "",
    `/** The plain module on a shared memory (${binaries.sharedPlain.length} bytes), base64. */`,
    "export const SIMD_KERNELS_SHARED_BASE64 =",
    constant(binaries.sharedPlain),
    "",
    `/** The FMA module on a shared memory (${binaries.sharedFma.length} bytes), base64. */`,
    "export const SIMD_KERNELS_SHARED_FMA_BASE64 =",
    constant(binaries.sharedFma),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const source = simdBinarySource(await assembleSimdKernels());
  const temp = `${BINARY_FILE}.tmp-${process.pid}`;
  fs.writeFileSync(temp, source);
  fs.renameSync(temp, BINARY_FILE);
  console.log(`wrote ${path.relative(process.cwd(), BINARY_FILE)}`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
