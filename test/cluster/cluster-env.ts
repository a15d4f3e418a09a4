import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { natsNames } from "../../shared/nats/names.js";
import { FAULT_ENV, type Pipeline } from "../faults/harness.js";
import { startTestCluster, type TestCluster } from "../helpers/nats-cluster.js";
import { ServiceProcesses, type ServiceProcess } from "../helpers/processes.js";
import { startTestRsyslog } from "../helpers/rsyslog.js";

/** A three-node cluster with the services as separate processes, each given all three node URLs. */
export interface ClusterEnv extends Pipeline {
  cluster: TestCluster;
  api: ServiceProcess;
  /** api, two workers, the directory shipper and the syslog shipper: none may exit during a test. */
  services: ServiceProcess[];
}

/** Zeek's time per capture in the cluster tests (the double's delay): long enough for a fault to land during it. */
export const ZEEK_DELAY_MS = 2_000;

/**
 * Settings of the cluster tests on top of the fault tests' (2 s ack wait, 10-line batches):
 * every stream and bucket at R3; Zeek takes ZEEK_DELAY_MS per capture; three captures per worker, so two jobs run at once on the two workers;
 * uploads time out after 12 s (a store request may wait out a leader election), and the sweep of a
 * refused upload's leftovers runs every 6 s.
 */
export const CLUSTER_ENV = {
  ...FAULT_ENV,
  BROCAPI_NATS_REPLICAS: "3",
  ZEEK_DOUBLE_DELAY_MS: String(ZEEK_DELAY_MS),
  BROCAPI_WORKER_CONCURRENCY: "3",
  BROCAPI_UPLOAD_TIMEOUT_MS: "12000",
};

/** One cluster and one set of services for a whole test file (the scenarios run one after another); none when the file's tests are skipped. */
export function useClusterEnv(skipped = false): () => ClusterEnv {
  let env: ClusterEnv | undefined;
  let cleanup = async (): Promise<void> => undefined;
  before(async () => {
    if (skipped) return;
    const dataDir = await mkdtemp(join(tmpdir(), "brocapi-cluster-env-"));
    const cluster = await startTestCluster();
    const rsyslog = await startTestRsyslog();
    const prefix = `c${Math.random().toString(36).slice(2, 10)}`;
    const logDir = join(dataDir, "logs");
    const procs = new ServiceProcesses({
      ...CLUSTER_ENV,
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
    const api = await procs.start("api");
    const services = [
      api,
      await procs.start("worker", { name: "worker-1" }),
      await procs.start("worker", { name: "worker-2" }),
      await procs.start("shipper", { name: "shipper-directory", args: ["--sink", "directory"] }),
      await procs.start("shipper", { name: "shipper-syslog", args: ["--sink", "syslog"] }),
    ];
    env = { natsUrl: cluster.url, cluster, rsyslog, procs, names: natsNames(prefix), dataDir, logDir, api, services };
    await cluster.waitHealthy();
  });
  after(async () => {
    await cleanup();
  });
  return () => env!;
}
