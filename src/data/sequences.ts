// Item sequences for the sequential recommenders SASRec (Kang and McAuley, "Self-Attentive Sequential
// Recommendation", ICDM 2018) and BERT4Rec (Sun et al., "BERT4Rec: Sequential Recommendation with
// Bidirectional Encoder Representations from Transformer", CIKM 2019): each user's training items in
// time order, laid out as fixed-length token sequences, and the training batches of both models.
//
//   tokens     item index i is token id i + itemOffset; 0 = [PAD], 1 = [MASK] (BERT4Rec only), so
//              itemOffset is 2 for BERT4Rec and 1 for SASRec
//   layout     the last T = maxLength items, LEFT-padded: [PAD … PAD s_{n−T'+1} … s_n], so the latest
//              item always sits at position T − 1, where inference reads its scores
//   BERT4Rec   Cloze task (§3.6): each real position is replaced by [MASK] with probability ρ (0.2 in
//              the paper), at least one per sequence, and predicted there:  L = −(1/|M|) Σ_{t∈M} log P(s_t)
//              (no 80/10/10 corruption as in BERT). Inference appends [MASK] to the history (§3.6).
//   SASRec     next-item prediction at every position (§III-E): input s_1 … s_{n−1}, target o_t = s_{t+1};
//              the paper's loss is binary cross-entropy with one sampled negative j ∉ S^u per position,
//              −Σ_t [log σ(r_{o_t,t}) + log(1 − σ(r_{j,t}))]; full softmax over the catalogue also works
//              and usually trains better. Inference reads the history as is.
//
// Positions are flat indices b·T + t into the [B, T] batch, as `gatherPositions` takes them; labels are
// item indices (not token ids), as the models' [numItems] outputs are indexed.

import { Rng } from "../backend/random";
import { checkInteger, checkPositiveInteger } from "../checks";
import { rowBatches } from "../train/batches";
import type { Interactions } from "./interactions";
import type { NegativeSampler } from "./samplers";
import { RowOrder, rowsByUser } from "./userIndex";

/** Token id of padding, in every sequence model here. */
export const PAD_TOKEN = 0;
/** Token id of [MASK] (BERT4Rec). */
export const MASK_TOKEN = 1;
/** BERT4Rec's itemOffset: ids 0 = [PAD] and 1 = [MASK] come before the items. */
export const BERT4REC_ITEM_OFFSET = 2;
/** SASRec's itemOffset: only [PAD] = 0 comes before the items. */
export const SASREC_ITEM_OFFSET = 1;

// ---------------------------------------------------------------------------------------------
// Per-user sequences
// ---------------------------------------------------------------------------------------------

/**
 * Each user's items in order, in compressed sparse row form: user u's sequence is
 * `items[offsets[u]]`, …, `items[offsets[u + 1] − 1]`, earliest first.
 */
export class UserSequences {
  private constructor(
    readonly numUsers: number,
    readonly numItems: number,
    /** Length numUsers + 1. */
    readonly offsets: Int32Array,
    readonly items: Int32Array,
  ) {}

  /**
   * The items of each user of `data` (the training part of a split) in time order, ties in log order
   * (`order: "row"` keeps the log's order and needs no timestamps).
   */
  static from(data: Interactions, order: RowOrder = "time"): UserSequences {
    const groups = rowsByUser(data, order);
    const items = new Int32Array(groups.rows.length);
    for (let j = 0; j < items.length; j++) items[j] = data.items[groups.rows[j]];
    return new UserSequences(data.numUsers, data.numItems, groups.offsets, items);
  }

