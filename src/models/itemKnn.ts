// Item-based k-nearest neighbours for implicit feedback (Sarwar, Karypis, Konstan and Riedl, "Item-Based
// Collaborative Filtering Recommendation Algorithms", WWW 2001; Deshpande and Karypis, "Item-Based Top-N
// Recommendation Algorithms", TOIS 2004): the ItemKNN baseline of RecBole and of the sequential papers.
//
//   similarity  sim(i, j) = |U_i ∩ U_j| / (√|U_i| · √|U_j| + shrinkage)      cosine of binary columns
//   pruning     keep each item's `neighbours` most similar items (N_k(j))
//   score       s(u, i) = Σ_{j ∈ H_u} sim(i, j)·[i ∈ N_k(j)]                 H_u: u's training items
//
// The rating-predicting KNN models of notebook 02 (knn.ts) predict a rating from neighbours' ratings;
// this one only counts who interacted with what, which is what a next-item ranking protocol asks.
// `save` writes the users' items and the pruned graph: a loaded model scores without the data.

import { checkInteger, checkNonNegative, checkPositiveInteger, requireFitted } from "../checks";
import { CsrMatrix } from "../data/csr";
import { Interactions } from "../data/interactions";
import { ItemScorer } from "../eval/scorers";
import { arrayModelFormat, csrArrays, readCsr, TrainingData } from "../train/savedModel";

export interface ItemKnnConfig {
  /** k, the neighbours kept per item. Default 100. */
  neighbours?: number;
  /** Added to the cosine's denominator, damping similarities resting on few co-occurrences. Default 0. */
  shrinkage?: number;
}

/** The pruned item-item similarities: item j's neighbours are `items[offsets[j] … offsets[j + 1])`. */
export interface ItemNeighbours {
  offsets: Int32Array;
  items: Int32Array;
  similarities: Float32Array;
}

/** Item-kNN over binary interactions; `fit(train)` computes the neighbours, `scoreItems` sums them. */
export class ItemKnnRecommender implements ItemScorer {
  readonly neighbours: number;
  readonly shrinkage: number;
  /** H_u of every user (the binary user × item matrix) and the graph. */
  private state: { userItems: CsrMatrix; graph: ItemNeighbours } | null = null;
  private trainedOn: TrainingData | null = null;

  constructor(config: ItemKnnConfig = {}) {
    this.neighbours = checkPositiveInteger("ItemKnnRecommender", "neighbours", config.neighbours ?? 100);
    this.shrinkage = checkNonNegative("ItemKnnRecommender", "shrinkage", config.shrinkage ?? 0);
  }

  fit(train: Interactions): this {
    // The binary user × item matrix: each user's distinct items (repeats count once), and its transpose.
    const userItems = CsrMatrix.fromTriples(train.numUsers, train.numItems, train.users, train.items).dedupe("first");
    const itemUsers = userItems.transpose();
    const n = train.numItems;
    const degree = new Float64Array(n);
    for (let i = 0; i < n; i++) degree[i] = itemUsers.offsets[i + 1] - itemUsers.offsets[i];
    // Row j of the co-occurrence matrix, one item at a time: O(Σ_u |H_u|²) in all, O(n) memory.
    const counts = new Float64Array(n);
    const touched: number[] = [];
    const offsets = new Int32Array(n + 1);
    const items: number[] = [];
    const similarities: number[] = [];
    for (let j = 0; j < n; j++) {
      for (let a = itemUsers.offsets[j]; a < itemUsers.offsets[j + 1]; a++) {
        const u = itemUsers.indices[a];
        for (let b = userItems.offsets[u]; b < userItems.offsets[u + 1]; b++) {
          const i = userItems.indices[b];
          if (i === j) continue;
          if (counts[i] === 0) touched.push(i);
          counts[i]++;
        }
      }
      const candidates = touched.map((i) => ({
        i,
        s: counts[i] / (Math.sqrt(degree[i] * degree[j]) + this.shrinkage),
      }));
      // Most similar first; ties to the lower index, so the graph does not depend on visiting order.
      candidates.sort((x, y) => y.s - x.s || x.i - y.i);
      for (const { i, s } of candidates.slice(0, this.neighbours)) {
        items.push(i);
        similarities.push(s);
      }
      offsets[j + 1] = items.length;
      for (const i of touched) counts[i] = 0;
      touched.length = 0;
    }
    this.state = {
      userItems,
      graph: { offsets, items: Int32Array.from(items), similarities: Float32Array.from(similarities) },
    };
    this.trainedOn = train;
    return this;
  }

