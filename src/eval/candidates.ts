// Ranking within a subset of the catalogue: the cold-start protocols of notebooks 03 and 07 ask how well a
// model orders the items it has never seen in training among themselves, so every other item must sink.

import type { ItemScorer } from "./protocols";

/**
 * `model` with the scores of every item outside `allowed` (allowed[i] = 0) set to a finite floor far below
 * any real score, so that top-K lists and ranking metrics only ever place allowed items. Finite, not
 * −Infinity: hybrids normalise scores and would turn infinities into NaN.
 */
export function restrictCandidates(model: ItemScorer, allowed: Uint8Array): ItemScorer {
  if (allowed.length !== model.numItems) {
    throw new Error(
      `restrictCandidates: allowed has ${allowed.length} entries, the model scores ${model.numItems} items`,
    );
  }
  const floor = -1e30;
  return {
    numItems: model.numItems,
    scoreItems(users: Int32Array) {
      const scores = model.scoreItems(users);
      const n = model.numItems;
      for (let b = 0; b < users.length; b++)
        for (let i = 0; i < n; i++) if (allowed[i] === 0) scores[b * n + i] = floor;
      return scores;
    },
  };
}
