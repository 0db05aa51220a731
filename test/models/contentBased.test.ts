import * as assert from "node:assert/strict";
import { ItemCatalogue } from "../../src/data/catalogue";
import { CsrMatrix } from "../../src/data/csr";
import { IdIndex, Interactions, ItemInfo } from "../../src/data/interactions";
import { evaluateRanking, recommendTopK } from "../../src/eval/protocols";
import { ContentBasedRecommender, itemDocuments } from "../../src/models/contentBased";
import { tfidfVectors } from "../../src/text/termWeighting";
import { makeInteractions } from "../eval/fixtures";
import { assertClose } from "../support/assertions";

function logWithItemInfo(numItems: number, itemInfo: ItemInfo): Interactions {
  return new Interactions({
    users: new Int32Array(0),
    items: new Int32Array(0),
    ratings: new Float32Array(0),
    timestamps: new Float64Array(0),
    userIndex: IdIndex.from([]),
    itemIndex: IdIndex.from(Array.from({ length: numItems }, (_, i) => `m${i}`)),
    itemInfo,
    name: "toy-movies",
  });
}

describe("itemDocuments", () => {
  const movies = logWithItemInfo(2, {
    titles: ["Toy Story (1995)", "Star Wars (1977)"],
    genres: [
      ["Animation", "Children's", "Comedy"],
      ["Action", "Sci-Fi"],
    ],
  });

  it("joins titles (without their year) and genres of an interaction log by default", () => {
    assert.deepEqual(itemDocuments(movies), ["Toy Story Animation Children's Comedy", "Star Wars Action Sci-Fi"]);
    assert.deepEqual(itemDocuments(movies, { fields: ["genres"] }), ["Animation Children's Comedy", "Action Sci-Fi"]);
    assert.deepEqual(itemDocuments(movies, { fields: ["titles"], keepTitleYears: true }), [
      "Toy Story (1995)",
      "Star Wars (1977)",
    ]);
  });

  it("reads titles, tags and authors of a catalogue", () => {
    const catalogue: ItemCatalogue = {
      name: "toy-books",
      ids: ["1", "2"],
      titles: ["The Hobbit", "1984"],
      authors: ["J.R.R. Tolkien", "George Orwell"],
      tags: [["fantasy", "classics"], []],
    };
    assert.deepEqual(itemDocuments(catalogue), ["The Hobbit fantasy classics", "1984"]);
    assert.deepEqual(itemDocuments(catalogue, { fields: ["authors", "tags"] }), [
      "J.R.R. Tolkien fantasy classics",
      "George Orwell",
    ]);
  });

  it("names a missing or misaligned field", () => {
    assert.throws(
      () => itemDocuments(movies, { fields: ["tags"] }),
      /'toy-movies' has no item field 'tags' \(it has: titles, genres\)/,
    );
    const short = logWithItemInfo(3, { titles: ["a", "b"] });
    assert.throws(() => itemDocuments(short), /field 'titles' has 2 entries for 3 items/);
    assert.throws(() => itemDocuments(logWithItemInfo(1, {})), /has no item text/);
  });
});

