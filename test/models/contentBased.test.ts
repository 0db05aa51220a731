import * as assert from "node:assert/strict";
import { ItemCatalogue } from "../../src/data/catalogue";
import { IdIndex, Interactions, ItemInfo } from "../../src/data/interactions";
import { evaluateRanking, recommendTopK } from "../../src/eval/protocols";
import {
  ContentBasedRecommender,
  CsrMatrix,
  bm25Vectors,
  documentFrequencies,
  itemDocuments,
  l2NormalizeRows,
  sparseDot,
  termCountMatrix,
  tfidfVectors,
} from "../../src/models/contentBased";
import { Vocabulary } from "../../src/text/tokenize";
import { makeInteractions } from "../eval/fixtures";
import { assertClose } from "../support/assertions";

/** A CSR matrix from dense rows (zeros are not stored). */
function csrFromDense(rows: number[][]): CsrMatrix {
  const numCols = rows[0].length;
  const indptr = new Int32Array(rows.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  rows.forEach((row, r) => {
    row.forEach((v, c) => {
      if (v !== 0) {
        indices.push(c);
        values.push(v);
      }
    });
    indptr[r + 1] = indices.length;
  });
  return new CsrMatrix(rows.length, numCols, indptr, Int32Array.from(indices), Float64Array.from(values));
}

function logWithItemInfo(numItems: number, itemInfo: ItemInfo): Interactions {
  return new Interactions({
    users: new Int32Array(0), items: new Int32Array(0), ratings: new Float32Array(0), timestamps: new Float64Array(0),
    userIndex: IdIndex.from([]), itemIndex: IdIndex.from(Array.from({ length: numItems }, (_, i) => `m${i}`)),
    itemInfo, name: "toy-movies",
  });
}

// The toy corpus of the hand computations below. Vocabulary (sorted): drama = 0, space = 1, war = 2.
//   d0 = "space space war"  counts (0, 2, 1), |d0| = 3
//   d1 = "space drama"      counts (1, 1, 0), |d1| = 2
//   d2 = "war"              counts (0, 0, 1), |d2| = 1
// N = 3; df(drama) = 1, df(space) = 2, df(war) = 2.
const TOY = ["space space war", "space drama", "war"];

describe("itemDocuments", () => {
  const movies = logWithItemInfo(2, {
    titles: ["Toy Story (1995)", "Star Wars (1977)"],
    genres: [["Animation", "Children's", "Comedy"], ["Action", "Sci-Fi"]],
  });

  it("joins titles (without their year) and genres of an interaction log by default", () => {
    assert.deepEqual(itemDocuments(movies), ["Toy Story Animation Children's Comedy", "Star Wars Action Sci-Fi"]);
    assert.deepEqual(itemDocuments(movies, { fields: ["genres"] }), ["Animation Children's Comedy", "Action Sci-Fi"]);
    assert.deepEqual(itemDocuments(movies, { fields: ["titles"], keepTitleYears: true }), ["Toy Story (1995)", "Star Wars (1977)"]);
  });

  it("reads titles, tags and authors of a catalogue", () => {
    const catalogue: ItemCatalogue = {
      name: "toy-books", ids: ["1", "2"], titles: ["The Hobbit", "1984"], authors: ["J.R.R. Tolkien", "George Orwell"],
      tags: [["fantasy", "classics"], []],
    };
    assert.deepEqual(itemDocuments(catalogue), ["The Hobbit fantasy classics", "1984"]);
    assert.deepEqual(itemDocuments(catalogue, { fields: ["authors", "tags"] }), ["J.R.R. Tolkien fantasy classics", "George Orwell"]);
  });

  it("names a missing or misaligned field", () => {
    assert.throws(() => itemDocuments(movies, { fields: ["tags"] }), /'toy-movies' has no item field 'tags' \(it has: titles, genres\)/);
    const short = logWithItemInfo(3, { titles: ["a", "b"] });
    assert.throws(() => itemDocuments(short), /field 'titles' has 2 entries for 3 items/);
    assert.throws(() => itemDocuments(logWithItemInfo(1, {})), /has no item text/);
  });
});

describe("CsrMatrix", () => {
  const m = csrFromDense([
    [0, 2, 0],
    [0, 0, 0],
    [1, 0, 3],
  ]);

  it("stores rows sparsely and reads entries, rows, the transpose and a dense copy", () => {
    assert.equal(m.nnz, 3);
    assert.equal(m.get(0, 1), 2);
    assert.equal(m.get(0, 0), 0);
    assert.equal(m.get(2, 2), 3);
    assert.deepEqual(Array.from(m.row(2).indices), [0, 2]);
    assert.deepEqual(Array.from(m.row(1).values), []);
    assert.deepEqual(Array.from(m.toDense()), [0, 2, 0, 0, 0, 0, 1, 0, 3]);
    assert.deepEqual(Array.from(m.transpose().toDense()), [0, 0, 1, 2, 0, 0, 0, 0, 3]);
    assert.throws(() => m.row(3), /out of range/);
  });

  it("rejects inconsistent arrays", () => {
    const f64 = (xs: number[]) => Float64Array.from(xs);
    assert.throws(() => new CsrMatrix(1, 2, Int32Array.from([0, 2]), Int32Array.from([1, 0]), f64([1, 1])), /not strictly ascending/);
    assert.throws(() => new CsrMatrix(1, 2, Int32Array.from([0, 1]), Int32Array.from([2]), f64([1])), /column 2, outside/);
    assert.throws(() => new CsrMatrix(2, 2, Int32Array.from([0, 1]), Int32Array.from([0]), f64([1])), /inconsistent/);
  });

  it("computes sparse dot products and unit-length rows", () => {
    assert.equal(sparseDot(m.row(0), m.row(2)), 0);
    assert.equal(sparseDot(m.row(2), m.row(2)), 10);
    const unit = l2NormalizeRows(m);
    assertClose(unit.toDense(), [0, 1, 0, 0, 0, 0, 1 / Math.sqrt(10), 0, 3 / Math.sqrt(10)], { atol: 1e-12, rtol: 0 });
    assert.equal(m.get(2, 2), 3, "the input is not modified");
  });
});

describe("term counts", () => {
  it("counts repeated tokens and document frequencies", () => {
    const vocab = Vocabulary.fromDocuments([["space", "space", "war"], ["space", "drama"], ["war"]]);
    const counts = termCountMatrix([["space", "space", "war"], ["space", "drama", "comedy"], ["war"]], vocab);
    assert.deepEqual(Array.from(counts.toDense()), [0, 2, 1, 1, 1, 0, 0, 0, 1]); // "comedy" is not in the vocabulary
    assert.deepEqual(Array.from(documentFrequencies(counts)), [1, 2, 2]);
  });
});

describe("tfidfVectors", () => {
  it("matches a hand computation with scikit-learn's defaults (raw tf, smooth idf, unit rows)", () => {
    // idf(t) = ln((1 + N) / (1 + df)) + 1:
    //   drama: ln(4/2) + 1 = 1.693147;  space, war: ln(4/3) + 1 = 1.287682
    const { vocabulary, idf, documentFrequencies: df, vectors } = tfidfVectors(TOY);
    assert.deepEqual(vocabulary.tokens, ["drama", "space", "war"]);
    assert.deepEqual(Array.from(df), [1, 2, 2]);
    assertClose(idf, [1.693147, 1.287682, 1.287682], { atol: 1e-6, rtol: 0 });
    // d0: (0, 2·1.287682, 1·1.287682) -> / (1.287682·√5) -> (0, 2/√5, 1/√5) = (0, 0.894427, 0.447214)
    // d1: (1.693147, 1.287682, 0) -> / √(1.693147² + 1.287682²) = / 2.127175 -> (0.795961, 0.605349, 0)
    // d2: (0, 0, 1.287682) -> (0, 0, 1)
    assertClose(vectors.toDense(), [0, 0.894427, 0.447214, 0.795961, 0.605349, 0, 0, 0, 1], { atol: 1e-6, rtol: 0 });
  });

  it("offers the textbook idf, log tf, binary tf and unnormalised weights", () => {
    // ln(N / df): drama ln 3 = 1.098612, space and war ln 1.5 = 0.405465
    const textbook = tfidfVectors(TOY, { idf: "textbook", normalize: false });
    assertClose(textbook.idf, [1.098612, 0.405465, 0.405465], { atol: 1e-6, rtol: 0 });
    assertClose(textbook.vectors.toDense(), [0, 0.810930, 0.405465, 1.098612, 0.405465, 0, 0, 0, 0.405465], { atol: 1e-6, rtol: 0 });
    // log tf of space in d0: 1 + ln 2 = 1.693147, times idf 1.287682 = 2.180233
    assertClose(tfidfVectors(TOY, { tf: "log", normalize: false }).vectors.get(0, 1), 1.693147 * 1.287682, { atol: 1e-6, rtol: 0 });
    assertClose(tfidfVectors(TOY, { tf: "binary", normalize: false }).vectors.get(0, 1), 1.287682, { atol: 1e-6, rtol: 0 });
    assert.throws(() => tfidfVectors(TOY, { tf: "double" as "raw" }), /'tf' must be/);
  });

  it("gives cosine 1 for documents with the same words and 0 for documents sharing none", () => {
    const model = new ContentBasedRecommender(tfidfVectors(["space war", "War, space!", "drama romance"]).vectors);
    assertClose(model.similarity(0, 1), 1, { atol: 1e-12, rtol: 0 });
    assert.equal(model.similarity(0, 2), 0);
    assertClose(model.similarity(2, 2), 1, { atol: 1e-12, rtol: 0 });
  });

  it("leaves out English stop words by default", () => {
    const { vocabulary } = tfidfVectors(["The Lord of the Rings", "Lord of War"]);
    assert.deepEqual(vocabulary.tokens, ["lord", "rings", "war"]);
    assert.ok(tfidfVectors(["The Lord of the Rings"], { tokenize: {} }).vocabulary.has("the"));
  });
});

describe("bm25Vectors", () => {
  it("matches a hand computation with k1 = 1.2, b = 0.75", () => {
    // idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)):
    //   drama: ln(1 + 2.5/1.5) = ln(8/3) = 0.980829;  space, war: ln(1 + 1.5/2.5) = ln 1.6 = 0.470004
    // avgdl = (3 + 2 + 1) / 3 = 2;  K(d) = k1 · (1 − b + b·|d|/avgdl):
    //   K(d0) = 1.2 · (0.25 + 0.75·3/2) = 1.65;  K(d1) = 1.2 · (0.25 + 0.75) = 1.2;  K(d2) = 1.2 · (0.25 + 0.375) = 0.75
    // w = idf · c · (k1 + 1) / (c + K):
    //   d0 space: 0.470004 · 2 · 2.2 / (2 + 1.65) = 0.566580;  d0 war: 0.470004 · 2.2 / 2.65 = 0.390192
    //   d1 drama: 0.980829 · 2.2 / 2.2 = 0.980829;             d1 space: 0.470004
    //   d2 war:   0.470004 · 2.2 / 1.75 = 0.590862
    const raw = bm25Vectors(TOY, { normalize: false });
    assertClose(raw.idf, [0.980829, 0.470004, 0.470004], { atol: 1e-6, rtol: 0 });
    assertClose(raw.vectors.toDense(), [0, 0.566580, 0.390192, 0.980829, 0.470004, 0, 0, 0, 0.590862], { atol: 1e-6, rtol: 0 });
    // Unit rows: d0 / √(0.566580² + 0.390192²) = (0, 0.823588, 0.567188)
    assertClose(bm25Vectors(TOY).vectors.row(0).values, [0.823588, 0.567188], { atol: 1e-6, rtol: 0 });
  });

  it("reduces to idf on present terms when k1 = 0 and ignores length when b = 0", () => {
    const flat = bm25Vectors(TOY, { k1: 0, normalize: false });
    assertClose(flat.vectors.toDense(), [0, 0.470004, 0.470004, 0.980829, 0.470004, 0, 0, 0, 0.470004], { atol: 1e-6, rtol: 0 });
    // b = 0: w = idf · c · 2.2 / (c + 1.2) for every document; war (c = 1) weighs the same in d0 and d2.
    const noLength = bm25Vectors(TOY, { b: 0, normalize: false });
    assertClose(noLength.vectors.get(0, 2), noLength.vectors.get(2, 2), { atol: 1e-12, rtol: 0 });
    assertClose(noLength.vectors.get(0, 1), (0.470004 * 2 * 2.2) / 3.2, { atol: 1e-6, rtol: 0 });
    assert.throws(() => bm25Vectors(TOY, { b: 1.5 }), /'b' must be in \[0, 1\]/);
  });
});

describe("ContentBasedRecommender", () => {
  describe("similarItems", () => {
    // Unit vectors: cos(0, 3) = 1 (same direction), cos(0, 1) = cos(0, 4) = 1/√2, cos(0, 2) = 0.
    const model = new ContentBasedRecommender(
      csrFromDense([
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
      assert.throws(() => model.similarItems(0, 0), /'k' must be a positive integer/);
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
        [0, 0, 5], [0, 1, 5], [0, 3, 1], // user 0: loves space, dislikes romance; mean 11/3
        [1, 4, 5], [1, 5, 4], [1, 0, 2], // user 1: the reverse; mean 11/3
        [2, 0, 5], [2, 3, 4], [2, 4, 1], // user 2: mean 10/3, weights 5/3 (item 0) and 2/3 (item 3)
        [3, 1, 3], [3, 2, 3],             // user 3: all ratings equal -> every item, weight 1
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
      assertClose(profileDense(0), Array.from({ length: numTerms }, (_, t) => (itemVector(0)[t] + itemVector(1)[t]) / 2), { atol: 1e-12, rtol: 0 });
    });

    it("falls back to every rated item when all of a user's ratings are equal, and to nothing without ratings", () => {
      assertClose(profileDense(3), Array.from({ length: numTerms }, (_, t) => (itemVector(1)[t] + itemVector(2)[t]) / 2), { atol: 1e-12, rtol: 0 });
      assert.equal(model.profileOf(4).indices.length, 0);
      assert.ok(model.scoreItems(Int32Array.from([4])).every((s) => s === 0));
    });

    it("uses every rated item with weight 1 under the uniform profile", () => {
      const uniform = new ContentBasedRecommender(vectors, { profile: "uniform" }).fit(train);
      const { indices, values } = uniform.profileOf(2);
      const got = new Float64Array(numTerms);
      indices.forEach((t, j) => (got[t] = values[j]));
      assertClose(got, Array.from({ length: numTerms }, (_, t) => (itemVector(0)[t] + itemVector(3)[t] + itemVector(4)[t]) / 3), { atol: 1e-12, rtol: 0 });
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
      const test = makeInteractions([[0, 2], [1, 3]], 5, 7, "test");
      const report = evaluateRanking(model, { train, test, k: 1, metrics: ["hr"] });
      assert.equal(report.metrics["hr@1"], 1);
    });

    it("rejects misuse with clear errors", () => {
      assert.throws(() => new ContentBasedRecommender(vectors).scoreItems(Int32Array.from([0])), /call fit\(train\) first/);
      assert.throws(() => new ContentBasedRecommender(vectors).fit(makeInteractions([[0, 0]], 1, 3)), /3 items but there are 7 item vectors/);
      assert.throws(() => model.scoreItems(Int32Array.from([5])), /outside the 5 users/);
      assert.throws(() => new ContentBasedRecommender(vectors, { profile: "max" as "uniform" }), /'profile' must be/);
    });
  });
});
