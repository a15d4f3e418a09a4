/**
 * The link types (LINKTYPE_* numbers, as in pcap headers and pcapng interface blocks) this
 * project reads, with the name a person is shown: the shard hash (address-pair.ts) reads each,
 * an upload refusal names them (docs/SHARDING.md lists what is read of each).
 */
const LINK_TYPES = {
  NULL: [0, "BSD loopback"], // 4-byte address family in the writer's byte order
  ETHERNET: [1, "Ethernet"],
  RAW_BSD: [12, "raw IP"],
  RAW_OPENBSD: [14, "raw IP"], // DLT_RAW as some systems number it in files
  PPP_SERIAL: [50, "PPP serial"], // PPP in HDLC-like framing (Cisco HDLC shares its layout)
  RAW: [101, "raw IP"],
  C_HDLC: [104, "Cisco HDLC"],
  IEEE802_11: [105, "802.11"],
  LOOP: [108, "OpenBSD loopback"], // address family in network byte order
  LINUX_SLL: [113, "Linux cooked"],
  IEEE802_11_RADIOTAP: [127, "802.11 radiotap"],
  IPV4: [228, "raw IPv4"],
  IPV6: [229, "raw IPv6"],
  NFLOG: [239, "Linux NFLOG"],
  LINUX_SLL2: [276, "Linux cooked v2"],
} as const satisfies Record<string, readonly [number, string]>;

type LinkTypeKey = keyof typeof LINK_TYPES;

/** The numbers, by name: `LinkTypes.ETHERNET` is 1. */
export const LinkTypes = Object.fromEntries(Object.entries(LINK_TYPES).map(([k, [n]]) => [k, n])) as { readonly [K in LinkTypeKey]: (typeof LINK_TYPES)[K][0] };

const NAMES: ReadonlyMap<number, string> = new Map(Object.values(LINK_TYPES));

/** "Ethernet" for 1; a number not in the table as "LINKTYPE n". */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE ${linkType}`;
}
