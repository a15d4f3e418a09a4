import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { test } from "node:test";
import { createGunzip, gunzipSync } from "node:zlib";
import { createTarGz, TarEntryError, type TarEntry } from "../shared/archive/tar-gz.js";

/** Deterministic bytes that differ at every offset, so a shifted or dropped chunk shows. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed + (i >> 9)) & 0xff;
  return b;
}

/** Hands `data` over in chunks of `chunk` bytes, as a file stream would. */
async function* chunks(data: Buffer, chunk: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

test("GNU tar extracts every entry byte for byte: empty, odd-sized, over 1 MiB, several per folder", async () => {
  const files: Record<string, Buffer> = {
    "6f0c1d2e-0000-4000-8000-000000000001/conn.log": pattern(1_500_000, 1),
    "6f0c1d2e-0000-4000-8000-000000000001/empty.log": Buffer.alloc(0),
    "6f0c1d2e-0000-4000-8000-000000000001/dns.log": pattern(513, 2),
    "6f0c1d2e-0000-4000-8000-000000000001/block.log": pattern(1024, 3),
    "other/ünïcode.log": Buffer.from("a line\n"),
  };
  const mtime = new Date("2026-11-28T08:22:54Z");
  const entries: TarEntry[] = Object.entries(files).map(([name, data]) => ({ name, size: data.length, body: chunks(data, 64 * 1024 + 3), mtime }));
  const dir = await mkdtemp(join(tmpdir(), "brocapi-tar-"));
  try {
    const archive = join(dir, "logs.tar.gz");
    await writeFile(archive, await collect(createTarGz(entries)));
    const out = join(dir, "out");
    await mkdir(out);
    // GNU tar warns on stderr (a bad checksum, a lone zero block) even where it exits 0.
    const extract = spawnSync("tar", ["-xzf", archive, "-C", out], { encoding: "utf8" });
    assert.deepEqual([extract.status, extract.stderr], [0, ""]);
    const listing = execFileSync("tar", ["-tvzf", archive], { encoding: "utf8" }).trim().split("\n");
    assert.equal(listing.length, Object.keys(files).length);
    for (const line of listing) assert.match(line, /^-rw-r--r-- 0\/0 /);
    for (const [name, data] of Object.entries(files)) {
      const extracted = await readFile(join(out, name));
      assert.equal(createHash("sha256").update(extracted).digest("hex"), createHash("sha256").update(data).digest("hex"), name);
      assert.equal((await stat(join(out, name))).mtime.getTime(), mtime.getTime(), name);
    }
    // Whole blocks: the headers, bodies padded to 512, and the two zero blocks.
    const tar = gunzipSync(await readFile(archive));
    const padded = Object.values(files).reduce((n, d) => n + 512 + Math.ceil(d.length / 512) * 512, 0);
    assert.equal(tar.length, padded + 1024);
    assert.ok(tar.subarray(-1024).every((b) => b === 0));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("entries come from an async source, one body at a time, each read only when reached", async () => {
  const opened: string[] = [];
  async function* source(): AsyncGenerator<TarEntry> {
    for (const name of ["a.log", "b.log"]) {
      opened.push(`entry ${name}`);
      yield {
        name,
        size: 3,
        body: (async function* () {
          opened.push(`body ${name}`);
          yield Buffer.from(name.slice(0, 1).repeat(3));
        })(),
      };
    }
  }
  const tar = gunzipSync(await collect(createTarGz(source())));
  assert.deepEqual(opened, ["entry a.log", "body a.log", "entry b.log", "body b.log"]);
  assert.equal(tar.subarray(512, 515).toString(), "aaa");
  assert.equal(tar.subarray(1536, 1539).toString(), "bbb");
});

test("a body longer or shorter than its size fails the stream with TarEntryError", async () => {
  for (const [size, body] of [
    [3, [Buffer.from("four")]],
    [5, [Buffer.from("four")]],
  ] as const) {
    const stream = createTarGz([{ name: "x.log", size, body }]);
    await assert.rejects(collect(stream), (err: unknown) => err instanceof TarEntryError && /x\.log/.test(err.message));
  }
});

test("names that do not fit ustar are refused", async () => {
  for (const name of ["", "a".repeat(101), "é".repeat(51), "nul\0.log"]) {
    await assert.rejects(collect(createTarGz([{ name, size: 0, body: [] }])), TarEntryError, JSON.stringify(name));
  }
  // Exactly 100 bytes fits, with no NUL terminator in the header.
  const tar = gunzipSync(await collect(createTarGz([{ name: "n".repeat(100), size: 0, body: [] }])));
  assert.equal(tar.subarray(0, 100).toString(), "n".repeat(100));
});

test("a consumer that goes away stops the reading; a size above 8 GiB is written in base-256", async () => {
  let yielded = 0;
  let closed = false;
  const endless = (async function* () {
    try {
      for (;;) {
        yielded++;
        yield pattern(64 * 1024, yielded);
      }
    } finally {
      closed = true;
    }
  })();
  // Above ustar's 11 octal digits; the body is never read that far.
  const size = 2 ** 33 + 5;
  const stream = createTarGz([{ name: "huge.log", size, body: endless }]);
  const inflate = stream.pipe(createGunzip());
  let tar = Buffer.alloc(0);
  for await (const part of inflate) {
    tar = Buffer.concat([tar, part as Buffer]);
    if (tar.length >= 512) break;
  }
  stream.destroy();
  await finished(stream).catch(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(closed, "the body's iterator was closed");
  // Backpressure: only what the stream buffers hold was read, not the announced 8 GiB.
  assert.ok(yielded < 100, `read ${yielded} chunks of 64 KiB`);
  assert.equal(tar[124], 0x80);
  assert.equal(tar.readBigUInt64BE(128), BigInt(size));
  assert.equal(tar.subarray(257, 265).toString("latin1"), "ustar\x0000");
});