describe("ContentBasedRecommender", () => {
  describe("similarItems", () => {
    // Unit vectors: cos(0, 3) = 1 (same direction), cos(0, 1) = cos(0, 4) = 1/√2, cos(0, 2) = 0.
    const model = new ContentBasedRecommender(
      CsrMatrix.fromDense([
        [1, 0, 0],
        [1, 1, 0],
        [0, 0, 1],
        [2, 0, 0],
        [1, 0, 1],
      ]),
    );

    it("returns the nearest items by cosine, ties by lower index, without the item itself", () => {
      const { items, scores } = model.similarItems(0, 3);
      assert.deepEqual(Array.from(items), [3, 1, 4]);
      assertClose(scores, [1, Math.SQRT1_2, Math.SQRT1_2], { atol: 1e-12, rtol: 0 });
      assert.deepEqual(Array.from(model.similarItems(0, 2).items), [3, 1]);
    });

    it("leaves out items sharing nothing with the query", () => {
      assert.deepEqual(Array.from(model.similarItems(0, 10).items), [3, 1, 4]); // item 2 is orthogonal
      assert.deepEqual(Array.from(model.similarItems(2, 10).items), [4]);
      assert.throws(() => model.similarItems(0, 0), /similarItems: k must be a positive integer/);
      assert.throws(() => model.similarItems(5, 1), /out of range/);
    });
  });

  describe("user profiles and scores", () => {
    // Two themes: space (items 0–2) and romance (3–5); item 6 has one word of each.
    const docs = [
      "space opera adventure",
      "space alien invasion",
      "alien space station",
      "romance wedding comedy",
      "romance love drama",
      "wedding comedy love",
      "space romance",
    ];
    const vectors = tfidfVectors(docs).vectors;
    const dense = vectors.toDense();
    const numTerms = vectors.numCols;
    const itemVector = (i: number) => dense.subarray(i * numTerms, (i + 1) * numTerms);
    const train = makeInteractions(
      [
        [0, 0, 5],
        [0, 1, 5],
        [0, 3, 1], // user 0: loves space, dislikes romance; mean 11/3
        [1, 4, 5],
        [1, 5, 4],
        [1, 0, 2], // user 1: the reverse; mean 11/3
        [2, 0, 5],
        [2, 3, 4],
        [2, 4, 1], // user 2: mean 10/3, weights 5/3 (item 0) and 2/3 (item 3)
        [3, 1, 3],
        [3, 2, 3], // user 3: all ratings equal -> every item, weight 1
        // user 4 has no training rows
      ],
      5,
      7,
      "train",
    );
    const model = new ContentBasedRecommender(vectors).fit(train);

    function profileDense(user: number): Float64Array {
      const out = new Float64Array(numTerms);
      const { indices, values } = model.profileOf(user);
      indices.forEach((t, j) => (out[t] = values[j]));
      return out;
    }

    it("weights the items rated above the user's mean by their distance to it", () => {
      // p_2 = (5/3 · v0 + 2/3 · v3) / (5/3 + 2/3) = (5 v0 + 2 v3) / 7
      const expected = Array.from({ length: numTerms }, (_, t) => (5 * itemVector(0)[t] + 2 * itemVector(3)[t]) / 7);
      assertClose(profileDense(2), expected, { atol: 1e-12, rtol: 0 });
      // p_0 = v0 and v1 with equal weight 4/3: their mean; item 3 (rated 1, below the mean) is left out
      assertClose(
        profileDense(0),
        Array.from({ length: numTerms }, (_, t) => (itemVector(0)[t] + itemVector(1)[t]) / 2),
        { atol: 1e-12, rtol: 0 },
      );
    });

    it("falls back to every rated item when all of a user's ratings are equal, and to nothing without ratings", () => {
      assertClose(
        profileDense(3),
        Array.from({ length: numTerms }, (_, t) => (itemVector(1)[t] + itemVector(2)[t]) / 2),
        { atol: 1e-12, rtol: 0 },
      );
      assert.equal(model.profileOf(4).indices.length, 0);
      assert.ok(model.scoreItems(Int32Array.from([4])).every((s) => s === 0));
    });

    it("uses every rated item with weight 1 under the uniform profile", () => {
      const uniform = new ContentBasedRecommender(vectors, { profile: "uniform" }).fit(train);
      const { indices, values } = uniform.profileOf(2);
      const got = new Float64Array(numTerms);
      indices.forEach((t, j) => (got[t] = values[j]));
      assertClose(
        got,
        Array.from({ length: numTerms }, (_, t) => (itemVector(0)[t] + itemVector(3)[t] + itemVector(4)[t]) / 3),
        { atol: 1e-12, rtol: 0 },
      );
    });

    it("scores items by the cosine of profile and item vector", () => {
      const scores = model.scoreItems(Int32Array.from([2]));
      const p = profileDense(2);
      const norm = Math.hypot(...p);
      for (let i = 0; i < docs.length; i++) {
        let dot = 0;
        for (let t = 0; t < numTerms; t++) dot += p[t] * itemVector(i)[t];
        assertClose(scores[i], dot / norm, { atol: 1e-6, rtol: 0 }, `score of item ${i}`);
      }
    });

    it("ranks the unseen items similar to the liked ones first and never recommends seen items", () => {
      const top = recommendTopK(model, [0, 1], { k: 2, excludeSeen: train });
      // User 0 liked two space films: the remaining space film, then the half-space one.
      assert.deepEqual(Array.from(top.itemsOf(0)), [2, 6]);
      // User 1 liked romance: the remaining romance film first (shares wedding, comedy, love).
      assert.equal(top.itemsOf(1)[0], 3);
      // Without the exclusion the liked items themselves come first.
      const withSeen = recommendTopK(model, [0], { k: 2 });
      assert.deepEqual(Array.from(withSeen.itemsOf(0)).sort(), [0, 1]);
    });

    it("scores pairs as scoreItems does, and works with evaluateRanking", () => {
      const users = Int32Array.from([0, 0, 1, 2, 3, 4]);
      const items = Int32Array.from([2, 5, 3, 6, 0, 1]);
      const pairs = model.scorePairs(users, items);
      for (let j = 0; j < users.length; j++) {
        assertClose(pairs[j], model.scoreItems(users.subarray(j, j + 1))[items[j]], { atol: 1e-6, rtol: 0 });
      }
      const test = makeInteractions(
        [
          [0, 2],
          [1, 3],
        ],
        5,
        7,
        "test",
      );
      const report = evaluateRanking(model, { train, test, k: 1, metrics: ["hr"] });
      assert.equal(report.metrics["hr@1"], 1);
    });

    it("rejects misuse with clear errors", () => {
      assert.throws(
        () => new ContentBasedRecommender(vectors).scoreItems(Int32Array.from([0])),
        /call fit\(train\) first/,
      );
      assert.throws(
        () => new ContentBasedRecommender(vectors).fit(makeInteractions([[0, 0]], 1, 3)),
        /3 items but there are 7 item vectors/,
      );
      assert.throws(() => model.scoreItems(Int32Array.from([5])), /outside the 5 users/);
      assert.throws(() => new ContentBasedRecommender(vectors, { profile: "max" as "uniform" }), /'profile' must be/);
    });
  });
});
