// One entry point for the public data sets by name, for notebooks and benchmarks that take the
// data set as a parameter ("ml-100k" for a quick run, "ml-1m" for the published numbers).

import { DATASET_NAMES, DatasetName } from "./cache";
import { GoodbooksOptions, loadGoodbooks } from "./goodbooks";
import { Interactions } from "./interactions";
import { loadMovieLens100K, loadMovieLens1M, loadMovieLensLatestSmall } from "./movielens";

/** Options of any loader; the goodbooks-only ones (`ratings`, `tagsPerBook`) are ignored by the others. */
export type LoadDatasetOptions = GoodbooksOptions;

/** Loads a public data set by name: "ml-100k", "ml-1m", "ml-latest-small" or "goodbooks-10k". */
export function loadDataset(name: DatasetName, options: LoadDatasetOptions = {}): Promise<Interactions> {
  switch (name) {
    case "ml-100k":
      return loadMovieLens100K(options);
    case "ml-1m":
      return loadMovieLens1M(options);
    case "ml-latest-small":
      return loadMovieLensLatestSmall(options);
    case "goodbooks-10k":
      return loadGoodbooks(options);
    default:
      return Promise.reject(new Error(`unknown data set '${String(name)}' (known: ${DATASET_NAMES.join(", ")})`));
  }
}
