import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { ServiceContext } from "../../shared/service/context.js";
import type { Task } from "../../shared/messages/task.js";
import { runZeek } from "../../shared/zeek/run-zeek.js";
import { skippedLogTypes } from "../../shared/zeek/log-types.js";
import { fetchCapture } from "./fetch-capture.js";
import { publishLogs } from "./publish-logs.js";

export interface Analysis {
  lines: Record<string, number>;
  zeekStderr: string;
  zeekMs: number;
}

/**
 * One capture, start to end: fetch it into a private temp folder, run Zeek in an empty
 * sub-folder (so concurrent runs never share logs, the seed's bug), publish its logs, and remove
 * the folder whatever happened.
 */
export async function analyseTask(ctx: ServiceContext, zeekBin: string, task: Task, cancel: AbortSignal): Promise<Analysis> {
  const { config, topology } = ctx;
  const workRoot = join(config.dataDir, "work");
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, `${task.jobId}-${task.fileIndex}-`));
  try {
    const pcapPath = join(dir, "input.pcap");
    const logDir = join(dir, "logs");
    await mkdir(logDir);
    await fetchCapture(topology.pcaps, task.object, pcapPath);
    const zeek = await runZeek({
      bin: zeekBin,
      pcapPath,
      cwd: logDir,
      scripts: config.zeek.scripts,
      format: config.zeek.format,
      timeLimitMs: config.zeek.timeLimitMs,
      cancel,
    });
    const lines = await publishLogs({
      js: jetstream(ctx.nc),
      names: topology.names,
      logDir,
      origin: { jobId: task.jobId, tag: task.tag, pcap: task.fileName, pcapIndex: task.fileIndex, format: config.zeek.format },
      skipped: skippedLogTypes(config.logs.blacklist),
      batchLines: config.worker.batchLines,
      window: config.worker.publishWindow,
    });
    return { lines, zeekStderr: zeek.stderr, zeekMs: zeek.durationMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
