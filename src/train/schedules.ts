// Learning-rate schedules: functions from the optimizer's step (updates applied so far, 0 for the first)
// to a learning rate, which AdamW takes as its `learningRate`. Being pure functions of the step, they
// resume exactly when a checkpoint restores the optimizer's step count.

import { checkInteger } from "../checks";

export interface LinearWarmupDecayConfig {
  /** The rate at the end of warm-up. */
  peakLearningRate: number;
  /** Steps of linear warm-up from 0 to the peak (0: start at the peak). */
  warmupSteps: number;
  /** The step at which the decay reaches `finalLearningRate`; the rate stays there afterwards. */
  totalSteps: number;
  /** Default 0. */
  finalLearningRate?: number;
}

/**
 * BERT's schedule: linear warm-up from 0 to the peak over `warmupSteps`, then linear decay to
 * `finalLearningRate` at `totalSteps`, constant after. Warm-up keeps Adam's first, noisy second-moment
 * estimates from taking large steps. The decay runs from the end of warm-up, as in Hugging Face's
 * get_linear_schedule_with_warmup (continuous at the peak); BERT's original TensorFlow code decays from
 * step 0, so its rate right after warm-up is peak·(1 − warmupSteps/totalSteps).
 */
export function linearWarmupDecay(config: LinearWarmupDecayConfig): (step: number) => number {
  const where = "linearWarmupDecay";
  const { peakLearningRate: peak, warmupSteps, totalSteps } = config;
  const final = config.finalLearningRate ?? 0;
  if (typeof peak !== "number" || !Number.isFinite(peak) || peak <= 0) {
    throw new Error(`${where}: peakLearningRate must be a finite number > 0, got ${JSON.stringify(peak)}`);
  }
  checkInteger(where, "warmupSteps", warmupSteps, 0);
  if (typeof totalSteps !== "number" || !Number.isInteger(totalSteps) || totalSteps < Math.max(1, warmupSteps)) {
    throw new Error(
      `${where}: totalSteps must be an integer >= warmupSteps and >= 1, got ${JSON.stringify(totalSteps)} (warmupSteps ${warmupSteps})`,
    );
  }
  if (typeof final !== "number" || !(final >= 0 && final <= peak)) {
    throw new Error(
      `${where}: finalLearningRate must be a number in [0, peakLearningRate = ${peak}], got ${JSON.stringify(final)}`,
    );
  }
  return (step: number): number => {
    checkInteger(where, "step", step, 0);
    if (step < warmupSteps) return (peak * step) / warmupSteps;
    if (step >= totalSteps) return final;
    return peak + ((final - peak) * (step - warmupSteps)) / (totalSteps - warmupSteps);
  };
}

export interface KlAnnealingConfig {
  /** β_max, where β stops rising. Mult-VAE's anneal_cap: 0.2. */
  cap: number;
  /** Steps over which β would rise from 0 to 1 (Mult-VAE's total_anneal_steps, 200000 on its data). */
  totalSteps: number;
}

/**
 * KL annealing (Bowman et al. 2016; Liang et al. 2018, Mult-VAE): the weight of the KL term at each step,
 *
 *   β(step) = min(β_max, step / totalSteps),
 *
 * as the Mult-VAE authors' code computes it: β rises linearly from 0 at slope 1/totalSteps and stays at the
 * cap from step β_max·totalSteps on (with their 200000 steps and cap 0.2, from step 40000).
 */
export function klAnnealing(config: KlAnnealingConfig): (step: number) => number {
  const where = "klAnnealing";
  const { cap, totalSteps } = config;
  if (typeof cap !== "number" || !(cap >= 0 && Number.isFinite(cap))) {
    throw new Error(`${where}: cap must be a finite number >= 0, got ${JSON.stringify(cap)}`);
  }
  checkInteger(where, "totalSteps", totalSteps, 1);
  return (step: number): number => {
    checkInteger(where, "step", step, 0);
    return Math.min(cap, step / totalSteps);
  };
}
