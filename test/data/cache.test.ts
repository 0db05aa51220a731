import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { zipSync } from "fflate";
import {
  DATASET_NAMES,
  DATASET_SOURCES,
  dataDirectory,
  DatasetSource,
  DatasetUnavailableError,
  resolveDataset,
} from "../../src/data/cache";
import { listFiles, makeTempDir, quiet, removeTempDir, sharedDataset, writeFile } from "./fixtures";

const sha256 = (bytes: Uint8Array): string => crypto.createHash("sha256").update(bytes).digest("hex");

/** A local server whose handler each test sets; counts requests. */
class TestServer {
  requests = 0;
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end();
  private readonly server = http.createServer((req, res) => {
    this.requests++;
    this.handler(req, res);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  url(file: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${file}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("data/cache", () => {
  const archive = zipSync({
    "tiny/": new Uint8Array(0),
    "tiny/ratings.txt": Buffer.from("1 2 3\n"),
    "tiny/docs/README": Buffer.from("read me\n"),
  });
  let server: TestServer;
  let dir: string;

  function tinySource(overrides: Partial<DatasetSource> = {}): DatasetSource {
    return {
      name: "tiny",
      url: server.url("tiny.zip"),
      sha256: sha256(archive),
      files: { ratings: { paths: ["ratings.txt"] }, readme: { paths: ["docs/README"], optional: true } },
      checksums: { "ratings.txt": sha256(Buffer.from("1 2 3\n")) },
      terms: "test data",
      ...overrides,
    };
  }

  before(async () => {
    server = new TestServer();
    await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    dir = makeTempDir();
    server.requests = 0;
    server.handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/zip", "content-length": archive.length });
      res.end(Buffer.from(archive));
    };
  });
  afterEach(() => removeTempDir(dir));

  it("downloads, checks and extracts a missing data set once, stripping the archive's top folder", async () => {
    const found = await resolveDataset(tinySource(), { dataDir: dir, log: quiet });
    assert.equal(found.dir, path.join(dir, "tiny"));
    assert.deepEqual(found.files, {
      ratings: path.join(dir, "tiny", "ratings.txt"),
      readme: path.join(dir, "tiny", "docs", "README"),
    });
    assert.equal(fs.readFileSync(found.files.ratings, "utf8"), "1 2 3\n");
    assert.deepEqual(listFiles(dir), [path.join("tiny", "docs", "README"), path.join("tiny", "ratings.txt")]);
    assert.equal(server.requests, 1);
    await resolveDataset(tinySource(), { dataDir: dir, log: quiet, verify: true });
    assert.equal(server.requests, 1, "a cached data set is not downloaded again");
  });

  it("leaves no file behind when the archive's checksum does not match", async () => {
    const source = tinySource({ sha256: "0".repeat(64) });
    await assert.rejects(resolveDataset(source, { dataDir: dir, log: quiet }), (e: Error) => {
      assert.ok(!(e instanceof DatasetUnavailableError), "a damaged download must not pass for an absent data set");
      assert.match(
        e.message,
        /tiny: the archive from http:\/\/127\.0\.0\.1:\d+\/tiny\.zip has sha256 [0-9a-f]{64}, expected 0{64}; nothing was written/,
      );
      return true;
    });
    assert.deepEqual(listFiles(dir), []);
  });

  it("reports a server error and writes nothing", async () => {
    server.handler = (_req, res) => {
      res.writeHead(500, "Internal Server Error");
      res.end("oops");
    };
    await assert.rejects(
      resolveDataset(tinySource(), { dataDir: dir, log: quiet }),
      /could not download tiny from .*tiny\.zip: HTTP 500 Internal Server Error; set RECSYS_DATA_DIR to a folder holding tiny\//,
    );
    assert.deepEqual(listFiles(dir), []);
  });

  it("writes nothing when the connection drops mid-download", async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { "content-length": archive.length });
      res.write(Buffer.from(archive.subarray(0, 50)));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await assert.rejects(resolveDataset(tinySource(), { dataDir: dir, log: quiet }), /could not download tiny/);
    assert.deepEqual(listFiles(dir), []);
  });

  it("says how to work offline when the host cannot be reached", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const source = tinySource({ url: `http://127.0.0.1:${port}/tiny.zip` });
    await assert.rejects(resolveDataset(source, { dataDir: dir, log: quiet }), (e: Error) => {
      assert.ok(e instanceof DatasetUnavailableError, "callers with a fallback catch this class");
      assert.match(
        e.message,
        new RegExp(
          `^could not download tiny from http://127\\.0\\.0\\.1:${port}/tiny\\.zip: .*ECONNREFUSED.*; set RECSYS_DATA_DIR to a folder holding tiny/`,
        ),
      );
      return true;
    });
    assert.deepEqual(listFiles(dir), []);
  });

  it("does not download when downloads are off, and names what is missing", async () => {
    await assert.rejects(
      resolveDataset(tinySource(), { dataDir: dir, download: false, log: quiet }),
      DatasetUnavailableError,
    );
    await assert.rejects(
      resolveDataset(tinySource(), { dataDir: dir, download: false, log: quiet }),
      /tiny: ratings\.txt not found in .*tiny \(downloads are off\); set RECSYS_DATA_DIR/,
    );
    assert.equal(server.requests, 0);
  });

  it("says a data set folder this user may not read is unreadable, not missing, and downloads nothing", async function () {
    // root reads whatever the permissions say, so there is nothing to test as root.
    if (os.userInfo().uid === 0) return this.skip();
    const folder = path.dirname(writeFile(dir, "tiny/ratings.txt", "1 2 3\n"));
    fs.chmodSync(folder, 0o000);
    try {
      await assert.rejects(
        resolveDataset(tinySource(), { dataDir: dir, log: quiet }),
        /tiny\/ratings\.txt: permission denied \(EACCES\).*fix the permissions \(chmod\) rather than downloading it again/,
      );
      assert.equal(server.requests, 0);
    } finally {
      fs.chmodSync(folder, 0o755);
    }
  });

  it("uses files already present, trying each listed path in turn, and skips absent optional ones", async () => {
    writeFile(dir, "tiny/ratings.txt.gz", "x");
    const source = tinySource({
      files: { ratings: { paths: ["ratings.txt", "ratings.txt.gz"] }, readme: { paths: ["README"], optional: true } },
    });
    const found = await resolveDataset(source, { dataDir: dir, log: quiet });
    assert.deepEqual(found.files, { ratings: path.join(dir, "tiny", "ratings.txt.gz") });
    assert.equal(server.requests, 0);
  });

  it("verifies present files against known checksums only when asked", async () => {
    writeFile(dir, "tiny/ratings.txt", "tampered\n");
    await resolveDataset(tinySource(), { dataDir: dir, log: quiet });
    await assert.rejects(
      resolveDataset(tinySource(), { dataDir: dir, log: quiet, verify: true }),
      /ratings\.txt: sha256 [0-9a-f]{64} does not match the published/,
    );
  });

  it("refuses archive members that would land outside the folder", async () => {
    const evil = zipSync({ "ratings.txt": Buffer.from("1"), "../evil.txt": Buffer.from("x") });
    server.handler = (_req, res) => res.end(Buffer.from(evil));
    await assert.rejects(
      resolveDataset(tinySource({ sha256: sha256(evil) }), { dataDir: dir, log: quiet }),
      /unsafe member path '\.\.\/evil\.txt'/,
    );
    assert.deepEqual(listFiles(dir), []);
    assert.ok(!fs.existsSync(path.join(path.dirname(dir), "evil.txt")));
  });

  it("reports a data directory it cannot write to", async () => {
    const blocked = writeFile(dir, "not-a-folder", "a file where the data directory should be");
    await assert.rejects(
      resolveDataset(tinySource(), { dataDir: blocked, log: quiet }),
      /could not write tiny into .*not-a-folder.*tiny: .*; set RECSYS_DATA_DIR to a folder holding tiny\/, or set it to a writable folder/,
    );
    assert.deepEqual(listFiles(dir), ["not-a-folder"]);
  });

  it("fails when the archive lacks a needed file", async () => {
    const source = tinySource({ files: { ratings: { paths: ["missing.txt"] } } });
    await assert.rejects(
      resolveDataset(source, { dataDir: dir, log: quiet }),
      /the archive from .* holds no missing\.txt/,
    );
  });

  it("rejects unknown names", async () => {
    await assert.rejects(
      resolveDataset("ml-10m" as never, { dataDir: dir }),
      /unknown data set 'ml-10m' \(known: ml-100k, ml-1m, ml-latest-small, goodbooks-10k\)/,
    );
  });

  describe("dataDirectory", () => {
    const saved = { RECSYS_DATA_DIR: process.env.RECSYS_DATA_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
    afterEach(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });

    it("prefers the option, then RECSYS_DATA_DIR, then the per-user cache", () => {
      process.env.RECSYS_DATA_DIR = "/from/env";
      assert.equal(dataDirectory({ dataDir: "/from/option" }), path.resolve("/from/option"));
      assert.equal(dataDirectory(), path.resolve("/from/env"));
      delete process.env.RECSYS_DATA_DIR;
      process.env.XDG_CACHE_HOME = "/xdg";
      assert.equal(dataDirectory(), path.join("/xdg", "recsys-ts"));
      delete process.env.XDG_CACHE_HOME;
      assert.equal(dataDirectory(), path.join(os.homedir(), ".cache", "recsys-ts"));
    });
  });

  describe("the data set table", () => {
    it("names every data set with an https archive and a sha256", () => {
      for (const name of DATASET_NAMES) {
        const source = DATASET_SOURCES[name];
        assert.equal(source.name, name);
        assert.match(source.url, /^https:\/\//);
        assert.match(source.sha256, /^[0-9a-f]{64}$/);
        for (const sum of Object.values(source.checksums)) assert.match(sum, /^[0-9a-f]{64}$/);
      }
    });

    it("matches the shared copies' files where they are available", async function () {
      let checked = 0;
      for (const name of DATASET_NAMES) {
        const root = sharedDataset(name);
        if (!root) continue;
        const found = await resolveDataset(name, {
          dataDir: root,
          download: false,
          verify: true,
          files: name === "goodbooks-10k" ? ["items", "tags", "bookTags", "sampleRatings"] : undefined,
        });
        assert.ok(Object.keys(found.files).length >= 2);
        checked++;
      }
      if (checked === 0) this.skip();
    });
  });
});
