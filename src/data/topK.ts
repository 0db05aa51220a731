// Top-K selection: the k best of n scores with a size-k min-heap, O(n log k) instead of sorting all
// n. "Better" means a higher score, or an equal score and a lower position, so results are
// deterministic. Recommending, evaluating and generating synthetic data all use it.

/** Selects the k best of n scores; the heap's root is the worst kept entry. Reusable across rows. */
export class TopKSelector {
  private readonly heapPositions: Int32Array;
  private readonly heapScores: Float64Array;

  constructor(private readonly k: number) {
    this.heapPositions = new Int32Array(k);
    this.heapScores = new Float64Array(k);
  }

  /**
   * Writes the best min(k, eligible) positions of scores[offset .. offset+n), skipping positions where
   * `exclude` is nonzero, best first into outPositions/outScores from outOffset; returns how many.
   * `user` only names the row in the error a NaN score raises.
   */
  select(
    scores: ArrayLike<number>,
    offset: number,
    n: number,
    exclude: Uint8Array | null,
    outPositions: Int32Array,
    outScores: Float32Array | null,
    outOffset: number,
    user: number,
  ): number {
    const k = this.k;
    const hp = this.heapPositions;
    const hs = this.heapScores;
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (exclude !== null && exclude[j] !== 0) continue;
      const s = scores[offset + j];
      if (s !== s) throw new Error(`score of item ${j} for user ${user} is NaN`);
      if (size < k) {
        // Sift up: move worse parents down.
        let i = size++;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (!(hs[parent] > s || (hs[parent] === s && hp[parent] < j))) break; // parent is worse
          hs[i] = hs[parent];
          hp[i] = hp[parent];
          i = parent;
        }
        hs[i] = s;
        hp[i] = j;
      } else if (s > hs[0]) {
        // j comes after every kept position, so an equal score never beats the root.
        this.replaceRoot(s, j, size);
      }
    }
    // Pop the worst repeatedly, filling the output from its end.
    const count = size;
    for (let last = count - 1; last >= 0; last--) {
      outPositions[outOffset + last] = hp[0];
      if (outScores !== null) outScores[outOffset + last] = hs[0];
      size--;
      if (size > 0) this.replaceRoot(hs[size], hp[size], size);
    }
    return count;
  }

  /** Puts (s, j) at the root of a heap of `size` entries and sifts it down. */
  private replaceRoot(s: number, j: number, size: number): void {
    const hp = this.heapPositions;
    const hs = this.heapScores;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      let worst = left;
      const right = left + 1;
      if (right < size && worse(hs[right], hp[right], hs[left], hp[left])) worst = right;
      if (!worse(hs[worst], hp[worst], s, j)) break;
      hs[i] = hs[worst];
      hp[i] = hp[worst];
      i = worst;
    }
    hs[i] = s;
    hp[i] = j;
  }
}

/** Whether entry (sa, ja) ranks below (sb, jb). */
function worse(sa: number, ja: number, sb: number, jb: number): boolean {
  return sa < sb || (sa === sb && ja > jb);
}

/** Positions of the min(k, n) largest values, largest first (ties: lower position first). */
export function topKIndices(values: ArrayLike<number>, k: number): Int32Array {
  const positions = new Int32Array(Math.min(k, values.length));
  if (positions.length === 0) return positions;
  new TopKSelector(positions.length).select(values, 0, values.length, null, positions, null, 0, 0);
  return positions;
}
