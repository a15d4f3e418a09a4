import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { natsNames } from "../../shared/nats/names.js";
import {
  directoryDelivery,
  FAULT_ENV,
  submitJob,
  syslogConn,
  syslogDelivery,
  waitForJobState,
  waitForQuiet,
  writeCaptures,
  type Pipeline,
} from "../faults/harness.js";
import { startTestCluster, type TestCluster } from "../helpers/nats-cluster.js";
import { ServiceProcesses } from "../helpers/processes.js";
import { startTestRsyslog, type TestRsyslog } from "../helpers/rsyslog.js";
import { createHosts, netnsUnavailable, type Hosts } from "./netns.js";

// Three hosts as network namespaces joined by a bridge: A runs NATS node 1 and the api, B node 2
// and two workers, C node 3, both shippers and rsyslog. The test is the client, in the root
// namespace, and reaches only A's address. Nothing but the NATS cluster joins the hosts.

const unavailable = netnsUnavailable();
// In CI the namespaces must work: a skip there would hide a broken deployment story.
const skip = unavailable && !process.env.CI ? `network namespaces unavailable: ${unavailable}` : false;

/** B's link is down this long, mid-job. */
const LINK_DOWN_MS = 20_000;
/** The job must be `done` this long after B is back. */
const DONE_WITHIN_MS = 90_000;

test("three hosts: upload to A, Zeek on B (each capture names B and its worker), sinks on C; B cut off for 20 s mid-job loses nothing and the job finishes", { skip }, async (t) => {
  let net: Hosts | undefined;
  let cluster: TestCluster | undefined;
  let rsyslog: TestRsyslog | undefined;
  let procs: ServiceProcesses | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), "brocapi-hosts-"));
  try {
    net = createHosts(3);
    const [a, b, c] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0], (typeof net.hosts)[0]];
    cluster = await startTestCluster({ hosts: [a.address, b.address, c.address], launchers: [a.launcher, b.launcher, c.launcher] });
    rsyslog = await startTestRsyslog({ address: c.address, launcher: c.launcher });
    const prefix = `h${Math.random().toString(36).slice(2, 10)}`;
    const logDir = join(dataDir, "logs");
    procs = new ServiceProcesses({
      ...FAULT_ENV,
      NATS_URL: cluster.url,
      BROCAPI_NATS_REPLICAS: "3",
      BROCAPI_NATS_PREFIX: prefix,
      BROCAPI_DATA_DIR: dataDir,
      BROCAPI_LOG_DIR: logDir,
      BROCAPI_SYSLOG_TARGET: `tcp://${c.address}:${rsyslog.port}`,
      // Zeek outlasts the moment B is cut off.
      ZEEK_DOUBLE_DELAY_MS: "3000",
    });
    // The api listens on A's address; the namespaces are private to this test, so no tokens.
    const api = await procs.start("api", { launcher: a.launcher, host: a.address, env: { BROCAPI_AUTH: "none" } });
    const workers = [await procs.start("worker", { name: "worker-b1", launcher: b.launcher }), await procs.start("worker", { name: "worker-b2", launcher: b.launcher })];
    await procs.start("shipper", { name: "shipper-c", launcher: c.launcher, args: ["--sink", "directory", "--sink", "syslog"] });
    await cluster.waitHealthy();
    const env: Pipeline = { natsUrl: cluster.url, rsyslog, procs, names: natsNames(prefix), dataDir, logDir };
    const report = (): string => procs!.report();

    const captures = await writeCaptures(dataDir, [1500, 1500, 1000, 1000], "hosts");
    const tag = "three-hosts";
    const jobId = await submitJob(api.url, captures, tag);
    await waitForJobState(api.url, jobId, (j) => j.files.some((f) => f.state === "running"), "a capture in Zeek on B", 30_000, report);
    b.link(false);
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, LINK_DOWN_MS));
    b.link(true);
    t.diagnostic(`B cut off for ${Date.now() - downAt} ms`);
    const job = await waitForJobState(api.url, jobId, (j) => j.state !== "queued" && j.state !== "running", "job final", DONE_WITHIN_MS, report);
    assert.equal(job.state, "done", JSON.stringify(job.files));
    assert.deepEqual(
      job.files.map((f) => [f.state, f.lines.conn]),
      captures.map((cap) => ["done", cap.flows]),
    );
    // Each capture names the host and the process that analysed it: B, one of its two workers.
    for (const f of job.files) {
      assert.equal(f.analysedBy?.host, b.hostname, `capture ${f.index} analysed on B: ${JSON.stringify(f.analysedBy)}`);
      assert.ok(workers.some((w) => w.pid === f.analysedBy?.pid), `capture ${f.index} by a worker process on B: ${JSON.stringify(f.analysedBy)}`);
    }
    await waitForQuiet(env, ["directory", "syslog"]);
    const dir = await directoryDelivery(env, jobId, captures);
    const syslog = await syslogDelivery(env, tag, captures);
    t.diagnostic(`attempts ${JSON.stringify(job.files.map((f) => f.attempts))}; directory ${JSON.stringify(dir)}; syslog ${JSON.stringify(syslog)}`);
    assert.deepEqual({ missing: dir.missing, duplicates: dir.duplicates, received: dir.received, headerBlocks: dir.headerBlocks }, { missing: 0, duplicates: 0, received: 5000, headerBlocks: 1 });
    assert.equal(syslog.missing, 0, "rsyslog on C: nothing missing");
    // rsyslog on C parsed the job's tag as each message's HOSTNAME (syslogConn keeps only those).
    assert.ok((await syslogConn(env, tag)).length >= 5000);
  } finally {
    await procs?.stopAll();
    await rsyslog?.cleanup();
    await cluster?.cleanup();
    net?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
});
