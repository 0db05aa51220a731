// The contract every trained recommender meets, checked once for all of them (as RecBole's
// test_model_auto.py does): scoreItems agrees with scorePairs, the same seed gives the same model, scoring
// leaks no tensor, bad arguments are rejected, save then load gives the same scores and top-10 (exactly,
// for models that hold plain arrays), saving a loaded model writes the same files, and a damaged
// checkpoint is refused with an error naming the file and the weight. Tiny fixtures keep it fast; each
// model's own test file checks its equations.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { Rng } from "../../src/backend/random";
import { CsrMatrix } from "../../src/data/csr";
import { IdIndex, Interactions } from "../../src/data/interactions";
import { BERT4REC_ITEM_OFFSET, likeBatches, UserSequences } from "../../src/data/sequences";
import { rowsByUser } from "../../src/data/userIndex";
import { ItemScorer, recommendTopK } from "../../src/eval/protocols";
import { PopularityRecommender, RandomRecommender } from "../../src/models/baselines";
import { Bert4Rec, Bert4RecLikeClassifier } from "../../src/models/bert4rec";
import { BprMf } from "../../src/models/bpr";
import { CoClustering } from "../../src/models/coClustering";
import { Ease } from "../../src/models/ease";
import { ContentBasedRecommender } from "../../src/models/contentBased";
import { FeatureEmbeddingModel } from "../../src/models/featureEmbedding";
import { PartLoaders, SwitchingHybrid, WeightedHybrid } from "../../src/models/hybrid";
import { ItemKnnRecommender } from "../../src/models/itemKnn";
import { KNNBaseline, KNNBasic, KNNWithMeans } from "../../src/models/knn";
import { LightGcn } from "../../src/models/lightGcn";
import { MarkovChainRecommender } from "../../src/models/markovChain";
import { MatrixFactorization } from "../../src/models/matrixFactorization";
import { MultVae } from "../../src/models/multVae";
import { NeuralCF } from "../../src/models/ncf";
import { NMF } from "../../src/models/nmf";
import { BaselineOnly, NormalPredictor } from "../../src/models/ratingBaselines";
import { SasRec } from "../../src/models/sasrec";
import { Sar } from "../../src/models/sar";
import { SlopeOne } from "../../src/models/slopeOne";
import { Svdpp } from "../../src/models/svdpp";
import { TwoTower } from "../../src/models/twoTower";
import { fitWals, WalsModel } from "../../src/models/wals";
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
    // The log's order is its time order (the like classifier's examples are taken by time).
    timestamps: Float64Array.from(users, (_, k) => k),
    userIndex: IdIndex.from(Array.from({ length: NUM_USERS }, (_, u) => `u${u}`)),
    itemIndex: IdIndex.from(Array.from({ length: NUM_ITEMS }, (_, i) => `i${i}`)),
    itemInfo: { genres: Array.from({ length: NUM_ITEMS }, (_, i) => [`g${i % 3}`]) },
    name: "tiny",
  });
}

/** What every model here has; rankers are also `ItemScorer`s, tfjs models also have `namedWeights`. */
type Model = Partial<ItemScorer> & {
  save(dir: string): Promise<void>;
  dispose?(): void;
  namedWeights?(): NamedWeight[];
};

interface ModelCase {
  name: string;
  /** A model built or fitted on the tiny log; `seed` is ignored where `seeded` is false. */
  build(seed: number): Model;
  /** Whether another seed gives another model (false for models without randomness). */
  seeded: boolean;
  load(dir: string): Promise<Model>;
  /**
   * The numbers compared between models: by default every user's scores of every item (the model is an
   * ItemScorer and the ranking checks apply); else what the model outputs for fixed inputs.
   */
  outputs?(model: Model): ArrayLike<number>;
  /** The users the model says it has; undefined for one that scores any user alike. Default NUM_USERS. */
  numUsers?: number;
}

const train = tinyLog();
const histories = UserSequences.from(train, "row");
const sequential = { numItems: NUM_ITEMS, maxLength: 6, hiddenSize: 8, numLayers: 1, numHeads: 2, dropout: 0 };
const likeBatch = likeBatches(train, { perUser: 2, batchSize: 64, maxLength: 6, itemOffset: BERT4REC_ITEM_OFFSET })[0];
const ALL_USERS = Int32Array.from({ length: NUM_USERS }, (_, u) => u);
const EVERY_PAIR = {
  users: Int32Array.from({ length: NUM_USERS * NUM_ITEMS }, (_, k) => Math.floor(k / NUM_ITEMS)),
  items: Int32Array.from({ length: NUM_USERS * NUM_ITEMS }, (_, k) => k % NUM_ITEMS),
};

