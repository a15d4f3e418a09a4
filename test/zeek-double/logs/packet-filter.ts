// packet_filter.log: the BPF filter Zeek installed at start-up. Its ts is
// wall-clock time, not network time.

import { defineLog } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";
import { wallClock } from "../zeek-format.js";

export const PACKET_FILTER_LOG = defineLog(
  "packet_filter",
  "ts\tnode\tfilter\tinit\tsuccess\tfailure_reason",
  "time\tstring\tstring\tbool\tbool\tstring",
);

export function writePacketFilter(sink: LogSink): void {
  sink.write(PACKET_FILTER_LOG, { ts: wallClock(), node: "zeek", filter: "ip or not ip", init: true, success: true });
}
