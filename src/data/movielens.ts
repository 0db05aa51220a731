// Loaders for the GroupLens MovieLens data sets: 100K (u.data, u.item, u.user), 1M (ratings.dat,
// movies.dat, users.dat) and latest-small (ratings.csv, movies.csv, tags.csv).
//
// Indexing rules, the same for every loader: items are indexed in the order of the item file and
// all of them are kept, rated or not, so item side information lines up with item indices and a
// model can score the whole catalogue; users are indexed in the order of the user file (ascending
// id where there is none), keeping only users with at least one rating (matters only for the
// partial ml-1m copy). Rows keep the order of the ratings file. Timestamps are Unix seconds.
//
// The 100K and 1M files are ISO-8859-1 (latin-1); latest-small is UTF-8. MovieLens may not be
// redistributed: these loaders read a local copy or download the publisher's archive.

import * as path from "node:path";
import { DATASET_SOURCES, DatasetLoadOptions, DatasetName, resolveDataset } from "./cache";
import { assertUtf8, DelimitedReader, readDataFile } from "./delimited";
import { Interactions, ItemInfo, UserInfo } from "./interactions";
import { IntIdMap } from "./intIds";
import {
  checkRowCount,
  dropUnused,
  intIdIndex,
  pick,
  pickNumbers,
  RawRatings,
  RatingsChecks,
  readRatingsTable,
  TagCounter,
} from "./loading";

/** The 19 genres of ml-100k, in the order of u.item's flag columns (u.genre). */
export const ML100K_GENRES: readonly string[] = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
];

/** ml-1m's occupation codes 0..20 (README). */
export const ML1M_OCCUPATIONS: readonly string[] = [
  "other",
  "academic/educator",
  "artist",
  "clerical/admin",
  "college/grad student",
  "customer service",
  "doctor/health care",
  "executive/managerial",
  "farmer",
  "homemaker",
  "K-12 student",
  "lawyer",
  "programmer",
  "retired",
  "sales/marketing",
  "scientist",
  "self-employed",
  "technician/engineer",
  "tradesman/craftsman",
  "unemployed",
  "writer",
];

/** ml-1m's age codes: each is the lower end of a range ("18" means 18-24; "1" means under 18). */
const ML1M_AGES = new Set([1, 18, 25, 35, 45, 50, 56]);

/** An item file's contents: ids mapped to dense indices, and side information in that order. */
interface ItemTable {
  map: IntIdMap;
  ids: number[];
  info: ItemInfo;
}

interface UserTable {
  map: IntIdMap;
  ids: number[];
  info: UserInfo;
}

