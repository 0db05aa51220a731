// Reading delimited text files (CSV and MovieLens' tab, '|' and '::' formats) straight from their
// bytes: a cursor that splits one record at a time into field offsets and parses numbers without
// making strings, so a million-row file costs no per-row allocation. Bad input is reported by file,
// line and field.

import * as fs from "node:fs";
import * as path from "node:path";
import { isUtf8 } from "node:buffer";
import { gunzipSync, unzipSync } from "fflate";

/** Malformed input: names the file, the 1-based line and, where it applies, the field. */
export class DataFormatError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(file: string, line: number | undefined, field: string | undefined, problem: string) {
    const where = line === undefined ? file : `${file}:${line}`;
    super(field === undefined ? `${where}: ${problem}` : `${where}: field '${field}': ${problem}`);
    this.name = "DataFormatError";
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

/**
 * The bytes of a data file, decompressed when its name ends in `.gz` (gzip) or `.zip` (the member
 * named like the archive without `.zip`, or its only file).
 */
export function readDataFile(file: string): Buffer {
  const raw = fs.readFileSync(file);
  if (file.endsWith(".gz")) {
    try {
      return toBuffer(gunzipSync(raw));
    } catch (e) {
      throw new DataFormatError(file, undefined, undefined, `not a readable gzip file (${errorText(e)})`);
    }
  }
  if (file.endsWith(".zip")) {
    let members: Record<string, Uint8Array>;
    try {
      members = unzipSync(raw);
    } catch (e) {
      throw new DataFormatError(file, undefined, undefined, `not a readable zip file (${errorText(e)})`);
    }
    const files = Object.keys(members).filter((name) => !name.endsWith("/") && !name.startsWith("__MACOSX/"));
    const wanted = path.basename(file, ".zip");
    const member = files.find((name) => path.posix.basename(name) === wanted) ?? (files.length === 1 ? files[0] : undefined);
    if (member === undefined) {
      throw new DataFormatError(file, undefined, undefined, `zip holds no '${wanted}' (members: ${files.join(", ") || "none"})`);
    }
    return toBuffer(members[member]);
  }
  return raw;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The message of a thrown value, with the cause's message when there is one (fetch errors). */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
}

/** Throws a DataFormatError naming the first line that is not valid UTF-8. */
export function assertUtf8(bytes: Buffer, file: string): void {
  if (isUtf8(bytes)) return;
  let line = 1;
  let start = 0;
  for (let p = 0; p <= bytes.length; p++) {
    if (p === bytes.length || bytes[p] === LF) {
      if (!isUtf8(bytes.subarray(start, p))) break;
      line++;
      start = p + 1;
    }
  }
  throw new DataFormatError(file, line, undefined, "invalid UTF-8 (the file must be saved as UTF-8)");
}

const LF = 10;
const CR = 13;
const QUOTE = 34;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;

export interface DelimitedOptions {
  /** The file's name, for error messages. */
  file: string;
  /** Field separator: one or two characters, e.g. ",", "\t", "|", "::". */
  delimiter: string;
  /** RFC 4180 quoting: a field in double quotes may hold the delimiter, newlines and "" for ". */
  quoted?: boolean;
  /** How text fields are decoded; default "utf8". */
  encoding?: "utf8" | "latin1";
  /** Field names for error messages, e.g. ["user", "item", "rating", "timestamp"]. */
  names?: string[];
  /** Every record must have exactly this many fields (default: the length of `names`, if given). */
  fields?: number;
}

/**
 * A cursor over the records of a delimited file. `next()` moves to the next non-empty line and
 * splits it; fields are then read by position as numbers (parsed from the bytes) or strings.
 * `line` is the 1-based line where the current record starts. A UTF-8 byte-order mark is skipped.
 */
export class DelimitedReader {
  /** 1-based line number of the current record. */
  line = 0;
  /** Number of fields in the current record. */
  count = 0;
  readonly file: string;
  private readonly bytes: Buffer;
  private readonly d0: number;
  private readonly d1: number;
  private readonly quoted: boolean;
  private readonly encoding: "utf8" | "latin1";
  private names: string[];
  private fields: number;
  private starts = new Int32Array(32);
  private ends = new Int32Array(32);
  private escaped = new Uint8Array(32);
  private pos = 0;
  private nextLine = 1;

