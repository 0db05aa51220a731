import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../src/backend/backend";
import { NMF } from "../../src/models/nmf";
import { makeInteractions } from "../eval/fixtures";
import { assertClose, assertNoLeak } from "../support/assertions";
import { assertRefused, flipLastBit, jsonPathOf, literal, weightsPathOf } from "./savedFiles";
import { SMALL_MEAN, randomRatings, smallRatings } from "./ratingFixtures";

/** u0 rated i0 five and i1 three, u1 rated i0 four; u2 and i2 are unknown. μ = 4. */
function tiny() {
  return makeInteractions(
    [
      [0, 0, 5],
      [0, 1, 3],
      [1, 0, 4],
    ],
    3,
    3,
    "nmf-tiny",
  );
}

function trainRmse(model: NMF, data: ReturnType<typeof randomRatings>): number {
  const predicted = model.predict(data.users, data.items);
  let s = 0;
  for (let k = 0; k < data.length; k++) s += (predicted[k] - data.ratings[k]) ** 2;
  return Math.sqrt(s / data.length);
}

describe("models/nmf", () => {
  before(async () => {
    await initBackend();
  });

  it("one epoch by hand: every factor starts at 1, so r̂ = 1 and the item update uses the old p", () => {
    // λ = 0.5, one factor:
    //   p_u0 = (5·1 + 3·1) / (1·1 + 1·1 + 0.5·2·1) = 8/3      p_u1 = 4 / (1 + 0.5·1·1) = 8/3
    //   q_i0 = (5·1 + 4·1) / (1 + 1 + 0.5·2·1) = 3            q_i1 = 3 / (1 + 0.5·1·1) = 2
    // The unknown u2 and i2 keep their initial 1.
    const config = { factors: 1, epochs: 1, initLow: 1, initHigh: 1, regUserFactors: 0.5, regItemFactors: 0.5 };
    const { userFactors, itemFactors } = new NMF({ ...config, seed: 0 }).fit(tiny()).params;
    assertClose(userFactors, [8 / 3, 8 / 3, 1], { atol: 1e-6 });
    assertClose(itemFactors, [3, 2, 1], { atol: 1e-6 });
    // Two factors that start equal stay equal: r̂ = 2, p_u0 = 8 / (2 + 2 + 0.5·2) = 8/5 in both.
    const two = new NMF({ ...config, factors: 2, seed: 0 }).fit(tiny()).params;
    assertClose(two.userFactors.subarray(0, 2), [8 / 5, 8 / 5], { atol: 1e-6 });
  });

  it("biased: the biases take SGD steps during the pass and r̂ in the denominators includes them", () => {
    // μ = 4, every factor 1, λ = 0.5, γ = 0.005, λ_b = 0.02. In order: (u0, i0): r̂ = 5, e = 0;
    // (u0, i1): r̂ = 5, e = −2, b_u0 = b_i1 = −0.01; (u1, i0): r̂ = 4 + 0 + 0 + 1 = 5, e = −1,
    // b_u1 = b_i0 = −0.005. Then p_u0 = 8 / (5 + 5 + 0.5·2) = 8/11, p_u1 = 4 / (5 + 0.5) = 8/11,
    // q_i0 = 9 / (5 + 5 + 1) = 9/11, q_i1 = 3 / (5 + 0.5) = 6/11.
    const model = new NMF({
      factors: 1,
      epochs: 1,
      biased: true,
      initLow: 1,
      initHigh: 1,
      regUserFactors: 0.5,
      regItemFactors: 0.5,
      seed: 0,
    }).fit(tiny());
    const { userFactors, itemFactors, userBias, itemBias } = model.params;
    assertClose(userBias, [-0.01, -0.005, 0], { atol: 1e-9 });
    assertClose(itemBias, [-0.005, -0.01, 0], { atol: 1e-9 });
    assertClose(userFactors.subarray(0, 2), [8 / 11, 8 / 11], { atol: 1e-6 });
    assertClose(itemFactors.subarray(0, 2), [9 / 11, 6 / 11], { atol: 1e-6 });
    // Unknown user u2: μ + b_i0, no factor term; unknown both: μ.
    assertClose(model.predict(Int32Array.of(2, 2), Int32Array.of(0, 2)), [4 - 0.005, 4], { atol: 1e-6 });
  });

  it("predicts q_iᵀp_u clipped to the scale; an unknown user or item gets μ", () => {
    const model = new NMF({
      factors: 1,
      epochs: 1,
      initLow: 1,
      initHigh: 1,
      regUserFactors: 0.5,
      regItemFactors: 0.5,
      seed: 0,
    }).fit(tiny());
    // r̂(u0, i1) = 8/3 · 2 = 16/3 > 5: clipped; r̂(u1, i1) = 16/3 too; unknowns: μ = 4.
    const users = Int32Array.of(0, 1, 2, 0);
    const items = Int32Array.of(1, 0, 0, 2);
    assertClose(model.predict(users, items), [5, 5, 4, 4], { atol: 1e-6 });
    assertClose(model.scoreItems(Int32Array.of(0)), [8, 16 / 3, 4], { atol: 1e-5 }, "unclipped");
    const small = new NMF({ seed: 1 }).fit(smallRatings());
    // u4 and i4 have no rating in SMALL_ROWS.
    assertClose(small.predict(Int32Array.of(4, 0), Int32Array.of(0, 4)), [SMALL_MEAN, SMALL_MEAN], { atol: 1e-12 });
  });

  it("keeps the factors non-negative and lowers the training error; the seed fixes the model", () => {
    const data = randomRatings(5, 30, 20, 0.4);
    const rmses = [1, 5, 20, 50].map((epochs) => trainRmse(new NMF({ epochs, seed: 3 }).fit(data), data));
    for (let k = 1; k < rmses.length; k++) assert.ok(rmses[k] < rmses[k - 1], `RMSE ${rmses.join(", ")}`);
    const model = new NMF({ seed: 3 }).fit(data);
    assert.ok(model.params.userFactors.every((x) => x >= 0) && model.params.itemFactors.every((x) => x >= 0));
    assert.deepEqual(new NMF({ seed: 3 }).fit(data).params, model.params);
    assert.notDeepEqual(new NMF({ seed: 4 }).fit(data).params.userFactors, model.params.userFactors);
  });

  it("rejects bad settings and use before fit", () => {
    assert.throws(() => new NMF({ seed: 0, initLow: -1 }), /NMF: initLow must be a finite number >= 0, got -1/);
    assert.throws(() => new NMF({ seed: 0, initLow: 2, initHigh: 1 }), /NMF: initHigh \(1\) must be >= initLow \(2\)/);
    assert.throws(() => new NMF({ seed: 0, factors: 0 }), /NMF: factors must be a positive integer/);
    assert.throws(() => new NMF({} as never), /NMF: seed must be a finite number/);
    assert.throws(() => new NMF({ seed: 0 }).predict(Int32Array.of(0), Int32Array.of(0)), /NMF.predict: call fit/);
    const model = new NMF({ seed: 0 }).fit(tiny());
    assert.throws(() => model.predict(Int32Array.of(3), Int32Array.of(0)), /NMF.predict: users\[0\] = 3 is outside/);
  });

  describe("saving and loading", () => {
    let root: string;
    before(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-nmf-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    // 9 users, 12 items; u6, i3 and i11 have no rating (they get μ, or the known side's bias).
    const data = randomRatings(4, 9, 12, 0.3);
    const fitted = (biased: boolean) =>
      new NMF({ biased, factors: 4, epochs: 10, seed: 2, ratingScale: [1, 5] }).fit(data);

    it("gives back the parameters and the same predictions and scores, with or without the data", async () => {
      const everyone = Int32Array.from({ length: 9 }, (_, u) => u);
      assert.ok(!data.users.includes(6) && !data.items.includes(3) && !data.items.includes(11));
      for (const biased of [false, true]) {
        const model = fitted(biased);
        const dir = path.join(root, `round-trip-${biased}`);
        await assertNoLeak(async () => {
          await model.save(dir);
          for (const loaded of [await NMF.load(dir, data), await NMF.load(dir)]) {
            assert.deepEqual(loaded.config, model.config);
            assert.deepEqual(loaded.params, model.params);
            assert.deepEqual(loaded.predict(data.users, data.items), model.predict(data.users, data.items));
            assert.deepEqual(loaded.scoreItems(everyone), model.scoreItems(everyone));
          }
        });
        const saved = JSON.parse(fs.readFileSync(jsonPathOf(dir), "utf8"));
        assert.deepEqual(
          saved.weightSpecs.map((w: { name: string; dtype: string }) => `${w.name} ${w.dtype}`),
          [
            "knownUsers bool",
            "knownItems bool",
            "userFactors float32",
            "itemFactors float32",
            ...(biased ? ["userBias float32", "itemBias float32"] : []),
          ],
        );
      }
      await assert.rejects(
        NMF.load(path.join(root, "round-trip-false"), tiny()),
        /NMF.load: .*checkpoint.json was trained on 'random-4' with numUsers 9; 'nmf-tiny' has 3/,
      );
    });

    it("refuses damaged files, naming the file and the weight or field", async () => {
      const dir = path.join(root, "damaged");
      await fitted(true).save(dir);
      const json = literal(jsonPathOf(dir));
      const load = () => NMF.load(dir);
      await assertRefused(
        dir,
        flipLastBit,
        load,
        new RegExp(
          `NMF.load: ${literal(weightsPathOf(dir))} fails its checksum .*, first in weight 'itemBias' .*: the file is corrupt`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.config.factors = 5),
        load,
        new RegExp(`NMF.load: ${json}: weight 'userFactors' has shape \\[9,4\\], the model expects \\[9,5\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.weightSpecs[0].shape = [3, 3]),
        load,
        new RegExp(`NMF.load: ${json}: weight 'knownUsers' has shape \\[3,3\\], the model expects \\[9\\]`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.config.biased = false),
        load,
        new RegExp(`NMF.load: ${json} has a weight 'userBias' that the model does not read`),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.fitted!.globalMean = "3.1"),
        load,
        new RegExp(
          `NMF.load: ${json}: the saved state does not restore a NMF: NMF: globalMean must be a finite number, got "3.1"`,
        ),
      );
      await assertRefused(
        dir,
        ({ json }) => (json.state.fitted!.ratingScale = [5, 1]),
        load,
        new RegExp(
          `NMF.load: ${json}: the saved state does not restore a NMF: ratingScale must be \\[lowest, highest\\]`,
        ),
      );
      // Undamaged again, it loads.
      await NMF.load(dir);
    });
  });
});
