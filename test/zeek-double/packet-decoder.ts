// Link, network and transport decoding: just enough of each header to build
// Zeek's connection records (5-tuple, sizes, TCP flags and sequence numbers).

import { formatIPv4, formatIPv6, isLocalIPv4, isLocalIPv6, isMulticastIPv4, isMulticastIPv6 } from "./addresses.js";

export type Transport = "tcp" | "udp" | "icmp" | "unknown_transport";

export interface DecodedPacket {
  readonly transport: Transport;
  /** IP protocol number of the transport header (6, 17, 1, 58, ...). */
  readonly ipProto: number;
  readonly src: string;
  readonly dst: string;
  readonly srcLocal: boolean;
  readonly dstLocal: boolean;
  /** Multicast or limited broadcast: such a destination never becomes an originator. */
  readonly dstGroup: boolean;
  /** Ports for TCP/UDP; for ICMP the type and the counterpart type (or code); 0 otherwise. */
  readonly srcPort: number;
  readonly dstPort: number;
  /** Length of the IP packet according to its header. */
  readonly ipLength: number;
  /** Transport payload bytes according to the headers (not the snap length). */
  readonly payloadLength: number;
  /** Captured transport payload (may be shorter than payloadLength). */
  readonly payload: Buffer;
  readonly tcpFlags: number;
  readonly tcpSeq: number;
  readonly tcpAck: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW_BSD = 12;
const LINKTYPE_RAW_BSD_ALT = 14;
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);

/** Finds where the IP header starts, or -1 for non-IP frames (ARP, LLC, ...). */
function ipOffset(linkType: number, data: Buffer): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      let off = 12;
      let type = data.length >= 14 ? data.readUInt16BE(12) : 0;
      while (VLAN_ETHERTYPES.has(type) && data.length >= off + 6) {
        off += 4;
        type = data.readUInt16BE(off);
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? off + 2 : -1;
    }
    case LINKTYPE_LINUX_SLL:
      return data.length >= 16 && isIpEthertype(data.readUInt16BE(14)) ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
      return data.length >= 20 && isIpEthertype(data.readUInt16BE(0)) ? 20 : -1;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The address family is a 4-byte word (host order for NULL); any IP version byte follows.
      return data.length > 4 ? 4 : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD:
    case LINKTYPE_RAW_BSD_ALT:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return 0;
    default:
      return -1;
  }
}

function isIpEthertype(type: number): boolean {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
}

interface NetworkLayer {
  src: string;
  dst: string;
  srcLocal: boolean;
  dstLocal: boolean;
  dstGroup: boolean;
  ipLength: number;
  proto: number;
  /** Offset of the transport header in the frame. */
  transportOff: number;
  /** Transport length according to the IP header. */
  transportLength: number;
}

function decodeIPv4(data: Buffer, off: number): NetworkLayer | undefined {
  if (data.length < off + 20) return undefined;
  const ihl = ((data[off] ?? 0) & 0x0f) * 4;
  const ipLength = data.readUInt16BE(off + 2);
  // Later fragments carry no transport header; Zeek would reassemble them, the double skips them.
  if ((data.readUInt16BE(off + 6) & 0x1fff) !== 0 || ihl < 20) return undefined;
  const dstGroup = isMulticastIPv4(data, off + 16) || data.readUInt32BE(off + 16) === 0xffffffff;
  return {
    src: formatIPv4(data, off + 12),
    dst: formatIPv4(data, off + 16),
    srcLocal: isLocalIPv4(data, off + 12),
    dstLocal: isLocalIPv4(data, off + 16),
    dstGroup,
    ipLength,
    proto: data[off + 9] ?? 0,
    transportOff: off + ihl,
    transportLength: Math.max(0, ipLength - ihl),
  };
}

// Extension headers that may precede the transport header.
const IPV6_EXTENSIONS = new Set([0, 43, 44, 51, 60]);

function decodeIPv6(data: Buffer, off: number): NetworkLayer | undefined {
  if (data.length < off + 40) return undefined;
  const ipLength = 40 + data.readUInt16BE(off + 4);
  let proto = data[off + 6] ?? 0;
  let next = off + 40;
  while (IPV6_EXTENSIONS.has(proto) && data.length >= next + 8) {
    if (proto === 44 && (data.readUInt16BE(next + 2) & 0xfff8) !== 0) return undefined;
    const len = proto === 51 ? ((data[next + 1] ?? 0) + 2) * 4 : proto === 44 ? 8 : ((data[next + 1] ?? 0) + 1) * 8;
    proto = data[next] ?? 0;
    next += len;
  }
  return {
    src: formatIPv6(data, off + 8),
    dst: formatIPv6(data, off + 24),
    srcLocal: isLocalIPv6(data, off + 8),
    dstLocal: isLocalIPv6(data, off + 24),
    dstGroup: isMulticastIPv6(data, off + 24),
    ipLength,
    proto,
    transportOff: next,
    transportLength: Math.max(0, ipLength - (next - off)),
  };
}

