import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import {
  behaviourDocuments,
  catalogueDocuments,
  holdOutDocuments,
  itemToken,
  itemTokenizer,
  EncodedPair,
  maskTokens,
  MaskingConfig,
  nextSentencePairs,
  PairEncoder,
  PretrainingBatch,
  pretrainingBatch,
  pretrainingBatches,
  SentencePair,
  TextPair,
} from "../../src/data/bertPretraining";
import type { ItemCatalogue } from "../../src/data/catalogue";
import { IdIndex, Interactions } from "../../src/data/interactions";

// Special ids of the fake vocabulary: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4; words from 5.
const PAD = 0;
const UNK = 1;
const CLS = 2;
const SEP = 3;
const MASK = 4;
const FIRST_WORD = 5;

/** `count` true entries framed as BERT lays a sequence out: [CLS] words [SEP] and three [PAD]s. */
function framed(count: number): { ids: number[]; maskable: boolean[] } {
  const ids = [CLS, ...Array.from({ length: count }, (_, t) => 100 + t), SEP, PAD, PAD, PAD];
  const maskable = ids.map((_, t) => t >= 1 && t <= count);
  return { ids, maskable };
}

/** Whether a draw of `count` successes in `n` trials is within 5 binomial sigmas of probability p. */
function withinBinomial(count: number, n: number, p: number): boolean {
  return Math.abs(count - n * p) <= 5 * Math.sqrt(n * p * (1 - p));
}

/**
 * A PairEncoder over a fixed word table: whitespace words, unknown ones [UNK], laid out as
 * [CLS] A [SEP] B [SEP], truncated longest first, padded with [PAD] to maxLength.
 */
class TableEncoder implements PairEncoder {
  readonly table = new Map<string, number>();
  readonly words: string[] = [];
  calls = 0;

  constructor(words: string[]) {
    for (const w of words) {
      this.table.set(w, FIRST_WORD + this.words.length);
      this.words.push(w);
    }
  }

  get vocabSize(): number {
    return FIRST_WORD + this.words.length;
  }

  word(id: number): string {
    return this.words[id - FIRST_WORD];
  }

  encode(
    a: string,
    b: string,
    options: { maxLength: number; truncation: boolean; padding: "max_length" },
  ): EncodedPair {
    assert.equal(options.truncation, true);
    assert.equal(options.padding, "max_length");
    this.calls++;
    const lookup = (s: string) =>
      s
        .split(/\s+/)
        .filter((w) => w !== "")
        .map((w) => this.table.get(w) ?? UNK);
    const wa = lookup(a);
    const wb = lookup(b);
    while (wa.length + wb.length + 3 > options.maxLength) (wa.length > wb.length ? wa : wb).pop();
    const ids = [CLS, ...wa, SEP, ...wb, SEP];
    const tokenTypeIds = [...new Array(wa.length + 2).fill(0), ...new Array(wb.length + 1).fill(1)];
    const attentionMask = new Array(ids.length).fill(1);
    const specialTokensMask = ids.map((id) => (id === CLS || id === SEP ? 1 : 0));
    while (ids.length < options.maxLength) {
      ids.push(PAD);
      tokenTypeIds.push(0);
      attentionMask.push(0);
      specialTokensMask.push(1);
    }
    return { ids, tokenTypeIds, attentionMask, specialTokensMask };
  }
}

/** The batch's ids with the original tokens put back at the masked positions. */
function uncorrupted(batch: PretrainingBatch): Int32Array {
  const ids = Int32Array.from(batch.tokenIds);
  batch.maskedPositions.forEach((p, j) => (ids[p] = batch.maskedLabels[j]));
  return ids;
}

/** The words of segment A and segment B of row b of the (uncorrupted) ids. */
function segments(
  ids: Int32Array,
  batch: PretrainingBatch,
  b: number,
  encoder: TableEncoder,
): { a: string; b: string } {
  const row = Array.from(ids.subarray(b * batch.length, (b + 1) * batch.length));
  assert.equal(row[0], CLS);
  const firstSep = row.indexOf(SEP);
  const secondSep = row.indexOf(SEP, firstSep + 1);
  return {
    a: row
      .slice(1, firstSep)
      .map((id) => encoder.word(id))
      .join(" "),
    b: row
      .slice(firstSep + 1, secondSep)
      .map((id) => encoder.word(id))
      .join(" "),
  };
}

const MASKING: MaskingConfig = { maskId: MASK, vocabSize: 12, firstRandomId: FIRST_WORD };

