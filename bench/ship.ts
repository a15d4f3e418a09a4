// Lines/s from worker publish to delivery, for the syslog sink into (a) a real rsyslog over TCP and
// (b) a discarding TCP receiver, at batch size 1 and the default. Prints one row per run.
//   npm run bench -- ship [lines]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { pino } from "pino";
import { planRouting } from "../services/shipper/routing.js";
import { startSinkRunner } from "../services/shipper/sink-runner.js";
import { SinkWriter } from "../services/shipper/sink-writer.js";
import { SyslogSink } from "../services/shipper/sinks/syslog/syslog-sink.js";
import { publishLogs } from "../services/worker/publish-logs.js";
import { loadConfig } from "../shared/config/load.js";
import { createContext } from "../shared/service/context.js";
import { startTestNats } from "../test/helpers/nats.js";
import { startTestRsyslog } from "../test/helpers/rsyslog.js";
import { fileLineCounter, startDiscardReceiver } from "./receivers.js";
import { makeLogs } from "./zeek-logs.js";

const LINES = Number(process.argv[2] ?? 500_000);

async function run(receiver: "rsyslog" | "discard", batchLines: number, lines: number, logDir: string): Promise<void> {
  const nats = await startTestNats();
  const rsyslog = receiver === "rsyslog" ? await startTestRsyslog() : null;
  const discard = receiver === "discard" ? await startDiscardReceiver() : null;
  const count = rsyslog ? fileLineCounter(rsyslog.outFile) : discard!.count;
  const port = rsyslog?.port ?? discard!.port;
  const config = loadConfig({
    NATS_URL: nats.url,
    BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${port}`,
    BROCAPI_BATCH_LINES: String(batchLines),
    BROCAPI_DATA_DIR: logDir,
  });
  const log = pino({ level: "warn" });
  const ctx = await createContext(config, log, nats.url, "bench");
  const writer = new SinkWriter("syslog", new SyslogSink({ ...config.syslog, target: config.syslog.target! }, log), "as-written", log);
  const runner = await startSinkRunner(ctx, { writer, routing: planRouting({ logs: { exclude: [] }, tags: { exclude: [] } }, ctx.topology.names, "2.9"), start: "all" });
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
  const pubRate = Math.round(lines / ((published - t0) / 1000));
  const e2eRate = Math.round(lines / ((delivered - t0) / 1000));
  console.log(
    `| syslog tcp → ${receiver.padEnd(7)} | ${String(batchLines).padStart(5)} | ${String(lines).padStart(8)} | ${pubRate.toLocaleString("en-US").padStart(9)} | ${e2eRate.toLocaleString("en-US").padStart(9)} |`,
  );
  await runner.stop();
  await writer.close();
  await ctx.nc.drain();
  await rsyslog?.cleanup();
  await discard?.close();
  await nats.cleanup();
}

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-"));
try {
  const big = await makeLogs(join(dir, "big"), LINES);
  const small = await makeLogs(join(dir, "small"), Math.min(LINES, 60_000));
  console.log("| path | batch lines | lines | published lines/s | publish→delivered lines/s |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const receiver of ["discard", "rsyslog"] as const) {
    await run(receiver, 1, small.lines, small.logDir);
    await run(receiver, 256, big.lines, big.logDir);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
