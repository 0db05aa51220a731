// Splits for the cold-start problem (冷启动): collaborative filtering can say nothing about an item
// nobody has interacted with, so to measure how a hybrid model copes, whole items are hidden from
// training. `coldItemSplit` picks a seeded random fraction of the items and moves every interaction
// they have to test; train keeps the rest. A model then has to rank the hidden items from their side
// information alone (genres, tags, authors), as a shop must on the day a new product arrives.

import { Rng } from "../backend/random";
import { Interactions } from "./interactions";
import { Split } from "./splitters";

export interface ColdItemSplitConfig {
  /** Fraction of the items that have interactions to hide, in (0, 1). Default 0.1. */
  fraction?: number;
  seed: number;
}

/** A cold-item split: the hidden items, all of whose interactions are in `test` and none in `train`. */
export interface ColdItemSplit extends Split {
  /** Dense indices of the hidden (cold) items, ascending. */
  coldItems: Int32Array;
}

/**
 * Hides `round(fraction · n)` of the n items that occur in `data`, drawn uniformly with the seed:
 * every row of a hidden item goes to `test`, every other row to `train` (rows keep their log order).
 * Items of the id space without any row are never drawn, since hiding them would test nothing.
 * Users keep their index; a user whose every row was on hidden items has no train rows.
 */
export function coldItemSplit(data: Interactions, config: ColdItemSplitConfig): ColdItemSplit {
  const caller = "coldItemSplit";
  const fraction = config.fraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`${caller}: fraction must be in (0, 1), got ${fraction}`);
  if (typeof config.seed !== "number" || !Number.isFinite(config.seed)) {
    throw new Error(
      `${caller}: config.seed must be a finite number (splits are reproducible by seed), got ${String(config.seed)}`,
    );
  }

  const present = new Uint8Array(data.numItems);
  for (let k = 0; k < data.length; k++) present[data.items[k]] = 1;
  const candidates: number[] = [];
  for (let i = 0; i < data.numItems; i++) if (present[i]) candidates.push(i);
  const count = Math.round(fraction * candidates.length);
  if (count < 1 || count >= candidates.length) {
    throw new Error(
      `${caller}: fraction ${fraction} of the ${candidates.length} items with interactions in '${data.name}' ` +
        `hides ${count}; it must hide at least one item and leave at least one in train`,
    );
  }

  const order = new Rng(config.seed).permutation(candidates.length);
  const cold = new Uint8Array(data.numItems);
  const coldItems = new Int32Array(count);
  for (let c = 0; c < count; c++) coldItems[c] = candidates[order[c]];
  coldItems.sort();
  for (let c = 0; c < count; c++) cold[coldItems[c]] = 1;

  let testRows = 0;
  for (let k = 0; k < data.length; k++) testRows += cold[data.items[k]];
  const train = new Int32Array(data.length - testRows);
  const test = new Int32Array(testRows);
  let t = 0;
  let s = 0;
  for (let k = 0; k < data.length; k++) {
    if (cold[data.items[k]]) test[s++] = k;
    else train[t++] = k;
  }
  return {
    train: data.select(train, `${data.name}/train`),
    test: data.select(test, `${data.name}/cold-item-test`),
    coldItems,
  };
}
