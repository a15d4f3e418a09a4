// known_hosts.log, from `local`'s protocols/conn/known-hosts: a local host (Site's private address
// space, as conn.log's local_orig/local_resp) is logged when it takes part in a TCP handshake
// (connection_established: the responder's SYN-ACK to a SYN), then not again until its entry
// expires a day later (Known::host_store_expiry, network time).

import { defineLog } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";

export const KNOWN_HOSTS_LOG = defineLog("known_hosts", "ts\thost", "time\taddr");

const EXPIRY = 86_400;

export class KnownHosts {
  private readonly expires = new Map<string, number>();

  constructor(private readonly sink: LogSink) {}

  /** connection_established at `ts` between these hosts, each with whether it is local. */
  established(ts: number, hosts: ReadonlyArray<{ host: string; local: boolean }>): void {
    for (const { host, local } of hosts) {
      if (!local || (this.expires.get(host) ?? -Infinity) > ts) continue;
      this.expires.set(host, ts + EXPIRY);
      this.sink.write(KNOWN_HOSTS_LOG, { ts, host });
    }
  }
}
