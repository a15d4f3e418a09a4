// dns.log: the request/reply matching of Zeek's base/protocols/dns/main.zeek
// (pending queues per transaction id, logging once both sides were seen,
// unmatched messages logged when the connection goes away). UDP only.

import { parseDnsMessage, type DnsMessage } from "../dns-message.js";
import type { Flow } from "../flow-table.js";
import { defineLog, type LogRecord } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";
import type { DecodedPacket } from "../packet-decoder.js";
import { DNS_CLASSES, DNS_OPCODES, DNS_QUERY_TYPES, DNS_RCODES, NETBIOS_OPCODES, nameOr } from "./dns-consts.js";

export const DNS_LOG = defineLog(
  "dns",
  "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\topcode\topcode_name",
  "time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\tcount\tstring",
);

const NETBIOS_PORT = 137;
// DNS::max_pending_msgs and DNS::max_pending_query_ids.
const MAX_PENDING = 50;

/** DNS::Info plus the saw_query/saw_reply state. */
interface DnsInfo {
  record: Record<string, LogRecord[string]>;
  answers: string[];
  ttls: number[];
  sawQuery: boolean;
  sawReply: boolean;
}

type Pending = Map<number, DnsInfo[]>;

interface DnsState {
  firstMessage: boolean;
  pendingQuery: DnsInfo | undefined;
  pendingQueries: Pending;
  pendingReplies: Pending;
}

/**
 * decode_netbios_name(): pairs of letters 'A'+nibble give up to 15 name
 * bytes; decoding stops at the first byte that C's (signed char) test
 * `isalnum || ispunct || c < 3` rejects, typically the space padding.
 */
