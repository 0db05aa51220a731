import * as assert from "node:assert/strict";
import { basicTokenize, isBertChineseChar, isBertPunctuation, normalizeBertText } from "../../src/text/bertNormalizer";

describe("basicTokenize", () => {
  it("turns whitespace into word breaks and drops control and format characters", () => {
    // no-break space, em space, tab, newline, carriage return, line separator: breaks;
    // zero-width space, soft hyphen, zero-width joiner, NEL: dropped, so their neighbours join
    assert.deepEqual(basicTokenize("a\u00a0b\u2003c\u200bd\u00ad\u0085e\tf\ng\rh\u2028i"), [
      "a",
      "b",
      "cde",
      "f",
      "g",
      "h",
      "i",
    ]);
    // U+FFFD, NUL and a lone surrogate are undecodable text: dropped
    assert.deepEqual(basicTokenize("x\uFFFDy\u0000z\uD800w"), ["xyzw"]);
    // vertical tab and form feed are control characters for BERT, not whitespace
    assert.deepEqual(basicTokenize("a\u000bb\u000cc"), ["abc"]);
  });

  it("makes every CJK ideograph a word of its own, mixed with other scripts", () => {
    assert.deepEqual(basicTokenize("推荐系统"), ["推", "荐", "系", "统"]);
    assert.deepEqual(basicTokenize("BERT推荐系统的应用 (2024)"), [
      "bert",
      "推",
      "荐",
      "系",
      "统",
      "的",
      "应",
      "用",
      "(",
      "2024",
      ")",
    ]);
    // Extension B (outside the BMP) and a compatibility ideograph are in BERT's blocks ...
    assert.deepEqual(basicTokenize("\u{20000}\u{20001}"), ["\u{20000}", "\u{20001}"]);
    assert.deepEqual(basicTokenize("a\uF900b"), ["a", "\uF900".normalize("NFD"), "b"]);
    // ... kana and Hangul are not: they stay whole words
    assert.deepEqual(basicTokenize("日本語のテキスト"), ["日", "本", "語", "のテキスト"]);
    assert.deepEqual(basicTokenize("推荐", { tokenizeChineseChars: false }), ["推荐"]);
  });

  it("lower-cases and strips accents, each configurable", () => {
    assert.deepEqual(basicTokenize("Amélie"), ["amelie"]);
    assert.deepEqual(basicTokenize("Ame\u0301lie ÅNGSTRÖM naïve"), ["amelie", "angstrom", "naive"]);
    assert.deepEqual(basicTokenize("Amélie", { lowerCase: false }), ["Amélie"]);
    assert.deepEqual(basicTokenize("Amélie", { lowerCase: false, stripAccents: true }), ["Amelie"]);
    assert.deepEqual(basicTokenize("Amélie", { stripAccents: false }), ["amélie"]);
    // Like BERT, stripped text stays decomposed: Hangul syllables become jamo.
    assert.deepEqual(basicTokenize("한국어"), ["한국어".normalize("NFD")]);
    // Final sigma, as Python's lower(): ΣΟΦΟΣ -> σοφος.
    assert.deepEqual(basicTokenize("ΣΟΦΟΣ"), ["σοφος"]);
  });

  it("splits off every punctuation character, ASCII symbols included", () => {
    assert.deepEqual(basicTokenize("Hello, world! (1977)"), ["hello", ",", "world", "!", "(", "1977", ")"]);
    assert.deepEqual(basicTokenize("Don't sci-fi"), ["don", "'", "t", "sci", "-", "fi"]);
    assert.deepEqual(basicTokenize("$5+3=8 <b>|~"), ["$", "5", "+", "3", "=", "8", "<", "b", ">", "|", "~"]);
    assert.deepEqual(basicTokenize("¿Qué? «a»—b…"), ["¿", "que", "?", "«", "a", "»", "—", "b", "…"]);
    assert.deepEqual(basicTokenize("..."), [".", ".", "."]);
    // Symbols outside the ASCII ranges are not punctuation (category S, not P): they stay in the word.
    assert.deepEqual(basicTokenize("©2024 20°C"), ["©2024", "20°c"]);
  });

  it("returns no words for empty or blank text and rejects what is not a string", () => {
    assert.deepEqual(basicTokenize(""), []);
    assert.deepEqual(basicTokenize(" \t\n\u200b "), []);
    assert.throws(
      () => basicTokenize(42 as unknown as string),
      /basicTokenize: 'text' must be a string, got number 42/,
    );
    assert.throws(
      () => basicTokenize(undefined as unknown as string),
      /basicTokenize: 'text' must be a string, got undefined/,
    );
    assert.throws(
      () => basicTokenize("a", { lowerCase: "yes" as unknown as boolean }),
      /basicTokenize: 'lowerCase' must be a boolean/,
    );
  });
});

describe("normalizeBertText", () => {
  it("joins the words by single spaces", () => {
    assert.equal(normalizeBertText("  Amélie's   café!  "), "amelie ' s cafe !");
    assert.equal(normalizeBertText("推荐系统 for Books", { lowerCase: false }), "推 荐 系 统 for Books");
    assert.equal(normalizeBertText(""), "");
    assert.throws(
      () => normalizeBertText(null as unknown as string),
      /normalizeBertText: 'text' must be a string, got null/,
    );
  });
});

describe("isBertPunctuation and isBertChineseChar", () => {
  it("classify single characters as BERT does", () => {
    for (const char of ["!", "/", ":", "@", "[", "`", "{", "~", "$", "^", "—", "、", "。", "¿"])
      assert.equal(isBertPunctuation(char), true, char);
    for (const char of ["a", "0", " ", "©", "°", "推", "é"]) assert.equal(isBertPunctuation(char), false, char);
    for (const char of ["推", "\u3400", "\u{20000}", "\uF900"]) assert.equal(isBertChineseChar(char), true, char);
    for (const char of ["a", "の", "カ", "한", "。"]) assert.equal(isBertChineseChar(char), false, char);
  });
});