  /** Sequences given directly (user u's is `sequences[u]`), e.g. for tests and synthetic data. */
  static fromArrays(numItems: number, sequences: ReadonlyArray<ArrayLike<number>>): UserSequences {
    checkPositiveInteger("UserSequences.fromArrays", "numItems", numItems);
    const offsets = new Int32Array(sequences.length + 1);
    sequences.forEach((sequence, u) => (offsets[u + 1] = offsets[u] + sequence.length));
    const items = new Int32Array(offsets[sequences.length]);
    sequences.forEach((sequence, u) => {
      for (let k = 0; k < sequence.length; k++) {
        const item = sequence[k];
        if (!(Number.isInteger(item) && item >= 0 && item < numItems)) {
          throw new Error(`UserSequences.fromArrays: item ${item} of user ${u} is outside [0, ${numItems})`);
        }
        items[offsets[u] + k] = item;
      }
    });
    return new UserSequences(sequences.length, numItems, offsets, items);
  }

  /** How many items user u has. */
  length(u: number): number {
    this.checkUser(u, "length");
    return this.offsets[u + 1] - this.offsets[u];
  }

  /** User u's items, earliest first (a view, not a copy). */
  itemsOf(u: number): Int32Array {
    this.checkUser(u, "itemsOf");
    return this.items.subarray(this.offsets[u], this.offsets[u + 1]);
  }