  constructor(bytes: Buffer, options: DelimitedOptions) {
    if (options.delimiter.length < 1 || options.delimiter.length > 2) {
      throw new Error(`DelimitedReader: delimiter must be 1 or 2 characters, got '${options.delimiter}'`);
    }
    this.bytes = bytes;
    this.file = options.file;
    this.d0 = options.delimiter.charCodeAt(0);
    this.d1 = options.delimiter.length === 2 ? options.delimiter.charCodeAt(1) : -1;
    this.quoted = options.quoted ?? false;
    this.encoding = options.encoding ?? "utf8";
    this.names = options.names ?? [];
    this.fields = options.fields ?? (options.names ? options.names.length : 0);
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) this.pos = 3;
  }

  /**
   * Reads the first record as a header and checks it: every name in `required` must be present.
   * Returns the header's names; later records must have as many fields.
   */
  readHeader(required: readonly string[] = []): string[] {
    if (!this.next()) throw new DataFormatError(this.file, 1, undefined, "the file is empty (expected a header line)");
    const header: string[] = [];
    for (let i = 0; i < this.count; i++) header.push(this.string(i).trim());
    for (const name of required) {
      if (!header.includes(name)) {
        throw new DataFormatError(this.file, this.line, undefined, `the header lacks column '${name}' (header: ${header.join(",")})`);
      }
    }
    this.names = header;
    this.fields = header.length;
    return header;
  }

  /** Moves to the next record; false at the end of the file. Throws on a wrong field count. */
  next(): boolean {
    const b = this.bytes;
    const n = b.length;
    let p = this.pos;
    // Skip blank lines, counting them.
    for (;;) {
      if (p >= n) {
        this.pos = p;
        return false;
      }
      if (b[p] === LF) {
        p++;
        this.nextLine++;
      } else if (b[p] === CR && (p + 1 === n || b[p + 1] === LF)) {
        p += p + 1 === n ? 1 : 2;
        this.nextLine++;
      } else {
        break;
      }
    }
    this.line = this.nextLine;
    this.count = 0;
    this.pos = this.quoted ? this.splitQuoted(p) : this.splitPlain(p);
    if (this.fields > 0 && this.count !== this.fields) {
      throw new DataFormatError(this.file, this.line, undefined, `expected ${this.fields} fields, found ${this.count}`);
    }
    return true;
  }

  private push(start: number, end: number, escaped: number): void {
    const k = this.count;
    if (k === this.starts.length) {
      const starts = new Int32Array(2 * k);
      const ends = new Int32Array(2 * k);
      const esc = new Uint8Array(2 * k);
      starts.set(this.starts);
      ends.set(this.ends);
      esc.set(this.escaped);
      this.starts = starts;
      this.ends = ends;
      this.escaped = esc;
    }
    this.starts[k] = start;
    this.ends[k] = end;
    this.escaped[k] = escaped;
    this.count = k + 1;
  }

  /** Splits an unquoted record starting at `p`; returns the position after its line end. */
  private splitPlain(p: number): number {
    const b = this.bytes;
    const n = b.length;
    const d0 = this.d0;
    const d1 = this.d1;
    let start = p;
    for (;;) {
      if (p >= n || b[p] === LF) {
        const end = p > start && b[p - 1] === CR ? p - 1 : p;
        this.push(start, end, 0);
        this.nextLine++;
        return p + 1;
      }
      if (b[p] === d0 && (d1 < 0 || b[p + 1] === d1)) {
        this.push(start, p, 0);
        p += d1 < 0 ? 1 : 2;
        start = p;
      } else {
        p++;
      }
    }
  }

  /** Splits a record with RFC 4180 quoting; a quoted field may span lines. */
  private splitQuoted(p: number): number {
    const b = this.bytes;
    const n = b.length;
    const d0 = this.d0;
    const d1 = this.d1;
    const firstLine = this.nextLine;
    for (;;) {
      // At the start of a field.
      if (p < n && b[p] === QUOTE) {
        const start = p + 1;
        let escaped = 0;
        p++;
        for (;;) {
          if (p >= n) {
            throw new DataFormatError(this.file, firstLine, this.nameOf(this.count), "a quoted field is not closed");
          }
          if (b[p] === QUOTE) {
            if (b[p + 1] === QUOTE) {
              escaped = 1;
              p += 2;
              continue;
            }
            break;
          }
          if (b[p] === LF) this.nextLine++;
          p++;
        }
        this.push(start, p, escaped);
        p++; // the closing quote
        if (p >= n || b[p] === LF || (b[p] === CR && (p + 1 === n || b[p + 1] === LF))) {
          this.nextLine++;
          return b[p] === CR ? p + 2 : p + 1;
        }
        if (b[p] === d0 && (d1 < 0 || b[p + 1] === d1)) {
          p += d1 < 0 ? 1 : 2;
          continue;
        }
        throw new DataFormatError(this.file, this.nextLine, this.nameOf(this.count - 1), "unexpected text after a closing quote");
      }
      const start = p;
      for (;;) {
        if (p >= n || b[p] === LF) {
          const end = p > start && b[p - 1] === CR ? p - 1 : p;
          this.push(start, end, 0);
          this.nextLine++;
          return p + 1;
        }
        if (b[p] === d0 && (d1 < 0 || b[p + 1] === d1)) {
          this.push(start, p, 0);
          p += d1 < 0 ? 1 : 2;
          break;
        }
        p++;
      }
    }
  }

