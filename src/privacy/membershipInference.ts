// A loss-threshold membership-inference attack (Yeom, Giacomelli, Fredrikson and Jha, "Privacy Risk in Machine
// Learning: Analyzing the Connection to Overfitting", CSF 2018, §3.2 and Algorithm 1 ("adversary A_loss")).
//
// The attacker holds a rating (u, i, r) and the model, and guesses whether the rating was in the training data. A
// model fits its training ratings better than unseen ones, so a small loss hints "member":
//   score(u, i, r) = −(r − r̂_ui)²,   guess "member" when the loss is below a threshold τ.
// Over all thresholds the attack's quality is its AUC: the probability that a random member scores higher than a
// random non-member (0.5: the model leaks nothing this attack can see; 1: every member is exposed). Yeom et al. fix
// τ to the model's mean training loss, and measure the attack's membership advantage at it, TPR − FPR; for an
// (ε, 0)-DP training algorithm that advantage is at most e^ε − 1 (their Theorem 1).
// Non-members should be ratings from the same population: here, held-out ratings of users who also have training
// ratings (`sameUsersOnly`), so the attack cannot win merely by telling known users from unknown ones.

import { Rng } from "../backend/random";
import { checkPositiveInteger, checkSeed } from "../checks";
import { Interactions } from "../data/interactions";
import { auc as areaUnderCurve } from "../eval/metrics";
import { RatingPredictor } from "../eval/scorers";

/** (r − r̂)² of every rating of `data`, r̂ from `model.predict` (what the attacker sees), in batches. */
export function squaredErrors(model: RatingPredictor, data: Interactions, batchSize = 65536): Float64Array {
  checkPositiveInteger("squaredErrors", "batchSize", batchSize);
  const out = new Float64Array(data.length);
  for (let start = 0; start < data.length; start += batchSize) {
    const end = Math.min(start + batchSize, data.length);
    const predicted = model.predict(data.users.subarray(start, end), data.items.subarray(start, end));
    if (predicted.length !== end - start) {
      throw new Error(`squaredErrors: predict returned ${predicted.length} values for ${end - start} pairs`);
    }
    for (let k = start; k < end; k++) {
      const e = data.ratings[k] - predicted[k - start];
      out[k] = e * e;
    }
  }
  return out;
}

/** The rows of `data` whose user has at least one row in `reference`. */
export function rowsOfKnownUsers(data: Interactions, reference: Interactions): Int32Array {
  const known = new Uint8Array(Math.max(reference.numUsers, data.numUsers));
  for (let k = 0; k < reference.length; k++) known[reference.users[k]] = 1;
  const rows: number[] = [];
  for (let k = 0; k < data.length; k++) if (known[data.users[k]]) rows.push(k);
  return Int32Array.from(rows);
}

export interface MembershipAttackOptions {
  /** Keep only non-members whose user has member ratings. Default true. */
  sameUsersOnly?: boolean;
  /**
   * Score at most this many members, drawn at random (a 90/10 split has 9 members per non-member; the AUC does not
   * depend on the ratio, only its noise does). Default: all.
   */
  maxMembers?: number;
  /** Seeds the draw of members when `maxMembers` is set. */
  seed?: number;
}

export interface MembershipAttackResult {
  /** P(score of a random member > score of a random non-member), ties counting ½. */
  auc: number;
  /** Yeom et al.'s threshold: the mean loss over the members scored. */
  threshold: number;
  /** Share of members with loss ≤ threshold (the attack's true positive rate at τ). */
  truePositiveRate: number;
  /** Share of non-members with loss ≤ threshold (its false positive rate). */
  falsePositiveRate: number;
  /** TPR − FPR at τ: Yeom et al.'s membership advantage. */
  advantage: number;
  memberMeanLoss: number;
  nonMemberMeanLoss: number;
  numMembers: number;
  numNonMembers: number;
}

/**
 * Runs the loss-threshold attack on `model`: `members` are (some of) its training ratings, `nonMembers` ratings it
 * was not trained on. Scores are −(r − r̂)²; the AUC is the library's `auc`.
 */
export function lossThresholdAttack(
  model: RatingPredictor,
  members: Interactions,
  nonMembers: Interactions,
  options: MembershipAttackOptions = {},
): MembershipAttackResult {
  const caller = "lossThresholdAttack";
  let memberData = members;
  if (options.maxMembers !== undefined && options.maxMembers < members.length) {
    checkPositiveInteger(caller, "maxMembers", options.maxMembers);
    const rng = new Rng(checkSeed(caller, options.seed));
    memberData = members.select(rng.permutation(members.length).subarray(0, options.maxMembers));
  }
  const nonMemberData =
    (options.sameUsersOnly ?? true) ? nonMembers.select(rowsOfKnownUsers(nonMembers, members)) : nonMembers;
  if (memberData.length === 0 || nonMemberData.length === 0) {
    throw new Error(
      `${caller}: needs members and non-members, got ${memberData.length} and ${nonMemberData.length}` +
        " (non-members are kept only for users with member ratings unless sameUsersOnly is false)",
    );
  }
  const memberLoss = squaredErrors(model, memberData);
  const nonMemberLoss = squaredErrors(model, nonMemberData);
  // Members are the positives; the score is the negated loss.
  const labels = new Uint8Array(memberLoss.length + nonMemberLoss.length);
  labels.fill(1, 0, memberLoss.length);
  const scores = new Float64Array(labels.length);
  memberLoss.forEach((loss, k) => (scores[k] = -loss));
  nonMemberLoss.forEach((loss, k) => (scores[memberLoss.length + k] = -loss));
  const auc = areaUnderCurve(labels, scores);
  const mean = (values: Float64Array) => values.reduce((s, v) => s + v, 0) / values.length;
  const threshold = mean(memberLoss);
  const shareBelow = (values: Float64Array) => values.reduce((s, v) => s + (v <= threshold ? 1 : 0), 0) / values.length;
  const truePositiveRate = shareBelow(memberLoss);
  const falsePositiveRate = shareBelow(nonMemberLoss);
  return {
    auc,
    threshold,
    truePositiveRate,
    falsePositiveRate,
    advantage: truePositiveRate - falsePositiveRate,
    memberMeanLoss: threshold,
    nonMemberMeanLoss: mean(nonMemberLoss),
    numMembers: memberData.length,
    numNonMembers: nonMemberData.length,
  };
}
