import * as assert from "node:assert/strict";
import { Rng } from "../../src/backend/random";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { NegativeSampler, sampleNegativeForEach, sampleNegatives } from "../../src/data/samplers";
import { UserItems } from "../../src/data/userIndex";

type Pair = [user: string, item: string];

function log(pairs: Pair[], userIndex = new IdIndex(), itemIndex = new IdIndex(), name = "tiny"): Interactions {
  return new Interactions({
    users: Int32Array.from(pairs, (p) => userIndex.add(p[0])),
    items: Int32Array.from(pairs, (p) => itemIndex.add(p[1])),
    ratings: new Float32Array(pairs.length).fill(1),
    timestamps: new Float64Array(pairs.length).fill(NaN),
    userIndex,
    itemIndex,
    name,
  });
}

/** A log over `numItems` items whose popularity falls steeply with the item number. */
function skewedLog(seed: number, numUsers = 80, numItems = 60): Interactions {
  const rng = new Rng(seed);
  const items = IdIndex.from(Array.from({ length: numItems }, (_, i) => `i${i}`));
  const pairs: Pair[] = [];
  for (let u = 0; u < numUsers; u++) {
    const count = 1 + rng.int(20);
    for (let j = 0; j < count; j++) pairs.push([`u${u}`, `i${Math.floor(numItems * rng.next() ** 2)}`]);
  }
  return log(pairs, new IdIndex(), items, "skewed");
}

