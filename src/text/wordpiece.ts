// BERT's WordPiece tokenizer: text -> BERT's normalised words (bertNormalizer.ts) -> subword pieces
// -> ids laid out as BERT's input ([CLS] A [SEP] B [SEP], token types, attention mask). Training a
// vocabulary is in wordpieceTraining.ts.
//
// Encoding is greedy longest-match-first, as google-research/bert's WordpieceTokenizer: a word is cut
// into the longest vocabulary entry that starts it, then the longest "##"-prefixed entry that
// continues it, and so on. A word with a part no entry covers, or with more than
// `maxInputCharsPerWord` characters, becomes one [UNK]: BERT would rather lose a word than emit
// pieces that spell something else.
//
// Vocabularies are in BERT's vocab.txt format, one token per line, the line number (from 0) being the
// id, so that a published BERT vocabulary loads as it is ([PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102,
// [MASK]=103 in bert-base). Ids always come from the vocabulary, never from fixed numbers.
//
import * as fs from "node:fs";
import * as path from "node:path";
import { assertUtf8, DataFormatError, errorText } from "../data/delimited";
import { checkPositiveInteger } from "../checks";
import { BertNormalizerOptions, describeValue, resolveBertNormalizerOptions, splitNormalized } from "./bertNormalizer";
import {
  BERT_SPECIAL_TOKENS,
  CONTINUATION_PREFIX,
  trainVocabulary,
  WordPieceTrainingConfig,
} from "./wordpieceTraining";
import { Vocabulary } from "./tokenize";

export { BERT_SPECIAL_TOKENS, CONTINUATION_PREFIX };

// Splits text around written special tokens, keeping them (a capturing group in split).
const SPECIAL_TOKEN_PATTERN = /(\[PAD\]|\[UNK\]|\[CLS\]|\[SEP\]|\[MASK\])/;

export interface WordPieceOptions extends BertNormalizerOptions {
  /** Words longer than this many characters (code points) become one [UNK]. Default 100, as BERT. */
  maxInputCharsPerWord?: number;
}

export interface EncodeOptions {
  /** Length limit, [CLS] and [SEP] included. Default none. */
  maxLength?: number;
  /**
   * How to fit `maxLength`: "longest_first" (or true) removes the last piece of the longer text, one
   * piece at a time (of the second text on a tie), as HuggingFace; "only_first" and "only_second"
   * cut one text only; false throws when the encoding is longer. Default "longest_first".
   */
  truncation?: boolean | "longest_first" | "only_first" | "only_second";
  /**
   * Pad with [PAD] (attention mask 0, token type 0): "max_length" (or true) to `maxLength`;
   * "longest" to the longest encoding of the batch in `encodeBatch` (no padding in `encode`).
   * Default false.
   */
  padding?: boolean | "max_length" | "longest";
}

/** BERT's inputs for one text or text pair; every array has one entry per position. */
export interface Encoding {
  ids: Int32Array;
  /** 0 for [CLS], the first text and its [SEP]; 1 for the second text and its [SEP]; 0 for padding. */
  tokenTypeIds: Int32Array;
  /** 1 for real positions, 0 for padding. */
  attentionMask: Int32Array;
  /** 1 for [CLS], [SEP] and [PAD], 0 for the texts' pieces. */
  specialTokensMask: Int32Array;
  tokens: string[];
}

export interface DecodeOptions {
  /** Leave out the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]), as HuggingFace. Default true. */
  skipSpecialTokens?: boolean;
}

type Truncation = "longest_first" | "only_first" | "only_second" | false;

interface ResolvedEncodeOptions {
  maxLength: number | undefined;
  truncation: Truncation;
  padding: "max_length" | "longest" | false;
}