/** Item features for the content-based model: one of three genres, and a second term of weight 0, 0.5, 1 or 1.5. */
const itemVectors = CsrMatrix.fromDense(
  Array.from({ length: NUM_ITEMS }, (_, i) => [
    i % 3 === 0 ? 1 : 0,
    i % 3 === 1 ? 1 : 0,
    i % 3 === 2 ? 1 : 0,
    (i % 4) * 0.5,
  ]),
);
const content = () => new ContentBasedRecommender(itemVectors).fit(train);
const wals = (seed: number) => fitWals(train, { factors: 3, iterations: 2, regularization: 1, seed });

/** Every class a hybrid below is made of. */
const PART_LOADERS: PartLoaders = {
  KNNBasic: (dir) => KNNBasic.load(dir, train),
  RandomRecommender: (dir) => RandomRecommender.load(dir, train),
  WalsModel: (dir) => WalsModel.load(dir, train),
  ContentBasedRecommender: (dir) => ContentBasedRecommender.load(dir, train),
};

/** `model` after three of Surprise's per-rating epochs, run synchronously by its fused SGD. */
function fusedlyTrained<M extends MatrixFactorization | Svdpp>(model: M): M {
  const sgd = model.fusedSgd();
  const byUser = rowsByUser(train);
  for (let epoch = 0; epoch < 3; epoch++) sgd.epoch(byUser, 0.01);
  sgd.store();
  return model;
}

