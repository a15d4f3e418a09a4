import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { natsNames } from "../../shared/nats/names.js";
import { FAULT_ENV, writeCaptures, type Capture, type Pipeline } from "../faults/harness.js";
import { startTestCluster, type TestCluster } from "../helpers/nats-cluster.js";
import { ServiceProcesses, type ServiceProcess } from "../helpers/processes.js";
import { startTestRsyslog } from "../helpers/rsyslog.js";
import { eventually } from "../helpers/stack.js";

export type Phase = "upload" | "zeek" | "shipping";

/**
 * Conn lines per capture of each phase's job (one line per flow, ~960 bytes of capture per flow).
 * Upload: a small capture stored whole, then a 1.1 MB one (three 512 KiB chunks) cut mid-way, so
 * the fault lands while the api stores chunks; shipping: enough 10-line batches that the sinks
 * are mid-way when the fault lands; Zeek: small, its runs are slowed down instead.
 */
export const FLOWS: Record<Phase, readonly number[]> = { upload: [300, 1200], zeek: [400, 400], shipping: [1500, 1500] };

/**
 * How long Zeek takes on the Zeek job's captures (only those: the double's delay is keyed to
 * their SHA-256): from the moment its run is seen to the fault landing there is setup of the
 * other two phases (~1 s here); the run is checked to be still going once the fault has landed.
 */
export const ZEEK_DELAY_MS = 6_000;

/**
 * Settings of the cluster tests on top of the fault tests' (2 s ack wait, 10-line batches):
 * every stream and bucket at R3; three captures per worker; uploads time out after 12 s (a store
 * request may wait out a leader election), so the api's sweep removes a refused upload's
 * leftovers 24 s after its last chunk, looking every 6 s; the sinks audit finished jobs every 2 s
 * (a consumer skip is repaired while the scenario checks the other jobs).
 */
export const CLUSTER_ENV = {
  ...FAULT_ENV,
  BROCAPI_SINK_AUDIT_EVERY_MS: "2000",
  BROCAPI_NATS_REPLICAS: "3",
  BROCAPI_WORKER_CONCURRENCY: "3",
  BROCAPI_UPLOAD_TIMEOUT_MS: "12000",
  ZEEK_DOUBLE_DELAY_MS: String(ZEEK_DELAY_MS),
};

/** An upload a fault made the api refuse: checked at the end of the file, once the api's sweep can have run. */
export interface RefusedUpload {
  jobId: string;
  fault: string;
  /** When the answer came (ms since the epoch). */
  at: number;
}

/** A three-node cluster with the services as separate processes, each given all three node URLs. */
export interface ClusterEnv extends Pipeline {
  cluster: TestCluster;
  api: ServiceProcess;
  /** api, two workers, the directory shipper and the syslog shipper: none may exit during a test. */
  services: ServiceProcess[];
  /** Each phase's captures, written once: every scenario submits the same bytes as new jobs. */
  captures: Record<Phase, Capture[]>;
  refused: RefusedUpload[];
}

const sha256 = async (path: string): Promise<string> => createHash("sha256").update(await readFile(path)).digest("hex");

/** One cluster and one set of services for a whole test file (the scenarios run one after another). */
export function useClusterEnv(): () => ClusterEnv {
  let env: ClusterEnv | undefined;
  let cleanup = async (): Promise<void> => undefined;
  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "brocapi-cluster-env-"));
    const captures = {
      upload: await writeCaptures(dataDir, FLOWS.upload, "u"),
      zeek: await writeCaptures(dataDir, FLOWS.zeek, "z"),
      shipping: await writeCaptures(dataDir, FLOWS.shipping, "s"),
    };
    const cluster = await startTestCluster();
    const rsyslog = await startTestRsyslog();
    const prefix = `c${Math.random().toString(36).slice(2, 10)}`;
    const logDir = join(dataDir, "logs");
    const procs = new ServiceProcesses({
      ...CLUSTER_ENV,
      ZEEK_DOUBLE_DELAY_SHA256: (await Promise.all(captures.zeek.map((c) => sha256(c.path)))).join(","),
      NATS_URL: cluster.url,
      BROCAPI_NATS_PREFIX: prefix,
      BROCAPI_DATA_DIR: dataDir,
      BROCAPI_LOG_DIR: logDir,
      BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${rsyslog.port}`,
    });
    cleanup = async () => {
      await procs.stopAll();
      await rsyslog.cleanup();
      await cluster.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    };
    // The syslog instance opts into its audit's replay (docs/SINKS.md, "The audit"): a nats-server
    // 2.9 consumer skip (docs/RELIABILITY.md) then comes back as the whole job again, repeats that
    // rsyslog counts, instead of lines missing there: what a deployment on 2.9 would choose.
    const syslogConfig = join(dataDir, "brocapi-syslog.yaml");
    await writeFile(syslogConfig, "sinks:\n  syslog: { kind: syslog, autoReplay: true }\n");
    // One after another: under load, services creating their consumers at once on a fresh R3
    // cluster can time out at start-up.
    const api = await procs.start("api");
    const others = [
      await procs.start("worker", { name: "worker-1" }),
      await procs.start("worker", { name: "worker-2" }),
      await procs.start("shipper", { name: "shipper-directory", args: ["--sink", "directory"] }),
      await procs.start("shipper", { name: "shipper-syslog", env: { BROCAPI_CONFIG: syslogConfig }, args: ["--sink", "syslog"] }),
    ];
    // Ready means started through to its metrics endpoint: a start-up step after the first
    // `*.started` line (a shipper's replay consumer) can still fail.
    const started = (s: ServiceProcess): boolean => s.kind === "api" || s.output().includes(`"event":"metrics.listening"`);
    await eventually(async () => others.every(started), 30_000, "every service started").catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${procs.report()}`);
    });
    env = { natsUrl: cluster.url, cluster, rsyslog, procs, names: natsNames(prefix), dataDir, logDir, api, services: [api, ...others], captures, refused: [] };
    await cluster.waitHealthy();
  });
  after(async () => {
    await cleanup();
  });
  return () => env!;
}
