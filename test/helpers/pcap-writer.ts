// Synthetic classic-pcap captures for tests and benchmarks, written as a
// stream so that even 1 GiB captures never sit in memory.
//
// Flow i (0-based) is:
//   - a DNS flow if dnsEvery > 0 and i % dnsEvery === 0: UDP to port 53,
//     alternating query / response (one A record), a new transaction id per
//     pair. It yields ceil(packetsPerFlow / 2) dns.log lines.
//   - otherwise a UDP flow to port 9999 if i % 4 === 3: alternating
//     datagrams of payloadBytes each (conn_state S0 or SF).
//   - otherwise a TCP flow to port 8080: SYN, SYN/ACK, ACK, then
//     packetsPerFlow - 5 data segments alternating, originator first, then a
//     FIN from each side (conn_state SF when packetsPerFlow >= 5; shorter
//     flows stop part-way through that sequence).
// Every flow has its own 5-tuple (10.x.x.x:ephemeral port -> 192.168.1.x), so
// the double writes exactly `flows` conn.log lines. Flows start 1 ms apart
// (further for flows of over 1000 packets) and end before the next starts, so
// timestamps only grow and finished flows expire as network time moves on.
// TCP/UDP checksums are left zero, as with checksum offloading (Zeek needs
// -C, which the product passes). The same options and seed always give the
// same bytes.

import fs from "node:fs";
import { once } from "node:events";

export interface SyntheticPcapOptions {
  readonly flows: number;
  /** Packets per flow (default 8). */
  readonly packetsPerFlow?: number;
  /** Payload bytes of TCP data segments and non-DNS UDP datagrams (default 100). */
  readonly payloadBytes?: number;
  /** PRNG seed for sequence numbers, ids and payload bytes (default 1). */
  readonly seed?: number;
  /** Every dnsEvery-th flow is DNS; 0 (default) for none. */
  readonly dnsEvery?: number;
  /** Capture start, seconds since the epoch (default 1700000000). */
  readonly startTime?: number;
}

export interface SyntheticPcapResult {
  /** File size. */
  readonly bytes: number;
  /** Complete packets in the file. */
  readonly packets: number;
  readonly flows: number;
  readonly dnsFlows: number;
  /** dns.log lines the capture yields (query/response pairs plus unanswered queries). */
  readonly dnsTransactions: number;
}

export interface TruncatedPcapResult extends SyntheticPcapResult {
  /**
   * Network time of the last complete packet as Zeek prints it (`%.6f`),
   * the prefix of its "failed to read a packet" error line.
   */
  readonly lastPacketTime: string;
  /** The libpcap message Zeek reports for the cut record. */
  readonly readError: string;
}

const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
const ETH_HEADER = 14;
const IP_HEADER = 20;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const CHUNK = 1024 * 1024;
/** The first chunk's size: most captures fit, and a job of 10,000 small ones does not zero 10 GB. */
const FIRST_CHUNK = 64 * 1024;
const POOL_SIZE = 64 * 1024;
const FLOW_GAP_US = 1000;
// Source ports come from the Linux ephemeral range, clear of every port Zeek
// treats as a likely server port (which would flip the flow's direction).
const FIRST_SOURCE_PORT = 32768;
const PORTS_PER_ADDRESS = 28232;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

interface Endpoint {
  readonly ip: number;
  readonly port: number;
  seq: number;
}

interface Packet {
  readonly tsUs: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly proto: 6 | 17;
  readonly tcpFlags: number;
  readonly payload: Buffer;
}

type FlowKind = "dns" | "udp" | "tcp";

interface Resolved {
  readonly flows: number;
  readonly packetsPerFlow: number;
  readonly payloadBytes: number;
  readonly seed: number;
  readonly dnsEvery: number;
  readonly startTime: number;
}

function resolve(o: SyntheticPcapOptions): Resolved {
  const r = {
    flows: o.flows,
    packetsPerFlow: o.packetsPerFlow ?? 8,
    payloadBytes: o.payloadBytes ?? 100,
    seed: o.seed ?? 1,
    dnsEvery: o.dnsEvery ?? 0,
    startTime: o.startTime ?? 1_700_000_000,
  };
  if (!Number.isInteger(r.flows) || r.flows < 0) throw new RangeError("flows must be a non-negative integer");
  if (!Number.isInteger(r.packetsPerFlow) || r.packetsPerFlow < 1) throw new RangeError("packetsPerFlow must be >= 1");
  if (r.payloadBytes < 1 || r.payloadBytes > 1400) throw new RangeError("payloadBytes must be within 1..1400");
  return r;
}

function kindOf(i: number, dnsEvery: number): FlowKind {
  if (dnsEvery > 0 && i % dnsEvery === 0) return "dns";
  return i % 4 === 3 ? "udp" : "tcp";
}

function dnsFlowCount(o: Resolved): number {
  return o.dnsEvery > 0 ? Math.ceil(o.flows / o.dnsEvery) : 0;
}

