// Training a WordPiece vocabulary from a corpus, for the tokenizer in wordpiece.ts.
//
// It follows the WordPiece procedure as HuggingFace's NLP course describes it (HuggingFace's
// tokenizers library shares its alphabet, `limitAlphabet` and `minFrequency`, but its WordPieceTrainer
// merges by pair frequency alone, as BPE). The words of the corpus (after the basic tokenizer), each
// with its count, start as characters, non-initial ones prefixed "##" ("book" -> b ##o ##o ##k); the
// vocabulary starts as the special tokens, every character seen, and the "##" form of every character
// seen inside a word. Each step merges the adjacent pair with the highest score
//     score(a, b) = freq(a b) / (freq(a) · freq(b))          (scoring "likelihood", the default)
// (frequencies counted over the corpus, word counts included), which prefers pairs whose parts are
// rarely seen apart over merely frequent pairs; or the most frequent pair (scoring "frequency", what
// HuggingFace's trainer does, and on small corpora the better vocabulary), until the vocabulary has
// `vocabSize` tokens or no pair occurs `minFrequency` times. Ties go to the more frequent pair, then to the pair whose first
// token, then second token, sorts first (JavaScript string order, UTF-16 code units), so training
// is deterministic and does not depend on the order of the corpus.
// The tokenizer keeps only the vocabulary: the greedy encoder needs no merge list (`trainWordPiece`
// returns it, for showing how the vocabulary grew).
//
// Training runs on the distinct words with their counts, and after each merge updates the pair
// counts of the words that contained the merged pair only. A merge also changes freq(a) and freq(b),
// and with them the score of every pair that contains a or b; those pairs are re-queued in a lazy
// max-heap (an entry whose version is outdated is skipped when popped).

import { checkPositiveInteger } from "../checks";
import { BertNormalizerOptions, describeValue, resolveBertNormalizerOptions, splitNormalized } from "./bertNormalizer";

/** BERT's special tokens, in the order (and so with the ids 0..4) a trained vocabulary holds them. */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The prefix of a piece that continues a word ("##able" in "un ##aff ##able"). */
export const CONTINUATION_PREFIX = "##";

export interface WordPieceTrainingConfig extends BertNormalizerOptions {
  /** Words longer than this many characters (code points) are left out, as the tokenizer makes them [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
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

/**
 * Trains a WordPiece vocabulary on `corpus` (see this file's header for the procedure), with the
 * merges in order, for showing how the vocabulary grew. `WordPieceTokenizer.train` wraps it.
 */
export function trainWordPiece(corpus: Iterable<string>, config: WordPieceTrainingConfig = {}): WordPieceTraining {
  return trainVocabulary(corpus, config, "trainWordPiece");
}

/** `trainWordPiece`, with errors naming `caller` (WordPieceTokenizer.train names itself). */
export function trainVocabulary(
  corpus: Iterable<string>,
  config: WordPieceTrainingConfig,
  caller: string,
): WordPieceTraining {
  const normalizer = resolveBertNormalizerOptions(config, caller);
  const vocabSize = config.vocabSize ?? 3000;
  const minFrequency = config.minFrequency ?? 2;
  const scoring = config.scoring ?? "likelihood";
  if (scoring !== "likelihood" && scoring !== "frequency") {
    throw new Error(`${caller}: 'scoring' must be "likelihood" or "frequency", got ${describeValue(scoring)}`);
  }
  const maxChars = config.maxInputCharsPerWord ?? 100;
  checkPositiveInteger(caller, "vocabSize", vocabSize);
  checkPositiveInteger(caller, "minFrequency", minFrequency);
  checkPositiveInteger(caller, "maxInputCharsPerWord", maxChars);
  if (config.limitAlphabet !== undefined) checkPositiveInteger(caller, "limitAlphabet", config.limitAlphabet);
  if (
    typeof corpus === "string" ||
    corpus == null ||
    typeof (corpus as Iterable<string>)[Symbol.iterator] !== "function"
  ) {
    throw new Error(
      `${caller}: 'corpus' must be an iterable of strings (an array of texts), got ${describeValue(corpus)}`,
    );
  }

  // Distinct words with their counts.
  const wordCounts = new Map<string, number>();
  let index = 0;
  for (const text of corpus) {
    if (typeof text !== "string")
      throw new Error(`${caller}: corpus item ${index} must be a string, got ${describeValue(text)}`);
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

  const tokens: string[] = [
    ...BERT_SPECIAL_TOKENS,
    ...alphabet,
    ...Array.from(continuing)
      .sort()
      .map((char) => CONTINUATION_PREFIX + char),
  ];
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
    for (let i = at; i < sequence.length;) {
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
    const score = this.byFrequency
      ? count
      : count / (this.tokenFrequency[this.pairFirst[p]] * this.tokenFrequency[this.pairSecond[p]]);
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
    for (let i = (n >> 1) - 1; i >= 0; i--)
      this.siftDown(i, this.scores[i], this.counts[i], this.pairs[i], this.versions[i]);
  }

  // Places (score, count, pair, version) at i or below, moving the entries that go before it up.
  private siftDown(i: number, score: number, count: number, pair: number, version: number): void {
    const n = this.size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.scores[child + 1], this.counts[child + 1], this.pairs[child + 1], child))
        child++;
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
