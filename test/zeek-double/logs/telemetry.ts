// telemetry.log (policy/frameworks/telemetry/log, part of `local`): periodic
// snapshots of Zeek's metrics. The metric set and its order follow a real
// Zeek 8.2.2 snapshot; traffic, log and process figures are this run's own,
// internal figures Zeek would report (broker, timers, ...) are fixed.

import fs from "node:fs";
import { defineLog } from "../log-schema.js";
import type { Traffic } from "../traffic.js";
import { wallClock } from "../zeek-format.js";

export const TELEMETRY_LOG = defineLog(
  "telemetry",
  "Telemetry::LOG",
  "ts\tpeer\tmetric_type\tname\tlabels\tlabel_values\tvalue",
  "time\tstring\tstring\tstring\tvector[string]\tvector[string]\tdouble",
  "header",
);

type Metric = readonly [
  type: "counter" | "gauge",
  name: string,
  labels: readonly string[],
  values: readonly string[],
  value: number,
];

const ZERO_COUNTERS = [
  "zeek_cluster_core_outgoing_events_total",
  "zeek_cluster_core_incoming_events_total",
  "zeek_broker_incoming_events_total",
  "zeek_broker_outgoing_events_total",
  "zeek_broker_incoming_logs_total",
  "zeek_broker_outgoing_logs_total",
  "zeek_broker_incoming_ids_total",
  "zeek_broker_outgoing_ids_total",
];

const TIMER_TYPES = [
  "LogDelayExpire", "ThreadHeartbeat", "TimerMgrExpireTimer", "TablePublishBatchedChanges", "ParentProcessIDCheck",
  "FragTimer", "RotateTimer", "FlowWeirdTimer", "FileAnalysisInactivityTimer", "StorageExpire",
  "ConnectionInactivityTimer", "TCPConnectionExpireTimer", "ConnectionStatusUpdateTimer", "LogFlushWriteBufferTimer",
  "NetWeirdTimer", "InterconnTimer", "IPTunnelInactivityTimer", "DNSExpireTimer", "UnknownProtocolExpire",
  "ProfileTimer", "ConnectionExpireTimer", "BreakpointTimer", "BackdoorTimer", "NetbiosExpireTimer", "NetworkTimer",
  "RemoveConnection", "TCPConnectionResetTimer", "ConnTupleWeirdTimer", "TCPConnectionDeleteTimer", "ScheduleTimer",
  "NTPExpireTimer", "RPCExpireTimer", "ConnectionDeleteTimer", "TriggerTimer", "TableValTimer",
  "TCPConnectionAttemptTimer", "TCPConnectionPartialClose",
];

const BUCKETS = ["inf", "10000", "1000", "100", "10", "1"];
const SESSION_PROTOCOLS = ["icmp", "udp", "tcp"] as const;
const PAGE_SIZE = 4096;