const CASES: ModelCase[] = [
  // tfjs models: weights drawn from the seed.
  {
    name: "BprMf",
    seeded: true,
    build: (seed) => new BprMf(NUM_USERS, NUM_ITEMS, { factors: 4, seed }),
    load: (dir) => BprMf.load(dir),
  },
  {
    name: "MatrixFactorization",
    seeded: true,
    build: (seed) => new MatrixFactorization(train, { factors: 4, seed }),
    load: (dir) => MatrixFactorization.load(dir, train),
  },
  {
    name: "Svdpp",
    seeded: true,
    build: (seed) => new Svdpp(train, { factors: 4, seed }),
    load: (dir) => Svdpp.load(dir, train),
  },
  // Trained by Surprise's per-rating SGD (the fused epoch fitRatingSgd runs for batch size 1).
  {
    name: "MatrixFactorization (fused per-rating SGD)",
    seeded: true,
    build: (seed) => fusedlyTrained(new MatrixFactorization(train, { factors: 4, seed })),
    load: (dir) => MatrixFactorization.load(dir, train),
  },
  {
    name: "Svdpp (fused per-rating SGD)",
    seeded: true,
    build: (seed) => fusedlyTrained(new Svdpp(train, { factors: 4, seed })),
    load: (dir) => Svdpp.load(dir, train),
  },
  ...(["gmf", "mlp", "neumf"] as const).map((variant) => ({
    name: `NeuralCF (${variant})`,
    seeded: true,
    build: (seed: number) => new NeuralCF(train, { variant, factors: 4, mlpLayers: [8, 4], seed }),
    load: (dir: string) => NeuralCF.load(dir, train),
  })),
  {
    name: "TwoTower",
    seeded: true,
    build: (seed) => new TwoTower(train, { embeddingDim: 4, hiddenUnits: [8], outputDim: 4, seed }),
    load: (dir) => TwoTower.load(dir, train),
  },
  {
    name: "FeatureEmbeddingModel",
    seeded: true,
    build: (seed) => new FeatureEmbeddingModel(train, { factors: 4, seed }),
    load: (dir) => FeatureEmbeddingModel.load(dir, train),
  },
  {
    name: "LightGcn",
    seeded: true,
    build: (seed) => new LightGcn(train, { factors: 4, layers: 2, seed }),
    load: (dir) => LightGcn.load(dir, train),
  },
  {
    name: "MultVae",
    seeded: true,
    build: (seed) => new MultVae(train, { hiddenUnits: [6], latentDim: 3, seed }),
    load: (dir) => MultVae.load(dir, train),
  },
  {
    name: "Bert4Rec",
    seeded: true,
    build: (seed) => new Bert4Rec({ ...sequential, seed }, histories),
    load: (dir) => Bert4Rec.load(dir, histories),
  },
  {
    name: "SasRec",
    seeded: true,
    build: (seed) => new SasRec({ ...sequential, seed }, histories),
    load: (dir) => SasRec.load(dir, histories),
  },
  {
    name: "Bert4RecLikeClassifier",
    seeded: true,
    build: (seed) => new Bert4RecLikeClassifier(new Bert4Rec({ ...sequential, seed }, histories), { seed }),
    load: (dir) => Bert4RecLikeClassifier.load(dir, histories),
    outputs: (model) => (model as Bert4RecLikeClassifier).probabilities(likeBatch),
  },
  // Models fitted in plain loops: their arrays are saved as they are.
  { name: "WalsModel", seeded: true, build: wals, load: (dir) => WalsModel.load(dir, train) },
  {
    name: "KNNBasic (user-based msd)",
    seeded: false,
    build: () => new KNNBasic({ k: 3 }).fit(train),
    load: (dir) => KNNBasic.load(dir, train),
  },
  {
    name: "KNNWithMeans (item-based cosine)",
    seeded: false,
    build: () => new KNNWithMeans({ k: 3, similarity: { name: "cosine", userBased: false } }).fit(train),
    load: (dir) => KNNWithMeans.load(dir, train),
  },
  {
    name: "KNNBaseline (pearson_baseline)",
    seeded: false,
    build: () => new KNNBaseline({ k: 3, similarity: { name: "pearson_baseline" } }).fit(train),
    load: (dir) => KNNBaseline.load(dir, train),
  },
  { name: "SlopeOne", seeded: false, build: () => new SlopeOne().fit(train), load: (dir) => SlopeOne.load(dir, train) },
  {
    name: "BaselineOnly",
    seeded: false,
    build: () => new BaselineOnly().fit(train),
    load: (dir) => BaselineOnly.load(dir, train),
  },
  {
    name: "NormalPredictor",
    seeded: true,
    build: (seed) => new NormalPredictor({ seed }).fit(train),
    load: (dir) => NormalPredictor.load(dir, train),
    outputs: (model) => (model as NormalPredictor).predict(EVERY_PAIR.users, EVERY_PAIR.items),
  },
  {
    name: "PopularityRecommender",
    seeded: false,
    build: () => new PopularityRecommender().fit(train),
    load: (dir) => PopularityRecommender.load(dir, train),
    numUsers: undefined,
  },
  {
    name: "RandomRecommender",
    seeded: true,
    build: (seed) => new RandomRecommender({ seed }).fit(train),
    load: (dir) => RandomRecommender.load(dir, train),
    numUsers: undefined,
  },
  {
    name: "ContentBasedRecommender",
    seeded: false,
    build: content,
    load: (dir) => ContentBasedRecommender.load(dir, train),
  },
  {
    name: "ItemKnnRecommender",
    seeded: false,
    build: () => new ItemKnnRecommender({ neighbours: 3 }).fit(train),
    load: (dir) => ItemKnnRecommender.load(dir, train),
  },
  {
    name: "MarkovChainRecommender",
    seeded: false,
    build: () => new MarkovChainRecommender({ order: "row" }).fit(train),
    load: (dir) => MarkovChainRecommender.load(dir, train),
  },
  {
    name: "NMF",
    seeded: true,
    build: (seed) => new NMF({ factors: 3, epochs: 5, seed }).fit(train),
    load: (dir) => NMF.load(dir, train),
  },
  {
    name: "NMF (biased)",
    seeded: true,
    build: (seed) => new NMF({ factors: 3, epochs: 5, biased: true, seed }).fit(train),
    load: (dir) => NMF.load(dir, train),
  },
  {
    name: "CoClustering",
    seeded: true,
    build: (seed) => new CoClustering({ userClusters: 2, itemClusters: 2, epochs: 3, seed }).fit(train),
    load: (dir) => CoClustering.load(dir, train),
  },
  {
    name: "Sar",
    seeded: false,
    build: () => new Sar({ timeDecay: false }).fit(train),
    load: (dir) => Sar.load(dir, train),
  },
  {
    name: "Sar (time decay, normalize)",
    seeded: false,
    // The log's timestamps are 0, 1, 2...: a half-life of 10 seconds spreads the factors over (0, 1].
    build: () => new Sar({ similarity: "lift", timeDecay: true, halfLifeDays: 10 / 86400, normalize: true }).fit(train),
    load: (dir) => Sar.load(dir, train),
  },
  {
    name: "Ease",
    seeded: false,
    build: () => new Ease({ regularization: 10 }).fit(train),
    load: (dir) => Ease.load(dir, train),
  },
  // Hybrids: their own config and rule, and each part saved beside them.
  {
    name: "WeightedHybrid",
    seeded: true,
    build: (seed) =>
      new WeightedHybrid({
        components: [
          { scorer: new KNNBasic({ k: 3 }).fit(train), weight: 1, name: "knn" },
          { scorer: new RandomRecommender({ seed }).fit(train), weight: 0.5 },
        ],
      }),
    load: (dir) => WeightedHybrid.load(dir, PART_LOADERS),
  },
  {
    name: "SwitchingHybrid",
    seeded: true,
    build: (seed) =>
      new SwitchingHybrid({
        primary: wals(seed),
        fallback: content(),
        train,
        minUserInteractions: 5,
        minItemInteractions: 2,
        normalization: "minmax",
      }),
    load: (dir) => SwitchingHybrid.load(dir, PART_LOADERS),
  },
];

