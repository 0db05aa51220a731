import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { DROPOUT } from "../../src/backend/kernels/dropout";
import { Rng } from "../../src/backend/random";
import { SeededDropout } from "../../src/nn/dropout";
import { disposeOutput, normalTensor, take } from "./support";
import { assertNoLeak } from "../support/assertions";

describe("nn/dropout", () => {
  before(async () => {
    await initBackend();
  });

  it("is the identity outside training", () => {
    const x = tf.range(1, 11).reshape([2, 5]);
    const layer = new SeededDropout({ rate: 0.5, seed: 1 });
    assert.deepEqual(Array.from(take(layer.apply(x) as tf.Tensor)), Array.from(x.dataSync()));
    assert.deepEqual(Array.from(take(layer.apply(x, { training: false }) as tf.Tensor)), Array.from(x.dataSync()));
    x.dispose();
  });

  it("in training zeroes about `rate` of the units and scales the rest by 1/(1 − rate)", () => {
    const x = tf.ones([100, 100]);
    const values = take(new SeededDropout({ rate: 0.3, seed: 2 }).apply(x, { training: true }) as tf.Tensor);
    const zeros = values.filter((v) => v === 0).length;
    assert.ok(Math.abs(zeros / values.length - 0.3) < 0.02, `dropped ${zeros / values.length}`);
    for (const v of values) assert.ok(v === 0 || Math.abs(v - 1 / 0.7) < 1e-6, `value ${v}`);
    x.dispose();
  });

  it("draws a new mask on every call, the same sequence of masks from the same seed", () => {
    const x = tf.ones([4, 25]);
    const masks = (seed: number) => {
      const layer = new SeededDropout({ rate: 0.5, seed });
      return [0, 1, 2].map(() => Array.from(take(layer.apply(x, { training: true }) as tf.Tensor)));
    };
    const a = masks(3);
    assert.notDeepEqual(a[0], a[1]);
    assert.notDeepEqual(a[1], a[2]);
    assert.deepEqual(masks(3), a);
    assert.notDeepEqual(masks(4)[0], a[0]);
    x.dispose();
  });

  it("drops the same units on cpu and wasm from the same seed, call after call", async () => {
    const backend = tf.getBackend();
    const outputs = async (name: string) => {
      await tf.setBackend(name);
      const x = normalTensor(new Rng(8), [3, 4, 10]);
      const layer = new SeededDropout({ rate: 0.4, seed: 7 });
      // −0 and +0 are one value here: a dropped negative unit is x·0 = −0 on cpu and +0 from the wasm kernel.
      const calls = [0, 1, 2].map(() =>
        Array.from(take(layer.apply(x, { training: true }) as tf.Tensor), (v) => v + 0),
      );
      x.dispose();
      return calls;
    };
    assert.ok(tf.getKernel(DROPOUT, "wasm"), "wasm runs the fused kernel, cpu the JavaScript mask");
    try {
      const onWasm = await outputs("wasm");
      assert.notDeepEqual(onWasm[0], onWasm[1]);
      assert.deepEqual(await outputs("cpu"), onWasm);
    } finally {
      await tf.setBackend(backend);
    }
  });

  it("is needed because tf.layers.dropout with a seed repeats one mask on every call", () => {
    const x = tf.ones([4, 25]);
    const tfjsDropout = tf.layers.dropout({ rate: 0.5, seed: 3 });
    const first = take(tfjsDropout.apply(x, { training: true }) as tf.Tensor);
    const second = take(tfjsDropout.apply(x, { training: true }) as tf.Tensor);
    assert.deepEqual(second, first); // if tfjs ever changes this, SeededDropout could give way to it
    x.dispose();
  });

  it("round-trips its config and rejects a bad rate or missing seed", () => {
    const layer = new SeededDropout({ rate: 0.25, seed: 5, name: "drop" });
    const config = layer.getConfig();
    assert.equal(config.rate, 0.25);
    assert.deepEqual((SeededDropout.fromConfig(SeededDropout, config) as SeededDropout).getConfig(), config);
    assert.throws(() => new SeededDropout({ rate: 1, seed: 1 }), /rate must be a number in \[0, 1\)/);
    assert.throws(() => new SeededDropout({ rate: 0.1 } as never), /seed must be a finite number/);
  });

  it("leaks no tensors", async () => {
    const x = tf.ones([3, 4]);
    const layer = new SeededDropout({ rate: 0.5, seed: 6 });
    await assertNoLeak(() => {
      disposeOutput(layer.apply(x, { training: true }));
      disposeOutput(layer.apply(x));
    });
    x.dispose();
  });
});