describe("data/bertPretraining", () => {
  describe("maskTokens", () => {
    it("never picks [CLS], [SEP] or padding, whatever the seed (boolean or 0/1 maskable)", () => {
      const { ids, maskable } = framed(30);
      const numeric = maskable.map((m) => (m ? 1 : 0));
      for (let seed = 0; seed < 300; seed++) {
        for (const mask of [maskable, numeric]) {
          const masked = maskTokens(ids, mask, { ...MASKING, maskProbability: 0.5 }, new Rng(seed));
          assert.equal(masked.positions.length, 15);
          for (const t of masked.positions) assert.ok(maskable[t], `seed ${seed} picked position ${t} (id ${ids[t]})`);
        }
      }
      // Maskable positions scattered between special ones.
      const scattered = [true, false, true, false, false, true, false, true];
      for (let seed = 0; seed < 200; seed++) {
        const masked = maskTokens(
          [7, 2, 8, 3, 0, 9, 3, 10],
          scattered,
          { ...MASKING, maskProbability: 1 },
          new Rng(seed),
        );
        assert.deepEqual([...masked.positions], [0, 2, 5, 7]);
      }
    });

    it("picks max(1, round(15% of the maskable tokens)) positions, at most maxPredictions", () => {
      const cases: [maskable: number, maxPredictions: number | undefined, expected: number][] = [
        [0, undefined, 0], // nothing to mask
        [1, undefined, 1],
        [3, undefined, 1], // round(0.45) = 0, raised to 1
        [7, undefined, 1], // round(1.05) = 1
        [10, undefined, 2], // round(1.5) = 2
        [20, undefined, 3], // round(3) = 3
        [100, 20, 15],
        [100, 5, 5], // capped
        [200, undefined, 20], // round(30) capped at the default 20
        [200, 40, 30],
        [10, 0, 0],
      ];
      for (const [count, maxPredictions, expected] of cases) {
        const { ids, maskable } = framed(count);
        const masked = maskTokens(ids, maskable, { ...MASKING, maxPredictions }, new Rng(count));
        assert.equal(masked.positions.length, expected, `${count} maskable, maxPredictions ${maxPredictions}`);
        assert.equal(masked.labels.length, expected);
        assert.equal(masked.actions.length, expected);
        assert.equal(new Set(masked.positions).size, expected, "distinct positions");
      }
    });

    it("returns positions ascending with the original ids as labels, and leaves the input untouched", () => {
      const { ids, maskable } = framed(40);
      const input = Int32Array.from(ids);
      for (let seed = 0; seed < 50; seed++) {
        const masked = maskTokens(input, maskable, { ...MASKING, maskProbability: 0.3 }, new Rng(seed));
        assert.deepEqual(input, Int32Array.from(ids), "input unchanged");
        assert.notEqual(masked.tokenIds, input, "a copy");
        assert.equal(masked.tokenIds.length, ids.length);
        for (let j = 1; j < masked.positions.length; j++) assert.ok(masked.positions[j - 1] < masked.positions[j]);
        masked.positions.forEach((t, j) => assert.equal(masked.labels[j], ids[t]));
        const chosen = new Set(masked.positions);
        ids.forEach((id, t) => {
          if (!chosen.has(t)) assert.equal(masked.tokenIds[t], id, `position ${t} was not picked but changed`);
        });
      }
    });

    it("writes [MASK] at 'mask' positions, an id in [firstRandomId, vocabSize) at 'random' ones, the original at 'keep' ones", () => {
      // Original ids 100+ lie outside the vocabulary's range, so each action leaves a distinct trace.
      const { ids, maskable } = framed(50);
      const seen = new Set<string>();
      for (let seed = 0; seed < 100; seed++) {
        const masked = maskTokens(ids, maskable, MASKING, new Rng(seed));
        masked.positions.forEach((t, j) => {
          const action = masked.actions[j];
          seen.add(action);
          const id = masked.tokenIds[t];
          if (action === "mask") assert.equal(id, MASK);
          else if (action === "random") assert.ok(id >= FIRST_WORD && id < 12, `random id ${id}`);
          else assert.equal(id, ids[t]);
        });
      }
      assert.deepEqual([...seen].sort(), ["keep", "mask", "random"]);
    });

    it("replaces 80% / 10% / 10% of 20,000 predicted tokens, with random ids uniform over the non-special range", () => {
      const { ids, maskable } = framed(100); // 15 predictions per sequence
      const rng = new Rng(42);
      const counts = { mask: 0, random: 0, keep: 0 };
      const randomIds = new Map<number, number>();
      let total = 0;
      while (total < 20000) {
        const masked = maskTokens(ids, maskable, MASKING, rng);
        masked.positions.forEach((t, j) => {
          counts[masked.actions[j]]++;
          if (masked.actions[j] === "random")
            randomIds.set(masked.tokenIds[t], (randomIds.get(masked.tokenIds[t]) ?? 0) + 1);
        });
        total += masked.positions.length;
      }
      assert.ok(withinBinomial(counts.mask, total, 0.8), `mask ${counts.mask} of ${total}`);
      assert.ok(withinBinomial(counts.random, total, 0.1), `random ${counts.random} of ${total}`);
      assert.ok(withinBinomial(counts.keep, total, 0.1), `keep ${counts.keep} of ${total}`);
      assert.deepEqual(
        [...randomIds.keys()].sort((a, b) => a - b),
        [5, 6, 7, 8, 9, 10, 11],
      );
      for (const [id, n] of randomIds)
        assert.ok(withinBinomial(n, counts.random, 1 / 7), `random id ${id}: ${n} of ${counts.random}`);
    });

    it("picks every maskable position, and every pair of them, equally often", () => {
      // 10 maskable tokens: 2 picks per draw, so each position has probability 1/5 and each pair 1/45.
      const { ids, maskable } = framed(10);
      const rng = new Rng(7);
      const draws = 10000;
      const perPosition = new Map<number, number>();
      const perPair = new Map<string, number>();
      for (let r = 0; r < draws; r++) {
        const { positions } = maskTokens(ids, maskable, MASKING, rng);
        assert.equal(positions.length, 2);
        for (const t of positions) perPosition.set(t, (perPosition.get(t) ?? 0) + 1);
        perPair.set(positions.join(","), (perPair.get(positions.join(",")) ?? 0) + 1);
      }
      assert.deepEqual(
        [...perPosition.keys()].sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      for (const [t, n] of perPosition) assert.ok(withinBinomial(n, draws, 1 / 5), `position ${t}: ${n} of ${draws}`);
      assert.equal(perPair.size, 45);
      let chi = 0;
      for (const n of perPair.values()) chi += (n - draws / 45) ** 2 / (draws / 45);
      const df = 44;
      assert.ok(chi < df + 5 * Math.sqrt(2 * df), `chi-square ${chi} over pairs`);
    });

    it("follows custom rates: all [MASK], all random, all kept, and maskProbability 1 predicts every maskable token", () => {
      const { ids, maskable } = framed(40);
      const run = (config: Partial<MaskingConfig>) =>
        maskTokens(ids, maskable, { ...MASKING, maxPredictions: 40, ...config }, new Rng(3));
      const allMask = run({ maskTokenRate: 1, randomTokenRate: 0 });
      assert.equal(allMask.positions.length, 6); // round(40 · 0.15)
      assert.ok(allMask.actions.every((a) => a === "mask"));
      for (const t of allMask.positions) assert.equal(allMask.tokenIds[t], MASK);
      const allRandom = run({ maskTokenRate: 0, randomTokenRate: 1 });
      assert.ok(allRandom.actions.every((a) => a === "random"));
      for (const t of allRandom.positions) assert.ok(allRandom.tokenIds[t] >= FIRST_WORD && allRandom.tokenIds[t] < 12);
      const allKept = run({ maskTokenRate: 0, randomTokenRate: 0 });
      assert.ok(allKept.actions.every((a) => a === "keep"));
      assert.deepEqual(allKept.tokenIds, Int32Array.from(ids));
      const everything = run({ maskProbability: 1, maskTokenRate: 1, randomTokenRate: 0 });
      assert.deepEqual(
        [...everything.positions],
        Array.from({ length: 40 }, (_, t) => t + 1),
      );
      assert.deepEqual([...everything.tokenIds], [CLS, ...new Array(40).fill(MASK), SEP, PAD, PAD, PAD]);
      assert.equal(run({ maskProbability: 0 }).positions.length, 1, "max(1, ·) even at rate 0");
      const single = maskTokens(
        [9],
        [true],
        { ...MASKING, maskTokenRate: 0, randomTokenRate: 1, firstRandomId: 11 },
        new Rng(1),
      );
      assert.deepEqual([...single.tokenIds], [11], "the one token in [11, 12)");
    });

    it("is deterministic for a seed, differs between seeds, and draws afresh on each call (dynamic masking)", () => {
      const { ids, maskable } = framed(100);
      const a = maskTokens(ids, maskable, MASKING, new Rng(11));
      const b = maskTokens(ids, maskable, MASKING, new Rng(11));
      assert.deepEqual(a, b);
      const c = maskTokens(ids, maskable, MASKING, new Rng(12));
      assert.notDeepEqual([...a.positions], [...c.positions]);
      const rng = new Rng(11);
      const first = maskTokens(ids, maskable, MASKING, rng);
      const second = maskTokens(ids, maskable, MASKING, rng);
      assert.deepEqual(first, a);
      assert.notDeepEqual([...first.positions], [...second.positions]);
    });

    it("rejects bad configs and mismatched lengths, naming maskTokens and the field", () => {
      const { ids, maskable } = framed(10);
      const bad: [Partial<MaskingConfig>, RegExp][] = [
        [{ maskProbability: -0.1 }, /^Error: maskTokens: maskProbability must be in \[0, 1\], got -0\.1$/],
        [{ maskProbability: 1.5 }, /maskTokens: maskProbability must be in \[0, 1\]/],
        [{ maskProbability: NaN }, /maskTokens: maskProbability must be in \[0, 1\], got NaN/],
        [{ maskTokenRate: 1.2 }, /maskTokens: maskTokenRate must be in \[0, 1\]/],
        [{ randomTokenRate: -1 }, /maskTokens: randomTokenRate must be in \[0, 1\]/],
        [
          { maskTokenRate: 0.9, randomTokenRate: 0.2 },
          /maskTokens: maskTokenRate \+ randomTokenRate must be at most 1/,
        ],
        [{ firstRandomId: 12 }, /maskTokens: firstRandomId 12 leaves no token to draw below vocabSize 12/],
        [{ firstRandomId: 20 }, /maskTokens: firstRandomId 20/],
        [{ maskId: -1 }, /maskTokens: maskId must be an integer >= 0, got -1/],
        [{ vocabSize: 10.5 }, /maskTokens: vocabSize must be an integer >= 0/],
        [{ maxPredictions: -2 }, /maskTokens: maxPredictions must be an integer >= 0/],
      ];
      for (const [config, pattern] of bad) {
        assert.throws(
          () => maskTokens(ids, maskable, { ...MASKING, ...config }, new Rng(1)),
          pattern,
          JSON.stringify(config),
        );
      }
      assert.throws(
        () => maskTokens(ids, maskable.slice(1), MASKING, new Rng(1)),
        /maskTokens: maskable has 14 entries, tokenIds 15/,
      );
      // The edges of the ranges are fine.
      maskTokens(
        ids,
        maskable,
        { ...MASKING, maskProbability: 0, maskTokenRate: 0.5, randomTokenRate: 0.5, firstRandomId: 11 },
        new Rng(1),
      );
    });
  });

  describe("nextSentencePairs", () => {
    const documents = (n: number): TextPair[] => Array.from({ length: n }, (_, i) => ({ a: `a${i}`, b: `b${i}` }));

    it("keeps each document's A in order; IsNext about half the time; a NotNext B always from another document", () => {
      const docs = documents(4000);
      const pairs = nextSentencePairs(docs, new Rng(5));
      assert.equal(pairs.length, docs.length);
      let isNext = 0;
      pairs.forEach((pair, i) => {
        assert.equal(pair.a, docs[i].a);
        assert.match(pair.b, /^b\d+$/);
        if (pair.isNext) {
          isNext++;
          assert.equal(pair.b, docs[i].b);
        } else {
          assert.notEqual(pair.b, docs[i].b, `NotNext pair ${i} took its own B`);
        }
      });
      assert.ok(withinBinomial(isNext, docs.length, 0.5), `${isNext} IsNext of ${docs.length}`);
      const third = nextSentencePairs(docs, new Rng(6), 0.3).filter((p) => p.isNext).length;
      assert.ok(withinBinomial(third, docs.length, 0.7), `${third} IsNext of ${docs.length} at notNextProbability 0.3`);
    });

    it("draws a NotNext partner uniformly among the other documents (the last one included)", () => {
      const docs = documents(3);
      const rng = new Rng(9);
      const partners = docs.map(() => new Map<string, number>());
      const rounds = 3000;
      for (let r = 0; r < rounds; r++) {
        nextSentencePairs(docs, rng, 1).forEach((pair, i) =>
          partners[i].set(pair.b, (partners[i].get(pair.b) ?? 0) + 1),
        );
      }
      partners.forEach((counts, i) => {
        const others = docs.filter((_, j) => j !== i).map((d) => d.b);
        assert.deepEqual([...counts.keys()].sort(), others);
        for (const [b, n] of counts)
          assert.ok(withinBinomial(n, rounds, 0.5), `document ${i} took ${b} ${n} times of ${rounds}`);
      });
    });

    it("gives all IsNext at notNextProbability 0 and all NotNext at 1", () => {
      const docs = documents(50);
      const all = nextSentencePairs(docs, new Rng(1), 0);
      assert.deepEqual(
        all,
        docs.map((d) => ({ ...d, isNext: true })),
      );
      const none = nextSentencePairs(docs, new Rng(1), 1);
      assert.ok(none.every((p, i) => !p.isNext && p.a === docs[i].a && p.b !== docs[i].b));
      const two = nextSentencePairs(documents(2), new Rng(1), 1);
      assert.deepEqual(two, [
        { a: "a0", b: "b1", isNext: false },
        { a: "a1", b: "b0", isNext: false },
      ]);
    });

    it("is deterministic for a seed and differs between seeds", () => {
      const docs = documents(100);
      assert.deepEqual(nextSentencePairs(docs, new Rng(3)), nextSentencePairs(docs, new Rng(3)));
      assert.notDeepEqual(nextSentencePairs(docs, new Rng(3)), nextSentencePairs(docs, new Rng(4)));
    });

    it("needs two documents and a probability in [0, 1]", () => {
      assert.throws(() => nextSentencePairs([], new Rng(1)), /nextSentencePairs: need at least 2 documents .* got 0/);
      assert.throws(
        () => nextSentencePairs(documents(1), new Rng(1)),
        /nextSentencePairs: need at least 2 documents .* got 1/,
      );
      for (const p of [-0.1, 1.01, NaN]) {
        assert.throws(
          () => nextSentencePairs(documents(3), new Rng(1), p),
          /nextSentencePairs: notNextProbability must be in \[0, 1\]/,
        );
      }
    });
  });

  describe("catalogueDocuments", () => {
    const catalogue: ItemCatalogue = {
      name: "tiny",
      ids: ["1", "2", "3", "4"],
      titles: ["The Hobbit", "Dune", "Untagged", "Emma"],
      authors: ["J.R.R. Tolkien", "", "Nobody", "Jane Austen"],
      tags: [["fantasy", "classics", "fiction"], ["science fiction"], [], ["romance", "classics"]],
    };
    const hyphenated: ItemCatalogue = {
      name: "hyphens",
      ids: ["1"],
      titles: ["Divergent"],
      tags: [["young-adult", "sci_fi", "-", "dystopia"]],
    };

    it("writes each tagged item as A = 'title by authors', B = its tags joined by spaces", () => {
      assert.deepEqual(catalogueDocuments(catalogue), [
        { a: "The Hobbit by J.R.R. Tolkien", b: "fantasy classics fiction" },
        { a: "Dune", b: "science fiction" }, // no author: the title alone
        { a: "Emma by Jane Austen", b: "romance classics" },
      ]);
    });

    it("writes a tag's hyphens and underscores as spaces, dropping tags left empty", () => {
      assert.deepEqual(catalogueDocuments(hyphenated), [{ a: "Divergent", b: "young adult sci fi dystopia" }]);
    });

    it("leaves authors out with withAuthors false or when the catalogue has none", () => {
      const expected = [
        { a: "The Hobbit", b: "fantasy classics fiction" },
        { a: "Dune", b: "science fiction" },
        { a: "Emma", b: "romance classics" },
      ];
      assert.deepEqual(catalogueDocuments(catalogue, { withAuthors: false }), expected);
      const { authors: _authors, ...noAuthors } = catalogue;
      assert.deepEqual(catalogueDocuments(noAuthors), expected);
    });

    it("keeps at most maxTags tags, most relevant first, and skips items with fewer than minTags", () => {
      assert.deepEqual(catalogueDocuments(catalogue, { maxTags: 1 }), [
        { a: "The Hobbit by J.R.R. Tolkien", b: "fantasy" },
        { a: "Dune", b: "science fiction" },
        { a: "Emma by Jane Austen", b: "romance" },
      ]);
      assert.deepEqual(catalogueDocuments(catalogue, { minTags: 2, withAuthors: false }), [
        { a: "The Hobbit", b: "fantasy classics fiction" },
        { a: "Emma", b: "romance classics" },
      ]);
      assert.deepEqual(catalogue.tags[0], ["fantasy", "classics", "fiction"], "the catalogue is untouched");
    });
  });

  describe("behaviourDocuments", () => {
    // (user, item, timestamp), deliberately out of time order, with ties whose log order differs from item order.
    const rows: [user: number, item: number, timestamp: number][] = [
      [0, 3, 50],
      [1, 0, 10],
      [0, 1, 10],
      [2, 4, 5],
      [0, 5, 30],
      [0, 0, 30],
      [2, 2, 1],
      [1, 1, 20],
      [0, 2, 20],
      [2, 0, 3],
      [2, 3, 3],
      [0, 4, 40],
      [1, 2, 30],
      [2, 5, 2],
    ];
    const interactions = new Interactions({
      users: Int32Array.from(rows, (r) => r[0]),
      items: Int32Array.from(rows, (r) => r[1]),
      ratings: new Float32Array(rows.length).fill(1),
      timestamps: Float64Array.from(rows, (r) => r[2]),
      userIndex: IdIndex.from(["u0", "u1", "u2", "u3"]), // u3 has no interactions
      itemIndex: IdIndex.from(["i0", "i1", "i2", "i3", "i4", "i5"]),
    });

    it("cuts each user's history, in time order with ties in log order, into windows of two halves", () => {
      // u0: t10 i1, t20 i2, t30 i5, t30 i0 (log order), t40 i4, t50 i3. u1: i0, i1, i2. u2: i2, i5, i0, i3 (tie), i4.
      assert.deepEqual(behaviourDocuments(interactions, { halfLength: 1 }), [
        { a: "item1", b: "item2", source: 0 },
        { a: "item5", b: "item0", source: 0 },
        { a: "item4", b: "item3", source: 0 },
        { a: "item0", b: "item1", source: 1 }, // the tail i2 is shorter than a window
        { a: "item2", b: "item5", source: 2 },
        { a: "item0", b: "item3", source: 2 },
      ]);
      assert.deepEqual(behaviourDocuments(interactions, { halfLength: 2 }), [
        { a: "item1 item2", b: "item5 item0", source: 0 },
        { a: "item2 item5", b: "item0 item3", source: 2 },
      ]);
      assert.deepEqual(behaviourDocuments(interactions), [], "no history holds the default 40 items");
    });

    it("keeps at most maxWindowsPerUser windows, the earliest, and rejects bad sizes", () => {
      assert.deepEqual(
        behaviourDocuments(interactions, { halfLength: 1, maxWindowsPerUser: 1 }).map((d) => d.a),
        ["item1", "item0", "item2"],
      );
      assert.throws(() => behaviourDocuments(interactions, { halfLength: 0 }), /behaviourDocuments: halfLength/);
      assert.throws(
        () => behaviourDocuments(interactions, { maxWindowsPerUser: 0 }),
        /behaviourDocuments: maxWindowsPerUser/,
      );
    });

    it("writes items with a custom itemToken, given the dense item index", () => {
      const token = (i: number) => `[${interactions.itemIndex.idOf(i)}]`;
      assert.deepEqual(
        behaviourDocuments(interactions, { itemToken: token, halfLength: 2 }).map((d) => [d.a, d.b]),
        [
          ["[i1] [i2]", "[i5] [i0]"],
          ["[i2] [i5]", "[i0] [i3]"],
        ],
      );
    });

    it("never pairs a window with a NotNext half of the same user", () => {
      const documents = Array.from({ length: 60 }, (_, i) => ({ a: `a${i}`, b: `b${i}`, source: i % 3 }));
      const pairs = nextSentencePairs(documents, new Rng(8), 1);
      pairs.forEach((pair, i) => assert.notEqual(Number(pair.b.slice(1)) % 3, i % 3, `pair ${i} took ${pair.b}`));
      assert.throws(
        () =>
          nextSentencePairs(
            [
              { a: "x", b: "y", source: 1 },
              { a: "z", b: "w", source: 1 },
            ],
            new Rng(1),
            1,
          ),
        /no document of another source/,
      );
    });
  });

  describe("itemTokenizer", () => {
    it("holds BERT's special tokens then one token per item, each a whole word of a behaviour sentence", () => {
      const tokenizer = itemTokenizer(3);
      assert.equal(tokenizer.vocabSize, 8);
      assert.deepEqual(tokenizer.tokenize(`${itemToken(2)} ${itemToken(0)} [MASK]`), ["item2", "item0", "[MASK]"]);
      assert.equal(tokenizer.tokenToId(itemToken(0)), tokenizer.firstNonSpecialId);
      assert.throws(() => itemTokenizer(0), /itemTokenizer: numItems/);
    });
  });

  describe("holdOutDocuments", () => {
    it("holds out whole sources, or single documents when they have none, deterministically", () => {
      const documents = Array.from({ length: 40 }, (_, i) => ({ a: `a${i}`, b: `b${i}`, source: i % 10 }));
      const { train, heldOut } = holdOutDocuments(documents, { fraction: 0.2, seed: 3 });
      const heldSources = new Set(heldOut.map((d) => d.source));
      assert.equal(heldSources.size, 2);
      assert.equal(heldOut.length, 8);
      assert.ok(
        train.every((d) => !heldSources.has(d.source)),
        "no source on both sides",
      );
      assert.deepEqual(holdOutDocuments(documents, { fraction: 0.2, seed: 3 }).heldOut, heldOut);
      const plain = Array.from({ length: 10 }, (_, i) => ({ a: `a${i}`, b: `b${i}` }));
      const split = holdOutDocuments(plain, { fraction: 0.3, seed: 1 });
      assert.equal(split.heldOut.length, 3);
      assert.equal(split.train.length + split.heldOut.length, 10);
      assert.throws(() => holdOutDocuments(plain, { fraction: 1, seed: 1 }), /holdOutDocuments: fraction/);
    });
  });

  describe("pretrainingBatch", () => {
    const encoder = new TableEncoder(["t0", "t1", "t2", "g0", "g1", "g2", "g3"]); // ids 5..11
    const pairs: SentencePair[] = [
      { a: "t0 t1", b: "g0", isNext: true },
      { a: "t2", b: "g1 g2 g3", isNext: false },
    ];
    const masking = (config: Partial<MaskingConfig>): MaskingConfig => ({
      maskId: MASK,
      vocabSize: encoder.vocabSize,
      firstRandomId: FIRST_WORD,
      ...config,
    });

    it("lays pairs out flat, row by row, with flat masked positions b·T + t (every real token, kept)", () => {
      const batch = pretrainingBatch(
        pairs,
        encoder,
        { maxLength: 8, masking: masking({ maskProbability: 1, maskTokenRate: 0, randomTokenRate: 0 }) },
        new Rng(1),
      );
      assert.equal(batch.batchSize, 2);
      assert.equal(batch.length, 8);
      assert.deepEqual([...batch.tokenIds], [2, 5, 6, 3, 8, 3, 0, 0, /**/ 2, 7, 3, 9, 10, 11, 3, 0]);
      assert.deepEqual([...batch.tokenTypeIds], [0, 0, 0, 0, 1, 1, 0, 0, /**/ 0, 0, 0, 1, 1, 1, 1, 0]);
      assert.deepEqual([...batch.attentionMask], [1, 1, 1, 1, 1, 1, 0, 0, /**/ 1, 1, 1, 1, 1, 1, 1, 0]);
      assert.deepEqual([...batch.maskedPositions], [1, 2, 4, /**/ 9, 11, 12, 13]);
      assert.deepEqual([...batch.maskedLabels], [5, 6, 8, /**/ 7, 9, 10, 11]);
      assert.deepEqual([...batch.isNext], [1, 0]);
      for (const array of [
        batch.tokenIds,
        batch.tokenTypeIds,
        batch.attentionMask,
        batch.maskedPositions,
        batch.maskedLabels,
        batch.isNext,
      ]) {
        assert.ok(array instanceof Int32Array);
      }
    });

    it("writes [MASK] into the flat ids at the masked positions, and the labels stay the originals", () => {
      const batch = pretrainingBatch(
        pairs,
        encoder,
        { maxLength: 8, masking: masking({ maskProbability: 1, maskTokenRate: 1, randomTokenRate: 0 }) },
        new Rng(1),
      );
      assert.deepEqual([...batch.tokenIds], [2, 4, 4, 3, 4, 3, 0, 0, /**/ 2, 4, 3, 4, 4, 4, 3, 0]);
      assert.deepEqual([...batch.maskedLabels], [5, 6, 8, /**/ 7, 9, 10, 11]);
      // Default masking: one prediction per row (3 and 4 real tokens).
      const one = pretrainingBatch(pairs, encoder, { maxLength: 8, masking: masking({}) }, new Rng(2));
      assert.equal(one.maskedPositions.length, 2);
      assert.ok([1, 2, 4].includes(one.maskedPositions[0]));
      assert.ok([9, 11, 12, 13].includes(one.maskedPositions[1]));
    });

    it("masks each row as maskTokens does with the same Rng, row after row", () => {
      const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
      const big = new TableEncoder(words);
      const rng = new Rng(17);
      const rowsOf = (n: number) => Array.from({ length: n }, () => words[rng.int(words.length)]).join(" ");
      const many: SentencePair[] = Array.from({ length: 6 }, (_, i) => ({
        a: rowsOf(3 + i),
        b: rowsOf(12 - i),
        isNext: i % 3 === 0,
      }));
      many.push({ a: rowsOf(20), b: rowsOf(20), isNext: true }); // truncated to fit
      const T = 24;
      const config = {
        maxLength: T,
        masking: { maskId: MASK, vocabSize: big.vocabSize, firstRandomId: FIRST_WORD, maskProbability: 0.3 },
      };
      const batch = pretrainingBatch(many, big, config, new Rng(23));
      const replay = new Rng(23);
      const positions: number[] = [];
      const labels: number[] = [];
      many.forEach((pair, b) => {
        const encoded = big.encode(pair.a, pair.b, { maxLength: T, truncation: true, padding: "max_length" });
        const masked = maskTokens(
          encoded.ids,
          Array.from(encoded.specialTokensMask, (s) => s === 0),
          config.masking,
          replay,
        );
        assert.deepEqual(batch.tokenIds.subarray(b * T, (b + 1) * T), masked.tokenIds, `row ${b}`);
        assert.deepEqual([...batch.tokenTypeIds.subarray(b * T, (b + 1) * T)], encoded.tokenTypeIds);
        assert.deepEqual([...batch.attentionMask.subarray(b * T, (b + 1) * T)], encoded.attentionMask);
        masked.positions.forEach((t, j) => {
          assert.equal(encoded.specialTokensMask[t], 0, `row ${b} masked special position ${t}`);
          positions.push(b * T + t);
          labels.push(masked.labels[j]);
        });
      });
      assert.deepEqual([...batch.maskedPositions], positions);
      assert.deepEqual([...batch.maskedLabels], labels);
      for (let j = 1; j < positions.length; j++) assert.ok(positions[j - 1] < positions[j], "ascending across rows");
      assert.deepEqual(
        [...batch.isNext],
        many.map((p) => (p.isNext ? 1 : 0)),
      );
      assert.ok(batch.maskedPositions.length > many.length, "several predictions per row");
    });

    it("rejects an encoder that returns the wrong length, and an empty list of pairs", () => {
      const unpadded: PairEncoder = {
        encode: (a, b, options) => {
          const full = encoder.encode(a, b, options);
          const n = Array.from(full.attentionMask).filter((m) => m === 1).length;
          return {
            ids: Array.from(full.ids).slice(0, n),
            tokenTypeIds: Array.from(full.tokenTypeIds).slice(0, n),
            attentionMask: Array.from(full.attentionMask).slice(0, n),
            specialTokensMask: Array.from(full.specialTokensMask).slice(0, n),
          };
        },
      };
      assert.throws(
        () => pretrainingBatch(pairs, unpadded, { maxLength: 8, masking: masking({}) }, new Rng(1)),
        /pretrainingBatch: pair 0 encodes to 6 ids, expected maxLength 8/,
      );
      assert.throws(
        () => pretrainingBatch([], encoder, { maxLength: 8, masking: masking({}) }, new Rng(1)),
        /pretrainingBatch: no pairs/,
      );
    });
  });

  describe("pretrainingBatches", () => {
    const n = 10;
    const documents: TextPair[] = Array.from({ length: n }, (_, i) => ({ a: `t${i} x`, b: `g${i} y z` }));
    const encoder = new TableEncoder(
      [...documents.flatMap((d) => [...d.a.split(" "), ...d.b.split(" ")])].filter((w, i, all) => all.indexOf(w) === i),
    );
    const config = (extra: Partial<Parameters<typeof pretrainingBatches>[2]> = {}) => ({
      batchSize: 4,
      maxLength: 10,
      masking: { maskId: MASK, vocabSize: encoder.vocabSize, firstRandomId: FIRST_WORD, maskProbability: 0.4 },
      ...extra,
    });

    /** The document index of each row, batch by batch, checking each row's NSP label and masks on the way. */
    function documentsOf(batches: PretrainingBatch[]): { a: number; b: number; isNext: number }[] {
      const out: { a: number; b: number; isNext: number }[] = [];
      for (const batch of batches) {
        const ids = uncorrupted(batch);
        batch.maskedPositions.forEach((p) => {
          const id = ids[p];
          assert.ok(id >= FIRST_WORD, `masked position ${p} holds special id ${id}`);
        });
        for (let b = 0; b < batch.batchSize; b++) {
          const seg = segments(ids, batch, b, encoder);
          const a = Number(/^t(\d+) x$/.exec(seg.a)![1]);
          const bDoc = Number(/^g(\d+) y z$/.exec(seg.b)![1]);
          assert.equal(batch.isNext[b], a === bDoc ? 1 : 0, `row ${b}: A of ${a}, B of ${bDoc}`);
          out.push({ a, b: bDoc, isNext: batch.isNext[b] });
        }
      }
      return out;
    }

    it("covers each document once per epoch in full batches, dropping the short last one by default", () => {
      const batches = pretrainingBatches(documents, encoder, config(), new Rng(1));
      assert.equal(batches.length, 2);
      assert.ok(
        batches.every((b) => b.batchSize === 4 && b.length === 10 && b.tokenIds.length === 40 && b.isNext.length === 4),
      );
      const rows = documentsOf(batches);
      assert.equal(new Set(rows.map((r) => r.a)).size, 8, "8 distinct documents");
    });

    it("keeps the short last batch with dropLast false, so every document appears exactly once", () => {
      const batches = pretrainingBatches(documents, encoder, config({ dropLast: false }), new Rng(1));
      assert.deepEqual(
        batches.map((b) => b.batchSize),
        [4, 4, 2],
      );
      assert.equal(batches[2].tokenIds.length, 20);
      const rows = documentsOf(batches);
      assert.deepEqual(
        rows.map((r) => r.a).sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => i),
      );
      const even = pretrainingBatches(documents, encoder, config({ batchSize: 5 }), new Rng(1));
      assert.deepEqual(
        even.map((b) => b.batchSize),
        [5, 5],
      );
      assert.deepEqual(pretrainingBatches(documents, encoder, config({ batchSize: 11 }), new Rng(1)), []);
      assert.deepEqual(
        pretrainingBatches(documents, encoder, config({ batchSize: 11, dropLast: false }), new Rng(1)).map(
          (b) => b.batchSize,
        ),
        [10],
      );
    });

    it("draws NotNext partners from other documents, as notNextProbability says", () => {
      const all = documentsOf(
        pretrainingBatches(documents, encoder, config({ dropLast: false, notNextProbability: 0 }), new Rng(2)),
      );
      assert.ok(all.every((r) => r.isNext === 1 && r.a === r.b));
      const none = documentsOf(
        pretrainingBatches(documents, encoder, config({ dropLast: false, notNextProbability: 1 }), new Rng(2)),
      );
      assert.ok(none.every((r) => r.isNext === 0 && r.a !== r.b));
      // The default, 0.5, over 100 epochs of 10 documents.
      const rng = new Rng(3);
      let isNext = 0;
      for (let epoch = 0; epoch < 100; epoch++) {
        for (const r of documentsOf(pretrainingBatches(documents, encoder, config({ dropLast: false }), rng)))
          isNext += r.isNext;
      }
      assert.ok(withinBinomial(isNext, 100 * n, 0.5), `${isNext} IsNext of ${100 * n}`);
    });

    it("is deterministic for a seed, and another epoch's draws give another order, other pairs and other masks", () => {
      assert.deepEqual(
        pretrainingBatches(documents, encoder, config(), new Rng(5)),
        pretrainingBatches(documents, encoder, config(), new Rng(5)),
      );
      const rng = new Rng(5);
      const first = pretrainingBatches(documents, encoder, config({ dropLast: false }), rng);
      const second = pretrainingBatches(documents, encoder, config({ dropLast: false }), rng);
      const firstRows = documentsOf(first);
      const secondRows = documentsOf(second);
      assert.notDeepEqual(
        firstRows.map((r) => r.a),
        secondRows.map((r) => r.a),
        "another document order",
      );
      assert.notDeepEqual(firstRows, secondRows);
      assert.notDeepEqual(
        first.map((b) => [...b.maskedPositions]),
        second.map((b) => [...b.maskedPositions]),
      );
      const other = pretrainingBatches(documents, encoder, config(), new Rng(6));
      assert.notDeepEqual(other, pretrainingBatches(documents, encoder, config(), new Rng(5)));
    });

    it("rejects a batchSize that is not a positive integer, and fewer than two documents", () => {
      for (const batchSize of [0, -1, 2.5, NaN]) {
        assert.throws(
          () => pretrainingBatches(documents, encoder, config({ batchSize }), new Rng(1)),
          /pretrainingBatches: batchSize must be a positive integer/,
        );
      }
      assert.throws(
        () => pretrainingBatches(documents.slice(0, 1), encoder, config(), new Rng(1)),
        /nextSentencePairs: need at least 2 documents/,
      );
    });
  });
});
