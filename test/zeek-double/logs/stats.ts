// stats.log (policy/misc/stats, part of `local`): per-interval packet and
// connection counts, as Zeek computes them from the traffic.

import { defineLog } from "../log-schema.js";
import type { Traffic } from "../traffic.js";

export const STATS_LOG = defineLog(
  "stats",
  "ts\tpeer\tmem\tpkts_proc\tbytes_recv\tpkts_dropped\tpkts_link\tpkt_lag\tpkts_filtered\tevents_proc\tevents_queued\tactive_tcp_conns\tactive_udp_conns\tactive_icmp_conns\ttcp_conns\tudp_conns\ticmp_conns\ttimers\tactive_timers\tfiles\tactive_files\tdns_requests\tactive_dns_requests\treassem_tcp_size\treassem_file_size\treassem_frag_size\treassem_unknown_size",
  "time\tstring\tcount\tcount\tcount\tcount\tcount\tinterval\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount\tcount",
  "empty",
);

export class StatsReporter {
  private last = { packets: 0, bytes: 0, tcp: 0, udp: 0, icmp: 0 };

  constructor(private readonly source: Traffic) {}

  report(ts: number): void {
    const { sink, flows, packets, bytes } = this.source;
    const now = { packets, bytes, tcp: flows.created("tcp"), udp: flows.created("udp"), icmp: flows.created("icmp") };
    // Zeek's own figures (memory, events, timers, file and DNS-manager activity, reassembly
    // buffers) stay unset: the double cannot know them, and a made-up number would pass for one.
    sink.write(STATS_LOG, {
      ts,
      peer: "zeek",
      pkts_proc: now.packets - this.last.packets,
      bytes_recv: now.bytes - this.last.bytes,
      active_tcp_conns: flows.active("tcp"),
      active_udp_conns: flows.active("udp"),
      active_icmp_conns: flows.active("icmp"),
      tcp_conns: now.tcp - this.last.tcp,
      udp_conns: now.udp - this.last.udp,
      icmp_conns: now.icmp - this.last.icmp,
    });
    this.last = now;
  }
}