const ranks = (c: ModelCase) => c.outputs === undefined;
const outputsOf = (c: ModelCase, model: Model) => (c.outputs ?? ((m) => m.scoreItems!(ALL_USERS)))(model);

/** Moves every weight off its initial value (biases start at 0), so that a load that skips one shows. */
function perturb(model: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const { variable } of model.namedWeights?.() ?? []) {
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

/** Every checkpoint folder under `dir` (a hybrid's parts included), `dir` first, then by path. */
function checkpointDirs(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    if (fs.existsSync(path.join(d, "checkpoint.json"))) found.push(d);
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
      if (entry.isDirectory()) walk(path.join(d, entry.name));
  };
  walk(dir);
  return found;
}

/** Every file of the saved folder `dir`, by its path inside it. */
function savedFiles(dir: string): Map<string, Buffer> {
  return new Map(
    checkpointDirs(dir).flatMap((d) =>
      ["checkpoint.json", "weights.bin"].map((f) => [
        path.relative(dir, path.join(d, f)),
        fs.readFileSync(path.join(d, f)),
      ]),
    ),
  );
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("models: the contract every recommender meets", () => {
  let root: string;
  before(async () => {
    await initBackend();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "recsys-contract-"));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const c of CASES) {
    describe(c.name, () => {
      const dirOf = (what: string) => path.join(root, `${c.name.replace(/\W+/g, "-")}-${what}`);

      it("scoreItems agrees with scorePairs, and the same seed gives the same model", () => {
        const model = c.build(7);
        const scores = outputsOf(c, model);
        assert.equal(scores.length, ranks(c) ? NUM_USERS * NUM_ITEMS : scores.length);
        assert.ok(scores.length > 0 && Array.from(scores).every(Number.isFinite));
        if (ranks(c) && model.scorePairs !== undefined) {
          assertClose(
            model.scorePairs(EVERY_PAIR.users, EVERY_PAIR.items),
            scores,
            { atol: 1e-5, rtol: 1e-4 },
            "scorePairs vs scoreItems",
          );
        }
        const again = c.build(7);
        assert.deepEqual(outputsOf(c, again), scores, "same seed, same scores");
        const models = [model, again];
        if (c.seeded) {
          const other = c.build(8);
          assert.notDeepEqual(outputsOf(c, other), scores, "another seed, other scores");
          models.push(other);
        }
        for (const m of models) m.dispose?.();
      });

      it("scores without leaking a tensor, and rejects users it does not have", async () => {
        const model = c.build(7);
        await assertNoLeak(() => {
          outputsOf(c, model);
          if (ranks(c)) {
            model.scorePairs?.(Int32Array.of(0, 1), Int32Array.of(2, 3));
            recommendTopK(model as ItemScorer, ALL_USERS, { k: 3, excludeSeen: train });
          }
        });
        if (ranks(c)) {
          const scorer = model as ItemScorer;
          const numUsers = "numUsers" in c ? c.numUsers : NUM_USERS;
          assert.equal(scorer.numUsers, numUsers);
          if (numUsers === undefined) {
            // It scores any user alike: a user beyond the data gets a full list.
            assert.equal(recommendTopK(scorer, [NUM_USERS], { k: 3 }).itemsOf(0).length, 3);
          } else {
            assert.throws(
              () => recommendTopK(scorer, [NUM_USERS], { k: 3 }),
              /recommendTopK: users\[0\] is 7, outside the 7 users/,
            );
          }
          assert.throws(
            () => recommendTopK(scorer, [2 ** 32], { k: 3 }),
            /recommendTopK: users\[0\] is 4294967296, not a user index/,
          );
          assert.throws(
            () => recommendTopK(scorer, [0.5], { k: 3 }),
            /recommendTopK: users\[0\] is 0.5, not a user index/,
          );
          if (scorer.scorePairs !== undefined)
            assert.throws(() => scorer.scorePairs!(Int32Array.of(0, 1), Int32Array.of(2)));
        }
        model.dispose?.();
      });

      it("saves and loads: the same scores and top-10, the same files saved again, no tensor left behind", async () => {
        const model = c.build(7);
        perturb(model, 11);
        const dir = dirOf("saved");
        await model.save(dir);
        const scores = outputsOf(c, model);
        const top = ranks(c) ? topK(model as ItemScorer, 10) : null;
        const names = model.namedWeights?.().map((w) => w.name);
        await assertNoLeak(async () => {
          const loaded = await c.load(dir);
          if (names !== undefined) {
            assert.deepEqual(
              loaded.namedWeights!().map((w) => w.name),
              names,
            );
            assertClose(outputsOf(c, loaded), scores, { atol: 1e-6, rtol: 1e-6 }, "scores after loading");
          } else {
            // Plain arrays come back bit for bit, and so do the scores.
            assert.deepEqual(outputsOf(c, loaded), scores, "scores after loading");
          }
          if (top !== null) assert.deepEqual(topK(loaded as ItemScorer, 10), top);
          // Every weight, the config, what fit computed and the training-data record survive a round trip.
          const again = dirOf("saved-again");
          await loaded.save(again);
          assert.deepEqual(savedFiles(again), savedFiles(dir));
          loaded.dispose?.();
        });
        model.dispose?.();
      });

      it("refuses a damaged checkpoint, naming the file and the weight", async () => {
        const model = c.build(7);
        const dir = dirOf("damaged");
        await model.save(dir);
        model.dispose?.();
        // The first checkpoint with weights: the model's own, or a hybrid's first part that has some.
        const withWeights = checkpointDirs(dir).find(
          (d) => JSON.parse(fs.readFileSync(path.join(d, "checkpoint.json"), "utf8")).weightSpecs.length > 0,
        );
        const checkFailure = async (damage: () => void, pattern: RegExp, jsonPath: string, binPath: string) => {
          const json = fs.readFileSync(jsonPath);
          const bin = fs.readFileSync(binPath);
          damage();
          await assertNoLeak(
            () => assert.rejects(c.load(dir), pattern),
            `tensors leaked by a load failing with ${pattern}`,
          );
          fs.writeFileSync(jsonPath, json);
          fs.writeFileSync(binPath, bin);
        };
        if (withWeights === undefined) {
          // Nothing but JSON (a seed, μ and σ): a weights file that is not empty is not this checkpoint's.
          const jsonPath = path.join(dir, "checkpoint.json");
          const binPath = path.join(dir, "weights.bin");
          assert.equal(fs.statSync(binPath).size, 0);
          await checkFailure(
            () => fs.writeFileSync(binPath, Uint8Array.of(0)),
            new RegExp(`${escape(binPath)} holds 1 bytes, ${escape(jsonPath)} says 0`),
            jsonPath,
            binPath,
          );
        } else {
          const jsonPath = path.join(withWeights, "checkpoint.json");
          const binPath = path.join(withWeights, "weights.bin");
          const specs: { name: string }[] = JSON.parse(fs.readFileSync(jsonPath, "utf8")).weightSpecs;
          const last = specs[specs.length - 1].name;
          // A flipped bit in the last byte of the file: the last weight's.
          await checkFailure(
            () => {
              const bytes = fs.readFileSync(binPath);
              bytes[bytes.length - 1] ^= 0x04;
              fs.writeFileSync(binPath, bytes);
            },
            new RegExp(
              `${escape(binPath)} fails its checksum .*, first in weight '${escape(last)}' .*: the file is corrupt`,
            ),
            jsonPath,
            binPath,
          );
          // The first weight renamed in the JSON.
          await checkFailure(
            () => {
              const json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
              json.weightSpecs[0].name += "-renamed";
              fs.writeFileSync(jsonPath, JSON.stringify(json));
            },
            new RegExp(`${escape(jsonPath)} has no weight '${escape(specs[0].name)}'`),
            jsonPath,
            binPath,
          );
          // The first weight given another shape of the same size (a trailing dimension of 1): the
          // bytes and their checksums still match, the shape does not.
          await checkFailure(
            () => {
              const json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
              json.weightSpecs[0].shape.push(1);
              fs.writeFileSync(jsonPath, JSON.stringify(json));
            },
            new RegExp(`${escape(jsonPath)}: weight '${escape(specs[0].name)}' has shape \\[`),
            jsonPath,
            binPath,
          );
        }
        // Undamaged again, it loads.
        (await c.load(dir)).dispose?.();
      });
    });
  }
});
