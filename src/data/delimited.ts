// Reading delimited text files (CSV and MovieLens' tab, '|' and '::' formats) straight from their
// bytes: a cursor that splits one record at a time into field offsets and parses numbers without
// making strings, so a million-row file costs no per-row allocation. Files are read in chunks
// (gzip decompressed chunk by chunk, its CRC-32 and length checked), so a file of any size loads
// in memory for its records' columns only. Bad input is reported by file, line and field.

import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { isUtf8 } from "node:buffer";
import { Gunzip, unzipSync } from "fflate";

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

/** A data file that cannot be opened or read: names the path and says why (`code` is Node's, e.g. "EACCES"). */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "DataFileError";
  }
}

/** The DataFileError for a failed open, stat or read of `file`. */
export function fileError(file: string, e: unknown): DataFileError {
  if (e instanceof DataFileError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? "EIO";
  switch (code) {
    case "ENOENT":
      return new DataFileError(file, code, "not found (ENOENT)");
    case "EACCES":
    case "EPERM":
      // Not "missing": downloading again would not help, and may fail the same way.
      return new DataFileError(
        file,
        code,
        `permission denied (${code}): this user may not read the file or a folder above it; fix the permissions (chmod) rather than downloading it again`,
      );
    case "EISDIR":
      return new DataFileError(file, code, "is a folder, expected a file (EISDIR)");
    default:
      return new DataFileError(file, code, errorText(e));
  }
}

/** Largest file `readDataFile` reads whole (Node's limit for one read); larger files must be streamed. */
const WHOLE_FILE_LIMIT = 2 ** 31 - 1;

/** Bytes per chunk read from disk. */
const CHUNK_BYTES = 1 << 20;

/** A file's bytes in chunks, in order. */
export interface ByteSource {
  /** The next chunk, or null at the end. */
  read(): Buffer | null;
  /**
   * Reads the rest of the input only to check its integrity (a gzip CRC), throwing if it is
   * damaged. Called before reporting malformed content, which a damaged archive explains better.
   */
  verifyRest?(): void;
}

/** An open regular file read sequentially in chunks; positional reads leave the sequence alone. */
class FileChunks implements ByteSource {
  readonly size: number;
  private position = 0;

  constructor(
    readonly file: string,
    readonly fd: number,
  ) {
    let stat: fs.Stats;
    try {
      stat = fs.fstatSync(fd);
    } catch (e) {
      throw fileError(file, e);
    }
    if (stat.isDirectory()) throw new DataFileError(file, "EISDIR", "is a folder, expected a file");
    if (!stat.isFile()) throw new DataFileError(file, "EINVAL", "is not a regular file");
    this.size = stat.size;
  }

  read(): Buffer | null {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const n = this.readAt(chunk, this.position);
    this.position += n;
    return n === 0 ? null : n < chunk.length ? chunk.subarray(0, n) : chunk;
  }

  /** Fills `into` from `position` as far as the file goes; returns the bytes read. */
  readAt(into: Buffer, position: number): number {
    let total = 0;
    try {
      while (total < into.length) {
        const n = fs.readSync(this.fd, into, total, into.length - total, position + total);
        if (n === 0) break;
        total += n;
      }
    } catch (e) {
      throw fileError(this.file, e);
    }
    return total;
  }
}

/**
 * Gzip decompressed chunk by chunk (single or concatenated members). fflate inflates; each
 * member's CRC-32 and length (ISIZE) are checked against its trailer, which fflate does not do,
 * so a flipped bit or a cut is an error rather than wrong data.
 */
class GunzipChunks implements ByteSource {
  private readonly inflater: Gunzip;
  private readonly output: Buffer[] = [];
  private crc = 0;
  private size = 0;
  private done = false;

  constructor(private readonly raw: FileChunks) {
    this.inflater = new Gunzip({}, (data) => {
      if (data.length === 0) return;
      this.crc = zlib.crc32(data, this.crc);
      this.size += data.length;
      this.output.push(toBuffer(data));
    });
    // A new member starts at `offset`: the previous one's 8-byte trailer ends there, and fflate has
    // already emitted all of that member's data.
    this.inflater.onmember = (offset) => {
      this.checkTrailer(offset - 8);
      this.checkHeader(offset);
    };
    this.checkHeader(0);
  }

  read(): Buffer | null {
    while (this.output.length === 0 && !this.done) {
      const chunk = this.raw.read();
      try {
        if (chunk) this.inflater.push(chunk, false);
        else {
          this.done = true;
          this.inflater.push(new Uint8Array(0), true);
        }
      } catch (e) {
        if (e instanceof DataFormatError || e instanceof DataFileError) throw e;
        throw new DataFormatError(
          this.raw.file,
          undefined,
          undefined,
          `not a readable gzip file (${errorText(e)}); delete it and download it again`,
        );
      }
      if (this.done) this.checkTrailer(this.raw.size - 8);
    }
    return this.output.shift() ?? null;
  }

  verifyRest(): void {
    while (this.read() !== null);
  }

  private damaged(problem: string): DataFormatError {
    return new DataFormatError(
      this.raw.file,
      undefined,
      undefined,
      `damaged gzip file: ${problem} (a corrupt or cut copy); delete it and download it again`,
    );
  }

  /** RFC 1952 asks a decompressor to refuse reserved flags (they could announce fields it would misread); fflate ignores them. */
  private checkHeader(position: number): void {
    const header = Buffer.alloc(4);
    if (this.raw.readAt(header, position) < 4 || header[0] !== 0x1f || header[1] !== 0x8b || header[2] !== 8) {
      throw new DataFormatError(
        this.raw.file,
        undefined,
        undefined,
        "not a readable gzip file (no gzip header); delete it and download it again",
      );
    }
    if (header[3] & 0xe0) throw this.damaged(`reserved header flags set (${hex(header[3]).slice(6)})`);
  }

  private checkTrailer(position: number): void {
    const trailer = Buffer.alloc(8);
    const damaged = (problem: string) => this.damaged(problem);
    if (position < 0 || this.raw.readAt(trailer, position) < 8) throw damaged("the file ends before its gzip trailer");
    const crc = trailer.readUInt32LE(0);
    if (crc !== this.crc >>> 0) {
      throw damaged(`the CRC-32 of the decompressed data is ${hex(this.crc)}, the file records ${hex(crc)}`);
    }
    const size = trailer.readUInt32LE(4);
    if (size !== this.size % 2 ** 32)
      throw damaged(`${this.size} bytes decompressed, the file records ${size} (mod 2^32)`);
    this.crc = 0;
    this.size = 0;
  }
}

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

/** One buffer handed out as the only chunk (an unzipped member, or bytes already in memory). */
export class BufferSource implements ByteSource {
  private taken = false;

  constructor(private readonly bytes: Buffer) {}

  read(): Buffer | null {
    if (this.taken) return null;
    this.taken = true;
    return this.bytes;
  }
}

function openFile(file: string): FileChunks {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw fileError(file, e);
  }
  try {
    return new FileChunks(file, fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/**
 * Calls `use` with the bytes of a data file in chunks, decompressed when its name ends in `.gz`
 * (gzip, streamed) or `.zip` (the member named like the archive without `.zip`, or its only file;
 * unzipped whole). The file is closed when `use` returns or throws.
 */
export function withDataFile<T>(file: string, use: (source: ByteSource) => T): T {
  const raw = openFile(file);
  try {
    if (file.endsWith(".gz")) return use(new GunzipChunks(raw));
    if (file.endsWith(".zip")) return use(new BufferSource(unzipMember(file, readAll(raw))));
    return use(raw);
  } finally {
    fs.closeSync(raw.fd);
  }
}

function readAll(raw: FileChunks): Buffer {
  if (raw.size > WHOLE_FILE_LIMIT) {
    throw new DataFileError(
      raw.file,
      "ERR_FS_FILE_TOO_LARGE",
      `${gib(raw.size)} is too large to read whole (the limit is 2 GiB); decompress or split it`,
    );
  }
  const bytes = Buffer.allocUnsafe(raw.size);
  const n = raw.readAt(bytes, 0);
  return n < bytes.length ? bytes.subarray(0, n) : bytes;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function unzipMember(file: string, raw: Buffer): Buffer {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(raw);
  } catch (e) {
    throw new DataFormatError(file, undefined, undefined, `not a readable zip file (${errorText(e)})`);
  }
  const files = Object.keys(members).filter((name) => !name.endsWith("/") && !name.startsWith("__MACOSX/"));
  const wanted = path.basename(file, ".zip");
  const member =
    files.find((name) => path.posix.basename(name) === wanted) ?? (files.length === 1 ? files[0] : undefined);
  if (member === undefined) {
    throw new DataFormatError(
      file,
      undefined,
      undefined,
      `zip holds no '${wanted}' (members: ${files.join(", ") || "none"})`,
    );
  }
  return toBuffer(members[member]);
}

/**
 * The whole bytes of a (small) data file, decompressed as `withDataFile` does. Files over 2 GiB
 * are refused with a message; read those with `withDataFile` and a DelimitedReader instead.
 */
export function readDataFile(file: string): Buffer {
  return withDataFile(file, (source) => {
    if (source instanceof FileChunks) return readAll(source);
    const chunks: Buffer[] = [];
    let total = 0;
    for (let chunk = source.read(); chunk !== null; chunk = source.read()) {
      total += chunk.length;
      if (total > WHOLE_FILE_LIMIT) {
        throw new DataFileError(
          file,
          "ERR_FS_FILE_TOO_LARGE",
          "decompresses to more than 2 GiB, too large to read whole",
        );
      }
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  });
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

/** Throws a DataFormatError naming the first line that is not valid UTF-8; `bytes` start at line `firstLine`. */
export function assertUtf8(bytes: Buffer, file: string, firstLine = 1): void {
  if (isUtf8(bytes)) return;
  let line = firstLine;
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
  /** Check that the input is valid UTF-8 as it is read, naming the first bad line (default false). */
  validateUtf8?: boolean;
  /** Field names for error messages, e.g. ["user", "item", "rating", "timestamp"]. */
  names?: string[];
  /** Every record must have exactly this many fields (default: the length of `names`, if given). */
  fields?: number;
}

/** A record longer than this is taken for a file that is not delimited text (say, binary). */
const MAX_RECORD_BYTES = 64 * 2 ** 20;

/** What splitting a record found: a record, the end of the input, or the need for more input. */
const RECORD = 1;
const END = 0;
const MORE = -1;

/**
 * A cursor over the records of a delimited file. `next()` moves to the next non-empty line and
 * splits it; fields are then read by position as numbers (parsed from the bytes) or strings.
 * `line` is the 1-based line where the current record starts. A UTF-8 byte-order mark is skipped.
 *
 * The input is a buffer or a ByteSource: from a source, the reader holds a window of the file
 * (the current record and the rest of the last chunk) and reads the next chunk when a record
 * runs past its end, so memory does not grow with the file.
 */
export class DelimitedReader {
  /** 1-based line number of the current record. */
  line = 0;
  /** Number of fields in the current record. */
  count = 0;
  readonly file: string;
  private bytes: Buffer;
  private readonly source: ByteSource | undefined;
  /** No more input beyond `bytes`. */
  private ended: boolean;
  private readonly d0: number;
  private readonly d1: number;
  private readonly quoted: boolean;
  private readonly encoding: "utf8" | "latin1";
  private readonly validateUtf8: boolean;
  private names: string[];
  private fields: number;
  private starts = new Int32Array(32);
  private ends = new Int32Array(32);
  private escaped = new Uint8Array(32);
  private pos = 0;
  private nextLine = 1;
  /** Line number at `bytes[0]`, and how far `bytes` has been checked as UTF-8 (always a line start). */
  private windowLine = 1;
  private checked = 0;
  private started = false;

  constructor(input: Buffer | ByteSource, options: DelimitedOptions) {
    if (options.delimiter.length < 1 || options.delimiter.length > 2) {
      throw new Error(`DelimitedReader: delimiter must be 1 or 2 characters, got '${options.delimiter}'`);
    }
    this.file = options.file;
    this.d0 = options.delimiter.charCodeAt(0);
    this.d1 = options.delimiter.length === 2 ? options.delimiter.charCodeAt(1) : -1;
    this.quoted = options.quoted ?? false;
    this.encoding = options.encoding ?? "utf8";
    this.validateUtf8 = options.validateUtf8 ?? false;
    this.names = options.names ?? [];
    this.fields = options.fields ?? (options.names ? options.names.length : 0);
    if (Buffer.isBuffer(input)) {
      this.bytes = input;
      this.ended = true;
      this.start();
    } else {
      this.bytes = Buffer.alloc(0);
      this.source = input;
      this.ended = false;
    }
  }

  /** On the first bytes: skip a byte-order mark, check UTF-8. */
  private start(): void {
    const b = this.bytes;
    if (b.length < 3 && !this.ended) return; // too short to tell a byte-order mark yet
    this.started = true;
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.pos = this.checked = 3;
    this.checkUtf8();
  }

  /**
   * Reads more input into the window, keeping the bytes from `pos` (an unfinished record). A long
   * record gets at least as many new bytes as it has, so that it is split again only a few times.
   */
  private refill(): void {
    const tail = this.bytes.subarray(this.pos);
    if (tail.length > MAX_RECORD_BYTES) {
      this.failRecord(
        this.nextLine,
        undefined,
        "a record longer than 64 MiB: this is not a delimited text file, or a quote is not closed",
      );
    }
    const parts = tail.length === 0 ? [] : [tail];
    let added = 0;
    do {
      const chunk = this.source!.read();
      if (chunk === null) {
        this.ended = true;
        break;
      }
      parts.push(chunk);
      added += chunk.length;
    } while (added < tail.length);
    this.checked = Math.max(0, this.checked - this.pos);
    this.windowLine = this.nextLine;
    this.pos = 0;
    this.bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (!this.started) this.start();
    else this.checkUtf8();
  }

  /** Checks the window's complete lines (all of it at the end) as UTF-8. LF never occurs inside a UTF-8 sequence. */
  private checkUtf8(): void {
    if (!this.validateUtf8 || !this.started) return;
    const b = this.bytes;
    const end = this.ended ? b.length : b.lastIndexOf(LF) + 1;
    if (end <= this.checked) return;
    const part = b.subarray(this.checked, end);
    if (!isUtf8(part)) {
      let line = this.windowLine;
      for (let p = b.indexOf(LF); p !== -1 && p < this.checked; p = b.indexOf(LF, p + 1)) line++;
      assertUtf8(part, this.file, line);
    }
    this.checked = end;
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
        throw new DataFormatError(
          this.file,
          this.line,
          undefined,
          `the header lacks column '${name}' (header: ${header.join(",")})`,
        );
      }
    }
    this.names = header;
    this.fields = header.length;
    return header;
  }

  /** Moves to the next record; false at the end of the file. Throws on a wrong field count. */
  next(): boolean {
    for (;;) {
      const pos = this.pos;
      const nextLine = this.nextLine;
      const found = this.split();
      if (found !== MORE) return found === RECORD;
      // The record runs past the window: start it again with more input.
      this.pos = pos;
      this.nextLine = nextLine;
      this.refill();
    }
  }

  private split(): number {
    const b = this.bytes;
    const n = b.length;
    let p = this.pos;
    // Skip blank lines, counting them.
    for (;;) {
      if (p >= n) {
        if (!this.ended || !this.started) return MORE;
        this.pos = p;
        return END;
      }
      if (b[p] === LF) {
        p++;
        this.nextLine++;
      } else if (b[p] === CR && p + 1 === n && !this.ended) {
        return MORE;
      } else if (b[p] === CR && (p + 1 === n || b[p + 1] === LF)) {
        p += p + 1 === n ? 1 : 2;
        this.nextLine++;
      } else {
        break;
      }
    }
    this.pos = p;
    this.line = this.nextLine;
    this.count = 0;
    const end = this.quoted ? this.splitQuoted(p) : this.splitPlain(p);
    if (end < 0) return MORE;
    this.pos = end;
    if (this.fields > 0 && this.count !== this.fields) {
      this.failRecord(this.line, undefined, `expected ${this.fields} fields, found ${this.count}`);
    }
    return RECORD;
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

  /** Splits an unquoted record starting at `p`; returns the position after its line end, or MORE. */
  private splitPlain(p: number): number {
    const b = this.bytes;
    const n = b.length;
    const d0 = this.d0;
    const d1 = this.d1;
    let start = p;
    for (;;) {
      if (p >= n || b[p] === LF) {
        if (p >= n && !this.ended) return MORE;
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

  /** Splits a record with RFC 4180 quoting (a quoted field may span lines); returns as splitPlain does. */
  private splitQuoted(p: number): number {
    const b = this.bytes;
    const n = b.length;
    const d0 = this.d0;
    const d1 = this.d1;
    const firstLine = this.nextLine;
    // Near the window's end a quote, CR or delimiter may continue in the next chunk.
    const more = !this.ended;
    for (;;) {
      // At the start of a field.
      if (p < n && b[p] === QUOTE) {
        const start = p + 1;
        let escaped = 0;
        p++;
        for (;;) {
          if (p >= n || (more && p + 1 >= n && b[p] === QUOTE)) {
            if (more) return MORE;
            this.failRecord(firstLine, this.nameOf(this.count), "a quoted field is not closed");
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
        if (more && p + 1 >= n) return MORE;
        if (p >= n || b[p] === LF || (b[p] === CR && (p + 1 === n || b[p + 1] === LF))) {
          this.nextLine++;
          return b[p] === CR ? p + 2 : p + 1;
        }
        if (b[p] === d0 && (d1 < 0 || b[p + 1] === d1)) {
          p += d1 < 0 ? 1 : 2;
          continue;
        }
        this.failRecord(this.nextLine, this.nameOf(this.count - 1), "unexpected text after a closing quote");
      }
      const start = p;
      for (;;) {
        if (p >= n || b[p] === LF) {
          if (p >= n && more) return MORE;
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

  /**
   * Throws a DataFormatError about the current input. A damaged archive (a bad gzip CRC further
   * on) explains malformed content better, so the rest of a compressed input is checked first.
   */
  private failRecord(line: number, field: string | undefined, problem: string): never {
    this.source?.verifyRest?.();
    throw new DataFormatError(this.file, line, field, problem);
  }

  private nameOf(i: number): string {
    return this.names[i] ?? `column ${i + 1}`;
  }

  /** Throws a DataFormatError about field `i` of the current record. */
  fail(i: number, problem: string): never {
    this.failRecord(this.line, this.nameOf(i), problem);
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
