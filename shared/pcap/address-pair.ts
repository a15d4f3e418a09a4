/**
 * Which shard a frame belongs to: a symmetric hash of its outermost IP address pair, so both
 * directions of a connection, every connection between the same two hosts, and every fragment of
 * a datagram (fragments carry the addresses, not the ports) go to the same shard. Tunnels (GRE,
 * IP-in-IP, Teredo, VXLAN, GTP, …) are inside the outermost IP header, so they follow it too.
 * Frames with no IP header (ARP, LLDP, STP, encrypted 802.11, unknown link types) go to shard 0.
 * docs/SHARDING.md lists every link type and encapsulation read here.
 */
import { LinkTypes } from "./link-types.js";

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MULTI = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
/** More labels than this is not a real MPLS stack: the frame goes to shard 0. */
const MAX_MPLS_LABELS = 16;
const MAX_VLAN_TAGS = 8;

// murmur3_32 steps: a fast, well-mixed hash of a few 32-bit words.
function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, bytes: number): number {
  h ^= bytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * murmur3_32 (seed 0) of the two addresses of `width` bytes at `a` and `b`, the lower one (as
 * unsigned bytes) first: the same value whichever way the packet goes.
 */
export function addressPairHash(buf: Buffer, a: number, b: number, width: 4 | 16): number {
  let order = 0;
  for (let i = 0; i < width && order === 0; i += 4) order = buf.readUInt32BE(a + i) - buf.readUInt32BE(b + i);
  const [lo, hi] = order <= 0 ? [a, b] : [b, a];
  let h = 0;
  for (let i = 0; i < width; i += 4) h = mixWord(h, buf.readUInt32BE(lo + i));
  for (let i = 0; i < width; i += 4) h = mixWord(h, buf.readUInt32BE(hi + i));
  return finish(h, 2 * width);
}

/** The pair hash of the IP header at `at` (version from its first nibble), or -1 when there is none. */
function ipHash(buf: Buffer, at: number, end: number): number {
  if (at >= end) return -1;
  const version = buf[at]! >> 4;
  if (version === 4 && end - at >= 20) return addressPairHash(buf, at + 12, at + 16, 4);
  if (version === 6 && end - at >= 40) return addressPairHash(buf, at + 8, at + 24, 16);
  return -1;
}

/** An EtherType's payload at `at`, through VLAN/QinQ tags, MPLS labels and PPPoE sessions. */
function etherHash(buf: Buffer, type: number, at: number, end: number): number {
  for (let tags = 0; (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) && tags < MAX_VLAN_TAGS; tags++) {
    if (end - at < 4) return -1;
    type = buf.readUInt16BE(at + 2);
    at += 4;
  }
  switch (type) {
    case ETH_IPV4:
    case ETH_IPV6:
      return ipHash(buf, at, end);
    case ETH_MPLS:
    case ETH_MPLS_MULTI:
      // Labels until the bottom-of-stack bit; the payload's first nibble says IPv4 or IPv6
      // (pseudowires carrying Ethernet start with a control word or a MAC: not IP, shard 0).
      for (let labels = 0; labels < MAX_MPLS_LABELS && end - at >= 4; labels++) {
        const bottom = (buf[at + 2]! & 1) === 1;
        at += 4;
        if (bottom) return ipHash(buf, at, end);
      }
      return -1;
    case ETH_PPPOE_SESSION:
      return end - at >= 8 ? pppHash(buf, buf.readUInt16BE(at + 6), at + 8, end) : -1;
    default:
      return -1;
  }
}

function pppHash(buf: Buffer, protocol: number, at: number, end: number): number {
  return protocol === PPP_IPV4 || protocol === PPP_IPV6 ? ipHash(buf, at, end) : -1;
}

/** BSD address families for IPv6 differ by system; IPv4 is 2 everywhere. */
const AF_IPV4 = 2;
const AF_IPV6 = new Set([10, 24, 28, 30]);

function afHash(family: number, buf: Buffer, at: number, end: number): number {
  return family === AF_IPV4 || AF_IPV6.has(family) ? ipHash(buf, at, end) : -1;
}

/** 802.11 data frames: past the MAC header (and QoS control), an LLC/SNAP header gives the EtherType. */
function wifiHash(buf: Buffer, at: number, end: number): number {
  if (end - at < 24) return -1;
  const fc = buf[at]!;
  const flags = buf[at + 1]!;
  const type = (fc >> 2) & 3;
  const subtype = fc >> 4;
  // Only data frames carry IP; a protected frame's payload is encrypted.
  if (type !== 2 || (flags & 0x40) !== 0 || (subtype & 0x4) !== 0) return -1;
  let header = (flags & 0x03) === 0x03 ? 30 : 24;
  if ((subtype & 0x8) !== 0) header += 2;
  if ((flags & 0x80) !== 0 && (subtype & 0x8) !== 0) header += 4; // HT control
  const llc = at + header;
  if (end - llc < 8 || buf[llc] !== 0xaa || buf[llc + 1] !== 0xaa || buf[llc + 2] !== 0x03) return -1;
  return etherHash(buf, buf.readUInt16BE(llc + 6), llc + 8, end);
}

/** NFLOG: a 4-byte header (family, version, resource id), then TLVs; type 9 is the packet payload. */
function nflogHash(buf: Buffer, at: number, end: number): number {
  for (let tlv = at + 4; end - tlv >= 4; ) {
    const length = buf.readUInt16LE(tlv);
    const type = buf.readUInt16LE(tlv + 2);
    if (length < 4) return -1;
    if (type === 9) return ipHash(buf, tlv + 4, Math.min(end, tlv + length));
    tlv += (length + 3) & ~3;
  }
  return -1;
}

/** The address-pair hash of one frame of link type `linkType` in buf[at, end), or -1 when it has no IP header. */
export function frameHash(linkType: number, buf: Buffer, at: number, end: number): number {
  switch (linkType) {
    case LinkTypes.ETHERNET: {
      if (end - at < 14) return -1;
      return etherHash(buf, buf.readUInt16BE(at + 12), at + 14, end);
    }
    case LinkTypes.RAW:
    case LinkTypes.RAW_BSD:
    case LinkTypes.RAW_OPENBSD:
    case LinkTypes.IPV4:
    case LinkTypes.IPV6:
      return ipHash(buf, at, end);
    case LinkTypes.NULL: {
      if (end - at < 4) return -1;
      // Written in the capturing host's byte order: a family is small, so the non-zero half tells.
      const le = buf.readUInt32LE(at);
      return afHash(le < 0x10000 ? le : buf.readUInt32BE(at), buf, at + 4, end);
    }
    case LinkTypes.LOOP:
      return end - at < 4 ? -1 : afHash(buf.readUInt32BE(at), buf, at + 4, end);
    case LinkTypes.LINUX_SLL:
      return end - at < 16 ? -1 : etherHash(buf, buf.readUInt16BE(at + 14), at + 16, end);
    case LinkTypes.LINUX_SLL2:
      return end - at < 20 ? -1 : etherHash(buf, buf.readUInt16BE(at), at + 20, end);
    case LinkTypes.PPP_SERIAL:
    case LinkTypes.C_HDLC:
      // Address and control bytes (PPP in HDLC framing) or Cisco HDLC's address/control, then a
      // 16-bit protocol: PPP numbers for PPP, EtherTypes for Cisco HDLC.
      if (end - at < 4) return -1;
      return linkType === LinkTypes.C_HDLC ? etherHash(buf, buf.readUInt16BE(at + 2), at + 4, end) : pppHash(buf, buf.readUInt16BE(at + 2), at + 4, end);
    case LinkTypes.IEEE802_11:
      return wifiHash(buf, at, end);
    case LinkTypes.IEEE802_11_RADIOTAP:
      // Radiotap's own header length (little-endian) precedes the 802.11 frame.
      return end - at < 4 ? -1 : wifiHash(buf, at + buf.readUInt16LE(at + 2), end);
    case LinkTypes.NFLOG:
      return nflogHash(buf, at, end);
    default:
      return -1;
  }
}

/** The shard (0 … count-1) of one frame: by its address pair, or 0 when it has none. */
export function frameShard(linkType: number, buf: Buffer, at: number, end: number, count: number): number {
  if (count <= 1) return 0;
  const h = frameHash(linkType, buf, at, end);
  return h < 0 ? 0 : h % count;
}