/** Tokenizes text into WordPiece pieces and ids with a fixed vocabulary (see this file's header). */
export class WordPieceTokenizer {
  /** The vocabulary: token <-> id. */
  readonly vocab: Vocabulary;
  /** The normalisation and word-length options, defaults filled in. */
  readonly options: Readonly<Required<WordPieceOptions>>;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number;
  /**
   * One past the largest special id: the ids from here on are ordinary pieces (5 in vocabularies trained
   * here; 104 in Google's, whose [unused*] tokens sit between [PAD] and [UNK]).
   */
  readonly firstNonSpecialId: number;
  private readonly specialIds: ReadonlySet<number>;
  // No entry is longer than this (code points), so longer candidates need no look-up.
  private readonly maxPieceChars: number;

  private constructor(tokens: string[], options: WordPieceOptions, caller: string) {
    const normalizer = resolveBertNormalizerOptions(options, caller);
    const maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    checkPositiveInteger(caller, "maxInputCharsPerWord", maxInputCharsPerWord);
    this.options = { ...normalizer, maxInputCharsPerWord };
    const seen = new Map<string, number>();
    tokens.forEach((token, id) => {
      if (typeof token !== "string")
        throw new Error(`${caller}: token ${id} must be a string, got ${describeValue(token)}`);
      if (token === "") throw new Error(`${caller}: token ${id} is empty`);
      if (/[\n\r]/.test(token))
        throw new Error(`${caller}: token ${id} ('${token}') contains a line break, which vocab.txt cannot hold`);
      const before = seen.get(token);
      if (before !== undefined) throw new Error(`${caller}: token '${token}' appears twice (ids ${before} and ${id})`);
      seen.set(token, id);
    });
    const missing = BERT_SPECIAL_TOKENS.filter((token) => !seen.has(token));
    if (missing.length > 0) {
      throw new Error(
        `${caller}: the vocabulary lacks the special token${missing.length > 1 ? "s" : ""} ${missing.join(" ")} (BERT needs ${BERT_SPECIAL_TOKENS.join(" ")})`,
      );
    }
    this.vocab = Vocabulary.fromTokens(tokens);
    [this.padId, this.unkId, this.clsId, this.sepId, this.maskId] = BERT_SPECIAL_TOKENS.map((token) =>
      seen.get(token)!,
    );
    this.specialIds = new Set([this.padId, this.unkId, this.clsId, this.sepId, this.maskId]);
    this.firstNonSpecialId = Math.max(...this.specialIds) + 1;
    let longest = 0;
    for (const token of tokens) longest = Math.max(longest, codePointCount(token));
    this.maxPieceChars = longest;
  }

  /** A tokenizer with exactly these tokens, numbered in order; they must include BERT's special tokens. */
  static fromTokens(tokens: Iterable<string>, options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(Array.from(tokens), options, "WordPieceTokenizer.fromTokens");
  }

  /** Parses BERT's vocab.txt format: one token per line, id = line number - 1 (a final newline is optional, CRLF is accepted). */
  static fromVocabText(text: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    const caller = "WordPieceTokenizer.fromVocabText";
    if (typeof text !== "string") throw new Error(`${caller}: 'text' must be a string, got ${describeValue(text)}`);
    const tokens = parseVocabText(text, (line, problem) => {
      throw new Error(`${caller}: ${line === undefined ? "" : `line ${line}: `}${problem}`);
    });
    return new WordPieceTokenizer(tokens, options, caller);
  }

