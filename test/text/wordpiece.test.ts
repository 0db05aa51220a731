import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { normalizeBertText } from "../../src/text/bertNormalizer";
import { WordPieceTokenizer } from "../../src/text/wordpiece";
import { catalogueTexts } from "./fixtures";

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
// A hand-made vocabulary: the examples of BERT's README and tokenization_test.py, and some Chinese.
const HAND = [
  ...SPECIALS,
  "un",
  "##aff",
  "##able",
  "want",
  "##want",
  "##ed",
  "wa",
  "runn",
  "##ing",
  "the",
  "is",
  "a",
  ",",
  "!",
  "'",
  "s",
  "amelie",
  "cafe",
  "for",
  "book",
  "##s",
  "推",
  "荐",
  "系",
  "统",
  "bert",
];

function hand(): WordPieceTokenizer {
  return WordPieceTokenizer.fromTokens(HAND);
}

/** The vocabulary laid out as bert-base-uncased's: [PAD], [unused0..98], [UNK], [CLS], [SEP], [MASK], then words. */
function bertBaseLayout(): string[] {
  const tokens = ["[PAD]"];
  for (let i = 0; i < 99; i++) tokens.push(`[unused${i}]`);
  tokens.push("[UNK]", "[CLS]", "[SEP]", "[MASK]");
  return tokens.concat(HAND.slice(SPECIALS.length));
}

describe("WordPieceTokenizer.tokenize", () => {
  it("cuts words greedily into the longest pieces, as the BERT README's examples", () => {
    const tokenizer = hand();
    assert.deepEqual(tokenizer.tokenize("unaffable"), ["un", "##aff", "##able"]);
    assert.deepEqual(tokenizer.tokenize("UNwanted running"), ["un", "##want", "##ed", "runn", "##ing"]);
    assert.deepEqual(tokenizer.tokenize("The book is unaffable!"), ["the", "book", "is", "un", "##aff", "##able", "!"]);
  });

  it("splits Chinese into characters, alone and mixed with English", () => {
    const tokenizer = hand();
    assert.deepEqual(tokenizer.tokenize("推荐系统"), ["推", "荐", "系", "统"]);
    assert.deepEqual(tokenizer.tokenize("BERT推荐系统 for books"), [
      "bert",
      "推",
      "荐",
      "系",
      "统",
      "for",
      "book",
      "##s",
    ]);
  });

  it("normalises accents and splits punctuation before cutting", () => {
    const tokenizer = hand();
    assert.deepEqual(tokenizer.tokenize("Amélie's café"), ["amelie", "'", "s", "cafe"]);
    assert.deepEqual(tokenizer.tokenize("un,aff!"), ["un", ",", "[UNK]", "!"]); // "aff" may only continue a word
  });

  it("makes a whole word [UNK] when a part of it has no piece, without backtracking", () => {
    const tokenizer = hand();
    // "wantedx": want ##ed, then nothing for "x": the whole word is lost, as in BERT.
    assert.deepEqual(tokenizer.tokenize("unwantedX running"), ["[UNK]", "runn", "##ing"]);
    assert.deepEqual(tokenizer.tokenize("zebra"), ["[UNK]"]);
    // Greedy: "##affa" is longer than "##aff", and "##ble" is missing, so "unaffable" is lost here
    // although un ##aff ##able would have covered it.
    const greedy = WordPieceTokenizer.fromTokens([...SPECIALS, "un", "##aff", "##affa", "##able"]);
    assert.deepEqual(greedy.tokenize("unaffable"), ["[UNK]"]);
  });

  it("makes a word longer than maxInputCharsPerWord (in code points) [UNK]", () => {
    const tokenizer = WordPieceTokenizer.fromTokens([...SPECIALS, "a", "##a", "🙂", "##🙂"]);
    assert.equal(tokenizer.options.maxInputCharsPerWord, 100);
    assert.deepEqual(tokenizer.tokenize("a".repeat(101)), ["[UNK]"]);
    const hundred = tokenizer.tokenize("a".repeat(100));
    assert.equal(hundred.length, 100);
    assert.deepEqual(hundred.slice(0, 2), ["a", "##a"]);
    const short = WordPieceTokenizer.fromTokens([...SPECIALS, "a", "##a", "🙂", "##🙂"], { maxInputCharsPerWord: 3 });
    assert.deepEqual(short.tokenize("🙂🙂🙂 aaaa"), ["🙂", "##🙂", "##🙂", "[UNK]"]); // 3 emoji are 6 UTF-16 units
    assert.throws(
      () => WordPieceTokenizer.fromTokens(SPECIALS, { maxInputCharsPerWord: 0 }),
      /maxInputCharsPerWord must be a positive integer/,
    );
  });

  it("keeps case and accents for a cased vocabulary", () => {
    const cased = WordPieceTokenizer.fromTokens([...SPECIALS, "Am", "##é", "##lie"], { lowerCase: false });
    assert.deepEqual(cased.tokenize("Amélie amélie"), ["Am", "##é", "##lie", "[UNK]"]);
  });

  it("keeps special tokens written in the text whole, as Hugging Face does", () => {
    const tokenizer = WordPieceTokenizer.fromTokens([...SPECIALS, "the", "games", "hung", "##er"]);
    assert.deepEqual(tokenizer.tokenize("The [MASK] Games"), ["the", "[MASK]", "games"]);
    assert.deepEqual(tokenizer.tokenize("[MASK]hunger[SEP]"), ["[MASK]", "hung", "##er", "[SEP]"]);
    assert.deepEqual(
      tokenizer.tokenize("[mask] [MASK"),
      ["[UNK]", "[UNK]", "[UNK]", "[UNK]", "[UNK]"],
      "only the exact forms are special",
    );
    const encoded = tokenizer.encode("the [MASK] games");
    assert.equal(encoded.ids[2], tokenizer.maskId);
    assert.equal(encoded.specialTokensMask[2], 0, "a written [MASK] is a text position, to be predicted");
  });

  it("rejects text that is not a string", () => {
    assert.throws(
      () => hand().tokenize(7 as unknown as string),
      /WordPieceTokenizer.tokenize: 'text' must be a string, got number 7/,
    );
  });
});

