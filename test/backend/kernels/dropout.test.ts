import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { DROPOUT, dropoutMask, type DropoutMaskSpec } from "../../../src/backend/kernels/dropout";
import { Rng } from "../../../src/backend/random";
import { dropUnits } from "../../../src/nn/dropout";
import { resultOn, useWasmTrainingKernels } from "./support";

// An independent statement of the mask in BigInt arithmetic (no Math.imul, no `| 0`): unit i is kept
// when fmix32(fmix32((i·0x9E3779B1 mod 2³²) ⊕ key1) + key2 mod 2³²) ≥ round(rate·2³²).
const WORD = 0xffffffffn;

function fmix32Big(h: bigint): bigint {
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & WORD;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & WORD;
  return h ^ (h >> 16n);
}

function hashBig(i: number, key1: number, key2: number): bigint {
  const mixed = ((BigInt(i) * 0x9e3779b1n) & WORD) ^ BigInt(key1 >>> 0);
  return fmix32Big((fmix32Big(mixed) + BigInt(key2 >>> 0)) & WORD);
}

function keptBig(size: number, spec: DropoutMaskSpec): boolean[] {
  const threshold = BigInt(Math.min(2 ** 32 - 1, Math.round(spec.rate * 2 ** 32)));
  return Array.from({ length: size }, (_, i) => hashBig(i, spec.key1, spec.key2) >= threshold);
}

/** The kernel, run directly on wasm. */
function dropoutKernel(x: tf.Tensor, spec: DropoutMaskSpec): tf.Tensor {
  return tf.engine().runKernel(DROPOUT, { x }, spec as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** Float32 bit patterns, with −0 read as +0 (x·0 is −0 for negative x; the kernel writes +0). */
function bits(values: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values, (v) => (v === 0 ? 0 : v)).buffer));
}

/** x·mask, product by product in float32. */
function times(x: Float32Array, mask: Float32Array): Float32Array {
  return x.map((v, i) => v * mask[i]);
}

function normals(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal());
}

function keysFrom(rng: Rng, rate: number): DropoutMaskSpec {
  return { rate, key1: rng.nextUint32(), key2: rng.nextUint32() };
}

const RATES = [0, 0.1, 0.5, 0.9];