  /** Reads a vocab.txt file (UTF-8); errors name the file and line. */
  static fromVocabFile(file: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new Error(`WordPieceTokenizer.fromVocabFile: cannot read ${file}: ${errorText(e)}`);
    }
    assertUtf8(bytes, file);
    const tokens = parseVocabText(bytes.toString("utf8"), (line, problem) => {
      throw new DataFormatError(file, line, undefined, problem);
    });
    return new WordPieceTokenizer(tokens, options, `WordPieceTokenizer.fromVocabFile(${file})`);
  }

  /** Trains a vocabulary on `corpus` (see `trainWordPiece`) and returns its tokenizer, with the same normalisation. */
  static train(corpus: Iterable<string>, config: WordPieceTrainingConfig = {}): WordPieceTokenizer {
    const caller = "WordPieceTokenizer.train";
    return new WordPieceTokenizer(trainVocabulary(corpus, config, caller).tokens, config, caller);
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** The vocabulary in vocab.txt format, a newline after every token. */
  toVocabText(): string {
    return this.vocab.tokens.join("\n") + "\n";
  }

  /** Writes vocab.txt to a temporary file beside `file`, then renames it over `file`: never a half-written vocabulary. */
  saveVocabFile(file: string): void {
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(temporary, this.toVocabText());
      fs.renameSync(temporary, file);
    } catch (e) {
      fs.rmSync(temporary, { force: true });
      throw new Error(`WordPieceTokenizer.saveVocabFile: cannot write ${file}: ${errorText(e)}`);
    }
  }

  /** The id of `token`, or the id of [UNK] when the vocabulary lacks it (as HuggingFace's convert_tokens_to_ids). */
  tokenToId(token: string): number {
    return this.vocab.idOf(token) ?? this.unkId;
  }

  /** The token with id `id`. */
  idToToken(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.size) {
      throw new RangeError(`WordPieceTokenizer.idToToken: id ${id} is out of range [0, ${this.vocab.size})`);
    }
    return this.vocab.tokens[id];
  }

  /** The text as this tokenizer normalises it: its words joined by single spaces (see `normalizeBertText`). */
  normalize(text: string): string {
    checkText(text, "text", "WordPieceTokenizer.normalize");
    return splitNormalized(text, this.options).join(" ");
  }

  /** The WordPiece pieces of `text` ("unaffable" -> un ##aff ##able), [UNK] for a word no pieces cover. */
  tokenize(text: string): string[] {
    checkText(text, "text", "WordPieceTokenizer.tokenize");
    return this.pieces(text);
  }

  /**
   * BERT's inputs for `textA`, or for the pair (`textA`, `textB`): [CLS] A [SEP] or [CLS] A [SEP] B [SEP],
   * truncated and padded as `options` say.
   */
  encode(textA: string, textB?: string, options: EncodeOptions = {}): Encoding {
    const caller = "WordPieceTokenizer.encode";
    checkText(textA, "textA", caller);
    if (textB !== undefined) checkText(textB, "textB", caller);
    const resolved = resolveEncodeOptions(options, caller);
    const encoding = this.assemble(
      this.pieces(textA),
      textB === undefined ? undefined : this.pieces(textB),
      resolved,
      caller,
    );
    return resolved.padding === "max_length" ? this.pad(encoding, resolved.maxLength!) : encoding;
  }

  /** `encode` for each text or [textA, textB] pair; padding "longest" pads all to the longest of the batch. */
  encodeBatch(inputs: ReadonlyArray<string | readonly [string, string]>, options: EncodeOptions = {}): Encoding[] {
    const caller = "WordPieceTokenizer.encodeBatch";
    if (!Array.isArray(inputs)) throw new Error(`${caller}: 'inputs' must be an array, got ${describeValue(inputs)}`);
    const resolved = resolveEncodeOptions(options, caller);
    const encodings = inputs.map((input, i) => {
      const pair = typeof input === "string" ? undefined : input;
      if (pair !== undefined && !(Array.isArray(pair) && pair.length === 2)) {
        throw new Error(
          `${caller}: inputs[${i}] must be a string or a [textA, textB] pair, got ${describeValue(input)}`,
        );
      }
      const textA = pair === undefined ? (input as string) : pair[0];
      checkText(textA, pair === undefined ? `inputs[${i}]` : `inputs[${i}][0]`, caller);
      if (pair !== undefined) checkText(pair[1], `inputs[${i}][1]`, caller);
      return this.assemble(this.pieces(textA), pair === undefined ? undefined : this.pieces(pair[1]), resolved, caller);
    });
    if (resolved.padding === false) return encodings;
    const length =
      resolved.padding === "max_length" ? resolved.maxLength! : Math.max(0, ...encodings.map((e) => e.ids.length));
    return encodings.map((encoding) => this.pad(encoding, length));
  }

  /**
   * The text of `ids`: pieces joined by spaces, a "##" piece glued to the one before it. For an
   * encoding without [UNK] this is `normalize` of the encoded text (the pair's texts joined by a space).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? true;
    const tokens = this.vocab.tokens;
    let text = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= tokens.length) {
        throw new RangeError(`WordPieceTokenizer.decode: ids[${i}] = ${id} is out of range [0, ${tokens.length})`);
      }
      if (skipSpecial && this.specialIds.has(id)) continue;
      const token = tokens[id];
      if (text === "") text = token;
      else if (token.startsWith(CONTINUATION_PREFIX)) text += token.slice(CONTINUATION_PREFIX.length);
      else text += " " + token;
    }
    return text;
  }

  // A special token written in the text ("the [MASK] games") stays one token, as in Hugging Face's
  // tokenizers (Google's splits it into "[ mask ]"): fill-in-the-blank examples can be typed.
  private pieces(text: string): string[] {
    const out: string[] = [];
    for (const part of text.split(SPECIAL_TOKEN_PATTERN)) {
      if ((BERT_SPECIAL_TOKENS as readonly string[]).includes(part)) out.push(part);
      else for (const word of splitNormalized(part, this.options)) this.wordPieces(word, out);
    }
    return out;
  }

  // Greedy longest-match-first over code points, as BERT's WordpieceTokenizer.
  private wordPieces(word: string, out: string[]): void {
    const bounds = codePointBounds(word);
    const n = bounds.length - 1;
    if (n > this.options.maxInputCharsPerWord) {
      out.push(BERT_SPECIAL_TOKENS[1]);
      return;
    }
    const first = out.length;
    for (let start = 0; start < n;) {
      let end = Math.min(n, start + this.maxPieceChars);
      let piece: string | undefined;
      for (; end > start; end--) {
        const candidate =
          start === 0 ? word.slice(0, bounds[end]) : CONTINUATION_PREFIX + word.slice(bounds[start], bounds[end]);
        if (this.vocab.has(candidate)) {
          piece = candidate;
          break;
        }
      }
      if (piece === undefined) {
        out.length = first;
        out.push(BERT_SPECIAL_TOKENS[1]);
        return;
      }
      out.push(piece);
      start = end;
    }
  }

  private assemble(a: string[], b: string[] | undefined, options: ResolvedEncodeOptions, caller: string): Encoding {
    const specials = b === undefined ? 2 : 3;
    let lengthA = a.length;
    let lengthB = b === undefined ? 0 : b.length;
    const maxLength = options.maxLength;
    if (maxLength !== undefined && lengthA + lengthB + specials > maxLength) {
      const budget = maxLength - specials;
      if (budget < 0)
        throw new Error(
          `${caller}: 'maxLength' ${maxLength} leaves no room for the ${specials} special tokens [CLS] and [SEP]`,
        );
      const over = `${specials + lengthA + lengthB} tokens do not fit 'maxLength' ${maxLength}`;
      if (options.truncation === false) throw new Error(`${caller}: ${over} and 'truncation' is false`);
      if (options.truncation === "longest_first") {
        while (lengthA + lengthB > budget) {
          if (lengthA > lengthB) lengthA--;
          else lengthB--;
        }
      } else if (options.truncation === "only_first") {
        if (lengthB > budget)
          throw new Error(`${caller}: ${over} even with the first text cut away ('truncation' is "only_first")`);
        lengthA = budget - lengthB;
      } else {
        if (b === undefined || lengthA > budget) {
          throw new Error(
            `${caller}: ${over} ${b === undefined ? "and there is no second text" : "even with the second text cut away"} ('truncation' is "only_second")`,
          );
        }
        lengthB = budget - lengthA;
      }
    }
    const length = specials + lengthA + lengthB;
    const ids = new Int32Array(length);
    const tokenTypeIds = new Int32Array(length);
    const attentionMask = new Int32Array(length).fill(1);
    const specialTokensMask = new Int32Array(length);
    const tokens: string[] = [];
    const push = (token: string, type: number, special: boolean): void => {
      const i = tokens.length;
      tokens.push(token);
      ids[i] = special ? this.vocab.idOf(token)! : this.tokenToId(token);
      tokenTypeIds[i] = type;
      specialTokensMask[i] = special ? 1 : 0;
    };
    push("[CLS]", 0, true);
    for (let i = 0; i < lengthA; i++) push(a[i], 0, false);
    push("[SEP]", 0, true);
    if (b !== undefined) {
      for (let i = 0; i < lengthB; i++) push(b[i], 1, false);
      push("[SEP]", 1, true);
    }
    return { ids, tokenTypeIds, attentionMask, specialTokensMask, tokens };
  }

  private pad(encoding: Encoding, length: number): Encoding {
    const have = encoding.ids.length;
    if (have >= length) return encoding;
    const grow = (from: Int32Array, fill: number): Int32Array => {
      const to = new Int32Array(length).fill(fill);
      to.set(from);
      return to;
    };
    return {
      ids: grow(encoding.ids, this.padId),
      tokenTypeIds: grow(encoding.tokenTypeIds, 0),
      attentionMask: grow(encoding.attentionMask, 0),
      specialTokensMask: grow(encoding.specialTokensMask, 1),
      tokens: encoding.tokens.concat(new Array<string>(length - have).fill("[PAD]")),
    };
  }
}

/** Splits vocab.txt text into tokens; `fail(line, problem)` throws. */
function parseVocabText(text: string, fail: (line: number | undefined, problem: string) => never): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not part of the first token
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // the newline that ends the last line
  if (lines.length === 0) fail(undefined, "no tokens (vocab.txt holds one token per line)");
  const seen = new Map<string, number>();
  return lines.map((line, i) => {
    const token = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (token === "") fail(i + 1, "empty line (vocab.txt holds one token per line, the line number - 1 being its id)");
    const before = seen.get(token);
    if (before !== undefined) fail(i + 1, `token '${token}' repeats line ${before + 1}`);
    seen.set(token, i);
    return token;
  });
}

