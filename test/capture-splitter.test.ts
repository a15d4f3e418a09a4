import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { addressPairHash, frameHash, frameShard } from "../shared/pcap/address-pair.js";
import { LinkTypes } from "../shared/pcap/link-types.js";
import { CaptureSplitter } from "../shared/pcap/capture-splitter.js";
import { selectShard } from "../shared/pcap/shard-filter.js";
import { recordBytes } from "./helpers/pcap-records.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { block as pcapngBlock, pcapToPcapng } from "./helpers/pcapng.js";

let dir: string;
let pcap: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-split-"));
  await writeSyntheticPcap(join(dir, "a.pcap"), { flows: 150, packetsPerFlow: 6, dnsEvery: 7, seed: 5 });
  pcap = await readFile(join(dir, "a.pcap"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Splits `bytes` fed in pieces of `size`; returns each shard's whole output. */
function split(bytes: Buffer, count: number, size: number): Buffer[] {
  const s = new CaptureSplitter(count);
  const parts: Buffer[][] = Array.from({ length: count }, () => []);
  for (let off = 0; off < bytes.length; off += size) s.push(bytes.subarray(off, off + size)).forEach((b, k) => parts[k]!.push(Buffer.from(b)));
  s.end().forEach((b, k) => parts[k]!.push(b));
  return parts.map((p) => Buffer.concat(p));
}

/** "a b" for an Ethernet/IPv4 record, the lower address first. */
function pairOf(record: Buffer): string {
  const ip = 16 + 14;
  const a = record.readUInt32BE(ip + 12);
  const b = record.readUInt32BE(ip + 16);
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

test("a pcap split N ways: every shard a valid pcap, every packet in exactly one, in order, one host pair per shard", () => {
  const all = recordBytes(pcap);
  for (const count of [1, 2, 3, 7]) {
    for (const size of [13, 4096, 1 << 20]) {
      const shards = split(pcap, count, size);
      const shardOfPair = new Map<string, number>();
      let total = 0;
      for (const [k, shard] of shards.entries()) {
        assert.deepEqual(shard.subarray(0, 24), pcap.subarray(0, 24), "every shard starts with the file header");
        const recs = recordBytes(shard);
        total += recs.length;
        for (const r of recs) {
          const pair = pairOf(r);
          assert.equal(shardOfPair.get(pair) ?? k, k, `host pair ${pair} in one shard`);
          shardOfPair.set(pair, k);
        }
        // A shard's records keep the capture's order: they are a subsequence of it.
        let at = 0;
        for (const r of recs) {
          while (at < all.length && !all[at]!.equals(r)) at++;
          assert.ok(at < all.length, "record found in order");
          at++;
        }
      }
      assert.equal(total, all.length, `count ${count}, pieces of ${size}`);
      if (count > 1) assert.ok(shards.every((s) => s.length > 24), `count ${count}: every shard has packets`);
    }
  }
});

test("selectShard yields exactly the splitter's shard", async () => {
  const shards = split(pcap, 4, 1 << 16);
  async function* source(): AsyncGenerator<Buffer> {
    for (let off = 0; off < pcap.length; off += 1000) yield pcap.subarray(off, off + 1000);
  }
  for (let k = 0; k < 4; k++) {
    const parts: Buffer[] = [];
    for await (const b of selectShard(source(), { index: k, count: 4 })) parts.push(Buffer.from(b));
    assert.deepEqual(Buffer.concat(parts), shards[k]);
  }
});

// ---- frames by hand ----

const V4 = { a: Buffer.from([10, 0, 0, 1]), b: Buffer.from([192, 168, 7, 9]) };
const V6 = { a: Buffer.from("20010db8000000000000000000000001", "hex"), b: Buffer.from("fe800000000000000000000000000042", "hex") };

function ipv4(src: Buffer, dst: Buffer, fragment = false): Buffer {
  const h = Buffer.alloc(28);
  h[0] = 0x45;
  h.writeUInt16BE(28, 2);
  if (fragment) h.writeUInt16BE(0x2000 | 185, 6); // more fragments, offset 1480
  h[9] = 17;
  src.copy(h, 12);
  dst.copy(h, 16);
  return h;
}

function ipv6(src: Buffer, dst: Buffer, fragmentHeader = false): Buffer {
  const h = Buffer.alloc(48);
  h[0] = 0x60;
  h.writeUInt16BE(8, 4);
  h[6] = fragmentHeader ? 44 : 17;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

const hashOf = (link: number, frame: Buffer): number => frameHash(link, frame, 0, frame.length);

test("the pair hash is symmetric, for IPv4 and IPv6, and differs between pairs", () => {
  const fwd = hashOf(LinkTypes.RAW, ipv4(V4.a, V4.b));
  assert.equal(hashOf(LinkTypes.RAW, ipv4(V4.b, V4.a)), fwd);
  assert.notEqual(hashOf(LinkTypes.RAW, ipv4(V4.a, Buffer.from([192, 168, 7, 10]))), fwd);
  const six = hashOf(LinkTypes.RAW, ipv6(V6.a, V6.b));
  assert.equal(hashOf(LinkTypes.RAW, ipv6(V6.b, V6.a)), six);
  const both = Buffer.concat([V4.a, V4.b]);
  assert.equal(addressPairHash(both, 0, 4, 4), addressPairHash(both, 4, 0, 4));
});

test("encapsulations hash the outermost IP pair; fragments by their addresses; non-IP frames go to shard 0", () => {
  const v4 = hashOf(LinkTypes.RAW, ipv4(V4.a, V4.b));
  const v6 = hashOf(LinkTypes.RAW, ipv6(V6.a, V6.b));
  const ip = ipv4(V4.a, V4.b);
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const le32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const be32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const macs = Buffer.alloc(12, 0xaa);
  const cases: [string, number, Buffer, number][] = [
    ["ethernet", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x0800), ip]), v4],
    ["ethernet ipv6 with a fragment header", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x86dd), ipv6(V6.a, V6.b, true)]), v6],
    ["ipv4 fragment", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x0800), ipv4(V4.b, V4.a, true)]), v4],
    ["802.1Q", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x8100), u16(5), u16(0x0800), ip]), v4],
    ["QinQ", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x88a8), u16(5), u16(0x8100), u16(7), u16(0x0800), ip]), v4],
    ["MPLS, two labels", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x8847), Buffer.from([0, 1, 0x20, 64]), Buffer.from([0, 2, 0x21, 64]), ip]), v4],
    ["PPPoE session", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x8864), Buffer.from([0x11, 0, 0, 1]), u16(30), u16(0x0021), ip]), v4],
    ["Linux cooked (SLL)", LinkTypes.LINUX_SLL, Buffer.concat([Buffer.alloc(14), u16(0x0800), ip]), v4],
    ["Linux cooked v2 (SLL2)", LinkTypes.LINUX_SLL2, Buffer.concat([u16(0x86dd), Buffer.alloc(18), ipv6(V6.b, V6.a)]), v6],
    ["BSD null, little-endian", LinkTypes.NULL, Buffer.concat([le32(2), ip]), v4],
    ["BSD null, big-endian", LinkTypes.NULL, Buffer.concat([be32(30), ipv6(V6.a, V6.b)]), v6],
    ["OpenBSD loop", LinkTypes.LOOP, Buffer.concat([be32(2), ip]), v4],
    ["raw IPv4 (228)", LinkTypes.IPV4, ip, v4],
    ["raw IPv6 (229)", LinkTypes.IPV6, ipv6(V6.a, V6.b), v6],
    ["PPP serial", LinkTypes.PPP_SERIAL, Buffer.concat([Buffer.from([0xff, 0x03]), u16(0x0021), ip]), v4],
    ["802.11 data, LLC/SNAP", LinkTypes.IEEE802_11, Buffer.concat([Buffer.from([0x08, 0x01]), Buffer.alloc(22), Buffer.from([0xaa, 0xaa, 3, 0, 0, 0]), u16(0x0800), ip]), v4],
    ["radiotap + 802.11 QoS data", LinkTypes.IEEE802_11_RADIOTAP, Buffer.concat([Buffer.from([0, 0, 8, 0, 0, 0, 0, 0]), Buffer.from([0x88, 0x01]), Buffer.alloc(24), Buffer.from([0xaa, 0xaa, 3, 0, 0, 0]), u16(0x0800), ip]), v4],
  ];
  for (const [name, link, frame, expected] of cases) assert.equal(hashOf(link, frame), expected, name);
  const none: [string, number, Buffer][] = [
    ["ARP", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x0806), Buffer.alloc(28)])],
    ["802.3 length + LLC", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x0026), Buffer.alloc(38)])],
    ["protected 802.11", LinkTypes.IEEE802_11, Buffer.concat([Buffer.from([0x08, 0x41]), Buffer.alloc(22), Buffer.alloc(40)])],
    ["unknown link type", 147, ip],
    ["frame cut before the IP header", LinkTypes.ETHERNET, Buffer.concat([macs, u16(0x0800), Buffer.from([0x45])])],
  ];
  for (const [name, link, frame] of none) {
    assert.equal(hashOf(link, frame), -1, name);
    assert.equal(frameShard(link, frame, 0, frame.length, 5), 0, `${name}: shard 0`);
  }
});

