// BERT's "basic tokenizer": the normalisation and word split that run before WordPiece, as in
// google-research/bert tokenization.py (BasicTokenizer) and HuggingFace's BertTokenizer. A vocabulary
// trained or loaded for BERT only matches text normalised exactly this way, so the rules follow the
// reference rather than `tokenizeWords` (tokenize.ts), which is tuned for bag-of-words features.
//
// The rules, in order:
//   1. Clean: U+0000, U+FFFD (the mark of undecodable bytes) and control and format characters
//      (categories Cc, Cf: soft hyphen, zero-width space, joiners) are dropped; tab, newline, carriage
//      return and space separators (Zs) become a space. So are U+2028 and U+2029, on which BERT's
//      whitespace split (Python's str.split) also splits. Lone UTF-16 surrogates, the JavaScript form of
//      undecodable text, are dropped like U+FFFD.
//   2. Spaces go around every CJK ideograph (the blocks of BERT's `_is_chinese_char`), so that each
//      Chinese character is a word of its own: Chinese is written without spaces, and BERT's
//      vocabularies hold its characters, not its words. Kana and Hangul are not in those blocks.
//   3. Lower case (`lowerCase`, default true, as bert-base-uncased).
//   4. Accent stripping (`stripAccents`, default: the value of `lowerCase`, as HuggingFace): NFD, then
//      non-spacing marks (Mn) are dropped, so "Amélie" -> "amelie". Like BERT, the text stays
//      decomposed: Hangul syllables become their jamo.
//   5. Split on whitespace, then split every punctuation character off as a word of its own:
//      BERT's `_is_punctuation`, the ASCII ranges 33-47, 58-64, 91-96 and 123-126 (which include
//      symbols such as $ + < = > ^ ` | ~) and every Unicode punctuation category (P*).
// Like the reference (and HuggingFace's fast tokenizer), the text is not NFC-composed first, so
// with `lowerCase: false, stripAccents: false` a composed and a decomposed "é" stay different.
// Steps 3 and 4 run on the whole text rather than word by word as BERT does; that gives the same
// result, because whitespace neither changes under them nor takes part in their context rules
// (final sigma, canonical reordering).

export interface BertNormalizerOptions {
  /** Lower-case the text. Default true (an "uncased" BERT). */
  lowerCase?: boolean;
  /** Remove accents (NFD, then drop non-spacing marks). Default: the value of `lowerCase`. */
  stripAccents?: boolean;
  /** Put spaces around CJK ideographs so that each is one word. Default true. */
  tokenizeChineseChars?: boolean;
}

// Step 1. \t \n \r are also Cc, so whitespace is replaced before control characters are dropped.
const WHITESPACE = /[\t\n\r\u2028\u2029\p{Zs}]/gu;
// In a `u` regular expression a surrogate range matches only surrogates that are not part of a pair.
const DROPPED = /[\p{Cc}\p{Cf}\uFFFD\uD800-\uDFFF]/gu;
// Step 2: the code point ranges of BERT's `_is_chinese_char`.
const CJK_RANGES =
  "\\u4E00-\\u9FFF\\u3400-\\u4DBF\\u{20000}-\\u{2A6DF}\\u{2A700}-\\u{2B73F}\\u{2B740}-\\u{2B81F}" +
  "\\u{2B820}-\\u{2CEAF}\\uF900-\\uFAFF\\u{2F800}-\\u{2FA1F}";
const CJK = new RegExp(`[${CJK_RANGES}]`, "gu");
const CJK_ONE = new RegExp(`^[${CJK_RANGES}]$`, "u");
const NON_SPACING_MARKS = /\p{Mn}/gu;
// Step 5: BERT's punctuation, and a word as a run of anything else but spaces.
const PUNCTUATION_CLASS = "!-\\/:-@\\[-`{-~\\p{P}";
const PUNCTUATION_ONE = new RegExp(`^[${PUNCTUATION_CLASS}]$`, "u");
const WORD_OR_PUNCTUATION = new RegExp(`[${PUNCTUATION_CLASS}]|[^ ${PUNCTUATION_CLASS}]+`, "gu");

/** Whether `char` (one code point) is punctuation for BERT: ASCII 33-47, 58-64, 91-96, 123-126, or category P*. */
export function isBertPunctuation(char: string): boolean {
  return PUNCTUATION_ONE.test(char);
}

/** Whether `char` (one code point) is a CJK ideograph in the sense of BERT's `_is_chinese_char`. */
export function isBertChineseChar(char: string): boolean {
  return CJK_ONE.test(char);
}

/** The options with their defaults filled in; throws on a value of the wrong type. */
export function resolveBertNormalizerOptions(
  options: BertNormalizerOptions,
  caller: string,
): Required<BertNormalizerOptions> {
  const lowerCase = options.lowerCase ?? true;
  const resolved = {
    lowerCase,
    stripAccents: options.stripAccents ?? lowerCase,
    tokenizeChineseChars: options.tokenizeChineseChars ?? true,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== "boolean")
      throw new Error(`${caller}: '${name}' must be a boolean, got ${describeValue(value)}`);
  }
  return resolved;
}

/** The words of `text` after BERT's normalisation and whitespace and punctuation split (rules in this file's header). */
export function basicTokenize(text: string, options: BertNormalizerOptions = {}): string[] {
  if (typeof text !== "string") throw new Error(`basicTokenize: 'text' must be a string, got ${describeValue(text)}`);
  return splitNormalized(text, resolveBertNormalizerOptions(options, "basicTokenize"));
}

/**
 * The normalised text: the words of `basicTokenize` joined by single spaces ("Amélie's café!" ->
 * "amelie ' s cafe !"). WordPiece's `decode` gives back exactly this when no piece was [UNK].
 */
export function normalizeBertText(text: string, options: BertNormalizerOptions = {}): string {
  if (typeof text !== "string")
    throw new Error(`normalizeBertText: 'text' must be a string, got ${describeValue(text)}`);
  return splitNormalized(text, resolveBertNormalizerOptions(options, "normalizeBertText")).join(" ");
}

/** `basicTokenize` with resolved options and no argument checks, for callers that have done both. */
export function splitNormalized(text: string, options: Required<BertNormalizerOptions>): string[] {
  let s = text.replace(WHITESPACE, " ").replace(DROPPED, "");
  if (options.tokenizeChineseChars) s = s.replace(CJK, " $& ");
  if (options.lowerCase) s = s.toLowerCase();
  if (options.stripAccents) s = s.normalize("NFD").replace(NON_SPACING_MARKS, "");
  return s.match(WORD_OR_PUNCTUATION) ?? [];
}

/** A short description of a value of the wrong type, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "string"
    ? `'${value}'`
    : typeof value === "object"
      ? "an object"
      : `${typeof value} ${String(value)}`;
}
