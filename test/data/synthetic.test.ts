import * as assert from "node:assert/strict";
import { ItemCatalogue } from "../../src/data/catalogue";
import { loadGoodbooksCatalogue } from "../../src/data/goodbooks";
import { headShare, itemPopularity } from "../../src/data/stats";
import { SyntheticData, SyntheticTruth, generateSynthetic, trueRating } from "../../src/data/synthetic";
import { rowsByUser } from "../../src/data/userIndex";

/** Share of consecutive pairs (per user, in time order) where the next item is a successor of the previous. */
function successorShare(data: SyntheticData, onlyFirst = false): number {
  const { interactions: log, truth } = data;
  const T = truth.successorsPerItem;
  const { offsets, rows } = rowsByUser(log, "time");
  let pairs = 0;
  let hits = 0;
  for (let u = 0; u < log.numUsers; u++) {
    for (let j = offsets[u] + 1; j < offsets[u + 1]; j++) {
      const previous = log.items[rows[j - 1]];
      const next = log.items[rows[j]];
      pairs++;
      for (let t = 0; t < (onlyFirst ? 1 : T); t++) if (truth.successors[previous * T + t] === next) hits++;
    }
  }
  return hits / pairs;
}

/** Least-squares slope of ln(count) on ln(rank) over popularity ranks [from, to). */
function logLogSlope(counts: Int32Array, from: number, to: number): number {
  const sorted = Array.from(counts).sort((a, b) => b - a);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let r = from; r < to; r++) {
    if (sorted[r] > 0) {
      xs.push(Math.log(r + 1));
      ys.push(Math.log(sorted[r]));
    }
  }
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, j) => {
    sxy += (x - mx) * (ys[j] - my);
    sxx += (x - mx) ** 2;
  });
  return sxy / sxx;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let k = 0; k < n; k++) {
    sab += (a[k] - ma) * (b[k] - mb);
    saa += (a[k] - ma) ** 2;
    sbb += (b[k] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe("data/synthetic", () => {
  const base = generateSynthetic({ seed: 1 });
  const { interactions: data, truth } = base;

  it("has the configured shape and a complete truth", () => {
    assert.equal(data.numUsers, 500);
    assert.equal(data.numItems, 1000);
    assert.equal(data.name, "synthetic");
    assert.equal(truth.userFactors.length, 500 * 8);
    assert.equal(truth.itemFactors.length, 1000 * 8);
    assert.equal(truth.successors.length, 1000 * 3);
    assert.equal(truth.topK.length, 500 * 10);
    assert.equal(truth.genreNames.length, 8);
    assert.equal(data.itemInfo.titles?.length, 1000);
    assert.equal(data.itemInfo.genres?.length, 1000);
    assert.equal(data.itemInfo.tags?.length, 1000);
    assert.equal(data.itemInfo.years?.length, 1000);
    assert.ok(Math.abs(truth.popularity.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(Math.abs(truth.successorProbabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  it("is reproducible by seed and changes with it", () => {
    const again = generateSynthetic({ seed: 1 });
    assert.deepEqual(again.interactions.items, data.items);
    assert.deepEqual(again.interactions.ratings, data.ratings);
    assert.deepEqual(again.interactions.timestamps, data.timestamps);
    assert.deepEqual(again.truth.itemFactors, truth.itemFactors);
    assert.deepEqual(again.interactions.itemInfo.titles, data.itemInfo.titles);
    const other = generateSynthetic({ seed: 2 });
    assert.notDeepEqual(other.interactions.items.subarray(0, 100), data.items.subarray(0, 100));
  });

  it("gives whole-star ratings in 1..5, using every level", () => {
    const levels = new Set(data.ratings);
    assert.deepEqual([...levels].sort(), [1, 2, 3, 4, 5]);
  });

  it("ratings follow the noise-free truth", () => {
    const observed = Array.from(data.ratings);
    const expected = observed.map((_, k) => trueRating(truth, data.users[k], data.items[k]));
    assert.ok(pearson(observed, expected) > 0.7);
  });

  it("each user consumes distinct items, between min and max of them, at strictly increasing times", () => {
    const small = generateSynthetic({
      seed: 3,
      numUsers: 200,
      numItems: 120,
      interactionsPerUser: { min: 4, median: 40, max: 60 },
    });
    const log = small.interactions;
    const { offsets, rows } = rowsByUser(log);
    for (let u = 0; u < log.numUsers; u++) {
      const n = offsets[u + 1] - offsets[u];
      assert.ok(n >= 4 && n <= 60, `user ${u} has ${n}`);
      const items = new Set<number>();
      for (let j = offsets[u]; j < offsets[u + 1]; j++) {
        items.add(log.items[rows[j]]);
        if (j > offsets[u]) assert.ok(log.timestamps[rows[j]] > log.timestamps[rows[j - 1]]);
        assert.ok(log.timestamps[rows[j]] >= 1577836800);
      }
      assert.equal(items.size, n);
    }
  });

  it("a user can consume every item", () => {
    const full = generateSynthetic({ seed: 4, numUsers: 3, numItems: 20, interactionsPerUser: { min: 20 } });
    assert.equal(full.interactions.length, 60);
  });

  it("popularity follows the Zipf exponent roughly, long-tailed", () => {
    const counts = itemPopularity(data);
    const slope = logLogSlope(counts, 10, 500);
    assert.ok(slope < -0.6 && slope > -1.2, `slope ${slope}`);
    assert.ok(headShare(counts, 0.1) > 0.35, `head share ${headShare(counts, 0.1)}`);
    const flat = itemPopularity(generateSynthetic({ seed: 1, zipfExponent: 0 }).interactions);
    assert.ok(headShare(flat, 0.1) < 0.25);
    // The items the truth makes popular are the ones consumed most.
    assert.ok(
      pearson(
        Array.from(truth.popularity, Math.log),
        Array.from(counts, (c) => Math.log(c + 1)),
      ) > 0.6,
    );
    const sorted = Array.from(truth.popularity).sort((a, b) => b - a);
    assert.ok(Math.abs(sorted[0] / sorted[1] - 2) < 1e-9); // rank^-1
  });

  it("has a sequential signal: the next item follows the successor rule far above chance", () => {
    const chance = truth.successorsPerItem / data.numItems;
    const share = successorShare(base);
    assert.ok(share > 0.25, `share ${share}`);
    assert.ok(share > 50 * chance);
    // Predicting only the most likely successor already beats guessing by two orders of magnitude.
    assert.ok(successorShare(base, true) > 100 / data.numItems);
    const none = generateSynthetic({ seed: 1, sequentialStrength: 0 });
    assert.ok(successorShare(none) < share / 5);
  });

  it("users lean to their favourite genre", () => {
    let inFavourite = 0;
    const genreShare = new Float64Array(truth.genreNames.length);
    for (const gs of truth.itemGenres) genreShare[gs[0]] += 1 / data.numItems;
    let expected = 0;
    data.users.forEach((u, k) => {
      if (truth.itemGenres[data.items[k]].includes(truth.userGenre[u])) inFavourite++;
      expected += genreShare[truth.userGenre[u]];
    });
    assert.ok(inFavourite > 1.5 * expected);
  });

  it("topK lists each user's items by descending true rating", () => {
    for (const u of [0, 17, 499]) {
      const ranked = Array.from({ length: data.numItems }, (_, i) => i).sort(
        (a, b) => trueRating(truth, u, b) - trueRating(truth, u, a),
      );
      assert.deepEqual([...truth.topK.subarray(u * truth.k, (u + 1) * truth.k)], ranked.slice(0, truth.k));
    }
  });

  it("titles and tags carry the genre, so text models have signal", () => {
    const info = data.itemInfo;
    for (let i = 0; i < 50; i++) {
      const genres = info.genres?.[i] ?? [];
      assert.deepEqual(
        genres,
        truth.itemGenres[i].map((g) => truth.genreNames[g]),
      );
      assert.ok(genres.every((g) => info.tags?.[i].includes(g.toLowerCase())));
      assert.match(info.titles?.[i] ?? "", /^\S+ \S+ \(\d{4}\)$/);
    }
  });

  it("takes genre names, making up title words for unknown ones", () => {
    const named = generateSynthetic({ seed: 5, numUsers: 20, numItems: 50, genres: ["Jazz", "Drama"] });
    assert.deepEqual(named.truth.genreNames, ["Jazz", "Drama"]);
    assert.ok(named.interactions.itemInfo.genres?.every((gs) => gs.every((g) => g === "Jazz" || g === "Drama")));
  });

  describe("with a catalogue", () => {
    const catalogue: ItemCatalogue = {
      name: "books",
      ids: ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10"],
      titles: ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"],
      years: Float64Array.from([2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010]),
      tags: [
        ["fantasy", "magic"],
        ["Fantasy"],
        ["romance"],
        ["romance", "fantasy"],
        ["history"],
        [],
        ["fantasy"],
        ["romance"],
        ["history"],
        ["fantasy"],
      ],
    };

    it("draws items, titles and tags from it and genres from its most frequent tags", () => {
      const { interactions: log, truth: t }: { interactions: typeof data; truth: SyntheticTruth } = generateSynthetic({
        seed: 1,
        numUsers: 30,
        catalogue,
        genres: 2,
        successorsPerItem: 2,
        interactionsPerUser: { min: 2, median: 4 },
      });
      assert.equal(log.numItems, 10);
      assert.equal(log.itemIndex.idOf(3), "b4");
      assert.deepEqual(log.itemInfo.titles, catalogue.titles);
      assert.deepEqual(log.itemInfo.tags, catalogue.tags);
      assert.deepEqual(log.itemInfo.years, catalogue.years);
      assert.deepEqual(t.genreNames, ["fantasy", "romance"]);
      assert.deepEqual(t.itemGenres[3], [1, 0]); // "romance", "fantasy", in tag order
      assert.deepEqual(t.itemGenres[1], [0]); // "Fantasy" matches case-insensitively
      assert.equal(t.itemGenres[5].length, 1); // untagged: a genre at random
    });

    it("uses its first numItems entries and refuses more than it has", () => {
      const log = generateSynthetic({
        seed: 1,
        numUsers: 5,
        catalogue,
        numItems: 6,
        topK: 3,
        interactionsPerUser: { min: 2, median: 3 },
      }).interactions;
      assert.deepEqual(log.itemIndex.ids, catalogue.ids.slice(0, 6));
      assert.throws(
        () => generateSynthetic({ seed: 1, catalogue, numItems: 11 }),
        /numItems 11 exceeds the 10 items of catalogue 'books'/,
      );
    });
  });

  describe("with the goodbooks-10k catalogue ($RECSYS_DATA_DIR)", function () {
    let catalogue: ItemCatalogue;
    before(async function () {
      if (!process.env.RECSYS_DATA_DIR) this.skip();
      catalogue = await loadGoodbooksCatalogue({ download: false });
    });

    it("generates over real books, with genres from their most frequent tags", () => {
      const { interactions: log, truth: t } = generateSynthetic({ seed: 1, catalogue, numItems: 2000 });
      assert.equal(log.numItems, 2000);
      assert.deepEqual(log.itemIndex.ids, catalogue.ids.slice(0, 2000));
      assert.equal(log.itemInfo.titles?.[0], catalogue.titles[0]);
      const tagged = t.itemGenres.filter((gs, i) =>
        gs.every((g) => catalogue.tags[i].some((tag) => tag.toLowerCase() === t.genreNames[g])),
      );
      // The rest carry none of the 8 genre tags among their own and get a genre at random.
      assert.ok(tagged.length > 1500, `${tagged.length} of 2000 items have genres from their own tags`);
    });
  });

  it("rejects bad configuration, naming the field", () => {
    assert.throws(
      () => generateSynthetic({ seed: 1, numUsers: 0 }),
      /generateSynthetic: numUsers must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => generateSynthetic({ seed: 1, sequentialStrength: 1.5 }),
      /sequentialStrength must be a number in \[0, 1\]/,
    );
    assert.throws(
      () => generateSynthetic({ seed: 1, numItems: 10, interactionsPerUser: { max: 11 } }),
      /interactionsPerUser.max must be at most numItems/,
    );
    assert.throws(() => generateSynthetic({} as { seed: number }), /seed must be a finite number/);
  });
});