function decodeNetbiosName(name: string): string {
  const upper = name.toUpperCase();
  let out = "";
  for (let i = 0; i < 15; i++) {
    const hi = (upper.charCodeAt(i * 2) || 0x41) - 0x41;
    const lo = (upper.charCodeAt(i * 2 + 1) || 0x41) - 0x41;
    const byte = ((hi << 4) + lo) & 0xff;
    const graphic = byte > 0x20 && byte < 0x7f;
    if (!graphic && byte >= 3 && byte < 0x80) break;
    out += graphic ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

export class DnsTracker {
  private readonly states = new Map<Flow, DnsState>();

  constructor(private readonly sink: LogSink) {}

  /** Handles one UDP payload of a connection with the DNS analyzer attached. */
  message(flow: Flow, ts: number, p: DecodedPacket, fromOrig: boolean): void {
    const msg = parseDnsMessage(p.payload, flow.respP === NETBIOS_PORT);
    if (msg === undefined) return;
    let state = this.states.get(flow);
    if (state === undefined) {
      state = { firstMessage: true, pendingQuery: undefined, pendingQueries: new Map(), pendingReplies: new Map() };
      this.states.set(flow, state);
    }
    // A reply seen first from the originator means the roles were guessed wrong.
    if (state.firstMessage && msg.qr && fromOrig && !p.dstGroup) flow.flipRoles();
    state.firstMessage = false;
    if (msg.confirmed && flow.service === undefined) flow.addService("dns");
    // base/protocols/dns only tracks standard queries.
    if (msg.opcode !== 0) return;
    const info = this.setSession(state, flow, ts, msg);
    for (const q of msg.questions) {
      if (!msg.qr) this.request(info, flow, msg, q.name, q.qtype, q.qclass);
      else if (msg.ancount === 0 && msg.nscount === 0 && msg.arcount === 0) info.record["rejected"] = true;
    }
    if (msg.qr) {
      for (const answer of msg.answers) {
        if (answer.reply === undefined) continue;
        info.record["query"] ??= answer.name;
        info.record["AA"] = msg.aa;
        info.record["RA"] = msg.ra;
        if (info.record["rtt"] === undefined) {
          const rtt = ts - Number(info.record["ts"]);
          // Zero means only the reply was seen.
          info.record["rtt"] = rtt === 0 ? undefined : rtt;
        }
        if (answer.reply !== "") {
          info.answers.push(answer.reply);
          info.ttls.push(answer.ttl);
        }
      }
      info.sawReply = true;
    } else {
      info.sawQuery = true;
    }
    if (info.sawQuery && info.sawReply) this.log(info);
  }

  private request(info: DnsInfo, flow: Flow, msg: DnsMessage, name: string, qtype: number, qclass: number): void {
    const r = info.record;
    r["RD"] = msg.rd;
    r["TC"] = msg.tc;
    r["qclass"] = qclass;
    r["qclass_name"] = nameOr(DNS_CLASSES, qclass, "qclass");
    r["qtype"] = qtype;
    r["qtype_name"] = nameOr(DNS_QUERY_TYPES, qtype, "query");
    r["Z"] = msg.z;
    if (flow.respP === NETBIOS_PORT) {
      r["query"] = decodeNetbiosName(name);
      // The SRV type number is NetBIOS's node status request.
      if (qtype === 33) r["qtype_name"] = "NBSTAT";
    } else {
      r["query"] = name;
    }
  }

  private newInfo(flow: Flow, ts: number, msg: DnsMessage): DnsInfo {
    return {
      record: {
        ts,
        uid: flow.uid,
        "id.orig_h": flow.origH,
        "id.orig_p": flow.origP,
        "id.resp_h": flow.respH,
        "id.resp_p": flow.respP,
        proto: "udp",
        trans_id: msg.id,
        AA: false,
        TC: false,
        RD: false,
        RA: false,
        Z: 0,
        rejected: false,
      },
      answers: [],
      ttls: [],
      sawQuery: false,
      sawReply: false,
    };
  }

  /** The DNS::set_session hook: pairs the message with a pending one or queues a new info. */
  private setSession(state: DnsState, flow: Flow, ts: number, msg: DnsMessage): DnsInfo {
    let info: DnsInfo;
    if (!msg.qr) {
      const matched = this.pop(state.pendingReplies, msg.id);
      if (matched !== undefined) info = matched;
      else {
        info = this.newInfo(flow, ts, msg);
        if (state.pendingQuery === undefined) state.pendingQuery = info;
        else this.enqueue(state.pendingQueries, msg.id, info);
      }
    } else if (state.pendingQuery !== undefined && state.pendingQuery.record["trans_id"] === msg.id) {
      info = state.pendingQuery;
      // Refill the fast path, preferring a query with the same id, to keep queue order.
      const sameId = state.pendingQueries.get(msg.id)?.length ? msg.id : undefined;
      const nextId = sameId ?? state.pendingQueries.keys().next().value;
      state.pendingQuery = nextId === undefined ? undefined : this.pop(state.pendingQueries, nextId);
    } else {
      const matched = this.pop(state.pendingQueries, msg.id);
      if (matched !== undefined) info = matched;
      else {
        info = this.newInfo(flow, ts, msg);
        this.enqueue(state.pendingReplies, msg.id, info);
      }
    }
    const r = info.record;
    r["opcode"] = msg.opcode;
    r["opcode_name"] =
      flow.respP === NETBIOS_PORT
        ? nameOr(NETBIOS_OPCODES, msg.opcode, "netbios-opcode")
        : nameOr(DNS_OPCODES, msg.opcode, "opcode");
    if (msg.qr) {
      r["rcode"] = msg.rcode;
      r["rcode_name"] = nameOr(DNS_RCODES, msg.rcode, "rcode");
      if (msg.rcode !== 0 && msg.qdcount === 0) r["rejected"] = true;
    }
    return info;
  }

  private pop(pending: Pending, id: number): DnsInfo | undefined {
    const queue = pending.get(id);
    const info = queue?.shift();
    if (queue?.length === 0) pending.delete(id);
    return info;
  }

  private enqueue(pending: Pending, id: number, info: DnsInfo): void {
    let queue = pending.get(id);
    if (queue === undefined) {
      // Give up on ever matching when too many ids are outstanding.
      if (pending.size > MAX_PENDING) this.logAll(pending);
      queue = [];
      pending.set(id, queue);
    } else if (queue.length > MAX_PENDING) {
      queue.splice(0).forEach((i) => this.log(i));
    }
    queue.push(info);
  }

  private logAll(pending: Pending): void {
    for (const queue of pending.values()) queue.forEach((i) => this.log(i));
    pending.clear();
  }

  private log(info: DnsInfo): void {
    const answers = info.answers.length > 0 ? { answers: info.answers, TTLs: info.ttls } : {};
    this.sink.write(DNS_LOG, { ...info.record, ...answers });
  }

  /** DNS::finalize_dns: the connection is going away, log whatever is unmatched. */
  finalize(flow: Flow): void {
    const state = this.states.get(flow);
    if (state === undefined) return;
    this.states.delete(flow);
    if (state.pendingQuery !== undefined) this.log(state.pendingQuery);
    this.logAll(state.pendingQueries);
    this.logAll(state.pendingReplies);
  }
}
