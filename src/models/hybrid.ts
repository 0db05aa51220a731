// Hybrid recommenders (基于内容和协同过滤的混合推荐系统): "to solve collaborative filtering's cold-start
// problem, hybrid systems combine content information with user behaviour data" (将内容信息和用户行为
// 数据相结合). Content covers what collaborative filtering cannot see — new items and new users — and
// behaviour covers what content cannot — taste beyond "more of the same words". Two of Burke's
// classic designs ("Hybrid Recommender Systems: Survey and Experiments", UMUAI 2002), over any
// `ItemScorer`s:
//
//   weighted   s(u, i) = Σ_m w_m · ŝ_m(u, i), each model's scores first normalised per user;
//   switching  a rule picks one model per user and per item: a user or item with too few training
//              interactions is scored by the fallback (content) model, everything else by the
//              primary (collaborative) one.
//
// Why normalise. Raw scores live on unrelated scales: a rating model predicts 1–5, BPR logits spread
// over ±10, popularity counts reach the hundreds, cosines stay in [0, 1]. Summed raw, the widest
// scale decides the ranking whatever the weights say. Both hybrids therefore rescale each model's
// row of scores for a user (over the whole catalogue) before mixing, by default with the z-score
//
//   ŝ_m(u, i) = (s_m(u, i) − mean_j s_m(u, j)) / std_j s_m(u, j),
//
// which makes a weight mean "this many standard deviations of this model's opinion". Min-max,
// (s − min) / (max − min), is the other common choice, but its scale is set by the two most extreme
// items alone: popularity's single most-rated film squeezes every other item towards 0, so the same
// weight buys far less of that model. The z-score uses every item's score. A row that is constant
// (a model with no opinion about this user) normalises to all zeros: it adds nothing to the mix.
//
// Saving. A hybrid wraps arbitrary `ItemScorer`s, so it saves what it owns (weights and names, the
// normalisation, the switching rule) in its own folder and each part in a subfolder, parts/<m> or
// parts/primary and parts/fallback, with the part's own `save`: a part without one cannot be saved,
// and `save` says which. Loading reads which class saved each part and calls the loader given for
// that class (`PartLoaders`), since only the caller knows what else a part's `load` needs (the
// training data, the histories).

import { checkInteger } from "../checks";
import { Interactions } from "../data/interactions";
import { ItemScorer } from "../eval/scorers";
import { arrayModelFormat, savedModelName } from "../train/savedModel";

// ---------------------------------------------------------------------------------------------
// Per-user score normalisation
// ---------------------------------------------------------------------------------------------

/** How a model's scores for one user are rescaled before they are mixed (see the file header). */
export type ScoreNormalization = "zscore" | "minmax" | "none";

/**
 * Normalises each row of a [rows × numItems] score buffer on its own: "zscore" gives
 * (s − mean) / std with the population std (divide by numItems), "minmax" gives
 * (s − min) / (max − min), "none" copies. A constant row becomes all zeros under both rescalings.
 * Scores must be finite; the error names the row and item of the first that is not.
 */
