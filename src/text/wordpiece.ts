// BERT's WordPiece tokenizer: text -> BERT's normalised words (bertNormalizer.ts) -> subword pieces
// -> ids laid out as BERT's input ([CLS] A [SEP] B [SEP], token types, attention mask), and the
// training of a WordPiece vocabulary from a corpus.
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
// Training follows the WordPiece procedure as HuggingFace's NLP course describes it (HuggingFace's
// tokenizers library shares its alphabet, `limitAlphabet` and `minFrequency`, but its WordPieceTrainer
// merges by pair frequency alone, as BPE). The words of the corpus (after the basic tokenizer), each
// with its count, start as characters, non-initial ones prefixed "##" ("book" -> b ##o ##o ##k); the
// vocabulary starts as the special tokens, every character seen, and the "##" form of every character
// seen inside a word. Each step merges the adjacent pair with the highest score
//     score(a, b) = freq(a b) / (freq(a) · freq(b))
// (frequencies counted over the corpus, word counts included), which prefers pairs whose parts are
// rarely seen apart over merely frequent pairs, until the vocabulary has `vocabSize` tokens or no
// pair occurs `minFrequency` times. Ties go to the more frequent pair, then to the pair whose first
// token, then second token, sorts first (JavaScript string order, UTF-16 code units), so training
// is deterministic and does not depend on the order of the corpus.
// The tokenizer keeps only the vocabulary: the greedy encoder needs no merge list (`trainWordPiece`
// returns it, for showing how the vocabulary grew).
//
// Training runs on the distinct words with their counts, and after each merge updates the pair
// counts of the words that contained the merged pair only. A merge also changes freq(a) and freq(b),
// and with them the score of every pair that contains a or b; those pairs are re-queued in a lazy
// max-heap (an entry whose version is outdated is skipped when popped).

import * as fs from "node:fs";
import * as path from "node:path";
import { assertUtf8, DataFormatError, errorText } from "../data/delimited";
import { BertNormalizerOptions, describeValue, resolveBertNormalizerOptions, splitNormalized } from "./bertNormalizer";
import { Vocabulary } from "./tokenize";

/** BERT's special tokens, in the order (and so with the ids 0..4) a trained vocabulary holds them. */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The prefix of a piece that continues a word ("##able" in "un ##aff ##able"). */
export const CONTINUATION_PREFIX = "##";

// Splits text around written special tokens, keeping them (a capturing group in split).
const SPECIAL_TOKEN_PATTERN = /(\[PAD\]|\[UNK\]|\[CLS\]|\[SEP\]|\[MASK\])/;

export interface WordPieceOptions extends BertNormalizerOptions {
  /** Words longer than this many characters (code points) become one [UNK]. Default 100, as BERT. */
  maxInputCharsPerWord?: number;
}

export interface WordPieceTrainingConfig extends WordPieceOptions {
  /**
   * Size of the vocabulary to reach, the five special tokens and the alphabet included. Default 3000,
   * sized for this course's corpora (thousands of short texts); bert-base has 30,522. Training stops
   * earlier, with a smaller vocabulary, when no pair is left to merge.
   */
  vocabSize?: number;
  /**
   * A pair is merged only if it occurs at least this many times in the corpus. Default 2: a pair seen
   * once is one word's spelling. The score favours pairs of rare tokens, so on a small vocabulary
   * frequent words can stay in pieces ("g ##a ##m ##e ##s" at 3,000 tokens on the embedded catalogue);
   * a higher value (5 there) spends the vocabulary on frequent words first.
   */
  minFrequency?: number;
  /**
   * Which pair to merge first: "likelihood" (default), the highest freq(ab) / (freq(a)·freq(b)), as the
   * WordPiece papers and HuggingFace's course describe it; or "frequency", the most frequent pair, which
   * is what HuggingFace tokenizers' WordPieceTrainer does (it is its BPE trainer). On small corpora
   * "frequency" keeps common words whole ("literature", "tolkien") where "likelihood" spends the
   * vocabulary on rare characters first.
   */
  scoring?: "likelihood" | "frequency";
  /**
   * Keep only this many distinct characters, the most frequent (ties: the earlier in string order).
   * Words with another character are left out of training: the encoder makes them [UNK] anyway.
   * Default: no limit, every character seen.
   */
  limitAlphabet?: number;
}