describe("RecsysDropout kernel on the wasm backend, and its mask", () => {
  useWasmTrainingKernels();

  it("is registered for wasm only, with a gradient", () => {
    assert.ok(tf.getKernel(DROPOUT, "wasm"));
    assert.equal(tf.getKernel(DROPOUT, "cpu"), undefined);
    assert.ok(tf.getGradient(DROPOUT));
  });

  it("hashes with MurmurHash3's fmix32 (fmix32(1) = 0x514e28b7)", () => {
    assert.equal(fmix32Big(1n), 0x514e28b7n);
    assert.equal(fmix32Big(0n), 0n);
  });

  it("drops a hand-constructed unit: hash(1) = fmix32(fmix32(1) + key2) = fmix32(0) = 0", async () => {
    // 1·0x9E3779B1 ⊕ 0x9E3779B0 = 1, and key2 = 2³² − fmix32(1) wraps the sum to 0.
    const key1 = 0x9e3779b0;
    const key2 = 2 ** 32 - 0x514e28b7;
    assert.equal(hashBig(1, key1, key2), 0n);
    const spec = { rate: 1e-6, key1, key2 }; // threshold round(1e-6·2³²) = 4295
    assert.deepEqual(keptBig(8, spec), [true, false, true, true, true, true, true, true]);
    const scale = Math.fround(1 / (1 - 1e-6));
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const expected = x.map((v) => (v === 2 ? 0 : Math.fround(v * scale)));
    assert.deepEqual(Array.from(dropoutMask(8, spec)), [scale, 0, scale, scale, scale, scale, scale, scale]);
    for (const size of [2, 8]) {
      // the scalar tail only; the vector part
      const y = await resultOn("wasm", () => dropoutKernel(tf.tensor1d(x.slice(0, size)), spec));
      assert.deepEqual(y.values, expected.slice(0, size), `size ${size}`);
    }
    // A hash of 0 is kept at rate 0 (threshold 0): nothing is ever dropped.
    const y = await resultOn("wasm", () => dropoutKernel(tf.tensor1d(x), { ...spec, rate: 0 }));
    assert.deepEqual(y.values, x);
  });

  it("keeps a unit whose hash equals the threshold and drops it one step above", async () => {
    const key1 = 0xdeadbeef;
    const key2 = 0x12345678;
    const hash0 = Number(hashBig(0, key1, key2));
    for (const [threshold, kept] of [
      [hash0, true],
      [hash0 + 1, false],
    ] as const) {
      const spec = { rate: threshold / 2 ** 32, key1, key2 };
      assert.equal(dropoutMask(1, spec)[0] !== 0, kept, `mask at threshold ${threshold}`);
      const [y] = (await resultOn("wasm", () => dropoutKernel(tf.tensor1d([1]), spec))).values;
      assert.equal(y !== 0, kept, `kernel at threshold ${threshold}`);
    }
  });

  it("dropoutMask keeps the units of the BigInt reference, for keys over the whole uint32 range", () => {
    const rng = new Rng(31);
    const keyPairs = [
      [0, 0],
      [0xffffffff, 0x80000000],
      [0x80000000, 0xffffffff],
      [rng.nextUint32(), rng.nextUint32()],
    ];
    for (const [key1, key2] of keyPairs) {
      for (const rate of RATES) {
        const spec = { rate, key1, key2 };
        const mask = dropoutMask(1000, spec);
        const scale = Math.fround(1 / (1 - rate));
        assert.deepEqual(
          Array.from(mask, (m) => m !== 0),
          keptBig(1000, spec),
          JSON.stringify(spec),
        );
        assert.ok(
          mask.every((m) => m === 0 || m === scale),
          JSON.stringify(spec),
        );
      }
    }
  });

  it("equals x·dropoutMask bit for bit, every tail and rate", async () => {
    const rng = new Rng(32);
    for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, 4099]) {
      for (const rate of RATES) {
        const spec = keysFrom(rng, rate);
        const x = normals(rng, size);
        const y = await resultOn("wasm", () => dropoutKernel(tf.tensor1d(x), spec));
        assert.deepEqual([y.shape, y.dtype], [[size], "float32"]);
        assert.deepEqual(
          bits(y.values),
          bits(times(x, dropoutMask(size, spec))),
          `size ${size}, ${JSON.stringify(spec)}`,
        );
      }
    }
  });

  it("keeps a fraction of units within 5 binomial sigmas of 1 − rate", async () => {
    const n = 100_000;
    const rng = new Rng(33);
    for (const rate of [0.1, 0.5, 0.9]) {
      const { values } = await resultOn("wasm", () => dropoutKernel(tf.ones([n]), keysFrom(rng, rate)));
      const kept = values.filter((v) => v !== 0).length;
      const sigma = Math.sqrt(n * rate * (1 - rate));
      assert.ok(Math.abs(kept - n * (1 - rate)) <= 5 * sigma, `rate ${rate}: kept ${kept} of ${n}`);
      assert.ok(
        values.every((v) => v === 0 || v === Math.fround(1 / (1 - rate))),
        `rate ${rate}: scale`,
      );
    }
  });

  it("gives one mask for the same keys and independent masks for different ones", async () => {
    const n = 100_000;
    const rate = 0.5;
    const base = { rate, key1: 0x01234567, key2: 0x89abcdef };
    const keptUnits = async (spec: DropoutMaskSpec) =>
      (await resultOn("wasm", () => dropoutKernel(tf.ones([n]), spec))).values.map((v) => v !== 0);
    const reference = await keptUnits(base);
    assert.deepEqual(await keptUnits({ ...base }), reference);
    const others: DropoutMaskSpec[] = [
      { ...base, key1: base.key1 + 1 },
      { ...base, key2: base.key2 + 1 },
      { rate, key1: base.key2, key2: base.key1 },
    ];
    // Independent masks keep a unit in both with probability (1 − rate)².
    const p = (1 - rate) ** 2;
    const sigma = Math.sqrt(n * p * (1 - p));
    for (const spec of others) {
      const kept = await keptUnits(spec);
      const both = kept.filter((k, i) => k && reference[i]).length;
      assert.ok(Math.abs(both - n * p) <= 5 * sigma, `${JSON.stringify(spec)}: ${both} units kept by both`);
    }
  });

  it("is what dropUnits runs on wasm, and its gradient drops the same units of dy", async () => {
    await tf.setBackend("wasm");
    const probe = tf.ones([5]);
    const { kernelNames } = await tf.profile(() => dropUnits(probe, { rate: 0.5, key1: 1, key2: 2 }));
    assert.deepEqual(kernelNames, [DROPOUT]);
    probe.dispose();

    const rng = new Rng(34);
    for (const [size, rate] of [
      [7, 0.5],
      [1000, 0.1],
      [4099, 0.9],
    ]) {
      const spec = keysFrom(rng, rate);
      const x = normals(rng, size);
      const dy = normals(rng, size);
      const dx = await resultOn("wasm", () =>
        tf.grad((t: tf.Tensor) => dropUnits(t, spec))(tf.tensor1d(x), tf.tensor1d(dy)),
      );
      assert.deepEqual(bits(dx.values), bits(times(dy, dropoutMask(size, spec))), `size ${size}, rate ${rate}`);
    }
  });

  it("drops the same units on cpu (the JavaScript mask) as on wasm, forward and backward", async () => {
    const rng = new Rng(35);
    for (const rate of [0.1, 0.5]) {
      const spec = keysFrom(rng, rate);
      const x = normals(rng, 3 * 5 * 7);
      const dy = normals(rng, 3 * 5 * 7);
      const forward = () => dropUnits(tf.tensor3d(x, [3, 5, 7]), spec);
      const backward = () =>
        tf.grad((t: tf.Tensor) => dropUnits(t, spec))(tf.tensor3d(x, [3, 5, 7]), tf.tensor3d(dy, [3, 5, 7]));
      for (const f of [forward, backward]) {
        const onWasm = await resultOn("wasm", f);
        const onCpu = await resultOn("cpu", f);
        assert.deepEqual(onCpu.shape, [3, 5, 7]);
        assert.deepEqual(bits(onCpu.values), bits(onWasm.values), `rate ${rate}`);
      }
    }
  });

  it("rejects a rate outside [0, 1) and int32 input, leaving no output behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([6]);
    const ints = tf.tensor1d([1, 2, 3], "int32");
    const before = tf.memory().numTensors;
    for (const rate of [1, 1.5, -0.1, NaN]) {
      assert.throws(
        () => dropoutKernel(x, { rate, key1: 1, key2: 2 }),
        /RecsysDropout: rate must be in \[0, 1\), got/,
        `rate ${rate}`,
      );
    }
    assert.throws(
      () => dropoutKernel(ints, { rate: 0.5, key1: 1, key2: 2 }),
      /RecsysDropout: x must be a float32 tensor, got int32/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, ints]);
  });

  it("leaves no tensor or byte behind", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([4, 9]);
    const spec = { rate: 0.3, key1: 7, key2: 8 };
    const before = tf.memory();
    tf.tidy(() => {
      dropUnits(x, spec);
      tf.grad((t: tf.Tensor) => dropUnits(t, spec))(x);
    });
    assert.equal(tf.memory().numTensors, before.numTensors);
    assert.equal(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
