import * as assert from "node:assert/strict";
import { ENGLISH_STOP_WORDS, Vocabulary, tokenizeWords } from "../../src/text/tokenize";

describe("tokenizeWords", () => {
  it("lower-cases and splits on whitespace and punctuation, keeping digits", () => {
    assert.deepEqual(tokenizeWords("Star Wars (1977)"), ["star", "wars", "1977"]);
    assert.deepEqual(tokenizeWords("2001: A Space Odyssey"), ["2001", "a", "space", "odyssey"]);
    assert.deepEqual(tokenizeWords("The Hunger Games (The Hunger Games, #1)"), [
      "the",
      "hunger",
      "games",
      "the",
      "hunger",
      "games",
      "1",
    ]);
  });

  it("keeps Unicode letters and treats composed and decomposed accents alike", () => {
    assert.deepEqual(tokenizeWords("Cité des enfants perdus, La"), ["cité", "des", "enfants", "perdus", "la"]);
    assert.deepEqual(tokenizeWords("Ame\u0301lie"), ["amélie"]); // e + combining acute -> é (NFKC)
    assert.deepEqual(tokenizeWords("Ｓｃｉ－Ｆｉ ﬁlm"), ["sci-fi", "film"]); // full-width forms and the fi ligature
    assert.deepEqual(tokenizeWords("ДОКТОР Живаго"), ["доктор", "живаго"]);
    // Scripts without spaces are not segmented.
    assert.deepEqual(tokenizeWords("東京物語 (1953)"), ["東京物語", "1953"]);
  });

  it("keeps hyphenated compounds as one token unless asked to split them", () => {
    assert.deepEqual(tokenizeWords("Sci-Fi Film-Noir young-adult X-Men"), [
      "sci-fi",
      "film-noir",
      "young-adult",
      "x-men",
    ]);
    // A hyphen joins only when it sits between two word characters.
    assert.deepEqual(tokenizeWords("well--known pre- -post - fi"), ["well", "known", "pre", "post", "fi"]);
    assert.deepEqual(tokenizeWords("Sci-Fi young-adult", { splitHyphens: true }), ["sci", "fi", "young", "adult"]);
  });

  it("drops a possessive 's and removes other apostrophes", () => {
    assert.deepEqual(tokenizeWords("Children's"), ["children"]);
    assert.deepEqual(tokenizeWords("Schindler’s List"), ["schindler", "list"]);
    assert.deepEqual(tokenizeWords("Don't Look Now, O'Brien"), ["dont", "look", "now", "obrien"]);
    assert.deepEqual(tokenizeWords("'quoted'"), ["quoted"]);
  });

  it("leaves out stop words after normalisation", () => {
    assert.deepEqual(tokenizeWords("The Lord of the Rings", { stopWords: ENGLISH_STOP_WORDS }), ["lord", "rings"]);
    assert.deepEqual(tokenizeWords("It's a Wonderful Life", { stopWords: ENGLISH_STOP_WORDS }), ["wonderful", "life"]);
    assert.deepEqual(tokenizeWords("I Don't Want to Talk", { stopWords: new Set(["want"]) }), [
      "i",
      "dont",
      "to",
      "talk",
    ]);
  });

  it("leaves out tokens shorter than minLength (in code points) and rejects a bad minLength", () => {
    assert.deepEqual(tokenizeWords("Malcolm X é ab", { minLength: 2 }), ["malcolm", "ab"]);
    // U+20000 is one letter in two UTF-16 units: one code point, too short.
    assert.deepEqual(tokenizeWords("\u{20000} \u{20000}\u{20001}", { minLength: 2 }), ["\u{20000}\u{20001}"]);
    assert.throws(() => tokenizeWords("x", { minLength: 0 }), /minLength/);
  });

  it("returns no tokens for empty or punctuation-only text", () => {
    assert.deepEqual(tokenizeWords(""), []);
    assert.deepEqual(tokenizeWords("  -- !? ... ()"), []);
  });
});

describe("Vocabulary", () => {
  const docs = [["space", "war", "space"], ["drama", "space"], ["war"]];

  it("numbers the distinct tokens of documents in sorted order", () => {
    const vocab = Vocabulary.fromDocuments(docs);
    assert.deepEqual(vocab.tokens, ["drama", "space", "war"]);
    assert.equal(vocab.size, 3);
    assert.equal(vocab.idOf("war"), 2);
    assert.equal(vocab.idOf("comedy"), undefined);
    assert.equal(vocab.tokenOf(1), "space");
    assert.equal(vocab.has("drama"), true);
    assert.throws(() => vocab.tokenOf(3), /out of range/);
  });

  it("encodes tokens to ids, leaving out unknown tokens", () => {
    const vocab = Vocabulary.fromDocuments(docs);
    assert.deepEqual(Array.from(vocab.encode(["war", "comedy", "drama", "war"])), [2, 0, 2]);
    assert.deepEqual(Array.from(vocab.encode([])), []);
  });

  it("prunes by document frequency", () => {
    // df: drama 1, space 2, war 2 (space counts once in its first document)
    assert.deepEqual(Vocabulary.fromDocuments(docs, { minDocumentFrequency: 2 }).tokens, ["space", "war"]);
    // at most 0.5 · 3 = 1.5 documents
    assert.deepEqual(Vocabulary.fromDocuments(docs, { maxDocumentFraction: 0.5 }).tokens, ["drama"]);
    assert.throws(() => Vocabulary.fromDocuments(docs, { minDocumentFrequency: 0 }), /minDocumentFrequency/);
    assert.throws(() => Vocabulary.fromDocuments(docs, { maxDocumentFraction: 0 }), /maxDocumentFraction/);
  });

  it("keeps a given token list in its order and rejects duplicates", () => {
    const vocab = Vocabulary.fromTokens(["[PAD]", "the", "a"]);
    assert.equal(vocab.idOf("[PAD]"), 0);
    assert.equal(vocab.idOf("a"), 2);
    assert.throws(() => Vocabulary.fromTokens(["a", "b", "a"]), /'a' appears twice/);
  });
});
