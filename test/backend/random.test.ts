import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../src/backend/random";

// Pearson's chi-square statistic of observed counts against equal expected counts.
function chiSquareUniform(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const expected = total / counts.length;
  let statistic = 0;
  for (let i = 0; i < counts.length; i++) statistic += (counts[i] - expected) ** 2 / expected;
  return statistic;
}

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe("Rng", () => {
  it("gives the same stream for the same seed", () => {
    assert.deepEqual(draws(new Rng(42), 1000), draws(new Rng(42), 1000));
    const a = new Rng(3.25);
    const b = new Rng(3.25);
    for (let i = 0; i < 100; i++) {
      assert.equal(a.next(), b.next());
      assert.equal(a.normal(), b.normal());
      assert.equal(a.int(17), b.int(17));
    }
  });

  it("gives different streams for different seeds, including negative, fractional and huge ones", () => {
    const seeds = [0, 1, 2, 42, -1, -2, -43, 0.5, -0.5, 1.5, 2 ** 32, 2 ** 32 + 1, 2 ** 40, -(2 ** 40), 2 ** 53];
    const firstDraws = new Map<string, number>();
    for (const seed of seeds) {
      const key = draws(new Rng(seed), 4).join(",");
      assert.ok(!firstDraws.has(key), `seeds ${firstDraws.get(key)} and ${seed} give the same stream`);
      firstDraws.set(key, seed);
    }
  });

  it("keeps the seed it was given", () => {
    assert.equal(new Rng(123).seed, 123);
  });

  it("rejects seeds that are not finite numbers", () => {
    for (const seed of [NaN, Infinity, -Infinity]) {
      assert.throws(() => new Rng(seed), /Rng: seed must be a finite number/);
    }
  });

  it("next() lies in [0, 1) and nextUint32() in [0, 2^32)", () => {
    const rng = new Rng(5);
    for (let i = 0; i < 10000; i++) {
      const u = rng.next();
      assert.ok(u >= 0 && u < 1, `next() = ${u}`);
      const w = rng.nextUint32();
      assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32, `nextUint32() = ${w}`);
    }
  });

  it("int(n) is uniform on [0, n): chi-square below the 0.1% critical value", () => {
    const rng = new Rng(2024);
    const counts = new Float64Array(10);
    for (let i = 0; i < 100000; i++) {
      const k = rng.int(10);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 10);
      counts[k]++;
    }
    assert.ok(chiSquareUniform(counts) < 27.88, `chi-square ${chiSquareUniform(counts)} (df 9)`);
  });

  it("int(n) has no modulo bias when n does not divide 2^32", () => {
    // n = 3 * 2^30: plain `x % n` would put half of all draws in the lowest third.
    const n = 3 * 2 ** 30;
    const rng = new Rng(77);
    const thirds = new Float64Array(3);
    for (let i = 0; i < 30000; i++) thirds[Math.floor(rng.int(n) / 2 ** 30)]++;
    assert.ok(chiSquareUniform(thirds) < 13.82, `chi-square ${chiSquareUniform(thirds)} (df 2), counts ${thirds}`);
  });

  it("int(n) accepts 1 and 2^32 and rejects other bounds", () => {
    const rng = new Rng(1);
    assert.equal(rng.int(1), 0);
    const big = rng.int(2 ** 32);
    assert.ok(big >= 0 && big < 2 ** 32);
    for (const n of [0, -3, 1.5, NaN, 2 ** 32 + 1]) {
      assert.throws(() => rng.int(n), /Rng\.int: n must be an integer/);
    }
  });

  it("normal(mean, std) has the requested mean and variance", () => {
    const rng = new Rng(9);
    const n = 100000;
    for (const [mean, std] of [
      [0, 1],
      [5, 2],
    ]) {
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        const z = rng.normal(mean, std);
        sum += z;
        sumSq += z * z;
      }
      const sampleMean = sum / n;
      const sampleVariance = sumSq / n - sampleMean * sampleMean;
      // Standard errors: std / sqrt(n) for the mean, about std^2 * sqrt(2 / n) for the variance.
      assert.ok(Math.abs(sampleMean - mean) < 5 * (std / Math.sqrt(n)), `mean ${sampleMean}`);
      assert.ok(Math.abs(sampleVariance - std * std) < 5 * std * std * Math.sqrt(2 / n), `variance ${sampleVariance}`);
    }
  });

  it("shuffle returns the same array, permuted", () => {
    const rng = new Rng(11);
    const words = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const shuffled = rng.shuffle(words);
    assert.equal(shuffled, words);
    assert.deepEqual([...shuffled].sort(), ["a", "b", "c", "d", "e", "f", "g", "h"]);

    const values = Float64Array.from({ length: 500 }, (_, i) => i / 2);
    rng.shuffle(values);
    assert.deepEqual(
      Array.from(values).sort((p, q) => p - q),
      Array.from({ length: 500 }, (_, i) => i / 2),
    );
    assert.notDeepEqual(
      Array.from(values),
      Array.from({ length: 500 }, (_, i) => i / 2),
    );
  });

  it("permutation(n) is a permutation of 0..n-1, and every order of 3 items is equally likely", () => {
    const rng = new Rng(13);
    const p = rng.permutation(1000);
    assert.ok(p instanceof Int32Array);
    assert.deepEqual(
      Array.from(p).sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(rng.permutation(0).length, 0);
    assert.deepEqual(Array.from(rng.permutation(1)), [0]);

    const counts = new Map<string, number>();
    for (let i = 0; i < 60000; i++) {
      const key = rng.permutation(3).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    assert.ok(chiSquareUniform([...counts.values()]) < 20.52, `orders ${JSON.stringify([...counts])} (df 5)`);
  });

  it("fork() gives an independent generator and is itself reproducible", () => {
    const parent = new Rng(21);
    const twin = new Rng(21);
    const child = parent.fork();
    const twinChild = twin.fork();

    // Drawing from the child does not move the parent.
    draws(child, 50);
    assert.deepEqual(draws(parent, 20), draws(twin, 20));
    // Same seed, same fork.
    assert.deepEqual(draws(twinChild, 50), draws(new Rng(21).fork(), 50));
    // A child's stream is neither its parent's nor a sibling's.
    const a = new Rng(8);
    const first = a.fork();
    const second = a.fork();
    const firstDraws = draws(first, 8);
    assert.notDeepEqual(firstDraws, draws(second, 8));
    assert.notDeepEqual(firstDraws, draws(new Rng(8), 8));
  });

  it("tfSeed() is a nonzero 31-bit integer, since tfjs reads 0 as unseeded", () => {
    const rng = new Rng(0);
    for (let i = 0; i < 10000; i++) {
      const seed = rng.tfSeed();
      assert.ok(Number.isInteger(seed) && seed >= 1 && seed < 2 ** 31, `tfSeed() = ${seed}`);
    }
  });

  it("seeds tf.randomNormal reproducibly through tfSeed()", () => {
    const before = tf.memory().numTensors;
    const [x, y, z] = tf.tidy(() => [
      Array.from(tf.randomNormal([64], 0, 1, "float32", new Rng(7).tfSeed()).dataSync()),
      Array.from(tf.randomNormal([64], 0, 1, "float32", new Rng(7).tfSeed()).dataSync()),
      Array.from(tf.randomNormal([64], 0, 1, "float32", new Rng(8).tfSeed()).dataSync()),
    ]);
    assert.deepEqual(x, y);
    assert.notDeepEqual(x, z);
    assert.equal(tf.memory().numTensors, before);
  });
});
