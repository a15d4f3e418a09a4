// The packet pipeline of one run: decode, track connections, analyze DNS,
// and produce the logs Zeek writes at start-up, periodically and at the end.

import type { CapturedPacket } from "./capture-reader.js";
import { FlowTable, type Flow } from "./flow-table.js";
import type { LogSink } from "./log-sink.js";
import { CaptureLossReporter } from "./logs/capture-loss.js";
import { CONN_LOG, connRecord } from "./logs/conn.js";
import { DnsTracker } from "./logs/dns.js";
import { writeLoadedScripts } from "./logs/loaded-scripts.js";
import { KnownHosts } from "./logs/known-hosts.js";
import { writePacketFilter } from "./logs/packet-filter.js";
import { StatsReporter } from "./logs/stats.js";
import { decodePacket } from "./packet-decoder.js";
import type { Traffic } from "./traffic.js";

// Stats::report_interval, CaptureLoss::initial_watch_interval and
// CaptureLoss::watch_interval, all measured in network time.
const STATS_INTERVAL = 300;
const CAPTURE_LOSS_FIRST = 60;
const CAPTURE_LOSS_INTERVAL = 900;

/** A Zeek timer in trace mode: fires with the first packet at or after its time. */
class Timer {
  constructor(
    private next: number,
    private readonly interval: number,
  ) {}

  fire(now: number): boolean {
    if (now < this.next) return false;
    this.next = now + this.interval;
    return true;
  }
}

/**
 * The periodic logs that `local` adds. Not telemetry.log: its rows are Zeek's internal
 * metrics (event handler invocations, timers, threads, memory, CPU), which the double cannot know.
 */
class LocalReports {
  private readonly stats: StatsReporter;
  private readonly captureLoss: CaptureLossReporter;
  private timers: { stats: Timer; captureLoss: Timer } | undefined;

  constructor(traffic: Traffic) {
    this.stats = new StatsReporter(traffic);
    this.captureLoss = new CaptureLossReporter(traffic.sink, traffic.flows);
  }

  afterPacket(ts: number): void {
    if (this.timers === undefined) {
      // Timers scheduled at start-up all fire with the first packet.
      this.stats.report(ts);
      this.captureLoss.start(ts);
      this.timers = {
        stats: new Timer(ts + STATS_INTERVAL, STATS_INTERVAL),
        captureLoss: new Timer(ts + CAPTURE_LOSS_FIRST, CAPTURE_LOSS_INTERVAL),
      };
      return;
    }
    if (this.timers.captureLoss.fire(ts)) this.captureLoss.report(ts);
    if (this.timers.stats.fire(ts)) this.stats.report(ts);
  }

  /** zeek_done, while connections are still active: last capture loss (if there was traffic) and stats. */
  beforeDrain(ts: number): void {
    if (this.timers !== undefined) this.captureLoss.report(ts);
    this.stats.report(ts);
  }
}

export class Analysis implements Traffic {
  readonly flows: FlowTable;
  private readonly dns: DnsTracker;
  private readonly reports: LocalReports | undefined;
  private readonly knownHosts: KnownHosts | undefined;
  packets = 0;
  bytes = 0;
  /** Zeek's network_time: the timestamp of the latest packet, 0 before the first. */
  networkTime = 0;

  constructor(
    readonly sink: LogSink,
    local: boolean,
    knownHosts = false,
  ) {
    this.dns = new DnsTracker(sink);
    this.flows = new FlowTable((flow) => this.connectionRemoved(flow));
    if (local) {
      writeLoadedScripts(sink);
      this.reports = new LocalReports(this);
    }
    if (knownHosts) this.knownHosts = new KnownHosts(sink);
    writePacketFilter(sink);
  }

  private connectionRemoved(flow: Flow): void {
    this.dns.finalize(flow);
    this.sink.write(CONN_LOG, connRecord(flow));
  }

  packet(pkt: CapturedPacket): void {
    const ts = pkt.tsSec + pkt.tsUsec / 1e6;
    if (this.packets === 0) this.sink.markPacketsStarted();
    this.networkTime = ts;
    this.flows.expire(ts);
    this.packets++;
    this.bytes += pkt.wireLength;
    const decoded = decodePacket(pkt.linkType, pkt.data);
    if (decoded !== undefined) {
      const { flow, fromOrig, established } = this.flows.add(ts, decoded);
      if (established) this.knownHosts?.established(ts, [{ host: flow.respH, local: flow.respLocal }, { host: flow.origH, local: flow.origLocal }]);
      if (flow.analyzeDns && decoded.payloadLength > 0) this.dns.message(flow, ts, decoded, fromOrig);
    }
    this.reports?.afterPacket(ts);
  }

  /** End of capture: flush connections, write the final reports and close every file. */
  finish(): void {
    // Terminating expires the DNS analyzer's timers first, which remove their connections.
    this.flows.drain((flow) => flow.analyzeDns);
    this.reports?.beforeDrain(this.networkTime);
    this.flows.drain();
    this.sink.close();
  }

  /** A fatal read error: state is lost and files stay as a crashing Zeek leaves them. */
  abandon(): void {
    this.sink.abandon(this.packets);
  }
}
