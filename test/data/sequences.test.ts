import * as assert from "node:assert/strict";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { NegativeSampler } from "../../src/data/samplers";
import {
  BERT4REC_ITEM_OFFSET,
  bert4recBatches,
  inferenceInputs,
  likeBatches,
  MASK_TOKEN,
  padSequence,
  SASREC_ITEM_OFFSET,
  sasrecBatches,
  UserSequences,
} from "../../src/data/sequences";

/** users, items and times given as dense indices (item names "i0", "i1", … in index order). */
function log(users: number[], items: number[], times: number[], numItems: number): Interactions {
  const itemIndex = IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`));
  const userIndex = IdIndex.from(Array.from({ length: Math.max(...users) + 1 }, (_, u) => `u${u}`));
  return new Interactions({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: new Float32Array(users.length).fill(1),
    timestamps: Float64Array.from(times),
    userIndex,
    itemIndex,
    name: "tiny",
  });
}

/** Many users with histories of 3..30 items over 50 items, no repeats within a user. */
function randomSequences(): UserSequences {
  const sequences: number[][] = [];
  for (let u = 0; u < 60; u++) {
    const n = 3 + ((u * 7) % 28);
    sequences.push(
      Array.from({ length: n }, (_, k) => (u * 3 + k * 5) % 50).filter((v, k, all) => all.indexOf(v) === k),
    );
  }
  return UserSequences.fromArrays(50, sequences);
}

describe("data/sequences", () => {
  it("orders each user's items by time, ties in row order", () => {
    // user 0: items 4 (t=30), 1 (t=10), 2 (t=20), 3 (t=10, after 1 in the log); user 1: item 0; user 2: none
    const data = log([0, 0, 1, 0, 0], [4, 1, 0, 2, 3], [30, 10, 5, 20, 10], 5);
    const sequences = UserSequences.from(data);
    assert.deepEqual([...sequences.itemsOf(0)], [1, 3, 2, 4]);
    assert.deepEqual([...sequences.itemsOf(1)], [0]);
    assert.deepEqual([...UserSequences.from(data, "row").itemsOf(0)], [4, 1, 2, 3]);
    assert.equal(sequences.length(0), 4);
    assert.throws(() => sequences.itemsOf(2), /UserSequences.itemsOf: user 2 is outside \[0, 2\)/);
    assert.throws(() => UserSequences.fromArrays(3, [[0, 3]]), /item 3 of user 0 is outside \[0, 3\)/);
  });

  it("pads on the left with [PAD] = 0, keeps the latest items and offsets the ids", () => {
    assert.deepEqual([...padSequence([5, 6, 7], { maxLength: 5, itemOffset: 2 })], [0, 0, 7, 8, 9]);
    assert.deepEqual([...padSequence([5, 6, 7, 8, 9, 10], { maxLength: 4, itemOffset: 1 })], [8, 9, 10, 11]);
    assert.deepEqual([...padSequence([], { maxLength: 2, itemOffset: 1 })], [0, 0]);
    assert.throws(() => padSequence([1], { maxLength: 0, itemOffset: 1 }), /padSequence: maxLength/);
    assert.throws(
      () => padSequence([1], { maxLength: 3, itemOffset: 0 }),
      /padSequence: itemOffset must be an integer >= 1/,
    );
  });

  it("inference inputs: BERT4Rec appends [MASK], SASRec reads the history as is", () => {
    const sequences = UserSequences.fromArrays(10, [[1, 2, 3, 4, 5], [7], []]);
    const users = Int32Array.from([0, 1, 2]);
    const bert = inferenceInputs(sequences, users, { maxLength: 4, itemOffset: 2, appendMask: true });
    assert.deepEqual([...bert], [5, 6, 7, MASK_TOKEN, 0, 0, 9, MASK_TOKEN, 0, 0, 0, MASK_TOKEN]);
    const sas = inferenceInputs(sequences, users, { maxLength: 4, itemOffset: 1, appendMask: false });
    assert.deepEqual([...sas], [3, 4, 5, 6, 0, 0, 0, 8, 0, 0, 0, 0]);
    assert.throws(
      () => inferenceInputs(sequences, users, { maxLength: 4, itemOffset: 1, appendMask: true }),
      /itemOffset must be an integer >= 2/,
    );
  });

  it("BERT4Rec batches mask real positions at the configured rate, at least one per sequence, never padding", () => {
    const sequences = randomSequences();
    const config = { maxLength: 20, itemOffset: BERT4REC_ITEM_OFFSET, batchSize: 16, seed: 3, maskProbability: 0.2 };
    let real = 0;
    let masked = 0;
    for (let epoch = 0; epoch < 5; epoch++) {
      const batches = bert4recBatches(sequences, config, epoch);
      assert.equal(
        batches.reduce((n, b) => n + b.batchSize, 0),
        60,
      );
      for (const batch of batches) {
        const T = batch.length;
        const perRow = new Int32Array(batch.batchSize);
        batch.positions.forEach((p, j) => {
          const b = Math.floor(p / T);
          perRow[b]++;
          assert.equal(batch.tokenIds[p], MASK_TOKEN);
          const history = sequences.itemsOf(batch.users[b]);
          const kept = Math.min(history.length, T);
          const t = p % T;
          assert.ok(t >= T - kept, "a padded position was masked");
          assert.equal(batch.labels[j], history[history.length - kept + t - (T - kept)]);
        });
        for (let b = 0; b < batch.batchSize; b++) {
          assert.ok(perRow[b] >= 1, "a sequence without a masked position");
          const kept = Math.min(sequences.length(batch.users[b]), T);
          real += kept;
          masked += perRow[b];
          // the unmasked real tokens are the items, the rest padding
          for (let t = 0; t < T - kept; t++) assert.equal(batch.tokenIds[b * T + t], 0);
        }
        assert.ok(
          batch.positions.every((p, j) => j === 0 || p > batch.positions[j - 1]),
          "positions ascending",
        );
      }
    }
    // 0.2 of the real positions, plus the forced ones (rare at these lengths): a 4σ binomial band.
    const rate = masked / real;
    const sigma = Math.sqrt((0.2 * 0.8) / real);
    assert.ok(Math.abs(rate - 0.2) < 4 * sigma + 0.01, `mask rate ${rate} (n = ${real})`);
    assert.deepEqual(bert4recBatches(sequences, config, 2), bert4recBatches(sequences, config, 2), "deterministic");
    assert.notDeepEqual(
      bert4recBatches(sequences, config, 2)[0].tokenIds,
      bert4recBatches(sequences, config, 3)[0].tokenIds,
      "fresh each epoch",
    );
  });

  it("BERT4Rec's lastItem masking hides exactly the last item of each window", () => {
    const sequences = UserSequences.fromArrays(10, [
      [0, 1, 2, 3, 4, 5, 6],
      [7, 8],
    ]);
    const [batch] = bert4recBatches(
      sequences,
      { maxLength: 4, itemOffset: 2, batchSize: 8, seed: 1, shuffle: false, masking: "lastItem" },
      0,
    );
    assert.deepEqual(Array.from(batch.tokenIds), [5, 6, 7, MASK_TOKEN, 0, 0, 9, MASK_TOKEN]);
    assert.deepEqual(Array.from(batch.positions), [3, 7]);
    assert.deepEqual(Array.from(batch.labels), [6, 8]);
    assert.throws(
      () =>
        bert4recBatches(sequences, { maxLength: 4, itemOffset: 2, batchSize: 8, seed: 1, masking: "last" as never }, 0),
      /masking must be "cloze" or "lastItem", got 'last'/,
    );
  });

  it("like batches: the last perUser interactions of each user, with the history before each and its like label", () => {
    // user 0 rates items 0, 1, 2, 3 (ratings 5, 2, 4, 1) in time order; user 1 rates item 4 (rating 5)
    const data = new Interactions({
      users: Int32Array.of(0, 0, 0, 0, 1),
      items: Int32Array.of(2, 0, 3, 1, 4),
      ratings: Float32Array.of(4, 5, 1, 2, 5),
      timestamps: Float64Array.of(30, 10, 40, 20, 5),
      userIndex: IdIndex.from(["a", "b"]),
      itemIndex: IdIndex.from(["i0", "i1", "i2", "i3", "i4"]),
    });
    const [batch] = likeBatches(data, { maxLength: 4, itemOffset: 2, perUser: 2, batchSize: 8 });
    assert.equal(batch.batchSize, 3); // user 0's last two, user 1's only one
    assert.deepEqual(Array.from(batch.items), [2, 3, 4]);
    assert.deepEqual(Array.from(batch.labels!), [1, 0, 1]);
    assert.deepEqual(Array.from(batch.tokenIds), [0, 2, 3, MASK_TOKEN, 2, 3, 4, MASK_TOKEN, 0, 0, 0, MASK_TOKEN]);
    assert.throws(
      () => likeBatches(data, { maxLength: 4, itemOffset: 2, perUser: 0, batchSize: 8 }),
      /perUser must be a positive integer/,
    );
  });

  it("BERT4Rec batches: a hand-checked window, sliding windows and bad arguments", () => {
    const sequences = UserSequences.fromArrays(10, [[0, 1, 2, 3, 4, 5, 6]]);
    const base = { maxLength: 3, itemOffset: 2, batchSize: 8, seed: 1, shuffle: false };
    const [single] = bert4recBatches(sequences, base, 0);
    assert.equal(single.batchSize, 1);
    const unmasked = Array.from(single.tokenIds);
    single.positions.forEach((p, j) => (unmasked[p] = single.labels[j] + 2));
    assert.deepEqual(unmasked, [6, 7, 8]); // items 4, 5, 6
    const [windows] = bert4recBatches(sequences, { ...base, windowStride: 2 }, 0);
    // windows end at 7, 5, 3: items [4..6], [2..4], [0..2]
    const rows = [0, 1, 2].map((b) => {
      const row = Array.from(windows.tokenIds.subarray(b * 3, b * 3 + 3));
      windows.positions.forEach((p, j) => Math.floor(p / 3) === b && (row[p % 3] = windows.labels[j] + 2));
      return row.map((id) => id - 2);
    });
    assert.deepEqual(rows, [
      [4, 5, 6],
      [2, 3, 4],
      [0, 1, 2],
    ]);
    assert.throws(
      () => bert4recBatches(sequences, { ...base, itemOffset: 1 }, 0),
      /bert4recBatches: itemOffset must be an integer >= 2/,
    );
    assert.throws(
      () => bert4recBatches(sequences, { ...base, maskProbability: 0 }, 0),
      /maskProbability must be in \(0, 1\]/,
    );
    assert.throws(
      () => bert4recBatches(sequences, { ...base, batchSize: 0 }, 0),
      /batchSize must be a positive integer/,
    );
    assert.throws(
      () => bert4recBatches(sequences, { ...base, windowStride: 0 }, 0),
      /windowStride must be a positive integer/,
    );
    assert.throws(() => bert4recBatches(sequences, base, -1), /epoch must be an integer >= 0/);
  });

  it("SASRec batches: inputs s_1..s_{n-1}, targets shifted by one, negatives never in the history", () => {
    const sequences = UserSequences.fromArrays(10, [[3, 1, 4, 1, 5], [9], [2, 6]]);
    const [batch] = sasrecBatches(
      sequences,
      { maxLength: 3, itemOffset: SASREC_ITEM_OFFSET, batchSize: 4, seed: 2, shuffle: false },
      0,
    );
    assert.equal(batch.batchSize, 2); // user 1 has no target
    assert.deepEqual([...batch.users], [0, 2]);
    // user 0: inputs are the last 3 of s_1..s_4 = [1, 4, 1], targets [4, 1, 5]; user 2: input [2], target 6
    assert.deepEqual([...batch.tokenIds], [2, 5, 2, 0, 0, 3]);
    assert.deepEqual([...batch.positions], [0, 1, 2, 5]);
    assert.deepEqual([...batch.labels], [4, 1, 5, 6]);
    assert.equal(batch.negatives, null);

    const data = log(
      Array.from({ length: 40 }, (_, k) => k % 4),
      Array.from({ length: 40 }, (_, k) => (k * 3) % 12),
      Array.from({ length: 40 }, (_, k) => k),
      12,
    );
    const train = UserSequences.from(data);
    const sampler = new NegativeSampler(data);
    const config = { maxLength: 6, itemOffset: 1, batchSize: 3, seed: 5, negativeSampler: sampler };
    for (const b of sasrecBatches(train, config, 0)) {
      assert.equal(b.negatives!.length, b.positions.length);
      b.positions.forEach((p, j) => {
        const user = b.users[Math.floor(p / b.length)];
        assert.ok(
          !train.itemsOf(user).includes(b.negatives![j]),
          `negative ${b.negatives![j]} is in user ${user}'s history`,
        );
      });
    }
    assert.deepEqual(sasrecBatches(train, config, 1), sasrecBatches(train, config, 1));
  });
});
