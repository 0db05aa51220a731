// Loaders for goodbooks-10k (Zygmunt Zając, CC BY-SA 4.0, https://github.com/zygmuntz/goodbooks-10k):
// the 10,000 most-rated Goodreads books with titles, authors, years and user shelves (tags), and
// six million 1–5 ratings. Also the rule that tells a descriptive tag ("fantasy", "dystopia") from
// a reader's own shelf ("to-read", "owned", "read-in-2015"), used for item tags here and for the
// embedded catalogue in datasets/goodbooks-10k-text/.
//
// Indexing: items are the books in books.csv order (all 10,000); users are indexed by ascending
// id. The files carry no timestamps (NaN), but ratings.csv is sorted by time, so the row order of
// the result is the time order. book_tags.csv joins on goodreads_book_id, not book_id.

import * as path from "node:path";
import { DATASET_SOURCES, DatasetLoadOptions, resolveDataset } from "./cache";
import { ItemCatalogue } from "./catalogue";
import { assertUtf8, DelimitedReader, readDataFile } from "./delimited";
import { Interactions } from "./interactions";
import { IntIdMap } from "./intIds";
import { checkRowCount, intIdIndex, readRatingsTable } from "./loading";

/** Tags kept per book by default. */
export const DEFAULT_TAGS_PER_BOOK = 8;

/*
 * A shelf tag says something about the reader rather than the book. A tag is a shelf when
 *   - it names a year (19xx or 20xx: "read-in-2015", "2016-reads"), or
 *   - one of its hyphen-separated words is a reading-status, ownership, format, personal-rating or
 *     bookkeeping word (SHELF_WORDS: "to-read", "currently-reading", "owned", "kindle",
 *     "favorites", "5-stars", "book-club", ...), or
 *   - it is a catch-all (CATCH_ALL: "books", "novels", "series", "default", "english", ...), or
 *   - it has fewer than two letters ("-", "--1-").
 * The word list was drawn up from the most widespread of the 34,252 tags; genre, theme, setting
 * and era tags ("historical-fiction", "magic", "20th-century") are all kept.
 */
const SHELF_WORDS = new Set([
  // reading status
  "read",
  "reads",
  "reading",
  "reread",
  "re",
  "tbr",
  "dnf",
  "finish",
  "finished",
  "unfinished",
  "abandoned",
  "gave",
  "want",
  "maybe",
  "hold",
  "listened",
  "unread",
  "currently",
  "reviewed",
  "wishlist",
  "wish",
  // ownership and where the copy is
  "own",
  "owned",
  "mine",
  "my",
  "have",
  "library",
  "libraries",
  "borrowed",
  "bought",
  "buy",
  "shelf",
  "shelves",
  "bookshelf",
  "home",
  "personal",
  "gift",
  "gifts",
  // format
  "kindle",
  "nook",
  "ebook",
  "ebooks",
  "e",
  "audio",
  "audiobook",
  "audiobooks",
  "audible",
  "paperback",
  "hardcover",
  "calibre",
  "overdrive",
  "pdf",
  // personal rating
  "favorite",
  "favorites",
  "favourite",
  "favourites",
  "fave",
  "faves",
  "fav",
  "favs",
  "stars",
  "star",
  "recommended",
  "recommend",
  "must",
  "best",
  "loved",
  // bookkeeping and sites
  "default",
  "arc",
  "netgalley",
  "giveaway",
  "giveaways",
  "shelfari",
  "goodreads",
  "club",
  "bookclub",
  "group",
]);

const CATCH_ALL = new Set([
  "books",
  "book",
  "novel",
  "novels",
  "series",
  "part-of-a-series",
  "first-in-series",
  "stand-alone",
  "standalone",
  "general",
  "other",
  "english",
  "all",
  "misc",
  "miscellaneous",
  "owned-books",
]);

/** Whether a goodbooks tag is a reader's shelf ("to-read", "owned", "read-in-2015") rather than a description. */
export function isShelfTag(tag: string): boolean {
  const t = tag.toLowerCase();
  if (CATCH_ALL.has(t)) return true;
  if (/(^|[^0-9])(19|20)\d\d([^0-9]|$)/.test(t)) return true;
  if ((t.match(/[a-z]/g) ?? []).length < 2) return true;
  for (const word of t.split(/[^a-z0-9]+/)) if (SHELF_WORDS.has(word)) return true;
  return false;
}

