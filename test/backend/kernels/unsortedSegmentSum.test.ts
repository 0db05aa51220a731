import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { registerWasmTrainingKernels } from "../../../src/backend/kernels/index";
import { Rng } from "../../../src/backend/random";
import { resultOn, useWasmTrainingKernels } from "./support";
import { assertClose } from "../../support/assertions";

function normals(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

// Segment ids in [-2, numSegments + 2): negative and too-large ids included, duplicates likely.
function segmentIds(rng: Rng, n: number, numSegments: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(numSegments + 4) - 2);
}

describe("UnsortedSegmentSum on the wasm backend", () => {
  useWasmTrainingKernels();

  it("sums rows by segment in a hand-checked example, dropping out-of-range ids", async () => {
    const result = await resultOn("wasm", () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
          [9, 10],
        ]),
        tf.tensor1d([2, 0, 2, -1, 3], "int32"),
        3,
      ),
    );
    assert.deepEqual(result, { shape: [3, 2], dtype: "float32", values: [3, 4, 0, 0, 6, 8] });
  });

  it("equals the cpu backend on random float32 inputs of several shapes", async () => {
    const rng = new Rng(101);
    const cases: Array<{ shape: number[]; numSegments: number }> = [
      { shape: [50], numSegments: 7 },
      { shape: [40, 3], numSegments: 1 },
      { shape: [33, 5], numSegments: 12 },
      { shape: [30, 2, 4], numSegments: 9 },
      { shape: [6, 3], numSegments: 100 }, // more segments than rows: most stay zero
      { shape: [70, 9], numSegments: 5 }, // rows of two SIMD vectors and a tail
    ];
    for (const { shape, numSegments } of cases) {
      const x = normals(rng, tf.util.sizeFromShape(shape));
      const ids = segmentIds(rng, shape[0], numSegments);
      const f = () => tf.unsortedSegmentSum(tf.tensor(x, shape), tf.tensor1d(ids, "int32"), numSegments);
      const wasm = await resultOn("wasm", f);
      const cpu = await resultOn("cpu", f);
      assert.deepEqual(wasm.shape, [numSegments, ...shape.slice(1)]);
      assert.deepEqual(wasm.shape, cpu.shape);
      assertClose(wasm.values, cpu.values, { atol: 1e-5, rtol: 1e-5 });
    }
  });

  it("sums int32 inputs exactly and keeps their dtype", async () => {
    const rng = new Rng(202);
    const x = Int32Array.from({ length: 60 * 4 }, () => rng.int(201) - 100);
    const ids = segmentIds(rng, 60, 10);
    const f = () => tf.unsortedSegmentSum(tf.tensor2d(x, [60, 4], "int32"), tf.tensor1d(ids, "int32"), 10);
    const wasm = await resultOn("wasm", f);
    const cpu = await resultOn("cpu", f); // tfjs's cpu kernel returns float32 here; TensorFlow keeps int32
    assert.equal(wasm.dtype, "int32");
    assert.deepEqual(wasm.values, cpu.values);
  });

  it("takes segment ids with the leading shape of x, summing over all their axes", async () => {
    // tfjs types segmentIds as 1-D; the op and this kernel, like TensorFlow's, accept x's leading shape.
    const ids2d = (values: number[] | Int32Array, shape: [number, number]) =>
      tf.tensor2d(values, shape, "int32") as tf.Tensor as tf.Tensor1D;
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    const ids = ids2d([0, 1, 1, -1, 0, 5], [2, 3]);
    const handChecked = await resultOn("wasm", () => tf.unsortedSegmentSum(x, ids, 2));
    // Segment 0: rows (0,0) and (1,1); segment 1: rows (0,1) and (0,2); (1,0) and (1,2) are dropped.
    assert.deepEqual(handChecked, { shape: [2, 2], dtype: "float32", values: [1 + 9, 2 + 10, 3 + 5, 4 + 6] });

    // On random inputs it equals the cpu backend applied to the flattened ids, which is the same sum
    // (the cpu kernel itself mishandles ids of rank above 1: it sums over the first axis only).
    const rng = new Rng(303);
    const xs = normals(rng, 5 * 4 * 3);
    const idValues = segmentIds(rng, 5 * 4, 6);
    const wasm = await resultOn("wasm", () =>
      tf.unsortedSegmentSum(tf.tensor3d(xs, [5, 4, 3]), ids2d(idValues, [5, 4]), 6),
    );
    const cpu = await resultOn("cpu", () =>
      tf.unsortedSegmentSum(tf.tensor2d(xs, [20, 3]), tf.tensor1d(idValues, "int32"), 6),
    );
    assert.deepEqual(wasm.shape, [6, 3]);
    assertClose(wasm.values, cpu.values, { atol: 1e-5, rtol: 1e-5 });

    x.dispose();
    ids.dispose();
  });

  it("returns zeros where no id lands, even in freshly reused heap memory", async () => {
    await tf.setBackend("wasm");
    tf.tidy(() => tf.fill([64, 8], 7).dataSync()); // leaves nonzero bytes in freed heap memory
    const result = await resultOn("wasm", () =>
      tf.unsortedSegmentSum(tf.fill([5, 8], 1), tf.tensor1d([-1, 64, 99, -5, 70], "int32"), 64),
    );
    assert.deepEqual(result.shape, [64, 8]);
    assert.ok(result.values.every((v) => v === 0));
  });

  it("handles empty inputs and zero segments", async () => {
    const noRows = await resultOn("wasm", () => tf.unsortedSegmentSum(tf.zeros([0, 3]), tf.tensor1d([], "int32"), 2));
    assert.deepEqual(noRows, { shape: [2, 3], dtype: "float32", values: [0, 0, 0, 0, 0, 0] });
    const noSegments = await resultOn("wasm", () =>
      tf.unsortedSegmentSum(tf.ones([4, 3]), tf.tensor1d([0, 1, 0, 2], "int32"), 0),
    );
    assert.deepEqual(noSegments, { shape: [0, 3], dtype: "float32", values: [] });
  });

  it("rejects segment ids whose shape is not a prefix of x's", async () => {
    await tf.setBackend("wasm");
    const x = tf.ones([3, 2]);
    const ids = tf.tensor1d([0, 1], "int32");
    assert.throws(() => tf.unsortedSegmentSum(x, ids, 2), /segmentIds shape \[2\] must be a prefix of x shape \[3,2\]/);
    x.dispose();
    ids.dispose();
  });

  it("registers once: registerWasmTrainingKernels may be called again", () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const registered = tf.getKernelsForBackend("wasm").filter((kernel) => kernel.kernelName === "UnsortedSegmentSum");
    assert.equal(registered.length, 1);
  });

  it("makes the gradient of tf.gather (an embedding lookup) on wasm equal cpu's, without leaking tensors", async () => {
    const rng = new Rng(404);
    const table = normals(rng, 20 * 8);
    // A batch of 5 sequences of 6 item ids: duplicates within and across rows.
    const ids = Int32Array.from({ length: 30 }, () => rng.int(12));
    const weights = normals(rng, 30 * 8);
    const gradient = () =>
      tf.grad((embeddings: tf.Tensor) =>
        tf
          .gather(embeddings, tf.tensor2d(ids, [5, 6], "int32"))
          .mul(tf.tensor3d(weights, [5, 6, 8]))
          .sum(),
      )(tf.tensor2d(table, [20, 8]));

    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const wasm = await resultOn("wasm", gradient);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    const cpu = await resultOn("cpu", gradient);

    assert.deepEqual(wasm.shape, [20, 8]);
    assertClose(wasm.values, cpu.values, { atol: 1e-5, rtol: 1e-5 });
    // Rows 12..19 are never looked up, so their gradient is zero.
    assert.ok(wasm.values.slice(12 * 8).every((v) => v === 0));
  });

  it("lets Adam train an embedding lookup on wasm, matching cpu within 1e-5", async () => {
    const rng = new Rng(505);
    const initialTable = normals(rng, 15 * 4);
    const ids = Int32Array.from({ length: 24 }, () => rng.int(15));
    const targets = normals(rng, 24);
    const direction = normals(rng, 4);

    const train = async (backend: "cpu" | "wasm"): Promise<number[]> => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const table = tf.tidy(() => tf.variable(tf.tensor2d(initialTable, [15, 4]))); // tidy frees the initial value
      const optimizer = tf.train.adam(0.05);
      for (let step = 0; step < 3; step++) {
        optimizer.minimize(() => {
          const scores = tf.gather(table, tf.tensor1d(ids, "int32")).matMul(tf.tensor2d(direction, [4, 1]));
          return tf.losses.meanSquaredError(tf.tensor2d(targets, [24, 1]), scores) as tf.Scalar;
        });
      }
      const trained = Array.from(table.dataSync());
      optimizer.dispose();
      table.dispose();
      assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
      return trained;
    };

    const wasm = await train("wasm");
    const cpu = await train("cpu");
    assertClose(wasm, cpu, { atol: 1e-5, rtol: 1e-5 });
    assert.notDeepEqual(wasm, Array.from(initialTable), "training changed nothing");
  });
});
