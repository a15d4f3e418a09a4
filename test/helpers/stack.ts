import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { startApi } from "../../services/api/api.js";
import { startShipper } from "../../services/shipper/shipper.js";
import { startWorker } from "../../services/worker/worker.js";
import { loadConfig } from "../../shared/config/load.js";
import type { Config } from "../../shared/config/schema.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { isFinal, type FileRecord, type JobState, type StateCounts } from "../../shared/jobs/job-record.js";
import { createContext, type RunningService, type ServiceContext } from "../../shared/service/context.js";

/** The Zeek double's executable, as ZEEK_BIN would name real Zeek. */
export const ZEEK_DOUBLE = fileURLToPath(new URL("../../../test/zeek-double/zeek", import.meta.url));

/** A finished job as a test reads it: the summary and (unless asked not to) every capture's record. */
export interface JobView {
  id: string;
  tag: string | null;
  state: JobState;
  format: string;
  submittedAt: string;
  startedAt?: string;
  finishedAt?: string;
  counts: StateCounts;
  lines: Record<string, number>;
  files: FileRecord[];
}

export interface Stack {
  config: Config;
  ctx: ServiceContext;
  /** Base URL of the api, listening on a free port. */
  url: string;
  dataDir: string;
  /** Waits until the job is final; `files: false` leaves its captures unread (a huge job). */
  waitForJob(id: string, timeoutMs?: number, opts?: { files?: boolean }): Promise<JobView>;
  stop(): Promise<void>;
}

export interface StackOptions {
  natsUrl: string;
  env?: Record<string, string>;
  /** Which services to run in this process (default all three). */
  services?: ReadonlyArray<"api" | "worker" | "shipper">;
}

/**
 * The services of one test, in-process, built from the same config loader as production with a
 * unique NATS prefix (so tests never see each other's streams) and a temp data dir.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), "brocapi-test-"));
  const config = loadConfig({
    NATS_URL: opts.natsUrl,
    BROCAPI_DATA_DIR: dataDir,
    BROCAPI_HTTP_PORT: "0",
    BROCAPI_HTTP_HOST: "127.0.0.1",
    ZEEK_BIN: ZEEK_DOUBLE,
    BROCAPI_NATS_PREFIX: `t${Math.random().toString(36).slice(2, 10)}`,
    ...opts.env,
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const ctx = await createContext(config, log, opts.natsUrl, "brocapi-test");
  const services = opts.services ?? ["api", "worker", "shipper"];
  const running: RunningService[] = [];
  let url = "";
  if (services.includes("worker")) running.push(await startWorker(ctx));
  if (services.includes("shipper")) running.push(await startShipper(ctx));
  if (services.includes("api")) {
    const api = await startApi(ctx);
    url = api.url;
    running.push(api);
  }
  const jobs = new JobStore(ctx.topology);
  return {
    config,
    ctx,
    url,
    dataDir,
    async waitForJob(id, timeoutMs = 30_000, opts = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await jobs.summary(id);
        if (job && isFinal(job.state)) {
          const { header } = job;
          const files = opts.files === false ? [] : await jobs.captures(id, [...Array(header.files).keys()]);
          const times = { ...(job.startedAt ? { startedAt: job.startedAt } : {}), ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}) };
          return { id, tag: header.tag, state: job.state, format: header.format, submittedAt: header.submittedAt, ...times, counts: job.counts, lines: job.lines, files };
        }
        if (Date.now() > deadline) throw new Error(`job ${id} not final after ${timeoutMs} ms: ${JSON.stringify(job)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      // Side by side: an idle worker's stop waits out its pending task request (5 s) and a
      // shipper's its fetches (up to 5 s); one after the other, every stack's teardown took both
      // (6–8 s). Their production order (api, worker, then sinks) is for a drain that must lose
      // nothing mid-job; every caller stops a stack whose checks are done.
      await Promise.all(running.map((s) => s.stop()));
      await ctx.nc.drain();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true (a test waiting for delivery, not a timing assertion). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000, what = "condition", everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
