import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { JobStatus } from "../../shared/jobs/job-status.js";
import { cpuTime } from "../../shared/process/cpu-time.js";
import { natsNames, type Names } from "../../shared/nats/names.js";
import { startZeekDoubleServer, type ZeekDoubleServer } from "../zeek-double/server.js";
import { memoryMb, sampleRss } from "./big-capture.js";
import { startTestNats, type TestNats } from "./nats.js";
import { writeSyntheticPcap } from "./pcap-writer.js";
import { ServiceProcesses, serviceNodeArgs, type ServiceProcess } from "./processes.js";
import { eventually } from "./stack.js";
import { submit } from "./submit.js";

// One job of many small captures through api, worker and directory shipper processes, as the
// scale test asserts it and `npm run bench -- big-job` prints it. The Zeek double answers as a
// server (its bash client is ZEEK_BIN: the worker still spawns Zeek, feeds its stdin and reads
// its logs per capture), and with scripts other than `local` it writes conn.log (and the
// skipped packet_filter.log) only, as Zeek does.

export interface ScaleStack {
  nats: TestNats;
  zeek: ZeekDoubleServer;
  procs: ServiceProcesses;
  api: ServiceProcess;
  worker: ServiceProcess;
  shipper: ServiceProcess;
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: Names;
  dir: string;
  stop(): Promise<void>;
}

/** `env`: more settings for every service (the bench lengthens the ack wait: it pauses the worker). */
export async function startScaleStack(env: Record<string, string> = {}): Promise<ScaleStack> {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-big-"));
  const nats = await startTestNats();
  const zeek = await startZeekDoubleServer();
  const prefix = `b${Math.random().toString(36).slice(2, 8)}`;
  const procs = new ServiceProcesses({
    NATS_URL: nats.url,
    BROCAPI_NATS_PREFIX: prefix,
    BROCAPI_DATA_DIR: dir,
    ZEEK_BIN: zeek.bin,
    BROCAPI_ZEEK_SCRIPTS: "base/protocols/conn",
    BROCAPI_WORKER_CONCURRENCY: "16",
    ...env,
  });
  const api = await procs.start("api");
  const worker = await procs.start("worker");
  const shipper = await procs.start("shipper", { args: ["--sink", "directory"] });
  const nc = await connect({ servers: nats.url });
  return {
    nats,
    zeek,
    procs,
    api,
    worker,
    shipper,
    nc,
    jsm: await jetstreamManager(nc),
    names: natsNames(prefix),
    dir,
    async stop() {
      // SIGTERM first when the services run with Node options (a CPU profile is written at exit).
      if (serviceNodeArgs().length > 0) await procs.terminateAll();
      await procs.stopAll();
      await nc.close();
      await zeek.stop();
      await nats.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `count` captures of one connection each (`cap00000.pcap`, …), all different. */
export async function writeCaptures(dir: string, count: number): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => join(dir, `cap${String(i).padStart(5, "0")}.pcap`));
  for (let i = 0; i < count; i += 500) {
    await Promise.all(paths.slice(i, i + 500).map((path, k) => writeSyntheticPcap(path, { flows: 1, seed: i + k + 1 })));
  }
  return paths;
}

/** Bytes written to some KV buckets (every put and update, not what is left), counted from the side. */
class KvWrites {
  bytes = 0;
  writes = 0;
  private readonly subs: Subscription[];

  constructor(nc: NatsConnection, buckets: readonly string[]) {
    this.subs = buckets.map((b) =>
      nc.subscribe(`$KV.${b}.>`, {
        callback: (_, m) => {
          this.writes++;
          this.bytes += m.data.length + m.subject.length;
        },
      }),
    );
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

export interface BigJobRun {
  jobId: string;
  job: JobStatus;
  uploadS: number;
  analysedS: number;
  deliveredS: number;
  /** The api's resident memory before the upload, and at most during it (MB). */
  apiRssBeforeMb: number;
  apiRssUploadMb: number;
  /** conn.log as the directory sink wrote it: its data lines. */
  delivered: string[];
  /** CPU seconds from submission until every line was delivered. */
  cpu: { api: number; worker: number; zeek: number; shipper: number; nats: number; test: number };
  /** KV bytes written (subjects and values of every put) during the job, when counted. */
  kvWrites?: { bytes: number; writes: number };
}

/** CPU seconds so far of each process of the stack; the worker's children are its Zeek runs. */
function cpuNow(stack: ScaleStack): BigJobRun["cpu"] {
  const [api, worker, shipper, nats] = [stack.api.pid, stack.worker.pid, stack.shipper.pid, stack.nats.process.pid!].map(cpuTime);
  const own = process.cpuUsage();
  return { api: api!.self, worker: worker!.self, zeek: worker!.children, shipper: shipper!.self, nats: nats!.self, test: (own.user + own.system) / 1e6 };
}

const minus = (a: BigJobRun["cpu"], b: BigJobRun["cpu"]): BigJobRun["cpu"] =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as keyof typeof b]])) as BigJobRun["cpu"];