describe("WordPieceTokenizer ids", () => {
  it("takes the special tokens' ids from the vocabulary", () => {
    const ours = hand();
    assert.deepEqual([ours.padId, ours.unkId, ours.clsId, ours.sepId, ours.maskId], [0, 1, 2, 3, 4]);
    const base = WordPieceTokenizer.fromTokens(bertBaseLayout());
    assert.deepEqual([base.padId, base.unkId, base.clsId, base.sepId, base.maskId], [0, 100, 101, 102, 103]);
    assert.equal(base.vocabSize, 104 + HAND.length - SPECIALS.length);
    assert.equal(base.tokenToId("un"), 104);
    assert.equal(base.tokenToId("zebra"), 100); // unknown -> [UNK]
    assert.equal(base.idToToken(101), "[CLS]");
    assert.throws(() => base.idToToken(base.vocabSize), /idToToken: id \d+ is out of range/);
  });

  it("rejects a vocabulary without the special tokens, or with a duplicate", () => {
    assert.throws(
      () => WordPieceTokenizer.fromTokens(["[PAD]", "[UNK]", "[CLS]", "a"]),
      /fromTokens: the vocabulary lacks the special tokens \[SEP\] \[MASK\]/,
    );
    assert.throws(
      () => WordPieceTokenizer.fromTokens([...SPECIALS, "a", "b", "a"]),
      /fromTokens: token 'a' appears twice \(ids 5 and 7\)/,
    );
    assert.throws(() => WordPieceTokenizer.fromTokens([...SPECIALS, ""]), /fromTokens: token 5 is empty/);
    assert.throws(
      () => WordPieceTokenizer.fromTokens([...SPECIALS, "a\nb"]),
      /fromTokens: token 5 \('a\nb'\) contains a line break/,
    );
  });
});