  private checkUser(u: number, caller: string): void {
    if (!(Number.isInteger(u) && u >= 0 && u < this.numUsers))
      throw new RangeError(`UserSequences.${caller}: user ${u} is outside [0, ${this.numUsers})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

/** How item sequences become token sequences. */
export interface SequenceEncoding {
  /** T, the length of every token sequence; longer histories keep their latest items. */
  maxLength: number;
  /** Token id of item i is i + itemOffset: BERT4Rec 2 ([PAD], [MASK]), SASRec 1 ([PAD]). */
  itemOffset: number;
}

function checkEncoding(where: string, config: SequenceEncoding, minOffset: number): void {
  checkPositiveInteger(where, "maxLength", config.maxLength);
  if (!Number.isInteger(config.itemOffset) || config.itemOffset < minOffset) {
    throw new Error(
      `${where}: itemOffset must be an integer >= ${minOffset} (ids below it are [PAD]${minOffset > 1 ? " and [MASK]" : ""}), got ${config.itemOffset}`,
    );
  }
}

/**
 * Writes `items` (at most `length` of them) as token ids into out[at + length − items.length …
 * at + length), after PAD: left padding, so that the last item lands at position length − 1.
 */
function writeLeftPadded(
  items: ArrayLike<number>,
  length: number,
  itemOffset: number,
  out: Int32Array,
  at: number,
): void {
  const start = length - items.length;
  out.fill(PAD_TOKEN, at, at + start);
  for (let k = 0; k < items.length; k++) out[at + start + k] = items[k] + itemOffset;
}

/** The last `maxLength` of `items` as token ids, left-padded with [PAD]: [maxLength] int32. */
export function padSequence(items: ArrayLike<number>, config: SequenceEncoding): Int32Array {
  checkEncoding("padSequence", config, 1);
  const kept = Array.prototype.slice.call(items, Math.max(0, items.length - config.maxLength)) as number[];
  const out = new Int32Array(config.maxLength);
  writeLeftPadded(kept, config.maxLength, config.itemOffset, out, 0);
  return out;
}

export interface InferenceInputsConfig extends SequenceEncoding {
  /** Append [MASK] after the history (BERT4Rec), which then keeps its last maxLength − 1 items. */
  appendMask: boolean;
}

/**
 * The token ids [users.length × maxLength] that score each user's next item: the history (with [MASK]
 * appended for BERT4Rec), left-padded, so the model's output at position maxLength − 1 scores it.
 * A user without history gets padding only (BERT4Rec: a lone [MASK]).
 */
export function inferenceInputs(
  sequences: UserSequences,
  users: Int32Array,
  config: InferenceInputsConfig,
): Int32Array {
  const where = "inferenceInputs";
  checkEncoding(where, config, config.appendMask ? 2 : 1);
  const T = config.maxLength;
  if (config.appendMask && T < 2)
    throw new Error(`${where}: maxLength must be at least 2 to hold an item and [MASK], got ${T}`);
  const room = config.appendMask ? T - 1 : T; // history positions
  const out = new Int32Array(users.length * T);
  for (let b = 0; b < users.length; b++) {
    const history = sequences.itemsOf(users[b]);
    writeLeftPadded(history.subarray(Math.max(0, history.length - room)), room, config.itemOffset, out, b * T);
    if (config.appendMask) out[b * T + T - 1] = MASK_TOKEN;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Training batches
// ---------------------------------------------------------------------------------------------

/** A batch for a sequence model, arrays flat in row-major order. */
export interface SequenceBatch {
  batchSize: number;
  /** T, the padded length. */
  length: number;
  /** The user of each row: [B]. */
  users: Int32Array;
  /** Input token ids: [B·T]. */
  tokenIds: Int32Array;
  /** The flat positions b·T + t where the loss is taken, ascending: [P]. */
  positions: Int32Array;
  /** The item index to predict at each of `positions`: [P]. */
  labels: Int32Array;
}

/** BERT4Rec's Cloze batch: `positions` are the masked ones, `labels` the items they hid. */
export type Bert4RecBatch = SequenceBatch;

/** SASRec's batch: `positions` are all real ones, `labels` the next items. */
export interface SasRecBatch extends SequenceBatch {
  /** One sampled item per position that the user never interacted with: [P]; null when not sampled. */
  negatives: Int32Array | null;
}

export interface SequenceBatchConfig extends SequenceEncoding {
  /** Sequences (windows) per batch. */
  batchSize: number;
  /** Seeds the order, the masks and the negatives; epoch e draws from a stream derived from (seed, e). */
  seed: number;
  /**
   * Cut histories longer than one window into several, their ends `windowStride` items apart (the
   * latest window first, the earliest starting at the first item). Default: only the latest window.
   */
  windowStride?: number;
  /** Shuffle the windows each epoch. Default true. */
  shuffle?: boolean;
}

export interface Bert4RecBatchConfig extends SequenceBatchConfig {
  /** ρ, the probability that a real position is masked. Default 0.2 (BERT4Rec's ML-1m setting). */
  maskProbability?: number;
  /**
   * "cloze" (default): each real position masked with probability ρ; "lastItem": only the last item,
   * the samples BERT4Rec adds for fine-tuning (§3.6), which are exactly the next-item task of inference.
   */
  masking?: "cloze" | "lastItem";
}

export interface SasRecBatchConfig extends SequenceBatchConfig {
  /**
   * Draws one negative per position for the paper's binary cross-entropy; build it on the same
   * training interactions, so that a negative is never an item of the user's history. Default none.
   */
  negativeSampler?: NegativeSampler;
}

/** Epoch e's generator: the same for the same (seed, e), whether or not earlier epochs ran. */
function epochRng(seed: number, epoch: number): Rng {
  return new Rng(seed + epoch * 2 ** 32); // the high word carries the epoch, which Rng hashes in
}

/** Training windows [end − span, end) ∩ [0, n) of every user with at least `minLength` items. */
function trainingWindows(
  where: string,
  sequences: UserSequences,
  span: number,
  minLength: number,
  stride: number | undefined,
) {
  if (stride !== undefined) checkPositiveInteger(where, "windowStride", stride);
  const users: number[] = [];
  const ends: number[] = [];
  for (let u = 0; u < sequences.numUsers; u++) {
    const n = sequences.length(u);
    if (n < minLength) continue;
    let end = n;
    users.push(u);
    ends.push(end);
    while (stride !== undefined && end > span) {
      end = Math.max(end - stride, span);
      users.push(u);
      ends.push(end);
    }
  }
  return { users: Int32Array.from(users), ends: Int32Array.from(ends) };
}

function checkBatchConfig(where: string, config: SequenceBatchConfig, minOffset: number): void {
  checkEncoding(where, config, minOffset);
  checkPositiveInteger(where, "batchSize", config.batchSize);
  if (typeof config.seed !== "number" || !Number.isFinite(config.seed))
    throw new Error(`${where}: seed must be a finite number, got ${config.seed}`);
}

/** The windows of one epoch in batches (shuffled unless `shuffle: false`), and the epoch's generator. */
function epochBatches(
  sequences: UserSequences,
  config: SequenceBatchConfig,
  epoch: number,
  span: number,
  minLength: number,
  where: string,
) {
  checkInteger(where, "epoch", epoch, 0);
  const windows = trainingWindows(where, sequences, span, minLength, config.windowStride);
  const rng = epochRng(config.seed, epoch);
  const order = rowBatches(windows.users.length, {
    batchSize: config.batchSize,
    rng: config.shuffle === false ? undefined : rng,
  });
  return { windows, rng, order };
}

/**
 * One epoch of BERT4Rec Cloze batches over every user with at least one item: each window's real
 * positions are masked independently with probability maskProbability (at least one per window), the
 * masked tokens become [MASK], and the labels are the items they hid. Fresh masks every epoch.
 */
export function bert4recBatches(sequences: UserSequences, config: Bert4RecBatchConfig, epoch: number): Bert4RecBatch[] {
  const where = "bert4recBatches";
  checkBatchConfig(where, config, BERT4REC_ITEM_OFFSET);
  const rate = config.maskProbability ?? 0.2;
  if (!(rate > 0 && rate <= 1)) throw new Error(`${where}: maskProbability must be in (0, 1], got ${rate}`);
  const masking = config.masking ?? "cloze";
  if (masking !== "cloze" && masking !== "lastItem")
    throw new Error(`${where}: masking must be "cloze" or "lastItem", got '${masking}'`);
  const T = config.maxLength;
  const { windows, rng, order } = epochBatches(sequences, config, epoch, T, 1, where);
  return order.map((rows) => {
    const B = rows.length;
    const users = new Int32Array(B);
    const tokenIds = new Int32Array(B * T);
    const positions: number[] = [];
    const labels: number[] = [];
    for (let b = 0; b < B; b++) {
      const user = windows.users[rows[b]];
      const end = windows.ends[rows[b]];
      const items = sequences.itemsOf(user).subarray(Math.max(0, end - T), end);
      users[b] = user;
      writeLeftPadded(items, T, config.itemOffset, tokenIds, b * T);
      const first = T - items.length; // the first real position
      const masked: number[] = [];
      if (masking === "lastItem") masked.push(T - 1);
      else for (let t = first; t < T; t++) if (rng.next() < rate) masked.push(t);
      if (masked.length === 0) masked.push(first + rng.int(items.length));
      for (const t of masked) {
        positions.push(b * T + t);
        labels.push(items[t - first]);
        tokenIds[b * T + t] = MASK_TOKEN;
      }
    }
    return {
      batchSize: B,
      length: T,
      users,
      tokenIds,
      positions: Int32Array.from(positions),
      labels: Int32Array.from(labels),
    };
  });
}

/**
 * One epoch of SASRec batches over every user with at least two items: input s_1 … s_{n−1} (its last
 * maxLength items, left-padded), label s_{t+1} at every real position t, and, with a negativeSampler,
 * one negative per position drawn afresh each epoch.
 */
export function sasrecBatches(sequences: UserSequences, config: SasRecBatchConfig, epoch: number): SasRecBatch[] {
  const where = "sasrecBatches";
  checkBatchConfig(where, config, SASREC_ITEM_OFFSET);
  const T = config.maxLength;
  const sampler = config.negativeSampler;
  const { windows, rng, order } = epochBatches(sequences, config, epoch, T + 1, 2, where); // T inputs + the last target
  return order.map((rows) => {
    const B = rows.length;
    const users = new Int32Array(B);
    const tokenIds = new Int32Array(B * T);
    const positions: number[] = [];
    const labels: number[] = [];
    const positionUsers: number[] = [];
    for (let b = 0; b < B; b++) {
      const user = windows.users[rows[b]];
      const end = windows.ends[rows[b]];
      const window = sequences.itemsOf(user).subarray(Math.max(0, end - T - 1), end);
      const inputs = window.subarray(0, window.length - 1);
      users[b] = user;
      writeLeftPadded(inputs, T, config.itemOffset, tokenIds, b * T);
      const first = T - inputs.length;
      for (let k = 0; k < inputs.length; k++) {
        positions.push(b * T + first + k);
        labels.push(window[k + 1]);
        positionUsers.push(user);
      }
    }
    const negatives = sampler === undefined ? null : sampler.sampleForEach(Int32Array.from(positionUsers), rng);
    return {
      batchSize: B,
      length: T,
      users,
      tokenIds,
      positions: Int32Array.from(positions),
      labels: Int32Array.from(labels),
      negatives,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// "Will the user like the next item": examples for BERT4Rec's classification head
// ---------------------------------------------------------------------------------------------

/** Histories in inference layout ([MASK] appended), the item that came next, and whether it was liked. */
export interface LikeBatch {
  batchSize: number;
  length: number;
  /** [B·T]: each history's last T − 1 items, left-padded, then [MASK]. */
  tokenIds: Int32Array;
  /** The candidate item X of each example [B]. */
  items: Int32Array;
  /** 1 = liked (rating ≥ threshold), 0 = not; null at inference. */
  labels: Int32Array | null;
}

export interface LikeExamplesConfig extends SequenceEncoding {
  /** Each user's last `perUser` interactions (time order) become examples. */
  perUser: number;
  /** A rating ≥ this is a like. Default 4. */
  likeThreshold?: number;
  /** Examples per batch. */
  batchSize: number;
  /** Shuffles the examples when given. */
  rng?: Rng;
}

/**
 * The last `perUser` interactions of every user of `data` as like/dislike examples, each with the user's
 * items before it as history: with a leave-one-out split, `perUser: 1` on the whole log gives the test
 * items with everything before them, and `perUser: k` on the training part gives training examples.
 */
export function likeBatches(data: Interactions, config: LikeExamplesConfig): LikeBatch[] {
  const where = "likeBatches";
  checkEncoding(where, config, BERT4REC_ITEM_OFFSET);
  checkPositiveInteger(where, "perUser", config.perUser);
  checkPositiveInteger(where, "batchSize", config.batchSize);
  const threshold = config.likeThreshold ?? 4;
  const T = config.maxLength;
  const groups = rowsByUser(data, "time");
  const examples: Array<{ user: number; end: number }> = [];
  for (let u = 0; u < data.numUsers; u++) {
    const start = groups.offsets[u];
    for (let end = Math.max(start, groups.offsets[u + 1] - config.perUser); end < groups.offsets[u + 1]; end++)
      examples.push({ user: u, end });
  }
  const order = Int32Array.from({ length: examples.length }, (_, j) => j);
  if (config.rng !== undefined) config.rng.shuffle(order);
  const batches: LikeBatch[] = [];
  for (let first = 0; first < order.length; first += config.batchSize) {
    const chosen = Array.from(
      order.subarray(first, Math.min(first + config.batchSize, order.length)),
      (j) => examples[j],
    );
    const B = chosen.length;
    const tokenIds = new Int32Array(B * T);
    const items = new Int32Array(B);
    const labels = new Int32Array(B);
    chosen.forEach(({ user, end }, b) => {
      const from = Math.max(groups.offsets[user], end - (T - 1));
      const history = Array.from(groups.rows.subarray(from, end), (r) => data.items[r]);
      writeLeftPadded(history, T - 1, config.itemOffset, tokenIds, b * T);
      tokenIds[b * T + T - 1] = MASK_TOKEN;
      const row = groups.rows[end];
      items[b] = data.items[row];
      labels[b] = data.ratings[row] >= threshold ? 1 : 0;
    });
    batches.push({ batchSize: B, length: T, tokenIds, items, labels });
  }
  return batches;
}
