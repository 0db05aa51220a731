// Rating evaluation: RMSE and MAE of a `RatingPredictor` on held-out ratings.

import { checkPositiveInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { mae, rmse } from "./metrics";
import { RatingPredictor } from "./scorers";

export interface RatingReport {
  rmse: number;
  mae: number;
  /** Number of test ratings compared. */
  count: number;
}

/** RMSE and MAE of the model's predictions on every test interaction (pairs predicted in batches). */
export function evaluateRatings(
  model: RatingPredictor,
  test: Interactions,
  options: { batchSize?: number } = {},
): RatingReport {
  const batchSize = checkPositiveInteger("evaluateRatings", "batchSize", options.batchSize ?? 65536);
  if (test.length === 0) throw new Error(`evaluateRatings: the test data '${test.name}' is empty`);
  const predicted = new Float64Array(test.length);
  for (let start = 0; start < test.length; start += batchSize) {
    const end = Math.min(start + batchSize, test.length);
    const out = model.predict(test.users.subarray(start, end), test.items.subarray(start, end));
    if (out.length !== end - start) {
      throw new Error(`evaluateRatings: predict returned ${out.length} values for ${end - start} pairs`);
    }
    predicted.set(out, start);
  }
  return { rmse: rmse(test.ratings, predicted), mae: mae(test.ratings, predicted), count: test.length };
}