/** A pcapng of `le` byte order: one section, an Ethernet and a raw-IP interface, and EPBs on both. */
function twoInterfacePcapng(le: boolean): { bytes: Buffer; frames: { iface: number; data: Buffer }[] } {
  const block = (type: number, b: Buffer): Buffer => pcapngBlock(type, b, le);
  const body = (size: number, fill: (b: Buffer, u32: (v: number, at: number) => void, u16: (v: number, at: number) => void) => void): Buffer => {
    const b = Buffer.alloc(size);
    fill(b, (v, at) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at)), (v, at) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at)));
    return b;
  };
  const shb = block(0x0a0d0d0a, body(16, (b, u32, u16) => {
    u32(0x1a2b3c4d, 0);
    u16(1, 4);
    b.fill(0xff, 8, 16);
  }));
  const idb = (link: number): Buffer => block(1, body(8, (_, u32, u16) => {
    u16(link, 0);
    u32(65535, 4);
  }));
  const frames: { iface: number; data: Buffer }[] = [];
  const blocks = [shb, idb(LinkTypes.ETHERNET), idb(LinkTypes.RAW)];
  for (let i = 0; i < 40; i++) {
    const src = Buffer.from([10, 0, 0, i + 1]);
    const dst = Buffer.from([172, 16, 0, (i % 5) + 1]);
    const iface = i % 2;
    const ip = i % 3 === 0 ? ipv4(dst, src) : ipv4(src, dst);
    const data = iface === 0 ? Buffer.concat([Buffer.alloc(12, 1), Buffer.from([8, 0]), ip]) : ip;
    frames.push({ iface, data });
    blocks.push(block(6, Buffer.concat([body(20, (_, u32) => {
      u32(iface, 0);
      u32(0, 4);
      u32(i * 1000, 8);
      u32(data.length, 12);
      u32(data.length, 16);
    }), data])));
    if (i === 20) blocks.push(block(5, body(8, () => undefined))); // an interface statistics block
  }
  return { bytes: Buffer.concat(blocks), frames };
}

