// k-fold cross-validation of rating predictors: the protocol of the Surprise benchmark table
// (KFold over all ratings, RMSE and MAE averaged over folds), with fit and test times.

import { Interactions } from "../data/interactions";
import { kFoldSplit } from "../data/splitters";
import { evaluateRatings, RatingPredictor } from "./protocols";

export interface CrossValidationConfig {
  /** Number of folds. Default 5. */
  folds?: number;
  /** Seed of the fold assignment. Default 0. */
  seed?: number;
  /** Called after each fold (progress, logging). */
  onFold?: (fold: number, result: FoldResult) => void;
}

export interface FoldResult {
  rmse: number;
  mae: number;
  fitSeconds: number;
  testSeconds: number;
}

export interface CrossValidationResult {
  /** Means over folds. */
  rmse: number;
  mae: number;
  /** Total fit + test time over all folds. */
  seconds: number;
  folds: FoldResult[];
}

/** A rating model that may hold resources (tfjs variables) to release after its fold. */
export type FoldModel = RatingPredictor & { dispose?(): void };

/**
 * Fits a fresh model on each fold's training part and measures RMSE and MAE on its test part.
 * `fitModel(train, fold)` builds and fits the model for a fold (async for gradient-trained models);
 * a model with `dispose()` is disposed after its fold.
 */
export async function crossValidateRatings(
  data: Interactions,
  fitModel: (train: Interactions, fold: number) => FoldModel | Promise<FoldModel>,
  config: CrossValidationConfig = {},
): Promise<CrossValidationResult> {
  const splits = kFoldSplit(data, { k: config.folds ?? 5, seed: config.seed ?? 0 });
  const folds: FoldResult[] = [];
  for (let fold = 0; fold < splits.length; fold++) {
    const { train, test } = splits[fold];
    const started = performance.now();
    const model = await fitModel(train, fold);
    const fitted = performance.now();
    const { rmse, mae } = evaluateRatings(model, test);
    model.dispose?.();
    const result = {
      rmse,
      mae,
      fitSeconds: (fitted - started) / 1000,
      testSeconds: (performance.now() - fitted) / 1000,
    };
    folds.push(result);
    config.onFold?.(fold, result);
  }
  const mean = (pick: (f: FoldResult) => number) => folds.reduce((s, f) => s + pick(f), 0) / folds.length;
  return {
    rmse: mean((f) => f.rmse),
    mae: mean((f) => f.mae),
    seconds: folds.reduce((s, f) => s + f.fitSeconds + f.testSeconds, 0),
    folds,
  };
}
