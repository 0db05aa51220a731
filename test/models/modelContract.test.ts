// The contract every trained recommender meets, checked once for all of them (as RecBole's
// test_model_auto.py does): scoreItems agrees with scorePairs, the same seed gives the same model, scoring
// leaks no tensor, bad arguments are rejected, and save then load gives the same scores and top-10. Tiny
// fixtures keep it fast; each model's own test file checks its equations.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { UserSequences } from "../../src/data/sequences";
import { ItemScorer, recommendTopK } from "../../src/eval/protocols";
import { Bert4Rec } from "../../src/models/bert4rec";
import { BprMf } from "../../src/models/bpr";
import { FeatureEmbeddingModel } from "../../src/models/featureEmbedding";
import { MatrixFactorization } from "../../src/models/matrixFactorization";
import { NeuralCF } from "../../src/models/ncf";
import { SasRec } from "../../src/models/sasrec";
import { Svdpp } from "../../src/models/svdpp";
import { TwoTower } from "../../src/models/twoTower";
import type { NamedWeight } from "../../src/nn/layeredModel";
import { assertClose, assertNoLeak } from "../support/assertions";

const NUM_USERS = 7;
const NUM_ITEMS = 12;

/** 7 users × 12 items, 3 to 6 rated items each (ratings 1..5), 3 genres: every model can be built on it. */
function tinyLog(): Interactions {
  const rng = new Rng(3);
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < NUM_USERS; u++) {
    const chosen = new Set<number>();
    while (chosen.size < 3 + (u % 4)) chosen.add(rng.int(NUM_ITEMS));
    for (const i of chosen) {
      users.push(u);
      items.push(i);
      ratings.push(1 + rng.int(5));
    }
  }
  return new Interactions({
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    ratings: Float32Array.from(ratings),
    timestamps: new Float64Array(users.length).fill(NaN),
    userIndex: IdIndex.from(Array.from({ length: NUM_USERS }, (_, u) => `u${u}`)),
    itemIndex: IdIndex.from(Array.from({ length: NUM_ITEMS }, (_, i) => `i${i}`)),
    itemInfo: { genres: Array.from({ length: NUM_ITEMS }, (_, i) => [`g${i % 3}`]) },
    name: "tiny",
  });
}

type Recommender = ItemScorer & { namedWeights(): NamedWeight[]; save(dir: string): Promise<void>; dispose(): void };

interface ModelCase {
  name: string;
  build(seed: number): Recommender;
  load(dir: string): Promise<Recommender>;
}

const train = tinyLog();
const histories = UserSequences.from(train, "row");
const sequential = { numItems: NUM_ITEMS, maxLength: 6, hiddenSize: 8, numLayers: 1, numHeads: 2, dropout: 0 };

const CASES: ModelCase[] = [
  {
    name: "BprMf",
    build: (seed) => new BprMf(NUM_USERS, NUM_ITEMS, { factors: 4, seed }),
    load: (dir) => BprMf.load(dir),
  },
  {
    name: "MatrixFactorization",
    build: (seed) => new MatrixFactorization(train, { factors: 4, seed }),
    load: (dir) => MatrixFactorization.load(dir, train),
  },
  { name: "Svdpp", build: (seed) => new Svdpp(train, { factors: 4, seed }), load: (dir) => Svdpp.load(dir, train) },
  ...(["gmf", "mlp", "neumf"] as const).map((variant) => ({
    name: `NeuralCF (${variant})`,
    build: (seed: number) => new NeuralCF(train, { variant, factors: 4, mlpLayers: [8, 4], seed }),
    load: (dir: string) => NeuralCF.load(dir, train),
  })),
  {
    name: "TwoTower",
    build: (seed) => new TwoTower(train, { embeddingDim: 4, hiddenUnits: [8], outputDim: 4, seed }),
    load: (dir) => TwoTower.load(dir, train),
  },
  {
    name: "FeatureEmbeddingModel",
    build: (seed) => new FeatureEmbeddingModel(train, { factors: 4, seed }),
    load: (dir) => FeatureEmbeddingModel.load(dir, train),
  },
  {
    name: "Bert4Rec",
    build: (seed) => new Bert4Rec({ ...sequential, seed }, histories),
    load: (dir) => Bert4Rec.load(dir, histories),
  },
  {
    name: "SasRec",
    build: (seed) => new SasRec({ ...sequential, seed }, histories),
    load: (dir) => SasRec.load(dir, histories),
  },
];