/** One merge of training, in order. */
export interface WordPieceMerge {
  first: string;
  second: string;
  /** The merged token (`first` + `second` without its "##"). */
  token: string;
  /** How often the pair occurred when it was merged. */
  frequency: number;
  /** The key it was merged by: freq(pair) / (freq(first) · freq(second)) at that moment, or freq(pair) with scoring "frequency". */
  score: number;
}

export interface WordPieceTraining {
  /**
   * The vocabulary: the special tokens (ids 0..4), the alphabet's characters in string order, the
   * "##" forms of those seen inside words in string order, then the merged tokens in merge order.
   */
  tokens: string[];
  merges: WordPieceMerge[];
  /** The distinct characters kept (after `limitAlphabet`), in string order. */
  alphabet: string[];
  /** Distinct words trained on, and the ones left out (longer than `maxInputCharsPerWord`, or outside the alphabet). */
  distinctWords: number;
  skippedWords: number;
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
    checkPositiveInteger(maxInputCharsPerWord, "maxInputCharsPerWord", caller);
    this.options = { ...normalizer, maxInputCharsPerWord };
    const seen = new Map<string, number>();
    tokens.forEach((token, id) => {
      if (typeof token !== "string") throw new Error(`${caller}: token ${id} must be a string, got ${describeValue(token)}`);
      if (token === "") throw new Error(`${caller}: token ${id} is empty`);
      if (/[\n\r]/.test(token)) throw new Error(`${caller}: token ${id} ('${token}') contains a line break, which vocab.txt cannot hold`);
      const before = seen.get(token);
      if (before !== undefined) throw new Error(`${caller}: token '${token}' appears twice (ids ${before} and ${id})`);
      seen.set(token, id);
    });
    const missing = BERT_SPECIAL_TOKENS.filter((token) => !seen.has(token));
    if (missing.length > 0) {
      throw new Error(`${caller}: the vocabulary lacks the special token${missing.length > 1 ? "s" : ""} ${missing.join(" ")} (BERT needs ${BERT_SPECIAL_TOKENS.join(" ")})`);
    }
    this.vocab = Vocabulary.fromTokens(tokens);
    [this.padId, this.unkId, this.clsId, this.sepId, this.maskId] = BERT_SPECIAL_TOKENS.map((token) => seen.get(token)!);
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
    const encoding = this.assemble(this.pieces(textA), textB === undefined ? undefined : this.pieces(textB), resolved, caller);
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
        throw new Error(`${caller}: inputs[${i}] must be a string or a [textA, textB] pair, got ${describeValue(input)}`);
      }
      const textA = pair === undefined ? (input as string) : pair[0];
      checkText(textA, pair === undefined ? `inputs[${i}]` : `inputs[${i}][0]`, caller);
      if (pair !== undefined) checkText(pair[1], `inputs[${i}][1]`, caller);
      return this.assemble(this.pieces(textA), pair === undefined ? undefined : this.pieces(pair[1]), resolved, caller);
    });
    if (resolved.padding === false) return encodings;
    const length = resolved.padding === "max_length" ? resolved.maxLength! : Math.max(0, ...encodings.map((e) => e.ids.length));
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
    for (let start = 0; start < n; ) {
      let end = Math.min(n, start + this.maxPieceChars);
      let piece: string | undefined;
      for (; end > start; end--) {
        const candidate = start === 0 ? word.slice(0, bounds[end]) : CONTINUATION_PREFIX + word.slice(bounds[start], bounds[end]);
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
      if (budget < 0) throw new Error(`${caller}: 'maxLength' ${maxLength} leaves no room for the ${specials} special tokens [CLS] and [SEP]`);
      const over = `${specials + lengthA + lengthB} tokens do not fit 'maxLength' ${maxLength}`;
      if (options.truncation === false) throw new Error(`${caller}: ${over} and 'truncation' is false`);
      if (options.truncation === "longest_first") {
        while (lengthA + lengthB > budget) {
          if (lengthA > lengthB) lengthA--;
          else lengthB--;
        }
      } else if (options.truncation === "only_first") {
        if (lengthB > budget) throw new Error(`${caller}: ${over} even with the first text cut away ('truncation' is "only_first")`);
        lengthA = budget - lengthB;
      } else {
        if (b === undefined || lengthA > budget) {
          throw new Error(`${caller}: ${over} ${b === undefined ? "and there is no second text" : "even with the second text cut away"} ('truncation' is "only_second")`);
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

/**
 * Trains a WordPiece vocabulary on `corpus` (see this file's header for the procedure), with the
 * merges in order, for showing how the vocabulary grew. `WordPieceTokenizer.train` wraps it.
 */
export function trainWordPiece(corpus: Iterable<string>, config: WordPieceTrainingConfig = {}): WordPieceTraining {
  return trainVocabulary(corpus, config, "trainWordPiece");
}

function trainVocabulary(corpus: Iterable<string>, config: WordPieceTrainingConfig, caller: string): WordPieceTraining {
  const normalizer = resolveBertNormalizerOptions(config, caller);
  const vocabSize = config.vocabSize ?? 3000;
  const minFrequency = config.minFrequency ?? 2;
  const scoring = config.scoring ?? "likelihood";
  if (scoring !== "likelihood" && scoring !== "frequency") {
    throw new Error(`${caller}: 'scoring' must be "likelihood" or "frequency", got ${describeValue(scoring)}`);
  }
  const maxChars = config.maxInputCharsPerWord ?? 100;
  checkPositiveInteger(vocabSize, "vocabSize", caller);
  checkPositiveInteger(minFrequency, "minFrequency", caller);
  checkPositiveInteger(maxChars, "maxInputCharsPerWord", caller);
  if (config.limitAlphabet !== undefined) checkPositiveInteger(config.limitAlphabet, "limitAlphabet", caller);
  if (typeof corpus === "string" || corpus == null || typeof (corpus as Iterable<string>)[Symbol.iterator] !== "function") {
    throw new Error(`${caller}: 'corpus' must be an iterable of strings (an array of texts), got ${describeValue(corpus)}`);
  }

  // Distinct words with their counts.
  const wordCounts = new Map<string, number>();
  let index = 0;
  for (const text of corpus) {
    if (typeof text !== "string") throw new Error(`${caller}: corpus item ${index} must be a string, got ${describeValue(text)}`);
    for (const word of splitNormalized(text, normalizer)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    index++;
  }

  // The alphabet: every character of the words that can be encoded at all, or the most frequent ones.
  const words: Array<[string[], number]> = [];
  let skippedWords = 0;
  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    const chars = Array.from(word);
    if (chars.length > maxChars) {
      skippedWords++;
      continue;
    }
    words.push([chars, count]);
    for (const char of chars) charCounts.set(char, (charCounts.get(char) ?? 0) + count);
  }
  let alphabet = Array.from(charCounts.keys()).sort();
  if (config.limitAlphabet !== undefined && alphabet.length > config.limitAlphabet) {
    alphabet = alphabet
      .map((char, order) => ({ char, order, count: charCounts.get(char)! }))
      .sort((x, y) => y.count - x.count || x.order - y.order)
      .slice(0, config.limitAlphabet)
      .map((entry) => entry.char)
      .sort();
  }
  const inAlphabet = new Set(alphabet);
  const kept = words.filter(([chars]) => chars.every((char) => inAlphabet.has(char)));
  skippedWords += words.length - kept.length;
  const continuing = new Set<string>();
  for (const [chars] of kept) for (let i = 1; i < chars.length; i++) continuing.add(chars[i]);

  const tokens: string[] = [...BERT_SPECIAL_TOKENS, ...alphabet, ...Array.from(continuing).sort().map((char) => CONTINUATION_PREFIX + char)];
  if (tokens.length > vocabSize) {
    throw new Error(
      `${caller}: 'vocabSize' ${vocabSize} is smaller than the ${BERT_SPECIAL_TOKENS.length} special tokens and the alphabet ` +
        `(${alphabet.length} characters, ${continuing.size} of them also as "##" forms), ${tokens.length} tokens in all; ` +
        `raise 'vocabSize' or set 'limitAlphabet'`,
    );
  }
  const merger = new PairMerger(tokens, kept, minFrequency, scoring === "frequency");
  const merges: WordPieceMerge[] = [];
  while (tokens.length < vocabSize) {
    const merge = merger.mergeBest();
    if (merge === undefined) break;
    merges.push(merge);
  }
  return { tokens, merges, alphabet, distinctWords: wordCounts.size, skippedWords };
}

// Key of the pair (a, b) of token ids in one number; ids stay far below KEY.
const KEY = 1 << 24;

/** The words as token-id sequences, their pair counts, and the merge step (see this file's header). */
class PairMerger {
  private readonly ids = new Map<string, number>();
  private readonly tokenFrequency: number[];
  /** Pairs that contain each token (as first or second), counted at least once now. */
  private readonly tokenPairs: Array<Set<number>>;
  private readonly sequences: number[][] = [];
  private readonly wordCounts: number[] = [];
  private readonly pairIndex = new Map<number, number>();
  private readonly pairFirst: number[] = [];
  private readonly pairSecond: number[] = [];
  private readonly pairCount: number[] = [];
  private readonly pairVersion: number[] = [];
  /** Words in which the pair occurs or once occurred (checked when merging). */
  private readonly pairWords: Array<Set<number>> = [];
  private readonly queue = new PairQueue((p, q) => this.tieBefore(p, q));
  private readonly touched = new Set<number>();

  /** `tokens` is extended in place with the merged tokens. */
  constructor(
    private readonly tokens: string[],
    words: ReadonlyArray<[string[], number]>,
    private readonly minFrequency: number,
    private readonly byFrequency: boolean,
  ) {
    tokens.forEach((token, id) => this.ids.set(token, id));
    this.tokenFrequency = new Array<number>(tokens.length).fill(0);
    this.tokenPairs = tokens.map(() => new Set<number>());
    for (const [chars, count] of words) {
      const sequence = chars.map((char, i) => this.ids.get(i === 0 ? char : CONTINUATION_PREFIX + char)!);
      for (const id of sequence) this.tokenFrequency[id] += count;
      if (sequence.length < 2) continue; // still counted in the frequencies above
      const w = this.sequences.length;
      this.sequences.push(sequence);
      this.wordCounts.push(count);
      for (let i = 0; i + 1 < sequence.length; i++) this.addPair(sequence[i], sequence[i + 1], count, w);
    }
    for (const p of this.touched) this.requeue(p);
    this.touched.clear();
  }

  /** Merges the best pair everywhere and returns it, or undefined when no pair occurs `minFrequency` times. */
  mergeBest(): WordPieceMerge | undefined {
    const best = this.popBest();
    if (best === undefined) return undefined;
    const p = best.pair;
    const a = this.pairFirst[p];
    const b = this.pairSecond[p];
    const merged = this.tokens[a] + this.tokens[b].slice(CONTINUATION_PREFIX.length);
    // Two merges can spell the same token ("ab" + "##c", "a" + "##bc"): the second reuses its id.
    let c = this.ids.get(merged);
    if (c === undefined) {
      c = this.tokens.length;
      this.tokens.push(merged);
      this.ids.set(merged, c);
      this.tokenFrequency.push(0);
      this.tokenPairs.push(new Set());
    }
    const words = this.pairWords[p];
    this.pairWords[p] = new Set();
    for (const w of words) this.mergeInWord(w, a, b, c);
    for (const token of [a, b, c]) for (const q of this.tokenPairs[token]) this.touched.add(q);
    for (const q of this.touched) this.requeue(q);
    this.touched.clear();
    return { first: this.tokens[a], second: this.tokens[b], token: merged, frequency: best.count, score: best.score };
  }

  private mergeInWord(w: number, a: number, b: number, c: number): void {
    const sequence = this.sequences[w];
    let at = -1;
    for (let i = 0; i + 1 < sequence.length; i++) {
      if (sequence[i] === a && sequence[i + 1] === b) {
        at = i;
        break;
      }
    }
    if (at < 0) return; // the pair left this word in an earlier merge
    const count = this.wordCounts[w];
    for (let i = 0; i + 1 < sequence.length; i++) this.removePair(sequence[i], sequence[i + 1], count);
    const next: number[] = sequence.slice(0, at);
    let merges = 0;
    for (let i = at; i < sequence.length; ) {
      if (i + 1 < sequence.length && sequence[i] === a && sequence[i + 1] === b) {
        next.push(c);
        merges++;
        i += 2;
      } else {
        next.push(sequence[i]);
        i++;
      }
    }
    this.sequences[w] = next;
    for (let i = 0; i + 1 < next.length; i++) this.addPair(next[i], next[i + 1], count, w);
    this.tokenFrequency[a] -= merges * count;
    this.tokenFrequency[b] -= merges * count;
    this.tokenFrequency[c] += merges * count;
  }

  private addPair(a: number, b: number, count: number, w: number): void {
    const key = a * KEY + b;
    let p = this.pairIndex.get(key);
    if (p === undefined) {
      p = this.pairFirst.length;
      this.pairIndex.set(key, p);
      this.pairFirst.push(a);
      this.pairSecond.push(b);
      this.pairCount.push(0);
      this.pairVersion.push(0);
      this.pairWords.push(new Set());
    }
    if (this.pairCount[p] === 0) {
      this.tokenPairs[a].add(p);
      this.tokenPairs[b].add(p);
    }
    this.pairCount[p] += count;
    this.pairWords[p].add(w);
    this.touched.add(p);
  }

  private removePair(a: number, b: number, count: number): void {
    const p = this.pairIndex.get(a * KEY + b)!;
    this.pairCount[p] -= count;
    if (this.pairCount[p] === 0) {
      this.tokenPairs[a].delete(p);
      this.tokenPairs[b].delete(p);
    }
    this.touched.add(p);
  }

  /** Outdates the pair's queued entries and queues it with its current score if it is frequent enough. */
  private requeue(p: number): void {
    const version = ++this.pairVersion[p];
    const count = this.pairCount[p];
    if (count < this.minFrequency) return;
    // By frequency, the queue's key is the count itself (its tie-breaks then apply unchanged).
    const score = this.byFrequency ? count : count / (this.tokenFrequency[this.pairFirst[p]] * this.tokenFrequency[this.pairSecond[p]]);
    this.queue.push(score, count, p, version);
  }

  private popBest(): { pair: number; score: number; count: number } | undefined {
    const queue = this.queue;
    // At most one entry per pair is current: drop the outdated ones when they are most of the queue.
    if (queue.size > 2 * this.pairFirst.length + 4096) queue.retain((p, version) => version === this.pairVersion[p]);
    while (queue.size > 0) {
      const best = { pair: queue.topPair(), score: queue.topScore(), count: queue.topCount() };
      const current = queue.topVersion() === this.pairVersion[best.pair];
      queue.pop();
      if (current) return best;
    }
    return undefined;
  }

  // Between pairs of equal score and count: the first token, then the second, in string order.
  private tieBefore(p: number, q: number): boolean {
    const tokens = this.tokens;
    const [p1, q1] = [tokens[this.pairFirst[p]], tokens[this.pairFirst[q]]];
    if (p1 !== q1) return p1 < q1;
    return tokens[this.pairSecond[p]] < tokens[this.pairSecond[q]];
  }
}

/**
 * A max-heap of (score, count, pair, version) entries, higher score first, then higher count, then
 * `tieBefore`. Typed arrays rather than objects: training queues about a million entries.
 */
class PairQueue {
  size = 0;
  private scores = new Float64Array(1024);
  private counts = new Float64Array(1024);
  private pairs = new Int32Array(1024);
  private versions = new Int32Array(1024);

  constructor(private readonly tieBefore: (p: number, q: number) => boolean) {}

  topPair(): number {
    return this.pairs[0];
  }

  topScore(): number {
    return this.scores[0];
  }

  topCount(): number {
    return this.counts[0];
  }

  topVersion(): number {
    return this.versions[0];
  }

  push(score: number, count: number, pair: number, version: number): void {
    if (this.size === this.pairs.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(score, count, pair, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, score, count, pair, version);
  }

  pop(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.scores[last], this.counts[last], this.pairs[last], this.versions[last]);
  }

  /** Keeps only the entries for which `keep` holds. */
  retain(keep: (pair: number, version: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (keep(this.pairs[i], this.versions[i])) this.move(i, n++);
    }
    this.size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.scores[i], this.counts[i], this.pairs[i], this.versions[i]);
  }

  // Places (score, count, pair, version) at i or below, moving the entries that go before it up.
  private siftDown(i: number, score: number, count: number, pair: number, version: number): void {
    const n = this.size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.scores[child + 1], this.counts[child + 1], this.pairs[child + 1], child)) child++;
      if (!this.entryBefore(child, score, count, pair)) break;
      this.move(child, i);
      i = child;
    }
    this.set(i, score, count, pair, version);
  }

  /** Whether (score, count, pair) goes before the entry at j. */
  private before(score: number, count: number, pair: number, j: number): boolean {
    if (score !== this.scores[j]) return score > this.scores[j];
    if (count !== this.counts[j]) return count > this.counts[j];
    return this.tieBefore(pair, this.pairs[j]);
  }

  /** Whether the entry at j goes before (score, count, pair). */
  private entryBefore(j: number, score: number, count: number, pair: number): boolean {
    if (score !== this.scores[j]) return this.scores[j] > score;
    if (count !== this.counts[j]) return this.counts[j] > count;
    return this.tieBefore(this.pairs[j], pair);
  }

  private set(i: number, score: number, count: number, pair: number, version: number): void {
    this.scores[i] = score;
    this.counts[i] = count;
    this.pairs[i] = pair;
    this.versions[i] = version;
  }

  private move(from: number, to: number): void {
    this.set(to, this.scores[from], this.counts[from], this.pairs[from], this.versions[from]);
  }

  private grow(): void {
    const capacity = 2 * this.pairs.length;
    const grown = <T extends Float64Array | Int32Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(array);
      return next;
    };
    this.scores = grown(this.scores, (n) => new Float64Array(n));
    this.counts = grown(this.counts, (n) => new Float64Array(n));
    this.pairs = grown(this.pairs, (n) => new Int32Array(n));
    this.versions = grown(this.versions, (n) => new Int32Array(n));
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
  if (maxLength !== undefined) checkPositiveInteger(maxLength, "maxLength", caller);
  const truncation = options.truncation ?? "longest_first";
  if (![true, false, "longest_first", "only_first", "only_second"].includes(truncation)) {
    throw new Error(`${caller}: 'truncation' must be "longest_first", "only_first", "only_second", true or false, got ${describeValue(truncation)}`);
  }
  const padding = options.padding ?? false;
  if (![true, false, "max_length", "longest"].includes(padding)) {
    throw new Error(`${caller}: 'padding' must be "max_length", "longest", true or false, got ${describeValue(padding)}`);
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

function checkPositiveInteger(value: unknown, name: string, caller: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`${caller}: '${name}' must be a positive integer, got ${describeValue(value)}`);
  }
}

/** UTF-16 offsets of the code points of `word`, and its length at the end. */
function codePointBounds(word: string): number[] {
  const bounds = [0];
  for (let i = 0; i < word.length; ) {
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
