import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { WordPieceTokenizer } from "../../src/text/wordpiece";
import { BERT_SPECIAL_TOKENS, trainWordPiece } from "../../src/text/wordpieceTraining";
import { catalogueTexts } from "./fixtures";

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** A corpus of whole words with counts (the HuggingFace course's example), its texts in a seeded order. */
function hugCorpus(seed = 1): string[] {
  const texts: string[] = [];
  for (const [word, count] of [
    ["hug", 10],
    ["pug", 5],
    ["pun", 12],
    ["bun", 4],
    ["hugs", 5],
  ] as const) {
    for (let i = 0; i < count; i++) texts.push(word);
  }
  return new Rng(seed).shuffle(texts);
}

describe("trainWordPiece", () => {
  it("merges the pair with the highest freq(ab) / (freq(a) freq(b)), checked by hand", () => {
    // Words (count): hug 10, pug 5, pun 12, bun 4, hugs 5. Start: h ##u ##g, p ##u ##g, ...
    // freq: h 15, p 17, b 4, ##u 36, ##g 20, ##n 16, ##s 5.
    const training = trainWordPiece(hugCorpus(), { vocabSize: 100 });
    assert.deepEqual(training.alphabet, ["b", "g", "h", "n", "p", "s", "u"]);
    assert.deepEqual(training.tokens.slice(0, 16), [
      ...SPECIALS,
      "b",
      "g",
      "h",
      "n",
      "p",
      "s",
      "u",
      "##g",
      "##n",
      "##s",
      "##u",
    ]);
    const steps = training.merges.map((m) => [m.first, m.second, m.token, m.frequency, +m.score.toFixed(6)]);
    assert.deepEqual(steps, [
      // ##g ##s: 5 / (20 · 5) = 1/20; every other pair scores 1/36 (e.g. h ##u: 15 / (15 · 36))
      ["##g", "##s", "##gs", 5, +(1 / 20).toFixed(6)],
      // now all six pairs score 1/36: the most frequent wins, p ##u (17)
      ["p", "##u", "pu", 17, +(1 / 36).toFixed(6)],
      // ##u is down to 19: h ##u 15/(15·19), b ##u 4/(4·19), ##u ##gs 5/(19·5) tie at 1/19; h ##u is the most frequent
      ["h", "##u", "hu", 15, +(1 / 19).toFixed(6)],
      // ##u is down to 4: b ##u 4 / (4 · 4)
      ["b", "##u", "bu", 4, 0.25],
      // hu ##gs 5 / (15 · 5) beats bu ##n 4 / (4 · 16)
      ["hu", "##gs", "hugs", 5, +(1 / 15).toFixed(6)],
      // hu ##g 10 / (10 · 15)
      ["hu", "##g", "hug", 10, +(1 / 15).toFixed(6)],
      // bu ##n 4 / (4 · 16) beats pu ##g 5 / (17 · 5)
      ["bu", "##n", "bun", 4, 0.0625],
      // pu ##n 12 / (17 · 12) ties pu ##g 5 / (17 · 5): the more frequent wins
      ["pu", "##n", "pun", 12, +(1 / 17).toFixed(6)],
      ["pu", "##g", "pug", 5, 0.2],
    ]);
    // every word is one token now: training stops short of vocabSize
    assert.deepEqual(training.tokens.slice(16), ["##gs", "pu", "hu", "bu", "hugs", "hug", "bun", "pun", "pug"]);
    assert.equal(training.distinctWords, 5);
    assert.equal(training.skippedWords, 0);
    // vocabSize stops it early
    assert.deepEqual(trainWordPiece(hugCorpus(), { vocabSize: 18 }).tokens.slice(16), ["##gs", "pu"]);
  });

  it("with scoring 'frequency' merges the most frequent pair first (Hugging Face tokenizers' trainer), checked by hand", () => {
    // Pair counts: ##u ##g 20 (hug, pug, hugs), ##u ##n 16, h ##u 15, p ##u 17, ##g ##s 5, b ##u 4.
    const training = trainWordPiece(hugCorpus(), { vocabSize: 100, scoring: "frequency" });
    assert.deepEqual(
      training.merges.map((m) => [m.first, m.second, m.token, m.frequency, m.score]),
      [
        ["##u", "##g", "##ug", 20, 20],
        ["##u", "##n", "##un", 16, 16], // p ##u is down to 12 (pun) once pug's ##u is merged
        ["h", "##ug", "hug", 15, 15],
        ["p", "##un", "pun", 12, 12],
        ["hug", "##s", "hugs", 5, 5], // ties p ##ug (5): "hug" sorts before "p"
        ["p", "##ug", "pug", 5, 5],
        ["b", "##un", "bun", 4, 4],
      ],
    );
    assert.throws(
      () => trainWordPiece(hugCorpus(), { scoring: "bpe" as never }),
      /'scoring' must be "likelihood" or "frequency"/,
    );
  });

  it("breaks equal scores and counts by string order, whatever the corpus order", () => {
    // a ##b and c ##d both score 2 / (2 · 2) with count 2
    // (5 specials, a b c d, ##b ##d: the first merged token has id 11)
    assert.deepEqual(trainWordPiece(["cd ab", "ab cd"], { vocabSize: 12 }).tokens.slice(11), ["ab"]);
    assert.deepEqual(trainWordPiece(["cd", "cd", "ab", "ab"], { vocabSize: 12 }).tokens.slice(11), ["ab"]);
    const texts = catalogueTexts().slice(0, 1500);
    const first = trainWordPiece(texts, { vocabSize: 800 });
    const shuffled = trainWordPiece(new Rng(7).shuffle(texts.slice()), { vocabSize: 800 });
    assert.deepEqual(shuffled.tokens, first.tokens);
    assert.deepEqual(shuffled.merges, first.merges);
  });

  it("merges only pairs seen minFrequency times", () => {
    // "ab" once, "cd" twice: with the default minFrequency 2 only c ##d merges
    assert.deepEqual(trainWordPiece(["ab cd cd"], { vocabSize: 20 }).tokens.slice(11), ["cd"]);
    assert.deepEqual(trainWordPiece(["ab cd cd"], { vocabSize: 20, minFrequency: 1 }).tokens.slice(11), ["ab", "cd"]);
  });

  it("limits the alphabet to its most frequent characters and leaves out words with others", () => {
    // character counts: ##u 36, ##g 20, p 17, ##n 16, h 15, ##s 5, b 4: b goes, and with it "bun"
    const training = trainWordPiece(hugCorpus(), { vocabSize: 100, limitAlphabet: 6 });
    assert.deepEqual(training.alphabet, ["g", "h", "n", "p", "s", "u"]);
    assert.equal(training.skippedWords, 1);
    const tokenizer = WordPieceTokenizer.fromTokens(training.tokens);
    assert.deepEqual(tokenizer.tokenize("bun hugs"), ["[UNK]", "hugs"]);
  });

  it("trains on Chinese and English, each Chinese character a token", () => {
    const corpus = ["推荐系统", "推荐系统 for books", "books about 推荐", "recommender systems"];
    const tokenizer = WordPieceTokenizer.train(corpus, { vocabSize: 60 });
    for (const char of "推荐系统") assert.ok(tokenizer.vocab.has(char), char);
    assert.deepEqual(tokenizer.tokenize("推荐系统"), ["推", "荐", "系", "统"]);
    assert.equal(tokenizer.decode(tokenizer.encode("推荐系统 for books").ids), "推 荐 系 统 for books");
  });

  it("trains a 3,000-token vocabulary on the embedded catalogue that covers it", () => {
    const texts = catalogueTexts();
    const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: 3000 });
    assert.equal(tokenizer.vocabSize, 3000);
    assert.deepEqual(tokenizer.vocab.tokens.slice(0, 5), [...BERT_SPECIAL_TOKENS]);
    let pieces = 0;
    let words = 0;
    for (const text of texts) {
      const tokens = tokenizer.tokenize(text);
      assert.ok(!tokens.includes("[UNK]"), text);
      pieces += tokens.length;
      words += tokenizer
        .normalize(text)
        .split(" ")
        .filter((w) => w !== "").length;
    }
    // frequent words are whole tokens: few pieces per word
    assert.ok(pieces / words < 2.5, `pieces per word ${pieces / words}`);
    assert.deepEqual(tokenizer.tokenize("Young-Adult Fiction"), ["young", "-", "adult", "fiction"]);
    // the vocabulary survives vocab.txt
    assert.deepEqual(WordPieceTokenizer.fromVocabText(tokenizer.toVocabText()).vocab.tokens, tokenizer.vocab.tokens);
  });

  it("rejects bad corpora and configurations", () => {
    assert.throws(
      () => trainWordPiece(["ok", 3 as unknown as string]),
      /trainWordPiece: corpus item 1 must be a string, got number 3/,
    );
    assert.throws(
      () => trainWordPiece("just one text" as unknown as string[]),
      /trainWordPiece: 'corpus' must be an iterable of strings/,
    );
    assert.throws(
      () => WordPieceTokenizer.train(null as unknown as string[]),
      /WordPieceTokenizer.train: 'corpus' must be an iterable of strings/,
    );
    // 5 specials + 7 characters + 4 "##" forms = 16
    assert.throws(
      () => trainWordPiece(hugCorpus(), { vocabSize: 15 }),
      /'vocabSize' 15 is smaller than the 5 special tokens and the alphabet \(7 characters, 4 of them also as "##" forms\), 16 tokens in all/,
    );
    assert.equal(trainWordPiece(hugCorpus(), { vocabSize: 16 }).tokens.length, 16);
    assert.throws(() => trainWordPiece(["a"], { vocabSize: 0 }), /vocabSize must be a positive integer, got 0/);
    assert.throws(() => trainWordPiece(["a"], { minFrequency: 1.5 }), /minFrequency must be a positive integer/);
    assert.throws(() => trainWordPiece(["a"], { limitAlphabet: -1 }), /limitAlphabet must be a positive integer/);
  });
});
