import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { interactionTexts, textClassificationBatches } from "../../src/data/textClassification";
import { WordPieceTokenizer } from "../../src/text/wordpiece";

describe("data/textClassification", () => {
  const tokenizer = WordPieceTokenizer.fromTokens([
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "1",
    "10",
    "##1",
    "##0",
    "2",
    "##2",
  ]);

  it("writes each interaction as '<user id> <item id>' with a like label from the rating", () => {
    const data = new Interactions({
      users: Int32Array.of(0, 1, 0),
      items: Int32Array.of(1, 0, 0),
      ratings: Float32Array.of(5, 3, 4),
      timestamps: new Float64Array(3),
      userIndex: IdIndex.from(["1", "2"]),
      itemIndex: IdIndex.from(["101", "102"]),
    });
    const { texts, labels, users, items } = interactionTexts(data);
    assert.deepEqual(texts, ["1 102", "2 101", "1 101"]);
    assert.deepEqual(Array.from(labels), [1, 0, 1]);
    assert.deepEqual(
      [Array.from(users), Array.from(items)],
      [
        [0, 1, 0],
        [1, 0, 0],
      ],
    );
    assert.deepEqual(Array.from(interactionTexts(data, { likeThreshold: 5 }).labels), [1, 0, 0]);
    assert.throws(() => interactionTexts(data, { likeThreshold: NaN }), /likeThreshold must be a finite number/);
  });

  it("encodes, pads and batches texts with their labels, in order or shuffled", () => {
    const texts = ["1 101", "2", "10 2"];
    const batches = textClassificationBatches(texts, [1, 0, 1], tokenizer, { batchSize: 2, maxLength: 6 });
    assert.deepEqual(
      batches.map((b) => b.batchSize),
      [2, 1],
    );
    // "1 101" → [CLS] 1 10 ##1 [SEP] [PAD]; "2" → [CLS] 2 [SEP] [PAD] [PAD] [PAD]
    assert.deepEqual(Array.from(batches[0].tokenIds), [2, 5, 6, 7, 3, 0, 2, 9, 3, 0, 0, 0]);
    assert.deepEqual(Array.from(batches[0].attentionMask), [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(batches[0].labels!), [1, 0]);
    const shuffled = textClassificationBatches(texts, [1, 0, 1], tokenizer, {
      batchSize: 3,
      maxLength: 6,
      rng: new Rng(4),
    })[0];
    const rows = [0, 1, 2].map((b) => Array.from(shuffled.tokenIds.subarray(b * 6, b * 6 + 6)).join(","));
    const label = (row: string) =>
      batches
        .flatMap((b) =>
          [0, 1]
            .slice(0, b.batchSize)
            .map((r) => ({ row: Array.from(b.tokenIds.subarray(r * 6, r * 6 + 6)).join(","), label: b.labels![r] })),
        )
        .find((x) => x.row === row)!.label;
    assert.deepEqual(Array.from(shuffled.labels!), rows.map(label), "labels travel with their texts");
    assert.equal(textClassificationBatches(texts, null, tokenizer, { batchSize: 4, maxLength: 6 })[0].labels, null);
  });

  it("rejects mismatched labels and bad settings", () => {
    assert.throws(
      () => textClassificationBatches(["1"], [1, 0], tokenizer, { batchSize: 1, maxLength: 4 }),
      /1 texts but 2 labels/,
    );
    assert.throws(
      () => textClassificationBatches(["1"], [-1], tokenizer, { batchSize: 1, maxLength: 4 }),
      /label 0 is -1/,
    );
    assert.throws(
      () => textClassificationBatches(["1"], [1], tokenizer, { batchSize: 0, maxLength: 4 }),
      /batchSize must be a positive integer/,
    );
    assert.throws(
      () => textClassificationBatches(["1"], [1], tokenizer, { batchSize: 1, maxLength: 1 }),
      /maxLength must be an integer >= 2/,
    );
  });
});
