import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { Sar, SarSimilarity, sarCooccurrence, timeDecayFactor } from "../../src/models/sar";
import { encodeArrays } from "../../src/train/checkpointFormat";
import { assertClose, assertNoLeak } from "../support/assertions";
import { assertRefused, flipLastBit, jsonPathOf, literal, weightsPathOf } from "./savedFiles";

const DAY = 24 * 60 * 60;

/** Interactions over u0..u{numUsers−1} and i0..i{numItems−1} from (user, item, rating, timestamp) rows. */
function log(rows: Array<[number, number, number, number]>, numUsers: number, numItems: number): Interactions {
  return new Interactions({
    users: Int32Array.from(rows, (r) => r[0]),
    items: Int32Array.from(rows, (r) => r[1]),
    ratings: Float32Array.from(rows, (r) => r[2]),
    timestamps: Float64Array.from(rows, (r) => r[3]),
    userIndex: IdIndex.from(Array.from({ length: numUsers }, (_, u) => `u${u}`)),
    itemIndex: IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`)),
    name: "sar-toy",
  });
}

/**
 * 3 users × 4 rated items, and i4 that no one has (all at time 0):
 *
 *         i0  i1  i2  i3  i4
 *   u0:    5   3   ·   1   ·
 *   u1:    4   ·   2   1   ·
 *   u2:    ·   4   5   1   ·
 *
 * C = XᵀX: c_ii = 2, 2, 2, 3, 0; c_03 = c_13 = c_23 = 2; c_01 = c_02 = c_12 = 1; c_i4 = 0.
 */
function toy(): Interactions {
  const rows: Array<[number, number, number, number]> = [
    [0, 0, 5, 0],
    [0, 1, 3, 0],
    [0, 3, 1, 0],
    [1, 0, 4, 0],
    [1, 2, 2, 0],
    [1, 3, 1, 0],
    [2, 1, 4, 0],
    [2, 2, 5, 0],
    [2, 3, 1, 0],
  ];
  return log(rows, 3, 5);
}

// prettier-ignore
const COOCCURRENCE = [
  2, 1, 1, 2, 0,
  1, 2, 1, 2, 0,
  1, 1, 2, 2, 0,
  2, 2, 2, 3, 0,
  0, 0, 0, 0, 0,
];

// Jaccard c_ij / (c_ii + c_jj − c_ij): 1/(2+2−1) = 1/3 among i0..i2, 2/(2+3−2) = 2/3 with i3.
// prettier-ignore
const JACCARD = [
  1, 1 / 3, 1 / 3, 2 / 3, 0,
  1 / 3, 1, 1 / 3, 2 / 3, 0,
  1 / 3, 1 / 3, 1, 2 / 3, 0,
  2 / 3, 2 / 3, 2 / 3, 1, 0,
  0, 0, 0, 0, 0,
];

// Lift c_ij / (c_ii · c_jj): 1/4 among i0..i2, 2/4 on their diagonal, 2/6 with i3, 3/9 for i3 itself.
// prettier-ignore
const LIFT = [
  1 / 2, 1 / 4, 1 / 4, 1 / 3, 0,
  1 / 4, 1 / 2, 1 / 4, 1 / 3, 0,
  1 / 4, 1 / 4, 1 / 2, 1 / 3, 0,
  1 / 3, 1 / 3, 1 / 3, 1 / 3, 0,
  0, 0, 0, 0, 0,
];

describe("models/sar", () => {
  before(async () => {
    await initBackend();
  });

  it("counts co-occurrences C = XᵀX over distinct pairs, and zeroes counts below the threshold", () => {
    assert.deepEqual(Array.from(sarCooccurrence(toy(), 1)), COOCCURRENCE);
    // A repeated (u0, i0) does not count twice.
    const repeated = log([...rowsOf(toy()), [0, 0, 2, 0]], 3, 5);
    assert.deepEqual(Array.from(sarCooccurrence(repeated, 1)), COOCCURRENCE);
    assert.deepEqual(
      Array.from(sarCooccurrence(toy(), 2)),
      COOCCURRENCE.map((c) => (c >= 2 ? c : 0)),
    );
  });

  it("computes jaccard, lift and count similarities by hand; an item no one has gets 0, not NaN", () => {
    const similarity = (type: SarSimilarity, threshold = 1) =>
      new Sar({ similarity: type, threshold }).fit(toy()).similarity;
    assertClose(similarity("jaccard"), JACCARD, { atol: 1e-7 }, "jaccard");
    assertClose(similarity("lift"), LIFT, { atol: 1e-7 }, "lift");
    assertClose(similarity("cooccurrence"), COOCCURRENCE, { atol: 0 }, "cooccurrence");
    // cosine 2/√6 for (i0, i3); inclusion index 2/min(2, 3) = 1.
    assertClose(similarity("cosine")[3], 2 / Math.sqrt(6), { atol: 1e-7 });
    assertClose(similarity("inclusion index")[3], 1, { atol: 1e-7 });
    // Threshold 2 removes the single co-occurrences among i0..i2.
    assertClose(
      similarity("jaccard", 2),
      JACCARD.map((s, k) => (COOCCURRENCE[k] >= 2 ? s : 0)),
      { atol: 1e-7 },
      "jaccard, threshold 2",
    );
  });

  it("scores a_u S: u0's affinities [5, 3, 0, 1, 0] times the Jaccard similarities", () => {
    const model = new Sar().fit(toy());
    const scores = model.scoreItems(Int32Array.of(0));
    const a = [5, 3, 0, 1, 0];
    const expected = [0, 1, 2, 3, 4].map((j) => a.reduce((s, ai, i) => s + ai * JACCARD[i * 5 + j], 0));
    assertClose(scores, expected, { atol: 1e-6 });
    // i2, the one item u0 lacks: (5 + 3)/3 + 1·2/3 = 10/3.
    assertClose(scores[2], 10 / 3, { atol: 1e-6 });
  });

  it("decays affinities by half every half-life before t₀, sums repeats, and caps the factor at 1", () => {
    assert.equal(timeDecayFactor(100, 100, 10), 1);
    assert.equal(timeDecayFactor(90, 100, 10), 0.5);
    assert.equal(timeDecayFactor(80, 100, 10), 0.25);
    assert.equal(timeDecayFactor(110, 100, 10), 1, "after t₀");
    // u0 rated i0 four at t₀ = day 10 (the latest timestamp) and i1 twice: 2 at day 9, 4 at day 8;
    // u1 rated i1 three at day 6. Half-life 1 day.
    const train = log(
      [
        [0, 0, 4, 10 * DAY],
        [0, 1, 2, 9 * DAY],
        [0, 1, 4, 8 * DAY],
        [1, 1, 3, 6 * DAY],
      ],
      2,
      2,
    );
    const affinity = new Sar({ timeDecay: true, halfLifeDays: 1 }).fit(train).affinity;
    assert.deepEqual(Array.from(affinity.toDense()), [4, 2 * 0.5 + 4 * 0.25, 0, 3 / 16]);
    // An explicit t₀ two days later halves everything twice more; one before u0's last rating caps it.
    const later = new Sar({ timeDecay: true, halfLifeDays: 1, timeNow: 12 * DAY }).fit(train).affinity;
    assertClose(later.toDense(), [1, 0.5, 0, 3 / 64], { atol: 1e-12 });
    const earlier = new Sar({ timeDecay: true, halfLifeDays: 1, timeNow: 9 * DAY }).fit(train).affinity;
    assertClose(earlier.toDense(), [4, 2 + 4 * 0.5, 0, 3 / 8], { atol: 1e-12 });
    // Without decay, repeats are summed as they are.
    assert.deepEqual(Array.from(new Sar().fit(train).affinity.toDense()), [4, 6, 0, 3]);
  });

  it("normalizes each user's scores as SAR does: by the unity-affinity scores and the rating range", () => {
    const train = toy();
    const plain = new Sar().fit(train).scoreItems(Int32Array.of(1));
    const normalized = new Sar({ normalize: true }).fit(train).scoreItems(Int32Array.of(1));
    // u1 has i0, i2, i3: unity scores c = Σ of those rows of S; ratings range over [1, 5].
    const c = [0, 1, 2, 3, 4].map((j) => JACCARD[j] + JACCARD[10 + j] + JACCARD[15 + j]);
    const low = Math.min(...c) * 1;
    const high = Math.max(...c) * 5;
    const expected = Array.from(plain, (s) => ((s - low) / (high - low)) * (5 - 1) + 1);
    assertClose(normalized, expected, { atol: 1e-9 });
  });

  it("rejects bad settings, decay without timestamps, and users outside the data", () => {
    assert.throws(() => new Sar({ threshold: 0.5 }), /Sar: threshold must be >= 1, got 0.5/);
    assert.throws(
      () => new Sar({ similarity: "mutual information" as SarSimilarity }),
      /Sar: similarity must be one of "jaccard", "lift"/,
    );
    const untimed = log([[0, 0, 1, NaN]], 1, 1);
    assert.throws(() => new Sar({ timeDecay: true }).fit(untimed), /Sar: timeDecay needs timestamps; 'sar-toy' row 0/);
    assert.throws(() => new Sar().fit(toy()).scoreItems(Int32Array.of(3)), /Sar.scoreItems: users\[0\] is 3/);
  });

  describe("saving and loading", () => {
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-sar-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    const decayed = () =>
      log(
        [
          [0, 0, 4, 10 * DAY],
          [0, 1, 2, 9 * DAY],
          [1, 1, 3, 6 * DAY],
          [1, 2, 5, 7 * DAY],
        ],
        2,
        3,
      );
    const fitted = () =>
      new Sar({ similarity: "lift", timeDecay: true, halfLifeDays: 2, normalize: true }).fit(decayed());

    it("gives back A, S, the resolved t₀ and the same scores, with or without the data, no tensor left behind", async () => {
      const train = decayed();
      const model = fitted();
      const users = Int32Array.of(0, 1);
      const dir = path.join(root, "round-trip");
      await assertNoLeak(async () => {
        await model.save(dir);
        for (const loaded of [await Sar.load(dir, train), await Sar.load(dir)]) {
          assert.equal(loaded.similarityType, "lift");
          assert.equal(loaded.numUsers, 2);
          assert.equal(loaded.numItems, 3);
          assert.deepEqual(loaded.similarity, model.similarity);
          assert.deepEqual(loaded.affinity, model.affinity);
          assert.deepEqual(loaded.scoreItems(users), model.scoreItems(users));
        }
      });
      // t₀ is saved as resolved at fit time; the arrays, no tfjs variable, are what weights.bin holds.
      const saved = JSON.parse(fs.readFileSync(jsonPathOf(dir), "utf8"));
      assert.equal(saved.state.config.timeNow, 10 * DAY);
      assert.deepEqual(
        saved.weightSpecs.map((w: { name: string; dtype: string }) => `${w.name} ${w.dtype}`),
        [
          "affinity/offsets int32",
          "affinity/indices int32",
          "affinity/values float64",
          "unityAffinity float64",
          "similarity float32",
        ],
      );
      // Other data than it was fitted on is refused.
      const other = log([[0, 0, 4, 10 * DAY]], 2, 3);
      await assert.rejects(
        Sar.load(dir, other),
        new RegExp(`Sar.load: ${literal(jsonPathOf(dir))} was trained on 'sar-toy' with rows 4; 'sar-toy' has 1`),
      );
    });

    it("refuses damaged files, naming the file and the weight or field", async () => {
      const dir = path.join(root, "damaged");
      await fitted().save(dir);
      const json = literal(jsonPathOf(dir));
      const load = () => Sar.load(dir);
      await assertRefused(
        dir,
        flipLastBit,
        load,
        new RegExp(
          `Sar.load: ${literal(weightsPathOf(dir))} fails its checksum .*, first in weight 'similarity' .*: the file is corrupt`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.weightSpecs[4].shape = [9]),
        load,
        new RegExp(`Sar.load: ${json}: weight 'similarity' has shape \\[9\\], the model expects \\[3,3\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.fitted!.numItems = 4),
        load,
        new RegExp(`Sar.load: ${json}: weight 'similarity' has shape \\[3,3\\], the model expects \\[4,4\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.config.normalize = false),
        load,
        new RegExp(`Sar.load: ${json} has a weight 'unityAffinity' that the model does not read`),
      );
      await assertRefused(
        dir,
        ({ json }) => delete json.state.config.timeNow,
        load,
        new RegExp(
          `Sar.load: ${json}: the saved state does not restore a Sar: timeDecay is on but the config holds no timeNow`,
        ),
      );
      // Undamaged again, it loads.
      await Sar.load(dir);
    });

    it("refuses saved arrays that do not form A, naming the weight", async () => {
      // Two users, three items: u0 has item `column`, u1 nothing; S is the identity.
      const saved = (column: number) =>
        encodeArrays(
          "test",
          [
            { name: "affinity/offsets", values: Int32Array.of(0, 1, 1), shape: [3] },
            { name: "affinity/indices", values: Int32Array.of(column), shape: [1] },
            { name: "affinity/values", values: Float64Array.of(2), shape: [1] },
            { name: "similarity", values: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), shape: [3, 3] },
          ],
          { model: "Sar", config: {}, fitted: { numUsers: 2, numItems: 3 } },
        );
      const good = await saved(2);
      const model = await Sar.fromArtifacts(good.json, good.data);
      assert.deepEqual(Array.from(model.scoreItems(Int32Array.of(0, 1))), [0, 0, 2, 0, 0, 0]);
      const bad = await saved(3);
      await assert.rejects(
        Sar.fromArtifacts(bad.json, bad.data),
        /Sar.fromArtifacts: the model JSON: weight 'affinity\/offsets' and its indices do not form a sparse matrix: CsrMatrix: row 0 has column 3, outside \[0, 3\)/,
      );
    });
  });
});

function rowsOf(data: Interactions): Array<[number, number, number, number]> {
  return Array.from({ length: data.length }, (_, r) => [
    data.users[r],
    data.items[r],
    data.ratings[r],
    data.timestamps[r],
  ]);
}
