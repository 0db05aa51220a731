import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { RatingPredictor } from "../../src/eval/scorers";
import { lossThresholdAttack, rowsOfKnownUsers, squaredErrors } from "../../src/privacy/membershipInference";
import { makeInteractions } from "../eval/fixtures";

/** A model that predicts `table[u][i]`, or `fallback` for pairs not in it. */
function lookupModel(table: Map<string, number>, fallback: number): RatingPredictor {
  return {
    predict: (users, items) => Float64Array.from(users, (u, k) => table.get(`${u},${items[k]}`) ?? fallback),
  };
}

describe("privacy/membershipInference", () => {
  it("squaredErrors is (r − r̂)² per rating", () => {
    const data = makeInteractions(
      [
        [0, 0, 5],
        [1, 1, 2],
      ],
      2,
      2,
    );
    const errors = squaredErrors(lookupModel(new Map([["0,0", 4.5]]), 3), data);
    assert.deepEqual(Array.from(errors), [0.25, 1]);
  });

  it("exposes every member of a model that remembers its training ratings: AUC 1, advantage 1", () => {
    // The model predicts each member's rating exactly (zero loss) and 3 elsewhere; the non-members, held-out
    // ratings of the same users, are 1, 2, 4, 5 (loss ≥ 1).
    const members = makeInteractions(
      [
        [0, 0, 5],
        [0, 1, 1],
        [1, 2, 4],
        [1, 3, 2],
      ],
      2,
      8,
    );
    const nonMembers = makeInteractions(
      [
        [0, 4, 1],
        [0, 5, 5],
        [1, 6, 2],
        [1, 7, 4],
      ],
      2,
      8,
    );
    const memory = new Map<string, number>();
    for (let k = 0; k < members.length; k++) memory.set(`${members.users[k]},${members.items[k]}`, members.ratings[k]);
    const result = lossThresholdAttack(lookupModel(memory, 3), members, nonMembers);
    assert.equal(result.auc, 1);
    assert.equal(result.threshold, 0);
    assert.equal(result.truePositiveRate, 1);
    assert.equal(result.falsePositiveRate, 0);
    assert.equal(result.advantage, 1);
    assert.equal(result.memberMeanLoss, 0);
    assert.equal(result.nonMemberMeanLoss, 2.5);
    assert.equal(result.numMembers, 4);
    assert.equal(result.numNonMembers, 4);
  });

  it("learns nothing when members and non-members have the same losses: AUC 0.5", () => {
    // Same ratings 1..5 on both sides, a model predicting 3 for all: the two loss multisets are equal, so the
    // Mann–Whitney count is exactly ½.
    const rows = (offset: number) => [1, 2, 3, 4, 5].map((r, k): [number, number, number] => [k % 2, offset + k, r]);
    const members = makeInteractions(rows(0), 2, 10);
    const nonMembers = makeInteractions(rows(5), 2, 10);
    assert.equal(lossThresholdAttack(lookupModel(new Map(), 3), members, nonMembers).auc, 0.5);
  });

  it("is near 0.5 on large samples from one loss distribution, and its advantage near 0", () => {
    // A model whose errors are random, independent of membership.
    const rng = new Rng(9);
    const make = (offset: number) =>
      makeInteractions(
        Array.from({ length: 4000 }, (_, k): [number, number, number] => [k % 50, offset + k, 1 + rng.int(5)]),
        50,
        8000,
      );
    const members = make(0);
    const nonMembers = make(4000);
    const noisy: RatingPredictor = { predict: (users) => Float64Array.from(users, () => 1 + 4 * rng.next()) };
    const result = lossThresholdAttack(noisy, members, nonMembers);
    // The AUC of 4000 vs 4000 draws from one distribution has std √((n+m+1)/(12nm)) ≈ 0.0065.
    assert.ok(Math.abs(result.auc - 0.5) < 0.03, `AUC ${result.auc}`);
    assert.ok(Math.abs(result.advantage) < 0.05, `advantage ${result.advantage}`);
  });

  it("keeps only non-members of users with member ratings, and draws members with a seed", () => {
    const members = makeInteractions(
      [
        [0, 0, 5],
        [0, 1, 3],
        [1, 2, 4],
      ],
      3,
      6,
    );
    const nonMembers = makeInteractions(
      [
        [0, 3, 2],
        [2, 4, 1], // user 2 has no member rating
        [1, 5, 3],
      ],
      3,
      6,
    );
    assert.deepEqual(Array.from(rowsOfKnownUsers(nonMembers, members)), [0, 2]);
    const model = lookupModel(new Map(), 3);
    assert.equal(lossThresholdAttack(model, members, nonMembers).numNonMembers, 2);
    assert.equal(lossThresholdAttack(model, members, nonMembers, { sameUsersOnly: false }).numNonMembers, 3);
    const sampled = lossThresholdAttack(model, members, nonMembers, { maxMembers: 2, seed: 1 });
    assert.equal(sampled.numMembers, 2);
    assert.deepEqual(sampled, lossThresholdAttack(model, members, nonMembers, { maxMembers: 2, seed: 1 }));
    assert.throws(() => lossThresholdAttack(model, members, nonMembers, { maxMembers: 2 }), /seed must be/);
    const strangers = makeInteractions([[2, 4, 1]], 3, 6);
    assert.throws(() => lossThresholdAttack(model, members, strangers), /needs members and non-members, got 3 and 0/);
  });
});