  private nameOf(i: number): string {
    return this.names[i] ?? `column ${i + 1}`;
  }

  /** Throws a DataFormatError about field `i` of the current record. */
  fail(i: number, problem: string): never {
    throw new DataFormatError(this.file, this.line, this.nameOf(i), problem);
  }

  /** Field `i` as text (quotes removed, "" unescaped). */
  string(i: number): string {
    const s = this.bytes.toString(this.encoding, this.starts[i], this.ends[i]);
    return this.escaped[i] ? s.replace(/""/g, '"') : s;
  }

  /** Whether field `i` is empty. */
  isEmpty(i: number): boolean {
    return this.starts[i] === this.ends[i];
  }

  /** Field `i` as an integer (optional sign, decimal digits only). */
  int(i: number): number {
    const b = this.bytes;
    let p = this.starts[i];
    const e = this.ends[i];
    let negative = false;
    if (p < e && (b[p] === MINUS || b[p] === PLUS)) {
      negative = b[p] === MINUS;
      p++;
    }
    if (p === e) this.fail(i, `expected an integer, got "${this.string(i)}"`);
    let v = 0;
    for (; p < e; p++) {
      const digit = b[p] - ZERO;
      if (digit < 0 || digit > 9) this.fail(i, `expected an integer, got "${this.string(i)}"`);
      v = v * 10 + digit;
    }
    if (v > Number.MAX_SAFE_INTEGER) this.fail(i, `integer "${this.string(i)}" is too large`);
    return negative ? -v : v;
  }

  /**
   * Field `i`'s value when it is written as a canonical non-negative integer ("0", "42"; no sign,
   * spaces or leading zeros, at most 15 digits), else -1. Lets id columns skip making strings.
   */
  canonicalUint(i: number): number {
    const b = this.bytes;
    const s = this.starts[i];
    const e = this.ends[i];
    if (e === s || e - s > 15 || (b[s] === ZERO && e - s > 1)) return -1;
    let v = 0;
    for (let p = s; p < e; p++) {
      const digit = b[p] - ZERO;
      if (digit < 0 || digit > 9) return -1;
      v = v * 10 + digit;
    }
    return v;
  }

  /** Field `i` as a finite number; the common forms ("4", "3.5", "-2") are parsed from the bytes. */
  number(i: number): number {
    const b = this.bytes;
    let p = this.starts[i];
    const e = this.ends[i];
    let negative = false;
    if (p < e && (b[p] === MINUS || b[p] === PLUS)) {
      negative = b[p] === MINUS;
      p++;
    }
    let mantissa = 0;
    let digits = 0;
    let scale = 1;
    let seenDot = false;
    for (; p < e; p++) {
      const c = b[p];
      const digit = c - ZERO;
      if (digit >= 0 && digit <= 9) {
        mantissa = mantissa * 10 + digit;
        digits++;
        if (seenDot) scale *= 10;
      } else if (c === DOT && !seenDot) {
        seenDot = true;
      } else {
        break;
      }
    }
    // mantissa / scale is correctly rounded while both are exact (≤ 15 digits, scale ≤ 1e15).
    if (p === e && digits > 0 && digits <= 15) return (negative ? -mantissa : mantissa) / scale;
    return this.slowNumber(i);
  }

  private slowNumber(i: number): number {
    const text = this.string(i).trim();
    const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(v)) this.fail(i, `expected a number, got "${text}"`);
    return v;
  }

  /** Field `i` as a number, or NaN when the field is empty. */
  numberOrNaN(i: number): number {
    return this.isEmpty(i) ? NaN : this.number(i);
  }
}
