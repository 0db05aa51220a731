// The privacy layer (notebook 08): the RDP accountant of DP-SGD, DP-SGD for matrix factorisation, a
// membership-inference attack that measures what a model leaks, and federated averaging.

export {
  DEFAULT_RDP_ORDERS,
  DP_ACCOUNTING_RDP_ORDERS,
  OPACUS_RDP_ORDERS,
  RdpAccountant,
  TF_PRIVACY_DP_SGD_ORDERS,
  computeRdp,
  dpSgdEpsilon,
  epsilonFromRdp,
  logErfc,
  noiseMultiplierForEpsilon,
  rdpSampledGaussian,
  type DpSgdPrivacyConfig,
  type EpsilonConversion,
  type NoiseForEpsilonConfig,
  type PrivacySpent,
} from "./rdpAccountant";
export {
  BiasedMfModel,
  copyFactorTables,
  createFactorTables,
  estimateRating,
  ratingGradient,
  type BiasedMfTables,
  type BiasedMfTablesInit,
} from "./factorTables";
export {
  DpSgdModel,
  clipGradient,
  createDpSgdWorkspace,
  dpSgdSchedule,
  dpSgdStep,
  poissonLot,
  trainDpSgd,
  type DpSgdConfig,
  type DpSgdProgress,
  type DpSgdStepOptions,
  type DpSgdWorkspace,
} from "./dpSgd";
export {
  lossThresholdAttack,
  rowsOfKnownUsers,
  squaredErrors,
  type MembershipAttackOptions,
  type MembershipAttackResult,
} from "./membershipInference";
export {
  fedAvgRound,
  trainFedAvg,
  type FedAvgConfig,
  type FedAvgResult,
  type FedAvgRoundLog,
  type FedAvgRoundOptions,
} from "./federated";