/** books.csv: the catalogue in file order, with the goodreads ids that book_tags.csv uses. */
interface BookTable {
  map: IntIdMap;
  ids: number[];
  goodreads: IntIdMap;
  titles: string[];
  authors: string[];
  years: Float64Array;
  ratingsCounts: Float64Array;
}

function readBooks(file: string): BookTable {
  const bytes = readDataFile(file);
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const columns = ["book_id", "goodreads_book_id", "authors", "original_publication_year", "title", "ratings_count"];
  const header = reader.readHeader(columns);
  const [cId, cGoodreads, cAuthors, cYear, cTitle, cCount] = columns.map((c) => header.indexOf(c));
  const map = new IntIdMap();
  const goodreads = new IntIdMap();
  const ids: number[] = [];
  const titles: string[] = [];
  const authors: string[] = [];
  const years: number[] = [];
  const counts: number[] = [];
  while (reader.next()) {
    const id = reader.int(cId);
    if (map.get(id) >= 0) reader.fail(cId, `duplicate book id ${id}`);
    const gr = reader.int(cGoodreads);
    if (goodreads.get(gr) >= 0) reader.fail(cGoodreads, `duplicate goodreads book id ${gr}`);
    map.set(id, ids.length);
    goodreads.set(gr, ids.length);
    ids.push(id);
    titles.push(reader.string(cTitle).trim());
    authors.push(reader.string(cAuthors).trim());
    years.push(reader.numberOrNaN(cYear));
    counts.push(reader.numberOrNaN(cCount));
  }
  return {
    map,
    ids,
    goodreads,
    titles,
    authors,
    years: Float64Array.from(years),
    ratingsCounts: Float64Array.from(counts),
  };
}