describe("WordPieceTokenizer.encode", () => {
  it("lays out one text as [CLS] A [SEP]", () => {
    const tokenizer = WordPieceTokenizer.fromTokens(bertBaseLayout());
    const encoding = tokenizer.encode("unaffable books");
    assert.deepEqual(encoding.tokens, ["[CLS]", "un", "##aff", "##able", "book", "##s", "[SEP]"]);
    assert.ok(encoding.ids instanceof Int32Array);
    assert.deepEqual(Array.from(encoding.ids), [
      101,
      ...["un", "##aff", "##able", "book", "##s"].map((t) => tokenizer.tokenToId(t)),
      102,
    ]);
    assert.deepEqual(Array.from(encoding.tokenTypeIds), [0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(encoding.attentionMask), [1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(encoding.specialTokensMask), [1, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(hand().encode("").tokens, ["[CLS]", "[SEP]"]);
  });

  it("lays out a pair as [CLS] A [SEP] B [SEP] with token types 0 then 1", () => {
    const encoding = hand().encode("the book", "unaffable!");
    assert.deepEqual(encoding.tokens, ["[CLS]", "the", "book", "[SEP]", "un", "##aff", "##able", "!", "[SEP]"]);
    assert.deepEqual(Array.from(encoding.tokenTypeIds), [0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(encoding.specialTokensMask), [1, 0, 0, 1, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(encoding.ids), [2, 14, 24, 3, 5, 6, 7, 18, 3]);
  });

  it("truncates the longer text first, one piece at a time, the second on a tie", () => {
    const tokenizer = hand();
    const a = "unaffable the book !"; // 6 pieces
    const b = "running is"; // 3 pieces
    // room for 10 - 3 = 7 pieces: a 6 -> 5 -> 4, and 4 + 3 fits
    assert.deepEqual(tokenizer.encode(a, b, { maxLength: 10 }).tokens, [
      "[CLS]",
      "un",
      "##aff",
      "##able",
      "the",
      "[SEP]",
      "runn",
      "##ing",
      "is",
      "[SEP]",
    ]);
    // room for 8 - 3 = 5: a 6 -> 5 -> 4 -> 3, then the tie 3 = 3 takes from b: 3 + 2
    assert.deepEqual(tokenizer.encode(a, b, { maxLength: 8 }).tokens, [
      "[CLS]",
      "un",
      "##aff",
      "##able",
      "[SEP]",
      "runn",
      "##ing",
      "[SEP]",
    ]);
    // one text: its end is cut
    assert.deepEqual(tokenizer.encode(a, undefined, { maxLength: 4 }).tokens, ["[CLS]", "un", "##aff", "[SEP]"]);
    // only_second and only_first cut one text only
    assert.deepEqual(tokenizer.encode(a, b, { maxLength: 10, truncation: "only_second" }).tokens, [
      "[CLS]",
      "un",
      "##aff",
      "##able",
      "the",
      "book",
      "!",
      "[SEP]",
      "runn",
      "[SEP]",
    ]);
    assert.deepEqual(tokenizer.encode(a, b, { maxLength: 8, truncation: "only_first" }).tokens, [
      "[CLS]",
      "un",
      "##aff",
      "[SEP]",
      "runn",
      "##ing",
      "is",
      "[SEP]",
    ]);
    // fitting encodings are left alone
    assert.equal(tokenizer.encode(a, b, { maxLength: 12 }).ids.length, 12);
  });

  it("refuses to truncate when told not to, or when it cannot", () => {
    const tokenizer = hand();
    assert.throws(
      () => tokenizer.encode("the book is a book", undefined, { maxLength: 4, truncation: false }),
      /encode: 7 tokens do not fit 'maxLength' 4 and 'truncation' is false/,
    );
    assert.throws(
      () => tokenizer.encode("a", "b", { maxLength: 2 }),
      /'maxLength' 2 leaves no room for the 3 special tokens/,
    );
    assert.throws(
      () => tokenizer.encode("the book is", "a", { maxLength: 4, truncation: "only_second" }),
      /even with the second text cut away/,
    );
    assert.throws(
      () => tokenizer.encode("the book is", undefined, { maxLength: 4, truncation: "only_second" }),
      /there is no second text/,
    );
    assert.throws(
      () => tokenizer.encode("a", undefined, { maxLength: 1.5 }),
      /maxLength must be a positive integer, got 1.5/,
    );
    assert.throws(
      () => tokenizer.encode("a", undefined, { truncation: "longest" as unknown as "longest_first" }),
      /'truncation' must be/,
    );
  });

  it("pads to maxLength with [PAD], attention 0 and token type 0", () => {
    const tokenizer = WordPieceTokenizer.fromTokens(bertBaseLayout());
    const encoding = tokenizer.encode("the book", "unaffable", { maxLength: 11, padding: true });
    assert.deepEqual(encoding.tokens, [
      "[CLS]",
      "the",
      "book",
      "[SEP]",
      "un",
      "##aff",
      "##able",
      "[SEP]",
      "[PAD]",
      "[PAD]",
      "[PAD]",
    ]);
    assert.deepEqual(Array.from(encoding.ids.slice(8)), [0, 0, 0]);
    assert.deepEqual(Array.from(encoding.attentionMask), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(encoding.tokenTypeIds), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(encoding.specialTokensMask), [1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
    // truncation and padding together give every encoding the same length
    assert.equal(
      tokenizer.encode("the book is a book the book", undefined, { maxLength: 5, padding: "max_length" }).ids.length,
      5,
    );
    assert.throws(
      () => tokenizer.encode("a", undefined, { padding: true }),
      /'padding' "max_length" needs 'maxLength'/,
    );
  });

  it("rejects texts that are not strings", () => {
    assert.throws(() => hand().encode(null as unknown as string), /encode: 'textA' must be a string, got null/);
    assert.throws(() => hand().encode("a", 3 as unknown as string), /encode: 'textB' must be a string, got number 3/);
  });
});

describe("WordPieceTokenizer.encodeBatch", () => {
  it("encodes texts and pairs, padding to the batch's longest or to maxLength", () => {
    const tokenizer = hand();
    const inputs: Array<string | [string, string]> = ["the book", ["unaffable", "books"], "a"];
    const unpadded = tokenizer.encodeBatch(inputs);
    assert.deepEqual(
      unpadded.map((e) => e.ids.length),
      [4, 8, 3],
    );
    assert.deepEqual(unpadded[1], tokenizer.encode("unaffable", "books"));
    const longest = tokenizer.encodeBatch(inputs, { padding: "longest" });
    assert.deepEqual(
      longest.map((e) => e.ids.length),
      [8, 8, 8],
    );
    assert.deepEqual(longest[2].tokens, ["[CLS]", "a", "[SEP]", "[PAD]", "[PAD]", "[PAD]", "[PAD]", "[PAD]"]);
    const fixed = tokenizer.encodeBatch(inputs, { maxLength: 6, padding: true });
    assert.deepEqual(
      fixed.map((e) => e.ids.length),
      [6, 6, 6],
    );
    assert.deepEqual(tokenizer.encodeBatch([]), []);
    assert.throws(
      () => tokenizer.encodeBatch(["a", 5 as unknown as string]),
      /encodeBatch: inputs\[1\] must be a string or a \[textA, textB\] pair/,
    );
    assert.throws(
      () => tokenizer.encodeBatch([["a", 5 as unknown as string]]),
      /encodeBatch: 'inputs\[0\]\[1\]' must be a string/,
    );
  });
});

describe("WordPieceTokenizer.decode", () => {
  it("glues ## pieces to the piece before and skips special tokens unless told not to", () => {
    const tokenizer = hand();
    const ids = tokenizer.encode("Unaffable books, the café!", "推荐系统").ids;
    assert.equal(tokenizer.decode(ids), "unaffable books , the cafe ! 推 荐 系 统");
    assert.equal(
      tokenizer.decode(ids, { skipSpecialTokens: false }),
      "[CLS] unaffable books , the cafe ! [SEP] 推 荐 系 统 [SEP]",
    );
    assert.equal(tokenizer.decode([tokenizer.tokenToId("##able"), tokenizer.tokenToId("s")]), "##able s"); // nothing to glue to
    assert.equal(tokenizer.decode(new Int32Array(0)), "");
    assert.throws(() => tokenizer.decode([0, 999]), /decode: ids\[1\] = 999 is out of range/);
  });

  it("gives back the normalised text of real texts (decode(encode(x)) = normalize(x))", () => {
    const texts = catalogueTexts();
    const tokenizer = WordPieceTokenizer.train(texts, { vocabSize: 2000 });
    for (const text of texts.concat(["推荐系统是AI大模型的应用", "Amélie's café: naïve!"])) {
      const encoding = tokenizer.encode(text);
      if (encoding.tokens.includes("[UNK]")) continue;
      assert.equal(tokenizer.decode(encoding.ids), tokenizer.normalize(text), text);
      assert.equal(tokenizer.normalize(text), normalizeBertText(text));
    }
  });
});

describe("vocab.txt", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-wordpiece-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("round-trips a bert-base-like vocabulary through a file, ids = line numbers", () => {
    const tokenizer = WordPieceTokenizer.fromTokens(bertBaseLayout());
    const file = path.join(dir, "nested", "vocab.txt");
    tokenizer.saveVocabFile(file);
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text, bertBaseLayout().join("\n") + "\n");
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["vocab.txt"]); // no temporary file left
    const loaded = WordPieceTokenizer.fromVocabFile(file);
    assert.deepEqual(loaded.vocab.tokens, tokenizer.vocab.tokens);
    assert.deepEqual([loaded.padId, loaded.unkId, loaded.clsId, loaded.sepId, loaded.maskId], [0, 100, 101, 102, 103]);
    assert.deepEqual(loaded.encode("unaffable", "推荐").ids, tokenizer.encode("unaffable", "推荐").ids);
    // CRLF line ends, no final newline and a byte-order mark are accepted
    const windows = WordPieceTokenizer.fromVocabText("\uFEFF" + bertBaseLayout().join("\r\n"));
    assert.deepEqual(windows.vocab.tokens, tokenizer.vocab.tokens);
  });

  it("names the line of an empty or repeated token, and the missing special tokens", () => {
    assert.throws(
      () => WordPieceTokenizer.fromVocabText("[PAD]\n[UNK]\n\n[CLS]\n"),
      /fromVocabText: line 3: empty line/,
    );
    assert.throws(
      () => WordPieceTokenizer.fromVocabText("[PAD]\na\n[UNK]\na\n"),
      /fromVocabText: line 4: token 'a' repeats line 2/,
    );
    assert.throws(() => WordPieceTokenizer.fromVocabText(""), /fromVocabText: no tokens/);
    assert.throws(
      () => WordPieceTokenizer.fromVocabText("[PAD]\n[UNK]\n[CLS]\n[SEP]\n"),
      /fromVocabText: the vocabulary lacks the special token \[MASK\]/,
    );
    const file = path.join(dir, "vocab.txt");
    fs.writeFileSync(file, [...SPECIALS, "a", "b", "a"].join("\n"));
    assert.throws(
      () => WordPieceTokenizer.fromVocabFile(file),
      (e: Error) => e.message === `${file}:8: token 'a' repeats line 6`,
    );
    fs.writeFileSync(file, Buffer.from([0x61, 0x0a, 0xff, 0x0a]));
    assert.throws(() => WordPieceTokenizer.fromVocabFile(file), /vocab.txt:2: invalid UTF-8/);
    assert.throws(
      () => WordPieceTokenizer.fromVocabFile(path.join(dir, "missing.txt")),
      /fromVocabFile: cannot read .*missing.txt/,
    );
  });
});