function resolveEncodeOptions(options: EncodeOptions, caller: string): ResolvedEncodeOptions {
  const maxLength = options.maxLength;
  if (maxLength !== undefined) checkPositiveInteger(caller, "maxLength", maxLength);
  const truncation = options.truncation ?? "longest_first";
  if (![true, false, "longest_first", "only_first", "only_second"].includes(truncation)) {
    throw new Error(
      `${caller}: 'truncation' must be "longest_first", "only_first", "only_second", true or false, got ${describeValue(truncation)}`,
    );
  }
  const padding = options.padding ?? false;
  if (![true, false, "max_length", "longest"].includes(padding)) {
    throw new Error(
      `${caller}: 'padding' must be "max_length", "longest", true or false, got ${describeValue(padding)}`,
    );
  }
  const resolvedPadding = padding === true ? "max_length" : padding;
  if (resolvedPadding === "max_length" && maxLength === undefined) {
    throw new Error(`${caller}: 'padding' "max_length" needs 'maxLength'`);
  }
  return { maxLength, truncation: truncation === true ? "longest_first" : truncation, padding: resolvedPadding };
}

function checkText(text: unknown, name: string, caller: string): void {
  if (typeof text !== "string") throw new Error(`${caller}: '${name}' must be a string, got ${describeValue(text)}`);
}

/** UTF-16 offsets of the code points of `word`, and its length at the end. */
function codePointBounds(word: string): number[] {
  const bounds = [0];
  for (let i = 0; i < word.length;) {
    const unit = word.charCodeAt(i);
    const next = i + 1 < word.length ? word.charCodeAt(i + 1) : 0;
    i += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    bounds.push(i);
  }
  return bounds;
}

function codePointCount(text: string): number {
  return codePointBounds(text).length - 1;
}
