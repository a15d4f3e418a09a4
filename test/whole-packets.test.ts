import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WholePackets, type Salvage } from "../shared/pcap/whole-packets.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { pcapToPcapng } from "./helpers/pcapng.js";

let dir: string;
let pcap: Buffer;
/** End offset of each packet record in `pcap`. */
let recordEnds: number[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-whole-"));
  await writeSyntheticPcap(join(dir, "a.pcap"), { flows: 6, packetsPerFlow: 5, seed: 3 });
  pcap = await readFile(join(dir, "a.pcap"));
  recordEnds = [];
  for (let off = 24; off < pcap.length; ) recordEnds.push((off += 16 + pcap.readUInt32LE(off + 8)));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Feeds `bytes` in pieces of `size` (the last piece shorter). */
function trim(bytes: Buffer, size: number): { out: Buffer; salvage: Salvage | null } {
  const t = new WholePackets();
  const parts: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += size) parts.push(Buffer.from(t.push(bytes.subarray(off, off + size))));
  const end = t.end();
  parts.push(end.tail);
  return { out: Buffer.concat(parts), salvage: end.salvage };
}

const PIECES = [1, 7, 16, 100, 4096, 1 << 20];

test("a whole pcap passes unchanged, however it is split", () => {
  for (const size of PIECES) assert.deepEqual(trim(pcap, size), { out: pcap, salvage: null }, `pieces of ${size}`);
});

test("a pcap cut anywhere after its first packet is trimmed to its last whole packet, with the counts", () => {
  for (let cut = recordEnds[0]! + 1; cut < pcap.length; cut += 13) {
    const whole = recordEnds.filter((e) => e <= cut);
    const keep = whole.at(-1)!;
    for (const size of [1, 64, 1 << 20]) {
      const { out, salvage } = trim(pcap.subarray(0, cut), size);
      if (keep === cut) {
        assert.deepEqual(salvage, null, `cut ${cut} falls between packets: nothing to salvage`);
        assert.equal(out.length, cut);
      } else {
        assert.deepEqual(out, pcap.subarray(0, keep), `cut ${cut}, pieces of ${size}`);
        assert.deepEqual(salvage, { bytesKept: keep, packetsKept: whole.length, bytesDropped: cut - keep });
      }
    }
  }
});

test("a capture with no whole packet, an unknown format or a damaged record length is passed on untouched", () => {
  const headerAndPart = pcap.subarray(0, recordEnds[0]! - 5);
  assert.deepEqual(trim(headerAndPart, 7), { out: headerAndPart, salvage: null }, "no whole packet: Zeek refuses it as before");
  const text = Buffer.from("this is not a capture at all, just text\n".repeat(10));
  assert.deepEqual(trim(text, 5), { out: text, salvage: null });
  const damaged = Buffer.from(pcap);
  damaged.writeUInt32LE(0x7fffffff, recordEnds[2]! + 8);
  assert.deepEqual(trim(damaged.subarray(0, damaged.length - 3), 50), { out: damaged.subarray(0, damaged.length - 3), salvage: null });
});

test("pcapng, either byte order: trimmed to its last whole block, counting packet blocks", () => {
  for (const le of [true, false]) {
    const { bytes, blockEnds } = pcapToPcapng(pcap, le);
    for (const size of PIECES) assert.deepEqual(trim(bytes, size), { out: bytes, salvage: null });
    // Section header and interface come first; then one block per packet.
    for (const cut of [blockEnds[2]! + 1, blockEnds[5]! + 30, bytes.length - 1]) {
      const kept = blockEnds.filter((e) => e <= cut);
      const { out, salvage } = trim(bytes.subarray(0, cut), 33);
      assert.deepEqual(out, bytes.subarray(0, kept.at(-1)!), `cut at ${cut}, ${le ? "little" : "big"}-endian`);
      assert.deepEqual(salvage, { bytesKept: kept.at(-1)!, packetsKept: kept.length - 2, bytesDropped: cut - kept.at(-1)! });
    }
    const noPacket = bytes.subarray(0, blockEnds[2]! - 4);
    assert.deepEqual(trim(noPacket, 10), { out: noPacket, salvage: null });
  }
});