/** Tag names by id (one per row of tags.csv). */
function readTagNames(file: string): Map<number, string> {
  const bytes = readDataFile(file);
  assertUtf8(bytes, file);
  const reader = new DelimitedReader(bytes, { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(["tag_id", "tag_name"]);
  const cId = header.indexOf("tag_id");
  const cName = header.indexOf("tag_name");
  const names = new Map<number, string>();
  while (reader.next()) {
    const id = reader.int(cId);
    if (names.has(id)) reader.fail(cId, `duplicate tag id ${id}`);
    names.set(id, reader.string(cName).trim());
  }
  return names;
}

/**
 * Each book's descriptive tags (shelves dropped), most applied first, at most `limit`, and the
 * file's row count. Repeated (book, tag) rows are summed; rows with a count below 1 (a few in the
 * file) are ignored.
 */
function readBookTags(
  file: string,
  books: BookTable,
  tagNames: Map<number, string>,
  limit: number,
  booksFile: string,
  tagsFile: string,
): { tags: string[][]; rows: number } {
  const reader = new DelimitedReader(readDataFile(file), { file, delimiter: ",", quoted: true });
  const header = reader.readHeader(["goodreads_book_id", "tag_id", "count"]);
  const cBook = header.indexOf("goodreads_book_id");
  const cTag = header.indexOf("tag_id");
  const cCount = header.indexOf("count");
  const keep = new Map<number, boolean>();
  for (const [id, name] of tagNames) keep.set(id, !isShelfTag(name));
  const perBook: Array<Map<number, number>> = books.ids.map(() => new Map());
  let rows = 0;
  while (reader.next()) {
    rows++;
    const gr = reader.int(cBook);
    const book = books.goodreads.get(gr);
    if (book < 0) reader.fail(cBook, `unknown goodreads book id ${gr} (not in ${booksFile})`);
    const tag = reader.int(cTag);
    const kept = keep.get(tag);
    if (kept === undefined) reader.fail(cTag, `unknown tag id ${tag} (not in ${tagsFile})`);
    const count = reader.int(cCount);
    if (!kept || count < 1) continue;
    const tags = perBook[book];
    tags.set(tag, (tags.get(tag) ?? 0) + count);
  }
  // Map iteration follows first appearance, and sort is stable: ties keep the file's order.
  const tags = perBook.map((counts) =>
    Array.from(counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([tag]) => tagNames.get(tag) as string),
  );
  return { tags, rows };
}

/** Books, tag names and book tags, with the row counts of their files checked. */
function readCatalogueFiles(
  dir: string,
  files: Record<string, string>,
  tagsPerBook: number,
  options: DatasetLoadOptions,
) {
  const books = readBooks(files.items);
  const tagNames = readTagNames(files.tags);
  const bookTags = readBookTags(
    files.bookTags,
    books,
    tagNames,
    tagsPerBook,
    path.basename(files.items),
    path.basename(files.tags),
  );
  const source = DATASET_SOURCES["goodbooks-10k"];
  checkRowCount(source, dir, files.items, books.ids.length, options);
  checkRowCount(source, dir, files.tags, tagNames.size, options);
  checkRowCount(source, dir, files.bookTags, bookTags.rows, options);
  return { books, tags: bookTags.tags };
}

export interface GoodbooksCatalogueOptions extends DatasetLoadOptions {
  /** Keep only the `top` books with the most ratings (ratings_count), most-rated first. Default: all, in file order. */
  top?: number;
  /** Descriptive tags kept per book (default 8). */
  tagsPerBook?: number;
}

/**
 * The goodbooks-10k books as an item catalogue: ids (book_id), titles, authors, original
 * publication years (NaN where unknown) and descriptive tags. Needs books.csv, tags.csv and
 * book_tags.csv (or book_tags.csv.zip), not the ratings.
 */
export async function loadGoodbooksCatalogue(options: GoodbooksCatalogueOptions = {}): Promise<ItemCatalogue> {
  const { dir, files } = await resolveDataset("goodbooks-10k", { ...options, files: ["items", "tags", "bookTags"] });
  const { books, tags } = readCatalogueFiles(dir, files, options.tagsPerBook ?? DEFAULT_TAGS_PER_BOOK, options);
  let order = books.ids.map((_, i) => i);
  if (options.top !== undefined) {
    const count = (i: number) => (Number.isNaN(books.ratingsCounts[i]) ? -1 : books.ratingsCounts[i]);
    order = order.sort((a, b) => count(b) - count(a) || a - b).slice(0, options.top);
  }
  return {
    name: options.top === undefined ? "goodbooks-10k" : `goodbooks-10k (top ${order.length})`,
    ids: order.map((i) => String(books.ids[i])),
    titles: order.map((i) => books.titles[i]),
    authors: order.map((i) => books.authors[i]),
    years: Float64Array.from(order, (i) => books.years[i]),
    tags: order.map((i) => tags[i]),
  };
}

export interface GoodbooksOptions extends DatasetLoadOptions {
  /**
   * "full": ratings.csv, six million ratings (downloaded with the release archive if missing);
   * "sample": the publisher's 99-row samples/ratings.csv, for a quick look. Default "full".
   */
  ratings?: "full" | "sample";
  /** Descriptive tags kept per book (default 8). */
  tagsPerBook?: number;
}

/**
 * goodbooks-10k: 1–5 ratings of 10,000 books by 53,424 users, with titles, authors, years and
 * descriptive tags for every book. Timestamps are NaN; rows are in time order.
 */
export async function loadGoodbooks(options: GoodbooksOptions = {}): Promise<Interactions> {
  const ratingsKey = options.ratings === "sample" ? "sampleRatings" : "ratings";
  const { dir, files } = await resolveDataset("goodbooks-10k", {
    ...options,
    files: [ratingsKey, "items", "tags", "bookTags"],
  });
  const { books, tags } = readCatalogueFiles(dir, files, options.tagsPerBook ?? DEFAULT_TAGS_PER_BOOK, options);
  const source = DATASET_SOURCES["goodbooks-10k"];
  const raw = readRatingsTable(
    files[ratingsKey],
    { file: files[ratingsKey], delimiter: ",", header: { user: "user_id", item: "book_id", rating: "rating" } },
    { map: books.map, file: path.basename(files.items) },
    undefined,
    { scale: source.ratingScale, dataset: source.name, duplicates: options.duplicates },
  );
  checkRowCount(source, dir, files[ratingsKey], raw.records, options);
  return new Interactions({
    ...raw.columns,
    userIndex: intIdIndex(raw.userIds ?? []),
    itemIndex: intIdIndex(books.ids),
    itemInfo: { titles: books.titles, authors: books.authors, years: books.years, tags },
    name: options.ratings === "sample" ? "goodbooks-10k (sample)" : "goodbooks-10k",
  });
}
