import * as assert from "node:assert/strict";
import { crossValidateRatings } from "../../src/eval/crossValidation";
import { RatingPredictor } from "../../src/eval/protocols";
import { Interactions } from "../../src/data/interactions";
import { makeInteractions } from "./fixtures";

// Predicts the training mean: its RMSE on each fold is computable by hand.
class MeanPredictor implements RatingPredictor {
  mean = NaN;
  fit(train: Interactions): void {
    this.mean = train.ratings.reduce((s, r) => s + r, 0) / train.length;
  }
  predict(users: Int32Array): Float32Array {
    return new Float32Array(users.length).fill(this.mean);
  }
}

describe("eval/crossValidation", () => {
  const rows: Array<[number, number, number]> = [];
  for (let k = 0; k < 20; k++) rows.push([k % 4, k % 5, 1 + (k % 5)]);
  const data = makeInteractions(rows, 4, 5);

  it("averages each fold's RMSE and MAE of a fresh model", async () => {
    const made: number[] = [];
    let disposed = 0;
    const result = await crossValidateRatings(
      data,
      (train, fold) => {
        made.push(fold);
        const model = new MeanPredictor();
        model.fit(train);
        return Object.assign(model, { dispose: () => disposed++ });
      },
      { folds: 4, seed: 1 },
    );
    assert.deepEqual(made, [0, 1, 2, 3]);
    assert.equal(disposed, 4, "each fold's model is disposed");
    assert.equal(result.folds.length, 4);
    const meanRmse = result.folds.reduce((s, f) => s + f.rmse, 0) / 4;
    assert.ok(Math.abs(result.rmse - meanRmse) < 1e-12);
    for (const f of result.folds) assert.ok(f.rmse > 0 && f.mae > 0 && f.mae <= f.rmse + 1e-9);
    assert.ok(result.seconds >= 0);
  });

  it("is reproducible by seed and waits for asynchronous fits", async () => {
    const fitAsync = async (train: Interactions) => {
      await new Promise((resolve) => setImmediate(resolve));
      const m = new MeanPredictor();
      m.fit(train);
      return m;
    };
    const a = await crossValidateRatings(data, fitAsync, { folds: 5, seed: 3 });
    const b = await crossValidateRatings(data, fitAsync, { folds: 5, seed: 3 });
    assert.deepEqual(
      a.folds.map((f) => f.rmse),
      b.folds.map((f) => f.rmse),
    );
    assert.ok(
      a.folds.every((f) => Number.isFinite(f.rmse)),
      "predictions were made after the fit finished",
    );
  });
});
