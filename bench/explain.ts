// Explanation faithfulness on MovieLens 100K: the deletion test (src/explain/faithfulness.ts) of each
// explainer against random deletion and occlusion, for notebook 08's explainability section.
//
//   RECSYS_DATA_DIR=/work/shared/datasets npx tsx bench/explain.ts [--json] [--users 200] [--sasrec-epochs 10]
//                                                                  [--deletions 1,5] [--seed 2024]
//
// Leave-one-out by time as in notebook 07 (the last item of each user held out); the explained users are
// a seeded sample, their histories the training items in time order. Per model:
//   item-kNN (k = 50, notebook 07's choice)     neighbour explanation ("because you watched X")
//   content-based (TF-IDF of titles + genres)   history items by their share of the score
//   SASRec (maxLength 50, small budget)         attention of the last position: last layer, rollout (α = 0.5
//                                               and α = 0, no residual)
// each beside random deletion (the floor), the most recent item (a model-free heuristic) and occlusion
// (the best single deletion, the ceiling). SASRec is trained here on a budget of minutes; its full-ranking
// NDCG@10 on the held-out items is printed with it.
// The test runs once per deletion count (the top 1 item, then the top 5: with ~100 items in a history, one
// deletion rarely moves a rank). "of ceiling" puts a method's mean score drop on one scale for all models:
// (method − random) / (occlusion − random), 0 for no better than random, 1 for the best single deletions.
// With 5 deletions occlusion deletes its 5 best single items, which is not the best set of 5, so a method
// can pass 1 there.

