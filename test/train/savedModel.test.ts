import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { BertForPretraining, BertForSequenceClassification } from "../../src/models/bert";
import { BprMf } from "../../src/models/bpr";
import { KNNBasic } from "../../src/models/knn";
import { MatrixFactorization } from "../../src/models/matrixFactorization";
import { CsrMatrix } from "../../src/data/csr";
import { saveCheckpoint } from "../../src/train/checkpoint";
import { arrayModelFormat, csrArrays, readCsr, savedModelName } from "../../src/train/savedModel";
import { assertNoLeak } from "../support/assertions";
import { pairs } from "../models/implicitFixtures";
import { smallRatings } from "../models/ratingFixtures";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("train/savedModel", () => {
  let root: string;
  before(async () => {
    await initBackend();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-saved-"));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A BprMf over 6 users and 6 items (userFactors and itemFactors both [6, 4]), saved to `dir`. */
  async function savedBpr(dir: string): Promise<{ jsonPath: string; binPath: string; json: Buffer; bin: Buffer }> {
    const model = new BprMf(6, 6, { factors: 4, seed: 1 });
    await model.save(dir);
    model.dispose();
    const jsonPath = path.join(dir, "checkpoint.json");
    const binPath = path.join(dir, "weights.bin");
    return { jsonPath, binPath, json: fs.readFileSync(jsonPath), bin: fs.readFileSync(binPath) };
  }

  it("writes the checkpoint format: weight specs, sha256, the config under state", async () => {
    const dir = path.join(root, "format");
    const { json, bin } = await savedBpr(dir);
    const parsed = JSON.parse(json.toString());
    assert.equal(parsed.format, "recsys-ts-checkpoint");
    assert.deepEqual(
      parsed.weightSpecs.map((s: { name: string; shape: number[] }) => [s.name, s.shape]),
      [
        ["userFactors", [6, 4]],
        ["itemFactors", [6, 4]],
        ["itemBias", [6]],
      ],
    );
    assert.equal(parsed.sha256, createHash("sha256").update(bin).digest("hex"));
    assert.deepEqual(parsed.state, {
      model: "BprMf",
      config: { numUsers: 6, numItems: 6, factors: 4, regularization: 0.01, itemBias: true },
    });
  });

  it("loads in the browser's way, from the JSON and the weights' bytes", async () => {
    const model = new BprMf(6, 6, { factors: 4, seed: 2 });
    const dir = path.join(root, "artifacts");
    await model.save(dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8"));
    const bytes = fs.readFileSync(path.join(dir, "weights.bin"));
    const loaded = await BprMf.fromArtifacts(
      json,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    assert.deepEqual(loaded.scoreItems(Int32Array.of(0, 5)), model.scoreItems(Int32Array.of(0, 5)));
    loaded.dispose();
    model.dispose();
  });

  it("fails on a damaged file naming the file and the weight, and leaks no tensor", async () => {
    const dir = path.join(root, "damaged");
    const good = await savedBpr(dir);
    const { jsonPath, binPath } = good;
    const expectFailure = async (pattern: RegExp) => {
      await assertNoLeak(
        () => assert.rejects(BprMf.load(dir), pattern),
        `tensors leaked by a load failing with ${pattern}`,
      );
      fs.writeFileSync(jsonPath, good.json);
      fs.writeFileSync(binPath, good.bin);
    };
    const rewrite = (edit: (json: { weightSpecs: { name: string; shape: unknown }[]; sha256: string }) => void) => {
      const json = JSON.parse(good.json.toString());
      edit(json);
      fs.writeFileSync(jsonPath, JSON.stringify(json));
    };

    // A same-size shape swap: [6, 4] written as [4, 6] (24 floats either way).
    rewrite((json) => (json.weightSpecs[0].shape = [4, 6]));
    await expectFailure(
      new RegExp(
        `BprMf.load: ${escape(jsonPath)}: weight 'userFactors' has shape \\[4,6\\], the model's variable \\[6,4\\]`,
      ),
    );
    // A shape that is not a list.
    rewrite((json) => (json.weightSpecs[1].shape = 24));
    await expectFailure(
      new RegExp(
        `BprMf.load: ${escape(jsonPath)}: weightSpecs\\[1\\] \\(weight 'itemFactors'\\): "shape" must be a list of integers >= 0, got 24`,
      ),
    );
    // A truncated binary: 120 of 216 bytes, so the file ends inside itemFactors (bytes 96..191).
    fs.writeFileSync(binPath, good.bin.subarray(0, 120));
    await expectFailure(
      new RegExp(
        `${escape(binPath)} holds 120 bytes, ${escape(jsonPath)} says 216: the file is truncated inside weight 'itemFactors'`,
      ),
    );
    // NaN weights, with the checksum made to match: caught by the value check.
    const withNaN = Buffer.from(good.bin);
    withNaN.writeFloatLE(NaN, 96 + 4 * 5);
    fs.writeFileSync(binPath, withNaN);
    rewrite((json) => (json.sha256 = createHash("sha256").update(withNaN).digest("hex")));
    await expectFailure(new RegExp(`${escape(binPath)}: weight 'itemFactors' holds NaN at index 5`));
    // Two same-shape weights swapped in the binary: the checksum.
    fs.writeFileSync(
      binPath,
      Buffer.concat([good.bin.subarray(96, 192), good.bin.subarray(0, 96), good.bin.subarray(192)]),
    );
    await expectFailure(new RegExp(`BprMf.load: ${escape(binPath)} fails its checksum .*: the file is corrupt`));
    // ... or their names swapped in the JSON: the weight specs' checksum.
    rewrite(
      (json) =>
        ([json.weightSpecs[0].name, json.weightSpecs[1].name] = [json.weightSpecs[1].name, json.weightSpecs[0].name]),
    );
    await expectFailure(new RegExp(`BprMf.load: ${escape(jsonPath)}: its weightSpecs fail their checksum`));
    // Another model's file, and a training checkpoint.
    rewrite((json) => ((json as unknown as { state: { model: string } }).state.model = "NeuralCF"));
    await expectFailure(new RegExp(`BprMf.load: ${escape(jsonPath)} holds a NeuralCF, not a BprMf`));

    // The undamaged file still loads.
    const loaded = await BprMf.load(dir);
    loaded.dispose();
  });

  it("refuses a training checkpoint and a config that builds no model", async () => {
    const model = new BprMf(3, 4, { factors: 2, seed: 1 });
    const dir = path.join(root, "checkpoint");
    await saveCheckpoint(dir, { weights: model.namedWeights(), state: { epoch: 1 } });
    await assert.rejects(
      BprMf.load(dir),
      /BprMf.load: .*checkpoint.json holds no saved model \(a training checkpoint\?\)/,
    );
    await saveCheckpoint(dir, {
      weights: model.namedWeights(),
      state: { model: "BprMf", config: { numUsers: -3, numItems: 4, factors: 2 } },
    });
    await assert.rejects(
      BprMf.load(dir),
      /"state.config" does not build a BprMf: BprMf: numUsers must be a positive integer, got -3/,
    );
    model.dispose();
  });

  it("a model built from data loads only with the same data, id maps included", async () => {
    const train = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 2],
        [2, 3],
        [2, 1],
      ],
      3,
      4,
    );
    const model = new MatrixFactorization(train, { factors: 2, seed: 1 });
    const dir = path.join(root, "mf");
    await model.save(dir);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8")).state.data;
    assert.deepEqual(
      [saved.numUsers, saved.numItems, saved.rows, saved.userIds, saved.itemIds],
      [3, 4, 5, ["u0", "u1", "u2"], ["i0", "i1", "i2", "i3"]],
    );

    const moreRows = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 2],
        [2, 3],
        [2, 1],
        [1, 1],
      ],
      3,
      4,
    );
    await assert.rejects(
      MatrixFactorization.load(dir, moreRows),
      /MatrixFactorization.load: .*checkpoint.json was trained on 'tiny' with rows 5; 'tiny' has 6/,
    );
    const otherRows = pairs(
      [
        [0, 0],
        [0, 1],
        [1, 2],
        [2, 3],
        [2, 2],
      ],
      3,
      4,
    );
    await assert.rejects(
      MatrixFactorization.load(dir, otherRows),
      /with row contents \(sha256 of users, items, ratings\)/,
    );
    const loaded = await MatrixFactorization.load(dir, train);
    assert.deepEqual(loaded.scoreItems(Int32Array.of(0, 1, 2)), model.scoreItems(Int32Array.of(0, 1, 2)));
    for (const m of [model, loaded]) m.dispose();
  });

  describe("models that hold typed arrays (arrayModelFormat)", () => {
    /** A toy array model: a sparse matrix and a scale factor. */
    const format = arrayModelFormat(
      "Toy",
      ({ config, fitted, arrays }) => ({
        scale: config.scale as number,
        matrix: readCsr(arrays, "m", fitted.rows as number, fitted.cols as number),
      }),
      (train?: ReturnType<typeof pairs>) => train,
    );
    const matrix = CsrMatrix.fromDense([
      [0, 1.5, 0],
      [2, 0, 0.1],
    ]);

    it("saves config, fitted values and arrays, and restores them exactly", async () => {
      const dir = path.join(root, "toy");
      await format.save(dir, { config: { scale: 3 }, fitted: { rows: 2, cols: 3 }, arrays: csrArrays("m", matrix) });
      const json = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8"));
      assert.deepEqual(json.state, { model: "Toy", config: { scale: 3 }, fitted: { rows: 2, cols: 3 } });
      assert.deepEqual(
        json.weightSpecs.map((s: { name: string; dtype: string }) => `${s.name}:${s.dtype}`),
        ["m/offsets:int32", "m/indices:int32", "m/values:float64"],
      );
      assert.equal(await savedModelName(dir), "Toy");
      const toy = await format.load(dir);
      assert.equal(toy.scale, 3);
      assert.deepEqual(Array.from(toy.matrix.toDense()), [0, 1.5, 0, 2, 0, 0.1]);
      await assert.rejects(savedModelName(path.join(root, "nowhere")), /savedModelName: cannot read .*checkpoint.json/);
    });

    it("names the weights when the arrays do not form what the model reads", async () => {
      const dir = path.join(root, "toy-bad");
      const broken = [
        { name: "m/offsets", values: Int32Array.of(0, 2, 1), shape: [3] },
        { name: "m/indices", values: Int32Array.of(1), shape: [1] },
        { name: "m/values", values: Float64Array.of(1), shape: [1] },
      ];
      await format.save(dir, { config: {}, fitted: { rows: 2, cols: 3 }, arrays: broken });
      await assert.rejects(
        format.load(dir),
        /Toy.load: .*checkpoint.json: weight 'm\/offsets' and its indices do not form a sparse matrix: CsrMatrix: offsets decrease at row 1/,
      );
      // A fitted value that reads no array of the saved shape.
      await format.save(dir, { config: {}, fitted: { rows: 3, cols: 3 }, arrays: csrArrays("m", matrix) });
      await assert.rejects(
        format.load(dir),
        /Toy.load: .*checkpoint.json: weight 'm\/offsets' has shape \[3\], the model expects \[4\]/,
      );
      // An error of the model's own: the saved state does not restore it.
      const failing = arrayModelFormat("Toy", () => {
        throw new Error("Toy: scale must be a number");
      });
      await assert.rejects(
        failing.load(dir),
        /Toy.load: .*checkpoint.json: the saved state does not restore a Toy: Toy: scale must be a number/,
      );
    });

    it("a fitted model loads without its data (no refit), and checks the data when given", async () => {
      const train = smallRatings();
      const model = new KNNBasic({ k: 2 }).fit(train);
      const dir = path.join(root, "knn");
      await model.save(dir);
      const users = Int32Array.of(0, 1, 2, 3);
      const items = Int32Array.of(2, 2, 3, 0);
      assert.deepEqual((await KNNBasic.load(dir)).predict(users, items), model.predict(users, items));
      assert.deepEqual((await KNNBasic.load(dir, train)).predict(users, items), model.predict(users, items));
      await assert.rejects(
        KNNBasic.load(dir, smallRatings([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0])),
        /KNNBasic.load: .*checkpoint.json was trained on .* with row contents \(sha256 of users, items, ratings\)/,
      );
      await assert.rejects(
        KNNBasic.load(dir, pairs([[0, 0]], 1, 1)),
        /was trained on .* with numUsers 5; 'tiny' has 1/,
      );
    });
  });

  it("BERT pretraining and the sequence classifier save and load every weight", async () => {
    const model = new BertForPretraining({
      vocabSize: 20,
      hiddenSize: 8,
      numLayers: 1,
      numHeads: 2,
      maxPositions: 6,
      dropout: 0,
      seed: 3,
    });
    const dir = path.join(root, "bert");
    await model.save(dir);
    const loaded = await BertForPretraining.load(dir);
    assert.deepEqual(loaded.config, model.config);
    const values = (m: BertForPretraining | BertForSequenceClassification) =>
      m.namedWeights().map((w) => [w.name, Array.from(w.variable.dataSync())]);
    assert.deepEqual(values(loaded), values(model));
    for (const m of [model, loaded]) m.dispose();

    const classifier = new BertForSequenceClassification({
      bert: { vocabSize: 20, hiddenSize: 8, numLayers: 1, numHeads: 2, maxPositions: 6, seed: 4 },
      numLabels: 3,
      dropout: 0.2,
      seed: 5,
    });
    await classifier.save(path.join(root, "classifier"));
    const reloaded = await BertForSequenceClassification.load(path.join(root, "classifier"));
    assert.deepEqual([reloaded.numLabels, reloaded.bert.config], [3, classifier.bert.config]);
    assert.deepEqual(values(reloaded), values(classifier));
    for (const m of [classifier, reloaded]) m.dispose();
  });
});