const ALL_USERS = Int32Array.from({ length: NUM_USERS }, (_, u) => u);

/** Moves every weight off its initial value (biases start at 0), so that a load that skips one shows. */
function perturb(model: Recommender, seed: number): void {
  const rng = new Rng(seed);
  for (const { variable } of model.namedWeights()) {
    tf.tidy(() =>
      variable.assign(
        tf.add(
          variable,
          tf.tensor(
            Float32Array.from({ length: variable.size }, () => rng.normal(0, 0.1)),
            variable.shape,
          ),
        ),
      ),
    );
  }
}

function topK(model: ItemScorer, k: number): number[][] {
  const top = recommendTopK(model, ALL_USERS, { k, excludeSeen: train });
  return Array.from(ALL_USERS, (_, row) => Array.from(top.itemsOf(row)));
}

describe("models: the contract every recommender meets", () => {
  let root: string;
  before(async () => {
    await initBackend();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-contract-"));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const c of CASES) {
    describe(c.name, () => {
      it("scoreItems agrees with scorePairs, and the same seed gives the same model", () => {
        const model = c.build(7);
        const scores = model.scoreItems(ALL_USERS);
        assert.equal(scores.length, NUM_USERS * NUM_ITEMS);
        assert.ok(scores.every(Number.isFinite));
        if (model.scorePairs !== undefined) {
          const users = Int32Array.from({ length: NUM_USERS * NUM_ITEMS }, (_, k) => Math.floor(k / NUM_ITEMS));
          const items = Int32Array.from({ length: NUM_USERS * NUM_ITEMS }, (_, k) => k % NUM_ITEMS);
          assertClose(model.scorePairs(users, items), scores, { atol: 1e-5, rtol: 1e-4 }, "scorePairs vs scoreItems");
        }
        const again = c.build(7);
        const other = c.build(8);
        assert.deepEqual(again.scoreItems(ALL_USERS), scores, "same seed, same scores");
        assert.notDeepEqual(other.scoreItems(ALL_USERS), scores, "another seed, other scores");
        for (const m of [model, again, other]) m.dispose();
      });

      it("scores without leaking a tensor, and rejects users it does not have", async () => {
        const model = c.build(7);
        await assertNoLeak(() => {
          model.scoreItems(ALL_USERS);
          model.scorePairs?.(Int32Array.of(0, 1), Int32Array.of(2, 3));
          recommendTopK(model, ALL_USERS, { k: 3, excludeSeen: train });
        });
        assert.equal(model.numUsers, NUM_USERS);
        assert.throws(
          () => recommendTopK(model, [NUM_USERS], { k: 3 }),
          /recommendTopK: users\[0\] is 7, outside the 7 users/,
        );
        assert.throws(
          () => recommendTopK(model, [2 ** 32], { k: 3 }),
          /recommendTopK: users\[0\] is 4294967296, not a user index/,
        );
        assert.throws(
          () => recommendTopK(model, [0.5], { k: 3 }),
          /recommendTopK: users\[0\] is 0.5, not a user index/,
        );
        if (model.scorePairs !== undefined)
          assert.throws(() => model.scorePairs!(Int32Array.of(0, 1), Int32Array.of(2)));
        model.dispose();
      });

      it("saves and loads: the same scores and top-10, no tensor left behind", async () => {
        const model = c.build(7);
        perturb(model, 11);
        const dir = path.join(root, c.name.replace(/\W+/g, "-"));
        await model.save(dir);
        const scores = model.scoreItems(ALL_USERS);
        const top = topK(model, 10);
        await assertNoLeak(async () => {
          const loaded = await c.load(dir);
          assert.deepEqual(
            loaded.namedWeights().map((w) => w.name),
            model.namedWeights().map((w) => w.name),
          );
          assertClose(loaded.scoreItems(ALL_USERS), scores, { atol: 1e-6, rtol: 1e-6 }, "scores after loading");
          assert.deepEqual(topK(loaded, 10), top);
          loaded.dispose();
        });
        model.dispose();
      });
    });
  }
});