import { initBackend } from "../src/backend/backend";
import { Rng } from "../src/backend/random";
import { loadMovieLens100K } from "../src/data/movielens";
import { UserSequences } from "../src/data/sequences";
import { leaveOneOutSplit } from "../src/data/splitters";
import { evaluateRanking } from "../src/eval/protocols";
import { attentionExplainer, sequentialHistoryScorer } from "../src/explain/attention";
import { contentExplainer, contentHistoryScorer } from "../src/explain/content";
import type { HistoryExplainer, HistoryExplanation, HistoryScorer } from "../src/explain/explanation";
import { deletionTest, DeletionSummary, RANDOM_DELETION, recencyExplainer } from "../src/explain/faithfulness";
import { itemKnnExplainer, itemKnnHistoryScorer } from "../src/explain/neighbours";
import { occlusionExplainer } from "../src/explain/occlusion";
import { ContentBasedRecommender, itemDocuments } from "../src/models/contentBased";
import { ItemKnnRecommender } from "../src/models/itemKnn";
import { SasRec } from "../src/models/sasrec";
import { tfidfVectors } from "../src/text/termWeighting";
import { trainSequentialRecommender } from "../src/train/sequentialTraining";

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const numUsers = Number(option(args, "--users") ?? 200);
  const sasrecEpochs = Number(option(args, "--sasrec-epochs") ?? 10);
  const deletionCounts = (option(args, "--deletions") ?? "1,5").split(",").map(Number);
  const seed = Number(option(args, "--seed") ?? 2024);
  const backend = await initBackend();
  const data = await loadMovieLens100K({ download: false });
  const { train, test } = leaveOneOutSplit(data, { validation: false });
  const sequences = UserSequences.from(train);
  const users = Array.from(new Rng(seed).permutation(data.numUsers).subarray(0, numUsers));
  const histories = users.map((u) => Array.from(sequences.itemsOf(u)));
  const ratings = new Map<number, number>();
  for (let r = 0; r < train.length; r++)
    ratings.set(train.users[r] * train.numItems + train.items[r], train.ratings[r]);
  const ratingOf = (user: number, item: number) => ratings.get(user * train.numItems + item)!;
  if (!json) {
    console.log(
      `deletion test on ${data.name}: ${users.length} users (mean history ${(
        histories.reduce((s, h) => s + h.length, 0) / histories.length
      ).toFixed(1)} items), top-1 item, top-10 watched, ${backend.name} backend`,
    );
  }

  const rows: Array<DeletionSummary & { model: string; deletions: number; ofCeiling: number; seconds: number }> = [];
  const run = (model: string, score: HistoryScorer, explainers: Record<string, HistoryExplainer>) => {
    // Each explanation once per user, whatever the number of deletions (occlusion re-scores the whole history).
    const cached: Record<string, HistoryExplainer> = {};
    for (const [name, explain] of Object.entries({ ...explainers, occlusion: occlusionExplainer(score) })) {
      const memo = new Map<string, HistoryExplanation>();
      cached[name] = (history, target, user) => {
        const key = `${user}:${target}`;
        if (!memo.has(key)) memo.set(key, explain(history, target, user));
        return memo.get(key)!;
      };
    }
    for (const deletions of deletionCounts) {
      const started = performance.now();
      const report = deletionTest(histories, score, cached, { users, seed, k: 10, randomDraws: 5, deletions });
      const seconds = (performance.now() - started) / 1000;
      const drop = (method: string) => report.summaries.find((s) => s.method === method)!.meanScoreDrop;
      const floor = drop(RANDOM_DELETION);
      const ceiling = drop("occlusion");
      for (const summary of report.summaries) {
        const ofCeiling = (summary.meanScoreDrop - floor) / (ceiling - floor);
        rows.push({ model, deletions, ofCeiling, seconds, ...summary });
      }
    }
  };

  const knn = new ItemKnnRecommender({ neighbours: 50 }).fit(train);
  run("item-kNN", itemKnnHistoryScorer(knn), {
    neighbours: itemKnnExplainer(knn),
    "most recent item": recencyExplainer,
  });

  const content = new ContentBasedRecommender(tfidfVectors(itemDocuments(train)).vectors).fit(train);
  run("content TF-IDF", contentHistoryScorer(content, { ratings: ratingOf }), {
    "history share": contentExplainer(content, { ratings: ratingOf }),
    "most recent item": recencyExplainer,
  });

  const sasrec = new SasRec({ numItems: data.numItems, maxLength: 50, dropout: 0.2, seed: 2 }, sequences);
  const training = await trainSequentialRecommender(sasrec, sequences, {
    epochs: sasrecEpochs,
    seed: 13,
    progress: "silent",
  });
  const ndcg = evaluateRanking(sasrec, { train, test, k: 10, metrics: ["ndcg"] }).metrics["ndcg@10"];
  if (!json) {
    console.log(
      `SASRec: ${sasrecEpochs} epochs in ${training.seconds.toFixed(0)} s, full-ranking NDCG@10 ${ndcg.toFixed(4)} (943 users)`,
    );
  }
  run("SASRec", sequentialHistoryScorer(sasrec), {
    "attention, last layer": attentionExplainer(sasrec, { method: "lastLayer" }),
    "attention rollout": attentionExplainer(sasrec, { method: "rollout" }),
    "rollout, α = 0": attentionExplainer(sasrec, { method: "rollout", residualWeight: 0 }),
    "most recent item": recencyExplainer,
  });
  sasrec.dispose();

  for (const row of rows) {
    if (json) {
      console.log(JSON.stringify({ dataset: data.name, backend: backend.name, ...row }));
      continue;
    }
    console.log(
      `${row.model.padEnd(15)} top ${String(row.deletions).padEnd(2)} ${row.method.padEnd(22)} users ${row.users}` +
        `  score drop ${row.meanScoreDrop.toFixed(4).padStart(8)} (of ceiling ${row.ofCeiling.toFixed(2).padStart(5)})` +
        `  rank drop mean ${row.meanRankDrop.toFixed(1).padStart(6)} median ${row.medianRankDrop.toFixed(1).padStart(5)}` +
        `  left top-10 ${(100 * row.leftTopK).toFixed(1).padStart(5)}%  (${row.seconds.toFixed(1)} s)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
