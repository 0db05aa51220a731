import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { fileSystemIO, MODEL_JSON, WEIGHTS_BIN } from "../../src/nn/fileSystemIO";
import { normalTensor, randomizeWeights, take } from "./support";

function denseModel(rng: Rng): tf.LayersModel {
  const input = tf.input({ shape: [3] });
  const hidden = tf.layers.dense({ units: 4, activation: "relu", name: "hidden" }).apply(input) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 2, name: "output" }).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  for (const layer of model.layers) randomizeWeights(layer, rng);
  return model;
}

describe("nn/fileSystemIO", () => {
  let dir: string;

  before(async () => {
    await initBackend();
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-io-"));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes model.json and weights.bin in tfjs's standard format, and reads them back", async () => {
    const rng = new Rng(1);
    const model = denseModel(rng);
    const target = path.join(dir, "nested", "model"); // created on save
    const result = await model.save(fileSystemIO(target));
    assert.deepEqual(fs.readdirSync(target).sort(), [MODEL_JSON, WEIGHTS_BIN]);
    const json = JSON.parse(fs.readFileSync(path.join(target, MODEL_JSON), "utf8"));
    assert.equal(json.format, "layers-model");
    assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
    assert.deepEqual(
      json.weightsManifest[0].weights.map((w: { name: string }) => w.name),
      ["hidden/kernel", "hidden/bias", "output/kernel", "output/bias"],
    );
    const parameters = 3 * 4 + 4 + 4 * 2 + 2;
    assert.equal(fs.statSync(path.join(target, WEIGHTS_BIN)).size, 4 * parameters);
    assert.equal(result.modelArtifactsInfo.weightDataBytes, 4 * parameters);
    // weights.bin holds the float32 values in manifest order.
    const bin = fs.readFileSync(path.join(target, WEIGHTS_BIN));
    const stored = new Float32Array(bin.buffer, bin.byteOffset, parameters);
    assert.deepEqual(Array.from(stored.subarray(0, 12)), Array.from(model.getWeights()[0].dataSync()));

    const loaded = await tf.loadLayersModel(fileSystemIO(target));
    const x = normalTensor(rng, [5, 3]);
    assert.deepEqual(take(loaded.predict(x) as tf.Tensor), take(model.predict(x) as tf.Tensor));
    model.dispose();
    loaded.dispose();
    x.dispose();
  });

  it("loads weights sharded over several files, as tfjs-converter writes them", async () => {
    const rng = new Rng(2);
    const model = denseModel(rng);
    await model.save(fileSystemIO(dir));
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), "utf8"));
    const bin = fs.readFileSync(path.join(dir, WEIGHTS_BIN));
    fs.writeFileSync(path.join(dir, "group1-shard1of2.bin"), bin.subarray(0, 40));
    fs.writeFileSync(path.join(dir, "group1-shard2of2.bin"), bin.subarray(40));
    fs.rmSync(path.join(dir, WEIGHTS_BIN));
    json.weightsManifest[0].paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    const x = normalTensor(rng, [2, 3]);
    assert.deepEqual(take(loaded.predict(x) as tf.Tensor), take(model.predict(x) as tf.Tensor));
    model.dispose();
    loaded.dispose();
    x.dispose();
  });

  it("overwrites an earlier save and leaves no temporary files", async () => {
    const rng = new Rng(3);
    const first = denseModel(rng);
    const second = denseModel(rng);
    await first.save(fileSystemIO(dir));
    await second.save(fileSystemIO(dir));
    assert.deepEqual(fs.readdirSync(dir).sort(), [MODEL_JSON, WEIGHTS_BIN]);
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    assert.deepEqual(Array.from(loaded.getWeights()[0].dataSync()), Array.from(second.getWeights()[0].dataSync()));
    [first, second, loaded].forEach((m) => m.dispose());
  });

  it("fails with errors that name the file and the field", async () => {
    await assert.rejects(
      tf.loadLayersModel(fileSystemIO(path.join(dir, "missing"))),
      /cannot read .*missing\/model\.json/,
    );
    fs.writeFileSync(path.join(dir, MODEL_JSON), "{ not json");
    await assert.rejects(tf.loadLayersModel(fileSystemIO(dir)), /model\.json is not valid JSON/);
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify({ weightsManifest: [] }));
    await assert.rejects(tf.loadLayersModel(fileSystemIO(dir)), /has no "modelTopology" field/);

    const model = denseModel(new Rng(4));
    await model.save(fileSystemIO(dir));
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), "utf8"));
    json.weightsManifest[0].paths = ["../outside.bin"];
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
    await assert.rejects(
      tf.loadLayersModel(fileSystemIO(dir)),
      /weightsManifest\[0\]\.paths\[0\] = "\.\.\/outside\.bin" is not a file in/,
    );
    json.weightsManifest[0].paths = ["gone.bin"];
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
    await assert.rejects(
      tf.loadLayersModel(fileSystemIO(dir)),
      /weightsManifest\[0\]\.paths\[0\]: cannot read .*gone\.bin/,
    );
    json.weightsManifest[0].paths = [WEIGHTS_BIN];
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.alloc(12));
    await assert.rejects(
      tf.loadLayersModel(fileSystemIO(dir)),
      /the manifest describes 104 bytes of weights, the files hold 12/,
    );
    assert.throws(() => fileSystemIO(""), /dir must be a non-empty path/);
    model.dispose();
  });
});
