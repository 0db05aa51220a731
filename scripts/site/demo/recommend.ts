// What the demo page computes for the reader's picks, in one module that the page's bundle and the Node test
// both run, so that the test compares the browser's numbers with Node's for the very same code: the top-10 of
// SASRec (notebook 07's better sequential model) and of a first-order Markov chain for contrast, the picks
// themselves left out, and the attention SASRec's scoring position puts on each pick as the explanation.
//
// It imports the library's files one by one, not src/index.ts, so that the bundle takes in no Node-only module.

import { UserSequences } from "../../../src/data/sequences";
import { topKIndices } from "../../../src/data/topK";
import { attentionExplanation, sequentialHistoryScorer } from "../../../src/explain/attention";
import { MarkovChainRecommender } from "../../../src/models/markovChain";
import { SasRec } from "../../../src/models/sasrec";

/** A saved model as the page carries it: checkpoint.json parsed, weights.bin as bytes. */
export interface ModelArtifacts {
  json: unknown;
  weights: Uint8Array;
}

export interface DemoModels {
  sasrec: SasRec;
  markov: MarkovChainRecommender;
  numItems: number;
}

export interface ScoredItem {
  item: number;
  score: number;
}

export interface PickAttention {
  /** Index into the picks (0: the first picked). */
  position: number;
  item: number;
  /** Mean over heads of the last layer's attention from the scoring position; sums to 1 over the picks. */
  weight: number;
}

export interface DemoRecommendations {
  /** SASRec's top-k by next-item logit. */
  sasrec: ScoredItem[];
  /** The Markov chain's top-k by P(next | last pick). */
  markov: ScoredItem[];
  /** SASRec's attention over the picks, in pick order. */
  attention: PickAttention[];
}

export const DEMO_TOP_K = 10;

/** Builds both models from their artifacts (checksums and shapes checked by the library's loaders). */
export async function loadDemoModels(sasrec: ModelArtifacts, markov: ModelArtifacts): Promise<DemoModels> {
  const markovModel = await MarkovChainRecommender.fromArtifacts(markov.json, markov.weights);
  const numItems = markovModel.numItems;
  // SASRec scores from histories it is given; the demo's only history is the reader's, passed per call.
  const sasrecModel = await SasRec.fromArtifacts(sasrec.json, sasrec.weights, UserSequences.fromArrays(numItems, []));
  if (sasrecModel.config.numItems !== numItems) {
    throw new Error(`the demo's SASRec has ${sasrecModel.config.numItems} items, its Markov chain ${numItems}`);
  }
  return { sasrec: sasrecModel, markov: markovModel, numItems };
}

/** The k best-scored items that are not among `exclude`, best first (ties: lower item first). */
export function topItems(scores: ArrayLike<number>, exclude: readonly number[], k: number): ScoredItem[] {
  const masked = Float64Array.from(scores);
  for (const item of exclude) masked[item] = -Infinity;
  const best = topKIndices(masked, Math.min(k, masked.length - new Set(exclude).size));
  return Array.from(best, (item) => ({ item, score: scores[item] }));
}

/** Both models' top-k for `picks` (in the order picked) and SASRec's attention over them. */
export function recommendForPicks(models: DemoModels, picks: readonly number[], k = DEMO_TOP_K): DemoRecommendations {
  if (picks.length === 0) throw new Error("recommendForPicks: pick at least one item");
  const sasrecScores = sequentialHistoryScorer(models.sasrec)(picks, 0);
  const markovScores = models.markov.transitionRow(picks[picks.length - 1]);
  const explanation = attentionExplanation(models.sasrec, picks, { method: "lastLayer" });
  const attention = explanation
    .map((a) => ({ position: a.position, item: a.item, weight: a.importance }))
    .sort((a, b) => a.position - b.position);
  return {
    sasrec: topItems(sasrecScores, picks, k),
    markov: topItems(markovScores, picks, k),
    attention,
  };
}