/**
 * Submits `captures` as one job, waits until it ended and every line is at the directory sink,
 * and says what that took: wall-clock time, CPU per process, api memory during the upload and,
 * with `countKvWrites`, the bytes written to the KV buckets. `whileRunning` is awaited once, when
 * the job is running with at least half its captures done (mid-job: the bench reads its status
 * there); its time and CPU are not counted as the job's.
 */
export async function runBigJob(
  stack: ScaleStack,
  captures: readonly string[],
  opts: { countKvWrites?: boolean; timeoutMs?: number; whileRunning?: (jobId: string) => Promise<void> } = {},
): Promise<BigJobRun> {
  const timeoutMs = opts.timeoutMs ?? 900_000;
  const { names } = stack;
  const kv = opts.countKvWrites ? new KvWrites(stack.nc, [names.jobsBucket, names.sinksBucket, names.analysesBucket]) : null;
  const apiRssBeforeMb = (await memoryMb(stack.api.pid)).rss;
  const cpu0 = cpuNow(stack);
  const started = Date.now();
  const rss = sampleRss(stack.api.pid, 200);
  let apiRssUploadMb = 0;
  const { httpStatus, body } = await submit(stack.api.url, captures, "big").finally(async () => (apiRssUploadMb = await rss.stop()));
  if (httpStatus !== 200) throw new Error(`the upload was refused: ${httpStatus} ${JSON.stringify(body).slice(0, 300)}`);
  const uploaded = Date.now();
  const status = async (): Promise<JobStatus> => (await fetch(`${stack.api.url}/jobs/${body.job_id}`)).json() as Promise<JobStatus>;
  let job!: JobStatus;
  let aside = { s: 0, cpu: null as BigJobRun["cpu"] | null };
  await eventually(
    async () => {
      job = await status();
      if (opts.whileRunning && !aside.cpu && job.state === "running" && job.counts.done >= job.counts.total / 2) {
        const [t, c] = [Date.now(), cpuNow(stack)];
        await opts.whileRunning(body.job_id);
        aside = { s: (Date.now() - t) / 1000, cpu: minus(cpuNow(stack), c) };
      }
      return ["done", "failed", "partial"].includes(job.state);
    },
    timeoutMs,
    "the job to end",
    1_000,
  );
  const finished = Date.now();
  const connLog = join(stack.dir, "logs", body.job_id, "conn.log");
  const dataLines = async (): Promise<string[]> => (await readFile(connLog, "utf8").catch(() => "")).split("\n").filter((l) => l && !l.startsWith("#"));
  const expected = job.lines["conn"] ?? 0;
  let delivered: string[] = [];
  await eventually(async () => (delivered = await dataLines()).length >= expected, 120_000, "every conn line at the directory sink", 1_000);
  const deliveredAt = Date.now();
  const cpu1 = cpuNow(stack);
  kv?.stop();
  const cpu = aside.cpu ? minus(minus(cpu1, cpu0), aside.cpu) : minus(cpu1, cpu0);
  return {
    jobId: body.job_id,
    job,
    uploadS: (uploaded - started) / 1000,
    analysedS: (finished - uploaded) / 1000 - aside.s,
    deliveredS: (deliveredAt - finished) / 1000,
    apiRssBeforeMb,
    apiRssUploadMb,
    delivered,
    cpu,
    ...(kv ? { kvWrites: { bytes: kv.bytes, writes: kv.writes } } : {}),
  };
}

/** `reads` GETs of `url`, `connections` at a time over kept-alive connections: answers per second. */
export async function statusReads(url: string, reads: number, connections: number): Promise<{ perSecond: number; seconds: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let failed = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      get(url, { agent }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume();
        res.on("end", resolve);
      }).on("error", () => {
        failed++;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < reads) await one();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { perSecond: reads / seconds, seconds, failed };
}
