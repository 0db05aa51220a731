// Mini-batches of row indices for one epoch, in a seeded random order.

import { Rng } from "../backend/random";
import { checkPositiveInteger } from "../checks";

export interface BatchConfig {
  batchSize: number;
  /** Shuffles the rows when given; keeps their order otherwise. */
  rng?: Rng;
  /** Drop a last batch smaller than batchSize (keeps shapes constant). Default false. */
  dropLast?: boolean;
}

/** The rows 0..n-1 cut into batches of `batchSize` (views of one permutation). */
export function rowBatches(n: number, config: BatchConfig): Int32Array[] {
  const { batchSize } = config;
  checkPositiveInteger("rowBatches", "batchSize", batchSize);
  const order = config.rng ? config.rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const batches: Int32Array[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(start + batchSize, n);
    if (config.dropLast && end - start < batchSize) break;
    batches.push(order.subarray(start, end));
  }
  return batches;
}
