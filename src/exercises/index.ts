// Exercises that check themselves: `check("05.2", answer)` in a notebook's check cell, the registry of
// every notebook's checks, and the types of their answers. (The helpers a check is written with stay in
// exercise.ts, imported by the notebook files beside it.)

export { check, verdict, type CheckResult } from "./check";
export { EXERCISES, exerciseIds, findExercise, type AnswerOf, type ExerciseId } from "./registry";
export { exercise, AnswerError, type Exercise, type Problem } from "./exercise";
export type { SeededSample, SubMatrixDensity, GiniPairwise } from "./nb00";
export type { CausalWeights, StableSoftmax, SinusoidalEntry, GeluByHand, SplitHeadsByHand } from "./nb05";
export type {
  BprManyNegatives,
  NeumfPair,
  NeumfLogit,
  TowerLayer,
  LogQInBatchLoss,
  PropagateOnce,
  NegativeElbo,
} from "./nb04";
export type { TfidfWeight, Bm25Weight, Bm25Params, SparseTerms, SparseCosine, TuneBm25 } from "./nb01";
export type { PearsonBaseline, MfTerm, MfSgdStep, SvdppPredict, WalsUserStep } from "./nb02";
export type { WeightedHybridScores, TuneHybridWeight, BprTriple, HingeBprStep, LightfmItem } from "./nb03";
export type { LeaveOneOut, ClozeInput, HitRateNdcg, AttentionMask } from "./nb07";
export type { CorruptForMlm, MaskedLmLoss, WordPieces, NspPairs } from "./nb06";
export type { ClipToNorm, GaussianEpsilon, LossThresholdAuc, QuantizeRow, RecallAtK } from "./nb08";