export function normalizeScoreRows(
  scores: ArrayLike<number>,
  numItems: number,
  method: ScoreNormalization,
): Float64Array {
  if (!Number.isInteger(numItems) || numItems <= 0 || scores.length % numItems !== 0) {
    throw new Error(`normalizeScoreRows: ${scores.length} scores are not whole rows of numItems = ${numItems}`);
  }
  checkNormalization(method, "normalizeScoreRows");
  const out = new Float64Array(scores.length);
  for (let start = 0; start < scores.length; start += numItems) {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < numItems; i++) {
      const s = scores[start + i];
      if (!Number.isFinite(s)) {
        throw new Error(
          `normalizeScoreRows: score ${s} at row ${start / numItems}, item ${i}; hybrids need finite scores`,
        );
      }
      sum += s;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    if (method === "none") {
      for (let i = 0; i < numItems; i++) out[start + i] = scores[start + i];
      continue;
    }
    if (max === min) continue; // a constant row: no opinion, all zeros
    let shift: number;
    let scale: number;
    if (method === "minmax") {
      shift = min;
      scale = 1 / (max - min);
    } else {
      shift = sum / numItems;
      let squares = 0;
      for (let i = 0; i < numItems; i++) {
        const d = scores[start + i] - shift;
        squares += d * d;
      }
      scale = 1 / Math.sqrt(squares / numItems);
    }
    for (let i = 0; i < numItems; i++) out[start + i] = (scores[start + i] - shift) * scale;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Saving the parts
// ---------------------------------------------------------------------------------------------

/** A part that can be saved: a model with `save(dir)`, as every recommender of this library has. */
type SaveablePart = ItemScorer & { save(dir: string): Promise<void> };

/**
 * How a hybrid's parts are loaded, by the class name each part's checkpoint records: for instance
 * `{ KNNBasic: (dir) => KNNBasic.load(dir), BprMf: (dir) => BprMf.load(dir), Svdpp: (dir) => Svdpp.load(dir, train) }`.
 */
export type PartLoaders = Readonly<Record<string, (dir: string) => Promise<ItemScorer>>>;

function saveableParts(caller: string, parts: ReadonlyArray<{ label: string; scorer: ItemScorer }>): SaveablePart[] {
  return parts.map(({ label, scorer }) => {
    if (typeof (scorer as Partial<SaveablePart>).save !== "function")
      throw new Error(`${caller}: ${label} has no save(dir), so the hybrid cannot be saved`);
    return scorer as SaveablePart;
  });
}

function partDir(dir: string, part: string): string {
  return `${dir.replace(/[\\/]+$/, "")}/parts/${part}`;
}

/** Loads the parts saved under `dir`, each with the loader for its class; disposes those loaded if one fails. */
async function loadParts(caller: string, dir: string, parts: string[], loaders: PartLoaders): Promise<ItemScorer[]> {
  const loaded: ItemScorer[] = [];
  try {
    for (const part of parts) {
      const where = partDir(dir, part);
      const model = await savedModelName(where);
      const load = Object.prototype.hasOwnProperty.call(loaders, model) ? loaders[model] : undefined;
      if (load === undefined) {
        throw new Error(
          `${caller}: part '${part}' (${where}) is a ${model}; pass a loader for it, e.g. { ${model}: (dir) => ${model}.load(dir) }`,
        );
      }
      loaded.push(await load(where));
    }
  } catch (error) {
    for (const part of loaded) (part as { dispose?: () => void }).dispose?.();
    throw error;
  }
  return loaded;
}

function checkSavedNormalization(config: Record<string, unknown>, caller: string): ScoreNormalization {
  return checkNormalization(config.normalization as ScoreNormalization, caller);
}

// ---------------------------------------------------------------------------------------------
// Weighted hybrid
// ---------------------------------------------------------------------------------------------

/** One model of a weighted hybrid and its weight. */
export interface WeightedComponent {
  scorer: ItemScorer;
  /** w_m, finite and >= 0. */
  weight: number;
  /** A label for tables and plots ("content", "bpr"). */
  name?: string;
}

export interface WeightedHybridConfig {
  components: WeightedComponent[];
  /** Default "zscore" (see the file header). */
  normalization?: ScoreNormalization;
}

/**
 * s(u, i) = Σ_m w_m · ŝ_m(u, i), where ŝ_m is model m's scores for user u normalised over the
 * catalogue. The weights need not sum to 1 (only their ratios change the ranking). No `scorePairs`:
 * normalising needs the user's whole row of scores anyway.
 */
export class WeightedHybrid implements ItemScorer {
  readonly components: ReadonlyArray<Readonly<WeightedComponent>>;
  readonly normalization: ScoreNormalization;
  readonly numItems: number;

  constructor(config: WeightedHybridConfig) {
    const caller = "WeightedHybrid";
    const components = config.components;
    if (!Array.isArray(components) || components.length === 0)
      throw new Error(`${caller}: 'components' must list at least one model`);
    this.numItems = components[0].scorer.numItems;
    let total = 0;
    components.forEach((c, m) => {
      const label = `component ${m}${c.name ? ` ('${c.name}')` : ""}`;
      if (!(Number.isFinite(c.weight) && c.weight >= 0))
        throw new Error(`${caller}: ${label} has weight ${c.weight}; weights must be finite and >= 0`);
      if (c.scorer.numItems !== this.numItems) {
        throw new Error(`${caller}: ${label} scores ${c.scorer.numItems} items, component 0 scores ${this.numItems}`);
      }
      total += c.weight;
    });
    if (total === 0) throw new Error(`${caller}: every weight is 0`);
    this.normalization = checkNormalization(config.normalization ?? "zscore", caller);
    this.components = components.map((c) => ({ ...c }));
  }

  /** The fewest users among the components that say how many they have (undefined when none does). */
  get numUsers(): number | undefined {
    const known = this.components.map((c) => c.scorer.numUsers).filter((n): n is number => n !== undefined);
    return known.length === 0 ? undefined : Math.min(...known);
  }

  /**
   * Saves the weights, names and normalisation to the folder `path`, and component m to `path`/parts/m
   * with its own `save` (see the file header); fails before writing if a component has none.
   */
  async save(path: string): Promise<void> {
    const parts = saveableParts(
      "WeightedHybrid.save",
      this.components.map((c, m) => ({ label: `component ${m}${c.name ? ` ('${c.name}')` : ""}`, scorer: c.scorer })),
    );
    await WeightedHybrid.format.save(path, {
      config: {
        normalization: this.normalization,
        components: this.components.map(({ weight, name }) => (name === undefined ? { weight } : { weight, name })),
      },
      arrays: [],
    });
    for (const [m, part] of parts.entries()) await part.save(partDir(path, String(m)));
  }

  /** A hybrid saved by `save`, each component loaded by the loader for its class (see `PartLoaders`). */
  static async load(path: string, loaders: PartLoaders): Promise<WeightedHybrid> {
    const saved = await WeightedHybrid.format.load(path);
    const scorers = await loadParts(
      "WeightedHybrid.load",
      path,
      saved.components.map((_, m) => String(m)),
      loaders,
    );
    return new WeightedHybrid({
      normalization: saved.normalization,
      components: saved.components.map((c, m) => ({ ...c, scorer: scorers[m] })),
    });
  }

  /** What the hybrid's own checkpoint holds: the components without their models. */
  private static readonly format = arrayModelFormat("WeightedHybrid", ({ config }) => {
    const components = config.components;
    if (!Array.isArray(components) || components.length === 0)
      throw new Error("WeightedHybrid: 'components' must list at least one { weight, name? }");
    return {
      normalization: checkSavedNormalization(config, "WeightedHybrid"),
      components: components.map((c: { weight?: unknown; name?: unknown }, m) => {
        if (typeof c?.weight !== "number") throw new Error(`WeightedHybrid: component ${m} has no numeric weight`);
        return typeof c.name === "string" ? { weight: c.weight, name: c.name } : { weight: c.weight };
      }),
    };
  });

  scoreItems(users: Int32Array): Float32Array {
    const n = this.numItems;
    const mixed = new Float64Array(users.length * n);
    for (const { scorer, weight } of this.components) {
      if (weight === 0) continue;
      const normalized = normalizeScoreRows(scoresOf(scorer, users, "WeightedHybrid"), n, this.normalization);
      for (let k = 0; k < mixed.length; k++) mixed[k] += weight * normalized[k];
    }
    return Float32Array.from(mixed);
  }
}

// ---------------------------------------------------------------------------------------------
// Switching hybrid
// ---------------------------------------------------------------------------------------------

/** Which users and items a switching hybrid sends to its fallback: 1 = the fallback scores them. */
export interface SwitchingRule {
  fallbackUsers: Uint8Array;
  fallbackItems: Uint8Array;
}

export interface SwitchingHybridConfig {
  /** The model for users and items with enough history: usually collaborative filtering. */
  primary: ItemScorer;
  /** The model where history is missing: usually content-based, which needs none. */
  fallback: ItemScorer;
  /** The training interactions the rule counts. Required unless `rule` is given. */
  train?: Interactions;
  /** The rule itself instead of `train` and the minimum counts (what `load` passes: a saved hybrid's rule). */
  rule?: SwitchingRule;
  /** A user with fewer training interactions is scored by `fallback` for every item. Default 1 (users with none). */
  minUserInteractions?: number;
  /** An item with fewer training interactions is scored by `fallback` for every user. Default 1 (cold items). */
  minItemInteractions?: number;
  /**
   * How each model's row is rescaled before items of both are ranked in one list. Default "zscore".
   * A fallback user's whole row comes from one model, so it changes nothing there; for a primary
   * user's cold items it decides where they land among the warm ones.
   */
  normalization?: ScoreNormalization;
}

/**
 * s(u, i) = ŝ_fallback(u, i) if u or i has too few training interactions, else ŝ_primary(u, i),
 * both normalised per user. Only the model(s) a user needs are asked for that user's scores.
 */
export class SwitchingHybrid implements ItemScorer {
  readonly primary: ItemScorer;
  readonly fallback: ItemScorer;
  readonly normalization: ScoreNormalization;
  /** 1 where the user is scored by the fallback for every item. */
  readonly fallbackUsers: Uint8Array;
  /** 1 where the item is scored by the fallback for every user. */
  readonly fallbackItems: Uint8Array;
  private readonly anyFallbackItem: boolean;

  constructor(config: SwitchingHybridConfig) {
    const caller = "SwitchingHybrid";
    const { primary, fallback, train, rule } = config;
    if (primary.numItems !== fallback.numItems) {
      throw new Error(`${caller}: primary scores ${primary.numItems} items but fallback scores ${fallback.numItems}`);
    }
    this.primary = primary;
    this.fallback = fallback;
    this.normalization = checkNormalization(config.normalization ?? "zscore", caller);
    if ((train === undefined) === (rule === undefined))
      throw new Error(`${caller}: give either 'train' (the rule is counted in it) or 'rule', not both or neither`);
    if (rule !== undefined) {
      if (rule.fallbackItems.length !== primary.numItems)
        throw new Error(
          `${caller}: rule.fallbackItems has ${rule.fallbackItems.length} items but the models score ${primary.numItems}`,
        );
      for (const field of ["fallbackUsers", "fallbackItems"] as const) {
        const bad = rule[field].findIndex((flag) => flag > 1);
        if (bad >= 0) throw new Error(`${caller}: rule.${field}[${bad}] is ${rule[field][bad]}; flags are 0 or 1`);
      }
      this.fallbackUsers = rule.fallbackUsers.slice();
      this.fallbackItems = rule.fallbackItems.slice();
    } else {
      const data = train as Interactions;
      if (data.numItems !== primary.numItems) {
        throw new Error(
          `${caller}: '${data.name}' has ${data.numItems} items but the models score ${primary.numItems}`,
        );
      }
      const minUser = checkInteger(caller, "minUserInteractions", config.minUserInteractions ?? 1, 0);
      const minItem = checkInteger(caller, "minItemInteractions", config.minItemInteractions ?? 1, 0);
      const userCounts = new Int32Array(data.numUsers);
      const itemCounts = new Int32Array(data.numItems);
      for (let k = 0; k < data.length; k++) {
        userCounts[data.users[k]]++;
        itemCounts[data.items[k]]++;
      }
      this.fallbackUsers = Uint8Array.from(userCounts, (c) => (c < minUser ? 1 : 0));
      this.fallbackItems = Uint8Array.from(itemCounts, (c) => (c < minItem ? 1 : 0));
    }
    this.anyFallbackItem = this.fallbackItems.some((flag) => flag === 1);
  }

  get numItems(): number {
    return this.primary.numItems;
  }

  /** The users of the training data the rule was counted in. */
  get numUsers(): number {
    return this.fallbackUsers.length;
  }

  /**
   * Saves the rule and the normalisation to the folder `path`, and the two models to `path`/parts/primary
   * and `path`/parts/fallback with their own `save` (see the file header); fails before writing if one has none.
   */
  async save(path: string): Promise<void> {
    const [primary, fallback] = saveableParts("SwitchingHybrid.save", [
      { label: "the primary model", scorer: this.primary },
      { label: "the fallback model", scorer: this.fallback },
    ]);
    await SwitchingHybrid.format.save(path, {
      config: { normalization: this.normalization },
      fitted: { numUsers: this.fallbackUsers.length, numItems: this.fallbackItems.length },
      arrays: [
        { name: "fallbackUsers", values: this.fallbackUsers, shape: [this.fallbackUsers.length] },
        { name: "fallbackItems", values: this.fallbackItems, shape: [this.fallbackItems.length] },
      ],
    });
    await primary.save(partDir(path, "primary"));
    await fallback.save(partDir(path, "fallback"));
  }

  /** A hybrid saved by `save`, its two models loaded by the loaders for their classes (see `PartLoaders`). */
  static async load(path: string, loaders: PartLoaders): Promise<SwitchingHybrid> {
    const saved = await SwitchingHybrid.format.load(path);
    const [primary, fallback] = await loadParts("SwitchingHybrid.load", path, ["primary", "fallback"], loaders);
    try {
      return new SwitchingHybrid({ primary, fallback, rule: saved.rule, normalization: saved.normalization });
    } catch (error) {
      for (const part of [primary, fallback]) (part as { dispose?: () => void }).dispose?.();
      throw error;
    }
  }

  /** What the hybrid's own checkpoint holds: the rule and the normalisation. */
  private static readonly format = arrayModelFormat("SwitchingHybrid", ({ config, fitted, arrays }) => {
    const numUsers = checkInteger("SwitchingHybrid", "numUsers", fitted.numUsers, 0);
    const numItems = checkInteger("SwitchingHybrid", "numItems", fitted.numItems, 0);
    return {
      normalization: checkSavedNormalization(config, "SwitchingHybrid"),
      rule: {
        fallbackUsers: arrays.bool("fallbackUsers", [numUsers]),
        fallbackItems: arrays.bool("fallbackItems", [numItems]),
      },
    };
  });

  /** Whether the fallback scores (user, item). */
  usesFallback(user: number, item: number): boolean {
    return this.fallbackUsers[this.checkUser(user)] === 1 || this.fallbackItems[item] === 1;
  }

  scoreItems(users: Int32Array): Float32Array {
    const n = this.numItems;
    const out = new Float32Array(users.length * n);
    // Rows of the batch by the model that scores them: fallback users need only the fallback;
    // the others need the primary, and the fallback too when some items are routed to it.
    const fallbackRows: number[] = [];
    const primaryRows: number[] = [];
    users.forEach((u, r) => (this.fallbackUsers[this.checkUser(u)] === 1 ? fallbackRows : primaryRows).push(r));
    const askFallback = this.anyFallbackItem ? users.length : fallbackRows.length;

    if (primaryRows.length > 0) {
      const batch = Int32Array.from(primaryRows, (r) => users[r]);
      const scores = normalizeScoreRows(scoresOf(this.primary, batch, "SwitchingHybrid"), n, this.normalization);
      primaryRows.forEach((r, b) => out.set(scores.subarray(b * n, (b + 1) * n), r * n));
    }
    if (askFallback > 0) {
      const rows = this.anyFallbackItem ? Array.from(users, (_, r) => r) : fallbackRows;
      const batch = Int32Array.from(rows, (r) => users[r]);
      const scores = normalizeScoreRows(scoresOf(this.fallback, batch, "SwitchingHybrid"), n, this.normalization);
      rows.forEach((r, b) => {
        if (this.fallbackUsers[users[r]] === 1) {
          out.set(scores.subarray(b * n, (b + 1) * n), r * n);
          return;
        }
        for (let i = 0; i < n; i++) if (this.fallbackItems[i] === 1) out[r * n + i] = scores[b * n + i];
      });
    }
    return out;
  }

  private checkUser(user: number): number {
    if (!(Number.isInteger(user) && user >= 0 && user < this.fallbackUsers.length)) {
      throw new RangeError(
        `SwitchingHybrid: user ${user} is outside the ${this.fallbackUsers.length} users of the training data`,
      );
    }
    return user;
  }
}

// ---------------------------------------------------------------------------------------------

function scoresOf(scorer: ItemScorer, users: Int32Array, caller: string): Float32Array | Float64Array {
  const scores = scorer.scoreItems(users);
  if (scores.length !== users.length * scorer.numItems) {
    throw new Error(
      `${caller}: a model returned ${scores.length} scores for ${users.length} users × ${scorer.numItems} items`,
    );
  }
  return scores;
}

function checkNormalization(method: ScoreNormalization, caller: string): ScoreNormalization {
  if (method !== "zscore" && method !== "minmax" && method !== "none") {
    throw new Error(`${caller}: normalization must be "zscore", "minmax" or "none", got '${String(method)}'`);
  }
  return method;
}
