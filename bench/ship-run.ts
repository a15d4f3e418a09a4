// One shipping measurement on a given NATS (one node or a cluster), for bench/ship.ts and bench/cluster.ts.
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { planRouting } from "../services/shipper/routing.js";
import { startSinkRunner } from "../services/shipper/sink-runner.js";
import { SinkWriter } from "../services/shipper/sink-writer.js";
import { SyslogSink } from "../services/shipper/sinks/syslog/syslog-sink.js";
import { publishLogs } from "../services/worker/publish-logs.js";
import { loadConfig } from "../shared/config/load.js";
import { createContext } from "../shared/service/context.js";
import { startTestRsyslog } from "../test/helpers/rsyslog.js";
import { cpuNow, cpuSince } from "./cpu.js";
import { fileLineCounter, startDiscardReceiver } from "./receivers.js";

/** Publish and publish→delivered rates of one run, in lines/s; wall and CPU seconds from publish to the last line delivered. */
export interface ShipRates {
  published: number;
  delivered: number;
  seconds: number;
  /** CPU seconds of this process (publisher, sink runner, receiver) and of the processes `natsPids`. */
  cpu: { self: number; others: number };
}

/**
 * Publishes a conn.log as a worker does and ships it with the syslog sink to `receiver`, on the
 * NATS at `natsUrl` (streams at `replicas`); resolves once the receiver has every line.
 */
export async function measureShipping(natsUrl: string, replicas: number, receiver: "rsyslog" | "discard", batchLines: number, lines: number, logDir: string, natsPids: readonly number[] = []): Promise<ShipRates> {
  const rsyslog = receiver === "rsyslog" ? await startTestRsyslog() : null;
  const discard = receiver === "discard" ? await startDiscardReceiver() : null;
  const count = rsyslog ? fileLineCounter(rsyslog.outFile) : discard!.count;
  const port = rsyslog?.port ?? discard!.port;
  const config = loadConfig({
    NATS_URL: natsUrl,
    BROCAPI_NATS_REPLICAS: String(replicas),
    BROCAPI_NATS_PREFIX: `ship${Math.random().toString(36).slice(2, 8)}`,
    BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${port}`,
    BROCAPI_BATCH_LINES: String(batchLines),
    BROCAPI_DATA_DIR: logDir,
  });
  const log = pino({ level: "warn" });
  const ctx = await createContext(config, log, natsUrl, "bench");
  const writer = new SinkWriter("syslog", new SyslogSink({ ...config.syslog, target: config.syslog.target! }, log), "as-written", log);
  const runner = await startSinkRunner(ctx, { writer, routing: planRouting({ logs: { exclude: [] }, tags: { exclude: [] } }, ctx.topology.names, "2.9"), start: "all" });
  const cpu0 = cpuNow(natsPids);
  const t0 = performance.now();
  await publishLogs({
    js: jetstream(ctx.nc),
    names: ctx.topology.names,
    logDir,
    origin: { jobId: "00000000-0000-4000-8000-000000000000", tag: "bench", pcap: "in.pcap", pcapIndex: 0, format: "tsv" },
    skipped: new Set(),
    batchLines,
    window: config.worker.publishWindow,
  });
  const published = performance.now();
  while ((await count()) < lines) await new Promise((r) => setTimeout(r, 20));
  const delivered = performance.now();
  const cpu = cpuSince(cpu0, natsPids);
  await runner.stop();
  await writer.close();
  await ctx.nc.drain();
  await rsyslog?.cleanup();
  await discard?.close();
  return { published: Math.round(lines / ((published - t0) / 1000)), delivered: Math.round(lines / ((delivered - t0) / 1000)), seconds: (delivered - t0) / 1000, cpu };
}