test("pcapng with two interfaces, either byte order: every shard keeps the section and both interfaces; packets by their interface's link type", () => {
  for (const le of [true, false]) {
    const { bytes, frames } = twoInterfacePcapng(le);
    const shards = split(bytes, 3, 57);
    const u32 = (b: Buffer, at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    let packets = 0;
    for (const [k, shard] of shards.entries()) {
      const types: number[] = [];
      for (let off = 0; off < shard.length; off += u32(shard, off + 4)) {
        const type = u32(shard, off);
        types.push(type);
        if (type !== 6) continue;
        packets++;
        const iface = u32(shard, off + 8);
        const data = shard.subarray(off + 28, off + 28 + u32(shard, off + 20));
        const link = iface === 0 ? LinkTypes.ETHERNET : LinkTypes.RAW;
        assert.equal(frameShard(link, data, 0, data.length, 3), k, "packet in its pair's shard");
      }
      assert.deepEqual(types.slice(0, 3), [0x0a0d0d0a, 1, 1], `shard ${k} starts with the section and both interfaces`);
      assert.ok(types.includes(5), `shard ${k} keeps the statistics block`);
    }
    assert.equal(packets, frames.length);
  }
});

test("pcap written big-endian, with the nanosecond magic, and as pcapng: the same packets split the same way", () => {
  const le = pcap;
  // The same capture written big-endian, and with the nanosecond magic.
  const be = Buffer.from(le);
  for (const at of [0, 8, 12, 16, 20]) be.writeUInt32BE(le.readUInt32LE(at), at);
  be.writeUInt16BE(le.readUInt16LE(4), 4);
  be.writeUInt16BE(le.readUInt16LE(6), 6);
  for (let off = 24; off < le.length; ) {
    for (let f = 0; f < 16; f += 4) be.writeUInt32BE(le.readUInt32LE(off + f), off + f);
    off += 16 + le.readUInt32LE(off + 8);
  }
  const ns = Buffer.from(le);
  ns.writeUInt32LE(0xa1b23c4d, 0);
  const reference = split(le, 3, 4096).map((s) => recordBytes(s).length);
  assert.deepEqual(split(ns, 3, 4096).map((s) => recordBytes(s).length), reference);
  assert.deepEqual(split(be, 3, 4096).map((s) => recordBytes(s).length), reference);
  // A pcapng of the same packets splits the same way.
  const ng = pcapToPcapng(pcap).bytes;
  const ngCounts = split(ng, 3, 999).map((s) => {
    let n = 0;
    for (let off = 0; off < s.length; off += s.readUInt32LE(off + 4)) if (s.readUInt32LE(off) === 6) n++;
    return n;
  });
  assert.deepEqual(ngCounts, reference);
});

test("damage and a cut tail go to shard 0 (its Zeek reports them as it would unsharded); not a capture: all to shard 0", () => {
  const cut = pcap.subarray(0, pcap.length - 10);
  const shards = split(cut, 3, 500);
  assert.equal(shards.reduce((n, s) => n + s.length, 0) - 2 * 24, cut.length, "every byte in exactly one shard");
  const damaged = Buffer.from(pcap);
  const second = 24 + 16 + damaged.readUInt32LE(24 + 8);
  damaged.writeUInt32LE(1 << 30, second + 8); // an impossible record length
  const d = split(damaged, 3, 4096);
  assert.ok(d[0]!.subarray(d[0]!.length - (damaged.length - second)).equals(damaged.subarray(second)), "the rest from the damage on is shard 0's");
  assert.equal(d[1]!.length + d[2]!.length <= 2 * 24 + second, true);
  const text = Buffer.from("this is not a capture, just some text that is long enough");
  const t = split(text, 2, 7);
  assert.deepEqual(t[0], text);
  assert.equal(t[1]!.length, 0);
});
