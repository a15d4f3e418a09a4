// stats.log (policy/misc/stats, part of `local`): per-interval packet and
// connection counts. Packet, byte and connection figures are real; event and
// timer counts only approximate Zeek's internals; the double has no file,
// DNS-manager or reassembly activity to report.

import { defineLog } from "../log-schema.js";
import type { Traffic } from "../traffic.js";

export const STATS_LOG = defineLog(
  "stats",
  "Stats::LOG",
  "ts\tpeer\tmem\tpkts_proc\tbytes_recv\tpkts_dropped\tpkts_link\tpkt_lag\tpkts_filtered\tevents_proc\tevents_queued\tactive_tcp_conns\tactive_udp_conns\tactive_icmp_conns\ttcp_conns\tudp_conns\ticmp_conns\ttimers\tactive_timers\tfiles\tactive_files\tdns_requests\tactive_dns_requests\treassem_tcp_size\treassem_file_size\treassem_frag_size\treassem_unknown_size",
  "time\tstring\tcount\tcount\tcount\tcount\tcount\tinterval\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount",
  "empty",
);

// Events Zeek dispatches while loading scripts, before any traffic.
const STARTUP_EVENTS = 524;

export class StatsReporter {
  private reports = 0;
  private last = { packets: 0, bytes: 0, tcp: 0, udp: 0, icmp: 0 };

  constructor(private readonly source: Traffic) {}

  report(ts: number): void {
    const { sink, flows, packets, bytes } = this.source;
    const now = { packets, bytes, tcp: flows.created("tcp"), udp: flows.created("udp"), icmp: flows.created("icmp") };
    const newConns = now.tcp - this.last.tcp + (now.udp - this.last.udp) + (now.icmp - this.last.icmp);
    const active = flows.active("tcp") + flows.active("udp") + flows.active("icmp");
    const queued = 12 + 2 * newConns;
    sink.write(STATS_LOG, {
      ts,
      peer: "zeek",
      mem: Math.round(process.memoryUsage().rss / 2 ** 20),
      pkts_proc: now.packets - this.last.packets,
      bytes_recv: now.bytes - this.last.bytes,
      events_proc: queued + (this.reports === 0 ? STARTUP_EVENTS : 0),
      events_queued: queued,
      active_tcp_conns: flows.active("tcp"),
      active_udp_conns: flows.active("udp"),
      active_icmp_conns: flows.active("icmp"),
      tcp_conns: now.tcp - this.last.tcp,
      udp_conns: now.udp - this.last.udp,
      icmp_conns: now.icmp - this.last.icmp,
      timers: 5 + 6 * newConns,
      active_timers: 3 * active,
      files: 0,
      active_files: 0,
      dns_requests: 0,
      active_dns_requests: 0,
      reassem_tcp_size: 0,
      reassem_file_size: 0,
      reassem_frag_size: 0,
      reassem_unknown_size: 0,
    });
    this.reports++;
    this.last = now;
  }
}
