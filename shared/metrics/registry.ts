type Labels = Record<string, string>;

const key = (labels: Labels): string =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

abstract class Metric {
  protected readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [labels, v] of this.values) lines.push(`${this.name}${labels ? `{${labels}}` : ""} ${v}`);
    return lines.join("\n");
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends Metric {
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }
  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value);
  }
}

/** Seconds buckets for Zeek runs: from a tiny capture to the hour-long time limit. */
const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets = DURATION_BUCKETS,
  ) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    const s = this.series.get(k) ?? { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
    this.series.set(k, s);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? "," : "";
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`, `${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`, `${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/**
 * The process's metrics in Prometheus text format. Collectors run on each scrape for values read
 * from elsewhere (consumer pending counts from NATS).
 */
export class MetricsRegistry {
  private readonly collectors = new Set<() => Promise<void>>();

  readonly uploads = new Counter("brocapi_uploads_total", "Submissions answered, by result (accepted, rejected)");
  readonly uploadBytes = new Counter("brocapi_upload_bytes_total", "Bytes of captures stored");
  readonly jobsFinished = new Counter("brocapi_jobs_finished_total", "Jobs that reached a final state, by state (done, failed, partial)");
  readonly zeekRuns = new Counter("brocapi_zeek_runs_total", "Captures analysed, by result (done, failed, retried, reused)");
  readonly zeekSeconds = new Histogram("brocapi_zeek_duration_seconds", "Wall time of Zeek runs that finished");
  readonly linesPublished = new Counter("brocapi_lines_published_total", "Log lines published to the LOGS stream, by log type");
  readonly linesDelivered = new Counter("brocapi_lines_delivered_total", "Log lines a sink delivered and acked, by sink");
  readonly sinkErrors = new Counter("brocapi_sink_errors_total", "Failed sink operations, by sink and stage (write, fetch, rejected, replay)");
  readonly batchesSkipped = new Counter("brocapi_sink_batches_skipped_total", "LOGS batches a sink instance fetched and skipped by its routing (what the subject filter could not keep away), by sink");
  readonly sinkAudits = new Counter(
    "brocapi_sink_audits_total",
    "Finished jobs a sink instance's audit settled, by sink and result (whole; replay or report: the count was short; audited: recorded before; started-after, routed-away, lines-expired, deleted: not auditable)",
  );
  readonly consumerPending = new Gauge("brocapi_consumer_pending", "Messages not yet delivered to a consumer, by stream and consumer");
  readonly consumerAckPending = new Gauge("brocapi_consumer_ack_pending", "Messages delivered but not yet acked, by stream and consumer");

  collect(fn: () => Promise<void>): void {
    this.collectors.add(fn);
  }

  async render(): Promise<string> {
    await Promise.all([...this.collectors].map((fn) => fn().catch(() => undefined)));
    const all = [this.uploads, this.uploadBytes, this.jobsFinished, this.zeekRuns, this.zeekSeconds, this.linesPublished, this.linesDelivered, this.sinkErrors, this.batchesSkipped, this.sinkAudits, this.consumerPending, this.consumerAckPending];
    return `${all.map((m) => m.render()).join("\n")}\n`;
  }
}

/** One registry per process: every service running in it reports into the same `/metrics`. */
export const metrics = new MetricsRegistry();