// ICMP request types and the reply type that belongs to the same "connection".
const ICMP4_COUNTERPARTS = new Map([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [10, 9],
  [9, 10],
  [17, 18],
  [18, 17],
]);
const ICMP6_COUNTERPARTS = new Map([
  [128, 129],
  [129, 128],
  [133, 134],
  [134, 133],
  [135, 136],
  [136, 135],
  [130, 131],
  [131, 130],
  [139, 140],
  [140, 139],
]);

interface TransportFields {
  transport: Transport;
  srcPort: number;
  dstPort: number;
  payloadStart: number;
  payloadLength: number;
  tcpFlags: number;
  tcpSeq: number;
  tcpAck: number;
}

function transportFields(data: Buffer, net: NetworkLayer): TransportFields | undefined {
  const t = net.transportOff;
  switch (net.proto) {
    case 6: {
      if (data.length < t + 20) return undefined;
      const headerLength = ((data[t + 12] ?? 0) >> 4) * 4;
      return {
        transport: "tcp",
        srcPort: data.readUInt16BE(t),
        dstPort: data.readUInt16BE(t + 2),
        payloadStart: t + headerLength,
        payloadLength: net.transportLength - headerLength,
        tcpFlags: data[t + 13] ?? 0,
        tcpSeq: data.readUInt32BE(t + 4),
        tcpAck: data.readUInt32BE(t + 8),
      };
    }
    case 17:
      if (data.length < t + 8) return undefined;
      return {
        transport: "udp",
        srcPort: data.readUInt16BE(t),
        dstPort: data.readUInt16BE(t + 2),
        payloadStart: t + 8,
        payloadLength: data.readUInt16BE(t + 4) - 8,
        tcpFlags: 0,
        tcpSeq: 0,
        tcpAck: 0,
      };
    case 1:
    case 58: {
      if (data.length < t + 4) return undefined;
      const type = data[t] ?? 0;
      const counterparts = net.proto === 1 ? ICMP4_COUNTERPARTS : ICMP6_COUNTERPARTS;
      return {
        transport: "icmp",
        srcPort: type,
        // Zeek pairs requests with replies by keying on the counterpart type; one-way messages use the code.
        dstPort: counterparts.get(type) ?? data[t + 1] ?? 0,
        payloadStart: t + 8,
        payloadLength: net.transportLength - 8,
        tcpFlags: 0,
        tcpSeq: 0,
        tcpAck: 0,
      };
    }
    default:
      return {
        transport: "unknown_transport",
        srcPort: 0,
        dstPort: 0,
        payloadStart: t,
        payloadLength: 0,
        tcpFlags: 0,
        tcpSeq: 0,
        tcpAck: 0,
      };
  }
}

export function decodePacket(linkType: number, data: Buffer): DecodedPacket | undefined {
  const off = ipOffset(linkType, data);
  if (off < 0 || data.length <= off) return undefined;
  const version = (data[off] ?? 0) >> 4;
  const net = version === 4 ? decodeIPv4(data, off) : version === 6 ? decodeIPv6(data, off) : undefined;
  if (net === undefined) return undefined;
  const l4 = transportFields(data, net);
  if (l4 === undefined) return undefined;
  const payloadLength = Math.max(0, l4.payloadLength);
  // One object shape for every packet keeps the hot path monomorphic.
  return {
    transport: l4.transport,
    ipProto: net.proto,
    src: net.src,
    dst: net.dst,
    srcLocal: net.srcLocal,
    dstLocal: net.dstLocal,
    dstGroup: net.dstGroup,
    srcPort: l4.srcPort,
    dstPort: l4.dstPort,
    ipLength: net.ipLength,
    payloadLength,
    // Sliced by the header lengths, which also drops link-layer padding.
    payload: data.subarray(l4.payloadStart, l4.payloadStart + payloadLength),
    tcpFlags: l4.tcpFlags,
    tcpSeq: l4.tcpSeq,
    tcpAck: l4.tcpAck,
  };
}