/** An Rng whose draws are scripted, to pin down where a given draw lands. */
class ScriptedRng extends Rng {
  private at = 0;
  constructor(private readonly script: number[]) {
    super(0);
  }
  override next(): number {
    return this.script[this.at++];
  }
  override int(n: number): number {
    const value = this.script[this.at++];
    assert.ok(Number.isInteger(value) && value >= 0 && value < n, `scripted int ${value} is not in [0, ${n})`);
    return value;
  }
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(observed: Map<number, number>, expected: Map<number, number>, draws: number): number {
  let statistic = 0;
  for (const [item, p] of expected) {
    const e = p * draws;
    statistic += ((observed.get(item) ?? 0) - e) ** 2 / e;
  }
  return statistic;
}

function frequencies(values: Int32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

describe("data/samplers", () => {
  // Popularity: i0 1, i1 2, i2 3, i3 4; user x has seen only i1.
  const POPULARITY: Pair[] = [
    ["x", "i1"],
    ["y", "i1"],
    ["y", "i2"],
    ["z", "i2"],
    ["w", "i2"],
    ["y", "i3"],
    ["z", "i3"],
    ["w", "i3"],
    ["v", "i3"],
    ["v", "i0"],
  ];

  describe("one draw", () => {
    it("uniform: the t-th draw index is the t-th unseen item", () => {
      const data = log([
        ["x", "i0"],
        ["x", "i1"],
        ["x", "i3"],
        ["x", "i4"],
        ["y", "i2"],
        ["y", "i5"],
      ]);
      const sampler = new NegativeSampler(data);
      // x has seen items 0, 1, 3, 4 (dense indices of i0, i1, i3, i4); unseen: i2 (2), i5 (5).
      const drawn = sampler.sampleForEach(Int32Array.from([0, 0]), new ScriptedRng([0, 1]));
      assert.deepEqual(
        [...drawn].map((i) => data.itemIndex.idOf(i)),
        ["i2", "i5"],
      );
    });

    it("popularity: the unseen weight is laid out item by item (i0: [0,1), i2: [1,4), i3: [4,8))", () => {
      const data = log(POPULARITY, new IdIndex(), IdIndex.from(["i0", "i1", "i2", "i3"]));
      const sampler = new NegativeSampler(data, { strategy: "popularity" });
      const x = data.userIndex.indexOf("x") as number;
      const drawn = sampler.sampleForEach(
        Int32Array.from([x, x, x, x, x]),
        new ScriptedRng([0.1, 0.2, 0.49, 0.5, 0.99]),
      );
      assert.deepEqual(
        [...drawn].map((i) => data.itemIndex.idOf(i)),
        ["i0", "i2", "i2", "i3", "i3"],
      );
    });
  });

  describe("NegativeSampler", () => {
    for (const strategy of ["uniform", "popularity"] as const) {
      it(`${strategy}: never returns an item the user has seen, in the data or in exclude`, () => {
        const users = new IdIndex();
        const items = IdIndex.from(Array.from({ length: 30 }, (_, i) => `i${i}`));
        const rng = new Rng(5);
        const pairs = (n: number): Pair[] =>
          Array.from({ length: n }, (): Pair => [`u${rng.int(25)}`, `i${rng.int(30)}`]);
        const train = log(pairs(300), users, items);
        const test = log(pairs(60), users, items);
        const seen = UserItems.from(train, test);
        const sampler = new NegativeSampler(train, { strategy, exclude: test });
        const all = Int32Array.from({ length: train.numUsers }, (_, u) => u);
        const perUser = sampler.sample(all, { count: 5, rng: new Rng(1) });
        perUser.forEach((negatives, u) => {
          assert.equal(negatives.length, 5);
          assert.equal(new Set(negatives).size, 5, "distinct without replacement");
          for (const i of negatives) assert.ok(!seen.has(u, i), `user ${u} got seen item ${i}`);
        });
        const batch = Int32Array.from({ length: 5000 }, () => rng.int(train.numUsers));
        const negatives = sampler.sampleForEach(batch, new Rng(2));
        batch.forEach((u, r) => assert.ok(!seen.has(u, negatives[r])));
      });
    }

    it("uniform: frequencies are flat over the unseen items (chi-square, fixed seed)", () => {
      const data = skewedLog(1);
      const sampler = new NegativeSampler(data);
      const u = 3;
      const unseen = Array.from({ length: data.numItems }, (_, i) => i).filter((i) => !sampler.seen.has(u, i));
      const draws = 40000;
      const observed = frequencies(sampler.sampleForEach(new Int32Array(draws).fill(u), new Rng(9)));
      const expected = new Map(unseen.map((i) => [i, 1 / unseen.length] as [number, number]));
      assert.equal(observed.size, unseen.length);
      const df = unseen.length - 1;
      assert.ok(chiSquare(observed, expected, draws) < df + 5 * Math.sqrt(2 * df));
    });

    it("popularity: frequencies track popularity among the unseen items (chi-square, fixed seed)", () => {
      const data = skewedLog(2);
      const sampler = new NegativeSampler(data, { strategy: "popularity" });
      const counts = new Float64Array(data.numItems);
      for (const i of data.items) counts[i]++;
      for (const u of [0, 7, 19]) {
        let mass = 0;
        for (let i = 0; i < data.numItems; i++) if (!sampler.seen.has(u, i)) mass += counts[i];
        const expected = new Map<number, number>();
        for (let i = 0; i < data.numItems; i++)
          if (!sampler.seen.has(u, i) && counts[i] > 0) expected.set(i, counts[i] / mass);
        const draws = 40000;
        const observed = frequencies(sampler.sampleForEach(new Int32Array(draws).fill(u), new Rng(u)));
        for (const item of observed.keys())
          assert.ok(expected.has(item), `item ${item} drawn with zero expected weight`);
        const df = expected.size - 1;
        assert.ok(chiSquare(observed, expected, draws) < df + 5 * Math.sqrt(2 * df), `user ${u}`);
      }
    });

    it("popularity: power reshapes the weights, and items nobody interacted with are never drawn", () => {
      const items = IdIndex.from(["i0", "i1", "i2", "i3", "never"]);
      const data = log(POPULARITY, new IdIndex(), items);
      const sampler = new NegativeSampler(data, { strategy: "popularity", power: 0.5 });
      assert.deepEqual([...sampler.weights], [1, Math.SQRT2, Math.sqrt(3), 2, 0]);
      const drawn = sampler.sampleForEach(new Int32Array(2000), new Rng(1)); // user x
      assert.ok(!drawn.includes(4));
      assert.ok(!drawn.includes(1));
    });

    it("counts popularity on the data only, not on exclude", () => {
      const users = new IdIndex();
      const items = IdIndex.from(["a", "b"]);
      const train = log(
        [
          ["u", "a"],
          ["v", "a"],
          ["v", "b"],
        ],
        users,
        items,
      );
      const test = log(
        [
          ["w", "b"],
          ["w", "b"],
          ["w", "b"],
        ],
        users,
        items,
      );
      assert.deepEqual([...new NegativeSampler(train, { strategy: "popularity", exclude: [test] }).weights], [2, 1]);
    });

    it("draws all unseen items when asked for exactly that many (the exact fallback)", () => {
      const data = skewedLog(4);
      for (const strategy of ["uniform", "popularity"] as const) {
        const sampler = new NegativeSampler(data, { strategy });
        const u = 0;
        const available = Array.from({ length: data.numItems }, (_, i) => i).filter(
          (i) => !sampler.seen.has(u, i) && sampler.weights[i] > 0,
        );
        const [negatives] = sampler.sample([u], { count: available.length, rng: new Rng(3) });
        assert.deepEqual(
          [...negatives].sort((a, b) => a - b),
          available,
        );
      }
    });

    it("without replacement, the first of a user's negatives follows the weights (successive sampling)", () => {
      const data = log(POPULARITY, new IdIndex(), IdIndex.from(["i0", "i1", "i2", "i3"]));
      const sampler = new NegativeSampler(data, { strategy: "popularity" });
      const x = data.userIndex.indexOf("x") as number;
      const rng = new Rng(4);
      const draws = 8000;
      const firsts = new Int32Array(draws);
      // Asking for all three unseen items takes the exact path every time.
      for (let r = 0; r < draws; r++) firsts[r] = sampler.sample([x], { count: 3, rng })[0][0];
      const expected = new Map([
        [0, 1 / 8],
        [2, 3 / 8],
        [3, 4 / 8],
      ]);
      assert.ok(chiSquare(frequencies(firsts), expected, draws) < 2 + 5 * Math.sqrt(4));
    });

    it("with replacement may repeat, and is reproducible by the Rng's seed", () => {
      const data = log([
        ["x", "i0"],
        ["y", "i1"],
        ["y", "i2"],
      ]);
      const sampler = new NegativeSampler(data);
      const [a] = sampler.sample([0], { count: 50, rng: new Rng(8), replace: true });
      const [b] = sampler.sample([0], { count: 50, rng: new Rng(8), replace: true });
      const [c] = sampler.sample([0], { count: 50, rng: new Rng(9), replace: true });
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.ok(new Set(a).size <= 2);
    });

    it("names the user who has seen every item", () => {
      const data = log([
        ["u1", "a"],
        ["full", "a"],
        ["full", "b"],
      ]);
      const sampler = new NegativeSampler(data);
      assert.throws(
        () => sampler.sampleForEach(Int32Array.from([0, 1]), new Rng(1)),
        /user 'full' \(index 1\) has seen every item of 'tiny'/,
      );
      assert.throws(
        () => sampler.sample([1], { count: 1, rng: new Rng(1) }),
        /user 'full' \(index 1\) has seen every item/,
      );
      const popular = new NegativeSampler(
        log(
          [
            ["u", "a"],
            ["u", "b"],
            ["v", "a"],
          ],
          new IdIndex(),
          IdIndex.from(["a", "b", "c"]),
        ),
        { strategy: "popularity" },
      );
      assert.throws(
        () => popular.sampleForEach(Int32Array.from([0]), new Rng(1)),
        /user 'u'.*has seen every item with nonzero popularity/,
      );
    });

    it("refuses more distinct negatives than a user has unseen items, naming the user", () => {
      const data = log([
        ["x", "a"],
        ["y", "b"],
        ["y", "c"],
      ]);
      assert.throws(
        () => new NegativeSampler(data).sample([1], { count: 2, rng: new Rng(1) }),
        /user 'y' has only 1 unseen item, 2 distinct negatives were asked for/,
      );
    });

    it("rejects user indices out of range and a bad strategy", () => {
      const data = log([
        ["x", "a"],
        ["y", "b"],
      ]);
      assert.throws(
        () => new NegativeSampler(data).sampleForEach(Int32Array.from([2]), new Rng(1)),
        /user index 2 is out of range \[0, 2\)/,
      );
      assert.throws(
        () => new NegativeSampler(data, { strategy: "zipf" as "uniform" }),
        /strategy must be "uniform" or "popularity"/,
      );
    });
  });

  describe("one-shot functions", () => {
    it("match a sampler built from the same data and seed", () => {
      const data = skewedLog(6);
      const users = Int32Array.from([0, 5, 5, 9]);
      const sampler = new NegativeSampler(data, { strategy: "popularity" });
      assert.deepEqual(
        sampleNegatives(data, users, { count: 4, strategy: "popularity", rng: new Rng(2) }),
        sampler.sample(users, { count: 4, rng: new Rng(2) }),
      );
      assert.deepEqual(
        sampleNegativeForEach(data, users, { rng: new Rng(3) }),
        new NegativeSampler(data).sampleForEach(users, new Rng(3)),
      );
    });
  });
});
