import * as assert from "node:assert/strict";
import { CsrMatrix } from "../../src/data/csr";
import { contentExplainer, contentExplanation, contentHistoryScorer } from "../../src/explain/content";
import { ContentBasedRecommender } from "../../src/models/contentBased";
import { tfidfVectors } from "../../src/text/termWeighting";
import { Vocabulary } from "../../src/text/tokenize";
import { makeInteractions } from "../eval/fixtures";
import { assertClose } from "../support/assertions";

describe("explain/content", () => {
  // Terms 0 "action", 1 "comedy", 2 "space". Items: 0 action+space, 1 comedy, 2 action, 3 action+space.
  const vocabulary = Vocabulary.fromTokens(["action", "comedy", "space"]);
  const vectors = CsrMatrix.fromDense([
    [1, 0, 1],
    [0, 1, 0],
    [1, 0, 0],
    [1, 0, 1],
  ]);
  const h = Math.SQRT1_2;

  it("splits the score by history item and by shared term, by hand", () => {
    const model = new ContentBasedRecommender(vectors, { profile: "uniform" });
    const explanation = contentExplanation(model, [0, 1, 2], 3, { vocabulary });
    // p = (v0 + v1 + v2)/3 with v0 = (h, 0, h), v1 = (0, 1, 0), v2 = (1, 0, 0); v3 = (h, 0, h).
    const norm = Math.hypot(h + 1, 1, h) / 3;
    const scale = 1 / (3 * norm);
    assert.deepEqual(
      explanation.history.map((a) => a.position),
      [0, 2, 1],
    );
    assertClose(
      explanation.history.map((a) => a.importance),
      [1 * scale, h * scale, 0],
    );
    assert.deepEqual(
      explanation.terms.map((t) => t.text),
      ["action", "space"],
    );
    assertClose(
      explanation.terms.map((t) => t.contribution),
      [(h * h + h) * scale, h * h * scale],
    );
    // "action" comes from film 2 (weight 1 · h) more than from film 0 (h · h); "space" from film 0 only.
    assert.deepEqual(
      explanation.terms[0].sources.map((a) => a.item),
      [2, 0],
    );
    assert.deepEqual(
      explanation.terms[1].sources.map((a) => a.item),
      [0],
    );
    const expectedScore = model
      .fit(
        makeInteractions(
          [
            [0, 0],
            [0, 1],
            [0, 2],
          ],
          1,
          4,
        ),
      )
      .scoreItems(Int32Array.of(0))[3];
    assertClose(explanation.score, expectedScore, { atol: 1e-6 });
    assertClose(
      explanation.terms.reduce((s, t) => s + t.contribution, 0),
      explanation.score,
    );
    // Without the vocabulary, terms are ids only.
    assert.equal(contentExplanation(model, [0], 3).terms[0].text, undefined);
  });

  it("weighs the history as the model's aboveMean profile does", () => {
    const model = new ContentBasedRecommender(vectors);
    // Ratings 5, 1, 3: mean 3, so only film 0 (weight 2) is in the profile, and explains all of the score.
    const explanation = contentExplanation(model, [0, 1, 2], 3, { ratings: [5, 1, 3] });
    assert.deepEqual(
      explanation.history.map((a) => a.position),
      [0, 1, 2],
    );
    assertClose(
      explanation.history.map((a) => a.importance),
      [1, 0, 0],
    );
    // Without ratings (or all equal ones) every position weighs 1, as the model does.
    assertClose(
      contentExplanation(model, [0, 1, 2], 3).score,
      contentExplanation(new ContentBasedRecommender(vectors, { profile: "uniform" }), [0, 1, 2], 3).score,
    );
  });

  it("rescores any history as the fitted model scores its users", () => {
    const documents = [
      "Star Wars space action",
      "Toy Story comedy",
      "Heat action crime",
      "Alien space horror",
      "Airplane comedy",
    ];
    const { vectors: tfidf, vocabulary: words } = tfidfVectors(documents);
    const train = makeInteractions(
      [
        [0, 0, 5],
        [0, 2, 4],
        [0, 1, 1],
        [1, 1, 4],
        [1, 4, 4],
        [1, 3, 2],
      ],
      2,
      5,
    );
    const histories = [
      [0, 2, 1],
      [1, 4, 3],
    ];
    const ratingOf = (user: number, item: number) => {
      for (let r = 0; r < train.length; r++)
        if (train.users[r] === user && train.items[r] === item) return train.ratings[r];
      throw new Error(`no rating of ${item} by ${user}`);
    };
    const model = new ContentBasedRecommender(tfidf).fit(train);
    const scores = model.scoreItems(Int32Array.of(0, 1));
    const score = contentHistoryScorer(model, { ratings: ratingOf });
    const explain = contentExplainer(model, { ratings: ratingOf });
    histories.forEach((history, u) => {
      assertClose(score(history, u), scores.subarray(u * 5, (u + 1) * 5), { atol: 1e-6 }, `user ${u}`);
      for (let target = 0; target < 5; target++) {
        const total = explain(history, target, u).reduce((s, a) => s + a.importance, 0);
        assertClose(total, scores[u * 5 + target], { atol: 1e-6 }, `user ${u}, item ${target}`);
      }
    });
    // User 0 liked Star Wars (5) and Heat (4) over Toy Story (1): Alien is theirs for "space", from Star Wars.
    const alien = contentExplanation(model, histories[0], 3, { ratings: [5, 4, 1], vocabulary: words });
    assert.deepEqual(
      alien.terms.map((t) => t.text),
      ["space"],
    );
    assert.deepEqual(
      alien.terms[0].sources.map((a) => a.item),
      [0],
    );
    // An empty profile scores and explains nothing.
    assert.deepEqual(Array.from(score([], 0)), [0, 0, 0, 0, 0]);
    assert.equal(contentExplanation(model, [], 3).score, 0);
  });

  it("rejects bad input", () => {
    const model = new ContentBasedRecommender(vectors);
    assert.throws(() => contentExplanation(model, [0, 4], 3), /contentExplanation: history\[1\] = 4 is outside/);
    assert.throws(() => contentExplanation(model, [0], 4), /contentExplanation: target 4 is outside/);
    assert.throws(() => contentExplanation(model, [0, 1], 3, { ratings: [1] }), /1 ratings for a history of 2 items/);
    assert.throws(
      () => contentExplanation(model, [0, 1], 3, { ratings: [1, NaN] }),
      /ratings\[1\] must be a finite number, got NaN/,
    );
  });
});