/** The year in a MovieLens title such as "Toy Story (1995)" or "Death Note (2006–2007)"; NaN if none. */
export function titleYear(title: string): number {
  const m = /\((\d{4})(?:[-–]\d{4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : NaN;
}

/** Registers item `id` as the next dense index, failing on a repeat. */
function addId(reader: DelimitedReader, field: number, map: IntIdMap, ids: number[], what: string): number {
  const id = reader.int(field);
  if (map.get(id) >= 0) reader.fail(field, `duplicate ${what} id ${id}`);
  map.set(id, ids.length);
  ids.push(id);
  return id;
}

/** The checks of a data set's ratings: its scale and the caller's duplicates policy. */
function ratingsChecks(name: DatasetName, options: DatasetLoadOptions): RatingsChecks {
  return { scale: DATASET_SOURCES[name].ratingScale, dataset: name, duplicates: options.duplicates };
}

/** Checks the row counts of the files read against the published ones. */
function checkRows(name: DatasetName, dir: string, counts: Array<[string, number]>, options: DatasetLoadOptions): void {
  for (const [file, rows] of counts) checkRowCount(DATASET_SOURCES[name], dir, file, rows, options);
}

/** Builds the Interactions: users without ratings are dropped from the user table. */
function assemble(name: string, items: ItemTable, users: UserTable, raw: RawRatings): Interactions {
  const keep = dropUnused(raw.columns.users, users.ids.length);
  const userInfo: UserInfo = {};
  if (users.info.ages) userInfo.ages = pickNumbers(users.info.ages, keep);
  if (users.info.genders) userInfo.genders = pick(users.info.genders, keep);
  if (users.info.occupations) userInfo.occupations = pick(users.info.occupations, keep);
  return new Interactions({
    ...raw.columns,
    userIndex: intIdIndex(Array.from(keep, (i) => users.ids[i])),
    itemIndex: intIdIndex(items.ids),
    itemInfo: items.info,
    userInfo,
    name,
  });
}

// ---------------------------------------------------------------------------------------------
// MovieLens 100K

function readMl100kItems(file: string): ItemTable {
  const names = ["movie id", "movie title", "release date", "video release date", "IMDb URL", ...ML100K_GENRES];
  const reader = new DelimitedReader(readDataFile(file), { file, delimiter: "|", encoding: "latin1", names });
  const map = new IntIdMap();
  const ids: number[] = [];
  const titles: string[] = [];
  const years: number[] = [];
  const genres: string[][] = [];
  while (reader.next()) {
    addId(reader, 0, map, ids, "movie");
    titles.push(reader.string(1));
    const date = reader.string(2);
    const m = /^\d{1,2}-[A-Za-z]{3}-(\d{4})$/.exec(date);
    if (!m && date !== "") reader.fail(2, `expected a date like 01-Jan-1995, got "${date}"`);
    years.push(m ? Number(m[1]) : NaN);
    const own: string[] = [];
    for (let g = 0; g < ML100K_GENRES.length; g++) {
      const flag = reader.int(5 + g);
      if (flag !== 0 && flag !== 1) reader.fail(5 + g, `expected a 0/1 genre flag, got ${flag}`);
      if (flag === 1) own.push(ML100K_GENRES[g]);
    }
    genres.push(own);
  }
  return { map, ids, info: { titles, years: Float64Array.from(years), genres } };
}

function readMl100kUsers(file: string): UserTable {
  const names = ["user id", "age", "gender", "occupation", "zip code"];
  const reader = new DelimitedReader(readDataFile(file), { file, delimiter: "|", encoding: "latin1", names });
  const map = new IntIdMap();
  const ids: number[] = [];
  const ages: number[] = [];
  const genders: string[] = [];
  const occupations: string[] = [];
  while (reader.next()) {
    addId(reader, 0, map, ids, "user");
    ages.push(reader.int(1));
    genders.push(reader.string(2));
    occupations.push(reader.string(3));
  }
  return { map, ids, info: { ages: Float64Array.from(ages), genders, occupations } };
}

/**
 * MovieLens 100K: 100,000 ratings (1–5) of 1,682 movies by 943 users, 1997–98, with titles,
 * release years and 19 genres per movie, and age, gender and occupation per user.
 */
export async function loadMovieLens100K(options: DatasetLoadOptions = {}): Promise<Interactions> {
  const { dir, files } = await resolveDataset("ml-100k", options);
  const items = readMl100kItems(files.items);
  const users = readMl100kUsers(files.users);
  const raw = readRatingsTable(
    files.ratings,
    { file: files.ratings, delimiter: "\t", names: ["user id", "item id", "rating", "timestamp"] },
    { map: items.map, file: path.basename(files.items) },
    { map: users.map, file: path.basename(files.users) },
    ratingsChecks("ml-100k", options),
  );
  checkRows(
    "ml-100k",
    dir,
    [
      [files.items, items.ids.length],
      [files.users, users.ids.length],
      [files.ratings, raw.records],
    ],
    options,
  );
  return assemble("ml-100k", items, users, raw);
}

// ---------------------------------------------------------------------------------------------
// MovieLens 1M

function readMl1mItems(file: string): ItemTable {
  const reader = new DelimitedReader(readDataFile(file), {
    file,
    delimiter: "::",
    encoding: "latin1",
    names: ["MovieID", "Title", "Genres"],
  });
  const map = new IntIdMap();
  const ids: number[] = [];
  const titles: string[] = [];
  const genres: string[][] = [];
  while (reader.next()) {
    addId(reader, 0, map, ids, "movie");
    titles.push(reader.string(1));
    genres.push(reader.isEmpty(2) ? [] : reader.string(2).split("|"));
  }
  return { map, ids, info: { titles, years: Float64Array.from(titles, titleYear), genres } };
}

function readMl1mUsers(file: string): UserTable {
  const reader = new DelimitedReader(readDataFile(file), {
    file,
    delimiter: "::",
    encoding: "latin1",
    names: ["UserID", "Gender", "Age", "Occupation", "Zip-code"],
  });
  const map = new IntIdMap();
  const ids: number[] = [];
  const ages: number[] = [];
  const genders: string[] = [];
  const occupations: string[] = [];
  while (reader.next()) {
    addId(reader, 0, map, ids, "user");
    genders.push(reader.string(1));
    const age = reader.int(2);
    if (!ML1M_AGES.has(age)) reader.fail(2, `expected an age code (1, 18, 25, 35, 45, 50, 56), got ${age}`);
    ages.push(age);
    const occupation = reader.int(3);
    if (occupation < 0 || occupation >= ML1M_OCCUPATIONS.length)
      reader.fail(3, `expected an occupation code 0..20, got ${occupation}`);
    occupations.push(ML1M_OCCUPATIONS[occupation]);
  }
  return { map, ids, info: { ages: Float64Array.from(ages), genders, occupations } };
}

/**
 * MovieLens 1M: 1,000,209 ratings (1–5) of 3,883 movies by 6,040 users, 2000–03, with titles,
 * years and genres per movie and gender, age and occupation per user. Ages are the README's age
 * codes (the lower end of a range: 1 = under 18, 18 = 18–24, …, 56 = 56+).
 *
 * Reads `ratings.dat` or `ratings.dat.gz`; failing both, the course's partial copy
 * `subset-users-1-2999/ratings.dat.gz` (487,650 ratings), which is then named in `name`.
 */
export async function loadMovieLens1M(options: DatasetLoadOptions = {}): Promise<Interactions> {
  const { dir, files } = await resolveDataset("ml-1m", options);
  const items = readMl1mItems(files.items);
  const users = readMl1mUsers(files.users);
  const raw = readRatingsTable(
    files.ratings,
    { file: files.ratings, delimiter: "::", names: ["UserID", "MovieID", "Rating", "Timestamp"] },
    { map: items.map, file: path.basename(files.items) },
    { map: users.map, file: path.basename(files.users) },
    ratingsChecks("ml-1m", options),
  );
  checkRows(
    "ml-1m",
    dir,
    [
      [files.items, items.ids.length],
      [files.users, users.ids.length],
      [files.ratings, raw.records],
    ],
    options,
  );
  const partial = path.dirname(files.ratings) !== dir;
  const name = partial ? `ml-1m (${path.basename(path.dirname(files.ratings))})` : "ml-1m";
  return assemble(name, items, users, raw);
}

// ---------------------------------------------------------------------------------------------
// MovieLens latest-small

function readLatestItems(file: string): ItemTable {
  const bytes = readDataFile(file);
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(["movieId", "title", "genres"]);
  const [cId, cTitle, cGenres] = ["movieId", "title", "genres"].map((c) => header.indexOf(c));
  const map = new IntIdMap();
  const ids: number[] = [];
  const titles: string[] = [];
  const genres: string[][] = [];
  while (reader.next()) {
    addId(reader, cId, map, ids, "movie");
    titles.push(reader.string(cTitle).trim());
    const g = reader.string(cGenres);
    genres.push(g === "(no genres listed)" || g === "" ? [] : g.split("|"));
  }
  return { map, ids, info: { titles, years: Float64Array.from(titles, titleYear), genres } };
}

/** Each movie's tags, ranked, and the file's row count. */
function readLatestTags(file: string, items: ItemTable, itemsFile: string): { tags: string[][]; rows: number } {
  const bytes = readDataFile(file);
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(["movieId", "tag"]);
  const cId = header.indexOf("movieId");
  const cTag = header.indexOf("tag");
  const counter = new TagCounter(items.ids.length);
  let rows = 0;
  while (reader.next()) {
    rows++;
    const id = reader.int(cId);
    const item = items.map.get(id);
    if (item < 0) reader.fail(cId, `unknown movie id ${id} (not in ${itemsFile})`);
    const tag = reader.string(cTag).trim();
    if (tag !== "") counter.add(item, tag);
  }
  return { tags: counter.ranked(), rows };
}

/**
 * MovieLens latest-small (the 2018-09-26 release): 100,836 ratings (0.5–5 in half stars) by 610
 * users; 9,742 movies with titles, years and genres, all kept although 18 are unrated; and the
 * users' free-text tags per movie from tags.csv (most applied first), when present.
 */
export async function loadMovieLensLatestSmall(options: DatasetLoadOptions = {}): Promise<Interactions> {
  const { dir, files } = await resolveDataset("ml-latest-small", options);
  const items = readLatestItems(files.items);
  const itemsFile = path.basename(files.items);
  const counts: Array<[string, number]> = [[files.items, items.ids.length]];
  if (files.tags) {
    const tags = readLatestTags(files.tags, items, itemsFile);
    items.info.tags = tags.tags;
    counts.push([files.tags, tags.rows]);
  }
  const raw = readRatingsTable(
    files.ratings,
    {
      file: files.ratings,
      delimiter: ",",
      header: { user: "userId", item: "movieId", rating: "rating", timestamp: "timestamp" },
    },
    { map: items.map, file: itemsFile },
    undefined,
    ratingsChecks("ml-latest-small", options),
  );
  counts.push([files.ratings, raw.records]);
  checkRows("ml-latest-small", dir, counts, options);
  return new Interactions({
    ...raw.columns,
    userIndex: intIdIndex(raw.userIds ?? []),
    itemIndex: intIdIndex(items.ids),
    itemInfo: items.info,
    name: "ml-latest-small",
  });
}