function encodeName(name: string): Buffer {
  const labels = name.split(".").map((label) => [Buffer.from([label.length]), Buffer.from(label, "ascii")]);
  return Buffer.concat([...labels.flat(), Buffer.from([0])]);
}

function dnsMessage(id: number, flow: number, response: boolean): Buffer {
  const question = Buffer.concat([encodeName(`host${flow}.example.com`), Buffer.from([0, 1, 0, 1])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(response ? 1 : 0, 6);
  if (!response) return Buffer.concat([header, question]);
  // Name pointer to the question, type A, class IN, TTL 300, 4 bytes of address.
  const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, (flow % 254) + 1]);
  return Buffer.concat([header, question, answer]);
}

/** The packets of flow `i`, in order. */
function* flowPackets(i: number, o: Resolved, next: () => number, pool: Buffer): Generator<Packet> {
  const kind = kindOf(i, o.dnsEvery);
  const index = Math.floor(i / PORTS_PER_ADDRESS);
  const orig: Endpoint = { ip: (10 << 24) + 1 + index, port: FIRST_SOURCE_PORT + (i % PORTS_PER_ADDRESS), seq: next() };
  const resp: Endpoint = {
    ip: ((192 << 24) | (168 << 16) | (1 << 8) | ((i % 200) + 1)) >>> 0,
    port: kind === "dns" ? 53 : kind === "udp" ? 9999 : 8080,
    seq: next(),
  };
  const gap = Math.max(FLOW_GAP_US, o.packetsPerFlow);
  const step = Math.max(1, Math.floor(gap / o.packetsPerFlow));
  const start = i * gap;
  const payload = (): Buffer => {
    const off = next() % (POOL_SIZE - o.payloadBytes);
    const bytes = Buffer.from(pool.subarray(off, off + o.payloadBytes));
    // A zero first byte keeps random data from resembling a protocol the double detects.
    bytes[0] = 0;
    return bytes;
  };
  const n = o.packetsPerFlow;
  if (kind !== "tcp") {
    let id = 0;
    for (let j = 0; j < n; j++) {
      const fromOrig = j % 2 === 0;
      if (fromOrig) id = next() & 0xffff;
      const body = kind === "dns" ? dnsMessage(id, i, !fromOrig) : payload();
      const [from, to] = fromOrig ? [orig, resp] : [resp, orig];
      yield { tsUs: start + j * step, from, to, proto: 17, tcpFlags: 0, payload: body };
    }
    return;
  }
  const none = Buffer.alloc(0);
  const plan: { fromOrig: boolean; flags: number; data: boolean }[] = [
    { fromOrig: true, flags: TCP_SYN, data: false },
    { fromOrig: false, flags: TCP_SYN | TCP_ACK, data: false },
    { fromOrig: true, flags: TCP_ACK, data: false },
  ];
  for (let d = 0; d < n - 5; d++) plan.push({ fromOrig: d % 2 === 0, flags: TCP_PSH | TCP_ACK, data: true });
  plan.push(
    { fromOrig: true, flags: TCP_FIN | TCP_ACK, data: false },
    { fromOrig: false, flags: TCP_FIN | TCP_ACK, data: false },
  );
  for (const [j, segment] of plan.slice(0, n).entries()) {
    const [from, to] = segment.fromOrig ? [orig, resp] : [resp, orig];
    const body = segment.data ? payload() : none;
    yield { tsUs: start + j * step, from, to, proto: 6, tcpFlags: segment.flags, payload: body };
    // SYN and FIN take one sequence number, data its length.
    from.seq = (from.seq + body.length + (segment.flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
  }
}

function ipChecksum(buf: Buffer, off: number): number {
  let sum = 0;
  for (let k = 0; k < IP_HEADER; k += 2) sum += buf.readUInt16BE(off + k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes one pcap record (header, Ethernet, IPv4, TCP/UDP, payload) at `off`; returns its length. */
function writeRecord(buf: Buffer, off: number, p: Packet, startTime: number): number {
  const l4 = p.proto === 6 ? TCP_HEADER : UDP_HEADER;
  const frame = ETH_HEADER + IP_HEADER + l4 + p.payload.length;
  buf.writeUInt32LE(startTime + Math.floor(p.tsUs / 1e6), off);
  buf.writeUInt32LE(p.tsUs % 1e6, off + 4);
  buf.writeUInt32LE(frame, off + 8);
  buf.writeUInt32LE(frame, off + 12);
  let o = off + RECORD_HEADER;
  buf.fill(0, o, o + frame - p.payload.length);
  // Locally administered MACs 02:00:<IPv4 address>.
  buf.writeUInt16BE(0x0200, o);
  buf.writeUInt32BE(p.to.ip >>> 0, o + 2);
  buf.writeUInt16BE(0x0200, o + 6);
  buf.writeUInt32BE(p.from.ip >>> 0, o + 8);
  buf.writeUInt16BE(0x0800, o + 12);
  o += ETH_HEADER;
  buf[o] = 0x45;
  buf.writeUInt16BE(IP_HEADER + l4 + p.payload.length, o + 2);
  buf[o + 8] = 64;
  buf[o + 9] = p.proto;
  buf.writeUInt32BE(p.from.ip >>> 0, o + 12);
  buf.writeUInt32BE(p.to.ip >>> 0, o + 16);
  buf.writeUInt16BE(ipChecksum(buf, o), o + 10);
  o += IP_HEADER;
  buf.writeUInt16BE(p.from.port, o);
  buf.writeUInt16BE(p.to.port, o + 2);
  if (p.proto === 6) {
    buf.writeUInt32BE(p.from.seq >>> 0, o + 4);
    buf.writeUInt32BE(p.tcpFlags & TCP_ACK ? p.to.seq >>> 0 : 0, o + 8);
    buf[o + 12] = (TCP_HEADER / 4) << 4;
    buf[o + 13] = p.tcpFlags;
    buf.writeUInt16BE(65535, o + 14);
  } else {
    buf.writeUInt16BE(UDP_HEADER + p.payload.length, o + 4);
  }
  p.payload.copy(buf, o + l4);
  return RECORD_HEADER + frame;
}

/** The global header of a little-endian microsecond Ethernet pcap. */
export function pcapHeader(): Buffer {
  const h = Buffer.alloc(PCAP_HEADER);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

interface RecordPlace {
  readonly offset: number;
  readonly length: number;
  /** Microseconds since the capture start. */
  readonly tsUs: number;
}

interface Written {
  readonly result: SyntheticPcapResult;
  readonly startTime: number;
  readonly last: RecordPlace | undefined;
  readonly beforeLast: RecordPlace | undefined;
}

async function write(path: string, options: SyntheticPcapOptions): Promise<Written> {
  const o = resolve(options);
  const next = prng(o.seed);
  const pool = Buffer.alloc(POOL_SIZE);
  // Through a DataView: the same bytes as writeUInt32LE at a third of its cost (the pool was
  // most of what writing a small capture cost).
  const view = new DataView(pool.buffer, pool.byteOffset, POOL_SIZE);
  for (let k = 0; k < POOL_SIZE; k += 4) view.setUint32(k, next(), true);
  const out = fs.createWriteStream(path);
  const failed = once(out, "error").then(([err]) => Promise.reject(err as Error));
  const flush = async (chunk: Buffer): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
  };
  let buf = Buffer.alloc(FIRST_CHUNK);
  let used = 0;
  let bytes = PCAP_HEADER;
  let packets = 0;
  let last: RecordPlace | undefined;
  let beforeLast: RecordPlace | undefined;
  await flush(pcapHeader());
  for (let i = 0; i < o.flows; i++) {
    for (const p of flowPackets(i, o, next, pool)) {
      if (buf.length - used < RECORD_HEADER + ETH_HEADER + IP_HEADER + TCP_HEADER + p.payload.length) {
        await flush(buf.subarray(0, used));
        buf = Buffer.alloc(CHUNK);
        used = 0;
      }
      const length = writeRecord(buf, used, p, o.startTime);
      beforeLast = last;
      last = { offset: bytes, length, tsUs: p.tsUs };
      used += length;
      bytes += length;
      packets++;
    }
  }
  await flush(buf.subarray(0, used));
  out.end();
  await Promise.race([once(out, "finish"), failed]);
  const dnsFlows = dnsFlowCount(o);
  return {
    result: { bytes, packets, flows: o.flows, dnsFlows, dnsTransactions: dnsFlows * Math.ceil(o.packetsPerFlow / 2) },
    startTime: o.startTime,
    last,
    beforeLast,
  };
}

/** Writes a synthetic capture (see the top of this file for its contents). */
export async function writeSyntheticPcap(path: string, options: SyntheticPcapOptions): Promise<SyntheticPcapResult> {
  return (await write(path, options)).result;
}

/**
 * Writes the same capture as writeSyntheticPcap, then cuts the last record
 * in the middle of its packet data, as an interrupted copy would. Zeek
 * reads the other packets, then fails with a fatal error (exit 1) and writes
 * no conn.log. Needs at least two packets.
 */
export async function writeTruncatedPcap(path: string, options: SyntheticPcapOptions): Promise<TruncatedPcapResult> {
  const { result, startTime, last, beforeLast } = await write(path, options);
  if (last === undefined || beforeLast === undefined) {
    throw new RangeError("a truncated capture needs at least two packets");
  }
  const captured = last.length - RECORD_HEADER;
  const kept = Math.floor(captured / 2);
  const bytes = last.offset + RECORD_HEADER + kept;
  await fs.promises.truncate(path, bytes);
  const seconds = startTime + Math.floor(beforeLast.tsUs / 1e6);
  return {
    ...result,
    bytes,
    packets: result.packets - 1,
    lastPacketTime: `${seconds}.${String(beforeLast.tsUs % 1e6).padStart(6, "0")}`,
    readError: `truncated dump file; tried to read ${captured} captured bytes, only got ${kept}`,
  };
}
