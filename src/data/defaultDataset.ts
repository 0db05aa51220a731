// The data set a notebook starts from: MovieLens 100K when it is in the data directory or can be
// downloaded, else synthetic interactions over the embedded goodbooks-10k catalogue, so that the
// course runs offline. The result says which one it is and why, for the notebook to print.

import { DatasetUnavailableError, ResolveOptions } from "./cache";
import { loadEmbeddedBooks } from "./catalogue";
import { Interactions } from "./interactions";
import { loadMovieLens100K } from "./movielens";
import { generateSynthetic } from "./synthetic";

export const EMBEDDED_DATASET_NAME = "synthetic-books";

export interface DefaultDataset {
  data: Interactions;
  /** "ml-100k", or "synthetic-books" when MovieLens could not be had. */
  source: "ml-100k" | typeof EMBEDDED_DATASET_NAME;
  /** One sentence on where the data came from, for the notebook to show. */
  note: string;
}

export interface DefaultDatasetOptions extends ResolveOptions {
  /** Seed of the synthetic fallback. Default 2024. */
  seed?: number;
  /** Use the embedded fallback without trying MovieLens. Default false. */
  embedded?: boolean;
}

/** The embedded data set: MovieLens-100K-sized synthetic ratings over 1,600 goodbooks-10k books. */
export function loadEmbeddedDataset(seed = 2024): Interactions {
  const catalogue = loadEmbeddedBooks();
  return generateSynthetic({ seed, catalogue, numUsers: 950, numItems: 1600, name: EMBEDDED_DATASET_NAME })
    .interactions;
}

export async function loadDefaultDataset(options: DefaultDatasetOptions = {}): Promise<DefaultDataset> {
  const embedded = (reason: string): DefaultDataset => ({
    data: loadEmbeddedDataset(options.seed),
    source: EMBEDDED_DATASET_NAME,
    note: `${reason}: using synthetic ratings over the embedded goodbooks-10k books (CC BY-SA 4.0) instead.`,
  });
  if (options.embedded) return embedded("The embedded data set was asked for");
  try {
    const data = await loadMovieLens100K(options);
    return { data, source: "ml-100k", note: "MovieLens 100K (GroupLens; research use, not redistributed)." };
  } catch (error) {
    // Only absence falls back; a damaged or malformed file must surface.
    if (error instanceof DatasetUnavailableError) return embedded(`MovieLens 100K is unavailable (${error.message})`);
    throw error;
  }
}