  get numItems(): number {
    return this.fitted("numItems").userItems.numCols;
  }

  get numUsers(): number {
    return this.fitted("numUsers").userItems.numRows;
  }

  /** The pruned similarity graph (for inspection and tests). */
  get similarityGraph(): ItemNeighbours {
    return this.fitted("similarityGraph").graph;
  }

  scoreItems(users: Int32Array): Float32Array {
    const { userItems, graph } = this.fitted("scoreItems");
    const n = userItems.numCols;
    const out = new Float32Array(users.length * n);
    for (let b = 0; b < users.length; b++) {
      const u = users[b];
      if (!(Number.isInteger(u) && u >= 0 && u < userItems.numRows))
        throw new RangeError(`ItemKnnRecommender.scoreItems: user ${u} is outside [0, ${userItems.numRows})`);
      const row = out.subarray(b * n, (b + 1) * n);
      for (let a = userItems.offsets[u]; a < userItems.offsets[u + 1]; a++) {
        const j = userItems.indices[a];
        for (let e = graph.offsets[j]; e < graph.offsets[j + 1]; e++) row[graph.items[e]] += graph.similarities[e];
      }
    }
    return out;
  }

  /** Saves the users' items and the pruned similarity graph to the folder `path` (see train/savedModel.ts). */
  save(path: string): Promise<void> {
    const { userItems, graph } = this.fitted("save");
    const edges = graph.items.length;
    return ItemKnnRecommender.format.save(path, {
      config: { neighbours: this.neighbours, shrinkage: this.shrinkage },
      fitted: { numUsers: userItems.numRows, numItems: userItems.numCols },
      arrays: [
        ...csrArrays("userItems", userItems, false),
        { name: "graph/offsets", values: graph.offsets, shape: [graph.offsets.length] },
        { name: "graph/items", values: graph.items, shape: [edges] },
        { name: "graph/similarities", values: graph.similarities, shape: [edges] },
      ],
      data: this.trainedOn,
    });
  }

  /** A model saved by `save`, fitted; `train`, when given, is checked against the data it was fitted on. */
  static load(path: string, train?: Interactions): Promise<ItemKnnRecommender> {
    return ItemKnnRecommender.format.load(path, train);
  }

  /** A saved model from its checkpoint JSON and weights bytes (e.g. fetched in a browser). */
  static fromArtifacts(
    json: unknown,
    weights: ArrayBuffer | Uint8Array,
    train?: Interactions,
  ): Promise<ItemKnnRecommender> {
    return ItemKnnRecommender.format.fromArtifacts(json, weights, train);
  }

  private static readonly format = arrayModelFormat(
    "ItemKnnRecommender",
    ({ config, fitted, arrays, data }) => {
      const model = new ItemKnnRecommender(config as ItemKnnConfig);
      const numUsers = checkInteger("ItemKnnRecommender", "numUsers", fitted.numUsers, 0);
      const numItems = checkInteger("ItemKnnRecommender", "numItems", fitted.numItems, 0);
      const userItems = readCsr(arrays, "userItems", numUsers, numItems, false);
      const offsets = arrays.int32("graph/offsets", [numItems + 1]);
      const edges = offsets[numItems];
      // Rows run by similarity, not by index, so CsrMatrix's checks do not apply: scoring needs these.
      const decrease = offsets.findIndex((o, j) => (j === 0 ? o !== 0 : o < offsets[j - 1]));
      if (decrease >= 0)
        throw arrays.invalid("graph/offsets", `is not a list of row starts from 0 (entry ${decrease})`);
      const items = arrays.int32("graph/items", [edges]);
      const bad = items.findIndex((i) => !(i >= 0 && i < numItems));
      if (bad >= 0)
        throw arrays.invalid("graph/items", `holds ${items[bad]} at index ${bad}, outside [0, ${numItems})`);
      model.state = {
        userItems,
        graph: { offsets, items, similarities: arrays.float32("graph/similarities", [edges]) },
      };
      model.trainedOn = data ?? null;
      return model;
    },
    (train?: Interactions) => train,
  );

  private fitted(what: string) {
    return requireFitted(`ItemKnnRecommender.${what}`, this.state);
  }
}
