// The checkpoint format in memory, as a browser uses it (no files): encoding variables and typed arrays,
// verifying the bytes against the JSON, and reading them back. checkpoint.test.ts covers the files.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import {
  CheckpointArrays,
  encodeArrays,
  encodeCheckpoint,
  EncodedCheckpoint,
  restoreCheckpoint,
  sha256,
  verifyCheckpoint,
} from "../../src/train/checkpointFormat";
import { assertNoLeak } from "../support/assertions";

const SOURCE = { json: "model.json", weights: "model.bin" };

/** Three arrays of every stored kind; 0.1 and 1/3 have no float32 twin, so float64 must come back exact. */
function threeArrays() {
  return [
    { name: "counts", values: Int32Array.of(3, -1, 7), shape: [3] },
    { name: "means", values: Float64Array.of(0.1, 1 / 3, -2.5, 1e300), shape: [2, 2] },
    { name: "flags", values: Uint8Array.of(1, 0), shape: [2] },
  ];
}

function arraysOf(encoded: EncodedCheckpoint, bytes: Uint8Array = encoded.data) {
  return verifyCheckpoint("test", JSON.parse(JSON.stringify(encoded.json)), bytes, SOURCE);
}

describe("train/checkpointFormat", () => {
  before(async () => {
    await initBackend();
  });

  it("sha256 is the standard digest", async () => {
    // FIPS 180-2's example: sha256("abc").
    assert.equal(
      await sha256(new TextEncoder().encode("abc")),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("encodes typed arrays in order, little-endian, with one checksum per weight", async () => {
    const encoded = await encodeArrays("test", threeArrays(), { model: "M" });
    assert.deepEqual(
      encoded.json.weightSpecs.map((s) => [s.name, s.dtype, s.shape]),
      [
        ["counts", "int32", [3]],
        ["means", "float64", [2, 2]],
        ["flags", "bool", [2]],
      ],
    );
    // 3 int32 + 4 float64 + 2 bool bytes.
    assert.equal(encoded.data.byteLength, 12 + 32 + 2);
    const view = new DataView(encoded.data.buffer, encoded.data.byteOffset);
    assert.equal(view.getInt32(4, true), -1);
    assert.equal(view.getFloat64(12 + 8, true), 1 / 3);
    assert.equal(encoded.data[12 + 32], 1);
    assert.equal(encoded.json.weightSha256s?.length, 3);
    assert.equal(encoded.json.weightSha256s?.[0], await sha256(encoded.data.subarray(0, 12)));
    assert.deepEqual(encoded.json.state, { model: "M" });
  });

  it("reads every array back bit for bit, each a copy", async () => {
    const encoded = await encodeArrays("test", threeArrays(), {});
    const arrays = new CheckpointArrays("test", await arraysOf(encoded));
    const means = arrays.float64("means", [2, 2]);
    assert.deepEqual(Array.from(means), [0.1, 1 / 3, -2.5, 1e300]);
    assert.deepEqual(Array.from(arrays.int32("counts", [3])), [3, -1, 7]);
    assert.deepEqual(Array.from(arrays.bool("flags", [2])), [1, 0]);
    encoded.data.fill(0);
    assert.equal(means[1], 1 / 3, "a copy, not a view of the checkpoint's bytes");
    await arrays.finish();
  });

  it("names the file and the weight when reading fails", async () => {
    const encoded = await encodeArrays("test", threeArrays(), {});
    const arrays = new CheckpointArrays("test", await arraysOf(encoded));
    assert.throws(() => arrays.float64("missing", [1]), /^Error: test: model.json has no weight 'missing'$/);
    assert.throws(
      () => arrays.float32("means", [2, 2]),
      /test: model.json: weight 'means' has dtype float64, the model reads float32/,
    );
    assert.throws(
      () => arrays.int32("counts", [4]),
      /test: model.json: weight 'counts' has shape \[3\], the model expects \[4\]/,
    );
    // Reading only some of the weights: the others are reported by finish().
    arrays.int32("counts", [3]);
    await assert.rejects(arrays.finish(), /test: model.json has a weight 'means' that the model does not read/);
  });

  it("a flipped byte fails the checksum and names the weight it fell in", async () => {
    const encoded = await encodeArrays("test", threeArrays(), {});
    const damaged = encoded.data.slice();
    damaged[12 + 9] ^= 0x01; // inside "means" (bytes 12..43)
    await assert.rejects(
      arraysOf(encoded, damaged),
      /test: model.bin fails its checksum \(sha256 [0-9a-f]{64}, model.json says [0-9a-f]{64}\), first in weight 'means' \(bytes 12–43\): the file is corrupt/,
    );
    // Without per-weight checksums (an older checkpoint), the whole file is all it can name.
    const older = { ...encoded, json: { ...encoded.json, weightSha256s: undefined } };
    await assert.rejects(arraysOf(older, damaged), /model.bin fails its checksum \([^)]*\): the file is corrupt/);
  });

  it("a renamed weight is caught by name, then by the specs' checksum", async () => {
    const encoded = await encodeArrays("test", threeArrays(), {});
    const json = JSON.parse(JSON.stringify(encoded.json));
    json.weightSpecs[0].name = "tallies";
    const arrays = new CheckpointArrays("test", await verifyCheckpoint("test", json, encoded.data, SOURCE));
    assert.throws(() => arrays.int32("counts", [3]), /test: model.json has no weight 'counts'/);
    // A reader that asks for the new name gets it, but finish() sees that the specs were edited.
    const renamed = new CheckpointArrays("test", await verifyCheckpoint("test", json, encoded.data, SOURCE));
    renamed.int32("tallies", [3]);
    renamed.float64("means", [2, 2]);
    renamed.bool("flags", [2]);
    await assert.rejects(renamed.finish(), /its weightSpecs fail their checksum/);
  });

  it("refuses to save what it could not read back", async () => {
    await assert.rejects(
      encodeArrays("test", [{ name: "x", values: Float64Array.of(1, NaN), shape: [2] }], {}),
      /test: weight 'x' holds NaN at index 1; not saving a diverged model/,
    );
    await assert.rejects(
      encodeArrays("test", [{ name: "x", values: Float32Array.of(1, 2), shape: [3] }], {}),
      /test: array 'x' has 2 values for shape \[3\]/,
    );
    await assert.rejects(
      encodeArrays("test", [{ name: "x", values: Uint8Array.of(2), shape: [1] }], {}),
      /array 'x' holds 2 at index 0; bool is 0 or 1/,
    );
    await assert.rejects(
      encodeArrays("test", [{ name: "x", values: [1, 2] as unknown as Int32Array, shape: [2] }], {}),
      /array 'x' must be a Float32Array, Float64Array, Int32Array or Uint8Array/,
    );
    const twice = { name: "x", values: Int32Array.of(1), shape: [1] };
    await assert.rejects(encodeArrays("test", [twice, twice], {}), /two arrays are named 'x'/);
  });

  it("a float64 weight does not load into a tfjs variable", async () => {
    const encoded = await encodeArrays("test", [{ name: "w", values: Float64Array.of(1, 2), shape: [2] }], {});
    const variable = tf.variable(tf.zeros([2]));
    await assert.rejects(
      restoreCheckpoint("test", await arraysOf(encoded), { weights: [{ name: "w", variable }] }),
      /model.json: weight 'w' has dtype float64, the model's variable float32/,
    );
    variable.dispose();
  });

  it("round-trips tfjs variables in memory, leaking nothing", async () => {
    const source = tf.variable(tf.tensor2d([1.5, -2, 0.25, 4], [2, 2]));
    const target = tf.variable(tf.zeros([2, 2]));
    const encoded = await encodeCheckpoint("test", { weights: [{ name: "w", variable: source }], state: { step: 3 } });
    await assertNoLeak(async () => {
      const state = await restoreCheckpoint("test", await arraysOf(encoded), {
        weights: [{ name: "w", variable: target }],
      });
      assert.deepEqual(state, { step: 3 });
    });
    assert.deepEqual(Array.from(target.dataSync()), [1.5, -2, 0.25, 4]);
    tf.dispose([source, target]);
  });
});
