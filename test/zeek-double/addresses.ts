// IP address rendering and classification, matching what Zeek prints
// (inet_ntop text) and what it treats as local (Site::local_nets).

export function formatIPv4(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** glibc inet_ntop(AF_INET6): longest zero run of two or more groups becomes "::". */
export function formatIPv6(buf: Buffer, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(off + i * 2));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    // IPv4-compatible and IPv4-mapped addresses end in dotted-quad form.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIPv4(buf, off + 12);
      break;
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

type Prefix = readonly [value: number, bits: number];

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// Zeek 8's Site::private_address_space (IPv4 part), which Site::local_nets
// inherits because Site::private_address_space_is_local defaults to T.
const PRIVATE_V4: readonly Prefix[] = [
  [v4(0, 0, 0, 0), 8],
  [v4(10, 0, 0, 0), 8],
  [v4(100, 64, 0, 0), 10],
  [v4(127, 0, 0, 0), 8],
  [v4(169, 254, 0, 0), 16],
  [v4(172, 16, 0, 0), 12],
  [v4(192, 0, 0, 0), 24],
  [v4(192, 0, 2, 0), 24],
  [v4(192, 168, 0, 0), 16],
  [v4(198, 18, 0, 0), 15],
  [v4(198, 51, 100, 0), 24],
  [v4(203, 0, 113, 0), 24],
  [v4(224, 0, 0, 0), 24],
  [v4(239, 0, 0, 0), 8],
  [v4(240, 0, 0, 0), 4],
  [v4(255, 255, 255, 255), 32],
];

function inV4(addr: number, prefixes: readonly Prefix[]): boolean {
  for (const [value, bits] of prefixes) {
    if (addr >>> (32 - bits) === value >>> (32 - bits)) return true;
  }
  return false;
}

/** IPv6 prefixes as [first 64 bits as bigint, prefix length]. */
const PRIVATE_V6: readonly (readonly [bigint, number])[] = [
  [0x0064ff9b00010000n, 48],
  [0x0100000000000000n, 64],
  [0x2001000000000000n, 23],
  [0x20010db800000000n, 32],
  [0xfc00000000000000n, 7],
  [0xfe80000000000000n, 10],
  [0xfec0000000000000n, 10],
];

export function isLocalIPv4(buf: Buffer, off: number): boolean {
  return inV4(buf.readUInt32BE(off), PRIVATE_V4);
}

export function isLocalIPv6(buf: Buffer, off: number): boolean {
  const high = buf.readBigUInt64BE(off);
  const low = buf.readBigUInt64BE(off + 8);
  // :: and ::1
  if (high === 0n && low <= 1n) return true;
  // 6to4 (2002::/16) embeds an IPv4 address; Zeek lists the 6to4 form of every private IPv4 block.
  if (high >> 48n === 0x2002n) return inV4(Number((high >> 16n) & 0xffffffffn), PRIVATE_V4);
  return PRIVATE_V6.some(([value, bits]) => high >> BigInt(64 - bits) === value >> BigInt(64 - bits));
}

export function isMulticastIPv4(buf: Buffer, off: number): boolean {
  return ((buf[off] ?? 0) & 0xf0) === 0xe0;
}

export function isMulticastIPv6(buf: Buffer, off: number): boolean {
  return buf[off] === 0xff;
}
