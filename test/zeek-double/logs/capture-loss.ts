// capture_loss.log (policy/misc/capture-loss, part of `local`): TCP ACKs and
// gaps seen per measurement interval; too few ACKs raise a notice.

import type { FlowTable } from "../flow-table.js";
import { defineLog } from "../log-schema.js";
import type { LogSink } from "../log-sink.js";
import { writeTooLittleTraffic } from "./notice.js";

export const CAPTURE_LOSS_LOG = defineLog(
  "capture_loss",
  "ts\tts_delta\tpeer\tgaps\tacks\tpercent_lost",
  "time\tinterval\tstring\tcount\tcount\tdouble",
);

// CaptureLoss::minimum_acks.
const MINIMUM_ACKS = 1;

export class CaptureLossReporter {
  private lastTs = 0;
  private lastAcks = 0;
  private lastGaps = 0;

  constructor(
    private readonly sink: LogSink,
    private readonly flows: FlowTable,
  ) {}

  /** The measurement interval starts with the first packet. */
  start(ts: number): void {
    this.lastTs = ts;
  }

  report(ts: number): void {
    const acks = this.flows.ackEvents - this.lastAcks;
    const gaps = this.flows.gapEvents - this.lastGaps;
    const percentLost = acks === 0 ? 0 : (gaps / acks) * 100;
    this.sink.write(CAPTURE_LOSS_LOG, { ts, ts_delta: ts - this.lastTs, peer: "zeek", gaps, acks, percent_lost: percentLost });
    if (acks < MINIMUM_ACKS) writeTooLittleTraffic(this.sink, ts, acks, MINIMUM_ACKS);
    this.lastTs = ts;
    this.lastAcks = this.flows.ackEvents;
    this.lastGaps = this.flows.gapEvents;
  }
}
