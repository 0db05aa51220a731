import * as assert from "node:assert/strict";
import { sparseDot } from "../../src/data/csr";
import { bm25Vectors, documentFrequencies, termCountMatrix, tfidfVectors } from "../../src/text/termWeighting";
import { Vocabulary } from "../../src/text/tokenize";

const close = (actual: number, expected: number, tol = 1e-6, what = "value") =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);

function closeArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tol, `[${i}]`);
}

// The toy corpus of the hand computations below. Vocabulary (sorted): drama = 0, space = 1, war = 2.
//   d0 = "space space war"  counts (0, 2, 1), |d0| = 3
//   d1 = "space drama"      counts (1, 1, 0), |d1| = 2
//   d2 = "war"              counts (0, 0, 1), |d2| = 1
// N = 3; df(drama) = 1, df(space) = 2, df(war) = 2.
const TOY = ["space space war", "space drama", "war"];

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
    closeArrays(idf, [1.693147, 1.287682, 1.287682]);
    // d0: (0, 2·1.287682, 1·1.287682) -> / (1.287682·√5) -> (0, 2/√5, 1/√5) = (0, 0.894427, 0.447214)
    // d1: (1.693147, 1.287682, 0) -> / √(1.693147² + 1.287682²) = / 2.127175 -> (0.795961, 0.605349, 0)
    // d2: (0, 0, 1.287682) -> (0, 0, 1)
    closeArrays(vectors.toDense(), [0, 0.894427, 0.447214, 0.795961, 0.605349, 0, 0, 0, 1]);
  });

  it("offers the textbook idf, log tf, binary tf and unnormalised weights", () => {
    // ln(N / df): drama ln 3 = 1.098612, space and war ln 1.5 = 0.405465
    const textbook = tfidfVectors(TOY, { idf: "textbook", normalize: false });
    closeArrays(textbook.idf, [1.098612, 0.405465, 0.405465]);
    closeArrays(textbook.vectors.toDense(), [0, 0.81093, 0.405465, 1.098612, 0.405465, 0, 0, 0, 0.405465]);
    // log tf of space in d0: 1 + ln 2 = 1.693147, times idf 1.287682 = 2.180233
    close(tfidfVectors(TOY, { tf: "log", normalize: false }).vectors.get(0, 1), 1.693147 * 1.287682);
    close(tfidfVectors(TOY, { tf: "binary", normalize: false }).vectors.get(0, 1), 1.287682);
    assert.throws(() => tfidfVectors(TOY, { tf: "double" as "raw" }), /'tf' must be/);
  });

  it("gives cosine 1 for documents with the same words and 0 for documents sharing none", () => {
    const { vectors } = tfidfVectors(["space war", "War, space!", "drama romance"]);
    const cosine = (a: number, b: number) => sparseDot(vectors.row(a), vectors.row(b));
    close(cosine(0, 1), 1, 1e-12);
    assert.equal(cosine(0, 2), 0);
    close(cosine(2, 2), 1, 1e-12);
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
    closeArrays(raw.idf, [0.980829, 0.470004, 0.470004]);
    closeArrays(raw.vectors.toDense(), [0, 0.56658, 0.390192, 0.980829, 0.470004, 0, 0, 0, 0.590862]);
    // Unit rows: d0 / √(0.566580² + 0.390192²) = (0, 0.823588, 0.567188)
    closeArrays(bm25Vectors(TOY).vectors.row(0).values, [0.823588, 0.567188]);
  });

  it("reduces to idf on present terms when k1 = 0 and ignores length when b = 0", () => {
    const flat = bm25Vectors(TOY, { k1: 0, normalize: false });
    closeArrays(flat.vectors.toDense(), [0, 0.470004, 0.470004, 0.980829, 0.470004, 0, 0, 0, 0.470004]);
    // b = 0: w = idf · c · 2.2 / (c + 1.2) for every document; war (c = 1) weighs the same in d0 and d2.
    const noLength = bm25Vectors(TOY, { b: 0, normalize: false });
    close(noLength.vectors.get(0, 2), noLength.vectors.get(2, 2), 1e-12);
    close(noLength.vectors.get(0, 1), (0.470004 * 2 * 2.2) / 3.2);
    assert.throws(() => bm25Vectors(TOY, { b: 1.5 }), /'b' must be in \[0, 1\]/);
  });
});