/** Reads a Linux /proc figure; other platforms report the fallback. */
function procFigure(read: () => number, fallback: number): number {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function processMetrics(): Metric[] {
  const cpu = process.cpuUsage();
  const rss = process.memoryUsage().rss;
  const virtual = procFigure(() => Number(fs.readFileSync("/proc/self/statm", "utf8").split(" ")[0]) * PAGE_SIZE, rss);
  const fds = procFigure(() => fs.readdirSync("/proc/self/fd").length, 0);
  return [
    ["counter", "process_cpu_user_seconds_total", [], [], Math.round(cpu.user / 1e4) / 100],
    ["counter", "process_cpu_system_seconds_total", [], [], Math.round(cpu.system / 1e4) / 100],
    ["gauge", "process_resident_memory_bytes", [], [], rss],
    ["gauge", "process_virtual_memory_bytes", [], [], virtual],
    ["gauge", "process_open_fds", [], [], fds],
    ["gauge", "process_start_time_seconds", [], [], Math.round((wallClock() - process.uptime()) * 1e6) / 1e6],
  ];
}

/** "Conn" for "Conn::LOG". */
function moduleOf(stream: string): string {
  return stream.split("::")[0] ?? stream;
}

export class TelemetryReporter {
  private snapshots = 0;

  constructor(private readonly source: Traffic) {}

  report(ts: number): void {
    this.snapshots++;
    for (const [type, name, labels, values, value] of this.metrics(ts)) {
      this.source.sink.write(TELEMETRY_LOG, {
        ts,
        peer: "zeek",
        metric_type: type,
        name,
        labels,
        label_values: values,
        value,
      });
    }
  }

  private metrics(ts: number): Metric[] {
    const { sink, flows, packets, bytes } = this.source;
    const streams = sink.streams();
    const perWriter = (name: string, count: (records: number) => number): Metric[] =>
      streams.map(({ schema, records }): Metric => [
        "counter",
        name,
        ["filter_name", "module", "path", "stream", "writer"],
        ["default", moduleOf(schema.stream), schema.path, schema.stream, "Log::WRITER_ASCII"],
        count(records),
      ]);
    const created = SESSION_PROTOCOLS.reduce((sum, p) => sum + flows.created(p), 0);
    const active = SESSION_PROTOCOLS.reduce((sum, p) => sum + flows.active(p), 0);
    return [
      ...streams.map(({ schema, records }): Metric => [
        "counter",
        "zeek_log_stream_writes_total",
        ["module", "stream"],
        [moduleOf(schema.stream), schema.stream],
        records,
      ]),
      ...perWriter("zeek_log_writer_writes_total", (records) => records),
      ...perWriter("zeek_log_writer_discarded_writes_total", () => 0),
      ...perWriter("zeek_log_writer_truncated_string_fields_total", () => 0),
      ...perWriter("zeek_log_writer_truncated_containers_total", () => 0),
      ["counter", "zeek_net_received_bytes_total", [], [], bytes],
      ["counter", "zeek_net_received_packets_total", [], [], packets],
      ["counter", "zeek_msgthread_threads_total", [], [], streams.length],
      ["counter", "zeek_msgthread_in_messages_total", [], [], streams.length * 2],
      ["counter", "zeek_msgthread_out_messages_total", [], [], 0],
      ...ZERO_COUNTERS.map((name): Metric => ["counter", name, [], [], 0]),
      ["counter", "zeek_timers_total", [], [], 120 + created * 6],
      ["counter", "zeek_dnsmgr_requests_total", [], [], 0],
      ["counter", "zeek_dnsmgr_successful_requests_total", [], [], 0],
      ["counter", "zeek_dnsmgr_failed_requests_total", [], [], 0],
      ["counter", "zeek_triggers_total", [], [], 0],
      ["counter", "zeek_ended_sessions_total", ["reason"], ["inactivity"], 0],
      ["counter", "zeek_event_handler_invocations_total", ["name"], ["zeek_init"], 1],
      ["counter", "zeek_event_handler_invocations_total", ["name"], ["zeek_script_loaded"], 528],
      ["counter", "zeek_event_handler_invocations_total", ["name"], ["Telemetry::log"], this.snapshots],
      ["counter", "zeek_event_handler_invocations_total", ["name"], ["new_connection"], created],
      ["counter", "zeek_event_handler_invocations_total", ["name"], ["connection_state_remove"], created - active],
      ...SESSION_PROTOCOLS.map((p): Metric => {
        return ["counter", "zeek_total_sessions_total", ["protocol"], [p], flows.created(p)];
      }),
      [
        "gauge",
        "zeek_version_info",
        ["beta", "commit", "debug", "major", "minor", "patch", "version_number", "version_string"],
        ["false", "0", "false", "8", "2", "2", "80202", "8.2.2"],
        1,
      ],
      ["gauge", "zeek_net_timestamp_seconds", [], [], ts],
      ["gauge", "zeek_msgthread_active_threads", [], [], streams.length],
      ["gauge", "zeek_msgthread_pending_in_messages", [], [], 0],
      ["gauge", "zeek_msgthread_pending_out_messages", [], [], 0],
      ...["in", "out"].flatMap((dir) =>
        BUCKETS.map((b): Metric => {
          const name = `zeek_msgthread_pending_messages_${dir}_buckets`;
          return ["gauge", name, ["leq"], [b], streams.length];
        }),
      ),
      ["gauge", "zeek_broker_peers", [], [], 0],
      ["gauge", "zeek_broker_stores", [], [], 1],
      ["gauge", "zeek_broker_pending_queries", [], [], 0],
      ["gauge", "zeek_timers_lag_time_seconds", [], [], ts],
      ...TIMER_TYPES.map((t): Metric => ["gauge", "zeek_timers_pending", ["type"], [t], 0]),
      ["gauge", "zeek_dnsmgr_pending_asyncs_requests", [], [], 0],
      ...["text", "address", "host"].map((t): Metric => ["gauge", "zeek_dnsmgr_cache_entries", ["type"], [t], 0]),
      ["gauge", "zeek_pending_triggers", [], [], 0],
      ...SESSION_PROTOCOLS.map((p): Metric => ["gauge", "zeek_active_sessions", ["protocol"], [p], flows.active(p)]),
      ...processMetrics(),
    ];
  }
}
