import * as assert from "node:assert/strict";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { kernelInitializer, resolveKernelInitializer } from "../../src/nn/initializers";
import { take } from "./support";

describe("nn/initializers", () => {
  before(async () => {
    await initBackend();
  });

  it("fills defaults and rejects unknown initializers", () => {
    assert.deepEqual(resolveKernelInitializer("L", {}), { kernelInitializer: "glorotUniform", initializerRange: 0.02 });
    assert.deepEqual(resolveKernelInitializer("L", {}, "truncatedNormal").kernelInitializer, "truncatedNormal");
    assert.throws(
      () => resolveKernelInitializer("L", { kernelInitializer: "ones" as never }),
      /L: kernelInitializer must be one of/,
    );
    assert.throws(
      () => resolveKernelInitializer("L", { initializerRange: 0 }),
      /L: initializerRange must be a finite number > 0/,
    );
  });

  it("gives each weight drawn from one rng its own values, the same again from the same seed", () => {
    const config = resolveKernelInitializer("L", {});
    const draw = (rng: Rng) => Array.from(take(kernelInitializer(config, rng).apply([6, 6])));
    const rng = new Rng(1);
    const [first, second] = [draw(rng), draw(rng)];
    assert.notDeepEqual(first, second);
    const again = new Rng(1);
    assert.deepEqual([draw(again), draw(again)], [first, second]);
  });

  it("draws glorotUniform within ±√(6/(fan_in+fan_out)) and truncatedNormal within 2σ", () => {
    const uniform = take(kernelInitializer(resolveKernelInitializer("L", {}), new Rng(2)).apply([40, 60]));
    const limit = Math.sqrt(6 / 100);
    assert.ok(uniform.every((v) => Math.abs(v) <= limit));
    assert.ok(Math.max(...uniform.map(Math.abs)) > 0.95 * limit);
    const config = resolveKernelInitializer("L", { kernelInitializer: "truncatedNormal", initializerRange: 0.1 });
    const normal = take(kernelInitializer(config, new Rng(3)).apply([40, 60]));
    assert.ok(normal.every((v) => Math.abs(v) <= 0.2));
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  });
});
