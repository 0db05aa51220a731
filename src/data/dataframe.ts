// Interactions to and from danfojs DataFrames, for exploring a data set with head(), describe()
// and groupby() in the notebooks. danfojs takes about two seconds to load, so it is required on
// first use rather than imported: code that never builds a DataFrame never pays for it.
//
// DataFrame layout: one row per interaction, columns `user` and `item` (the data set's own ids, as
// strings), `rating` and `timestamp` (Unix seconds, NaN where unknown), and `title` on request.
// danfojs only labels columns with dtypes; the values stay JavaScript numbers, so timestamps keep
// full precision although their column is labelled float32.

import type { DataFrame } from "danfojs-node";
import { IdIndex, Interactions } from "./interactions";

export interface ToDataFrameOptions {
  /** Add a `title` column from the item titles, when the data set has them. Default false. */
  titles?: boolean;
}

/** The interactions as a DataFrame with columns user, item, rating, timestamp (and title). */
export function interactionsToDataFrame(data: Interactions, options: ToDataFrameOptions = {}): DataFrame {
  const n = data.length;
  const userIds = data.userIndex.ids;
  const itemIds = data.itemIndex.ids;
  const user = new Array<string>(n);
  const item = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    user[k] = userIds[data.users[k]];
    item[k] = itemIds[data.items[k]];
  }
  const columns: Record<string, unknown[]> = {
    user,
    item,
    rating: Array.from(data.ratings),
    timestamp: Array.from(data.timestamps),
  };
  const dtypes = ["string", "string", "float32", "float32"];
  const titles = data.itemInfo.titles;
  if (options.titles && titles) {
    columns.title = Array.from(data.items, (i) => titles[i]);
    dtypes.push("string");
  }
  const danfo = require("danfojs-node") as typeof import("danfojs-node");
  return new danfo.DataFrame(columns, { dtypes });
}

export interface FromDataFrameOptions {
  /** Name of the result. Default "dataframe". */
  name?: string;
}

/**
 * Interactions from a DataFrame with columns `user` and `item` (any values, used as ids through
 * String()), and optionally `rating` (default 1: implicit feedback) and `timestamp` (Unix seconds,
 * NaN where missing). Users and items are indexed by first appearance.
 */
export function interactionsFromDataFrame(df: DataFrame, options: FromDataFrameOptions = {}): Interactions {
  const columns = df.columns;
  for (const required of ["user", "item"]) {
    if (!columns.includes(required))
      throw new Error(`interactionsFromDataFrame: no '${required}' column (columns: ${columns.join(", ")})`);
  }
  const values = (name: string): unknown[] => df.column(name).values as unknown[];
  const userValues = values("user");
  const itemValues = values("item");
  const ratingValues = columns.includes("rating") ? values("rating") : undefined;
  const timeValues = columns.includes("timestamp") ? values("timestamp") : undefined;
  const n = userValues.length;
  const userIndex = new IdIndex();
  const itemIndex = new IdIndex();
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = new Float32Array(n);
  const timestamps = new Float64Array(n);
  const id = (value: unknown, column: string, row: number): string => {
    const text = value === null || value === undefined ? "" : String(value).trim();
    if (text === "" || (typeof value === "number" && Number.isNaN(value))) {
      throw new Error(`interactionsFromDataFrame: row ${row}, column '${column}': empty id`);
    }
    return text;
  };
  for (let k = 0; k < n; k++) {
    users[k] = userIndex.add(id(userValues[k], "user", k));
    items[k] = itemIndex.add(id(itemValues[k], "item", k));
    const rating = ratingValues ? Number(ratingValues[k]) : 1;
    if (!Number.isFinite(rating))
      throw new Error(
        `interactionsFromDataFrame: row ${k}, column 'rating': expected a number, got ${String(ratingValues![k])}`,
      );
    ratings[k] = rating;
    const t = timeValues ? timeValues[k] : NaN;
    timestamps[k] = t === null || t === undefined || t === "" ? NaN : Number(t);
  }
  return new Interactions({
    users,
    items,
    ratings,
    timestamps,
    userIndex,
    itemIndex,
    name: options.name ?? "dataframe",
  });
}
