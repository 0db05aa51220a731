// Regenerates datasets/goodbooks-10k-text/ (books.csv and SHA256SUMS) from goodbooks-10k:
//
//   RECSYS_DATA_DIR=../shared/datasets npx tsx scripts/build-embedded-dataset.ts
//
// Reads books.csv, tags.csv and book_tags.csv(.zip) from $RECSYS_DATA_DIR/goodbooks-10k (or the
// per-user cache, downloading the publisher's release archive if needed), keeps the 2,000 most-rated
// books with up to 8 descriptive tags each (see isShelfTag in src/data/goodbooks.ts), and writes
// the files through temp files and renames. The output is deterministic: rerunning it on the same
// input reproduces the committed bytes.

import * as fs from "node:fs";
import * as path from "node:path";
import { sha256Hex } from "../src/data/cache";
import { catalogueToCsv, EMBEDDED_BOOKS_DIR } from "../src/data/catalogue";
import { loadGoodbooksCatalogue } from "../src/data/goodbooks";

const BOOKS = 2000;
const TAGS_PER_BOOK = 8;

function writeAtomically(file: string, content: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, file);
}

async function main(): Promise<void> {
  const catalogue = await loadGoodbooksCatalogue({ top: BOOKS, tagsPerBook: TAGS_PER_BOOK });
  const dir = path.join(__dirname, "..", EMBEDDED_BOOKS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const csv = catalogueToCsv(catalogue);
  writeAtomically(path.join(dir, "books.csv"), csv);
  const sum = sha256Hex(Buffer.from(csv, "utf8"));
  writeAtomically(path.join(dir, "SHA256SUMS"), `${sum}  books.csv\n`);
  console.log(
    `${path.join(EMBEDDED_BOOKS_DIR, "books.csv")}: ${catalogue.ids.length} books, ${csv.length} characters, sha256 ${sum}`,
  );
}

main().catch((error: Error) => {
  console.error(`build-embedded-dataset failed: ${error.message}`);
  process.exit(1);
});
