// Corpora shared by the tokenizer tests.

import { loadEmbeddedBooks } from "../../src/data/catalogue";

/** The embedded catalogue as training texts: each book's title, authors and tags (6,000 texts). */
export function catalogueTexts(): string[] {
  const books = loadEmbeddedBooks();
  const texts: string[] = [];
  books.titles.forEach((title, i) => texts.push(title, books.authors![i], books.tags[i].join(" ")));
  return texts;
}
