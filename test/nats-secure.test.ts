// deploy/nats/secure.conf as shipped: TLS with client certificates, one NKey user per service,
// JetStream encrypted at rest. Each service runs as its own process under its own user: a job
// goes end to end (the api reads and deletes it too), while the shipper's user cannot publish a
// task, read a capture or delete a stream, and the worker's cannot delete a job or a stream, nor
// purge the job index or write the subjects of it a worker does not use.
// The capture's bytes and its log lines appear nowhere in the store's files, and no secret
// appears in any service's output. Every key and certificate is made here, in temp dirs.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createUser } from "@nats-io/nkeys";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { loadConfig } from "../shared/config/load.js";
import { connectNats } from "../shared/nats/connect.js";
import { natsCredentials } from "../shared/nats/credentials.js";
import { natsNames } from "../shared/nats/names.js";
import { readSubject } from "../shared/nats/read-subject.js";
import { ensureTopology } from "../shared/nats/topology.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { ServiceProcesses, type ServiceProcess } from "./helpers/processes.js";
import { eventually } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";
import { writeTokensFile } from "./helpers/tokens.js";

const SECURE_CONF = fileURLToPath(new URL("../../deploy/nats/secure.conf", import.meta.url));
const PCAP = fileURLToPath(new URL("../../test/fixtures/zeek/traces/http-get.pcap", import.meta.url));
const USERS = ["api", "worker", "shipper", "admin"] as const;
type User = (typeof USERS)[number];

let pki: TestPki;
let dir: string;
let nats: TestNats;
let procs: ServiceProcesses;
let api: ServiceProcess;
const seeds = {} as Record<User, { file: string; seed: string }>;
let jsKey: string;
let apiToken: string;
let jobId: string;

/** What a service under `user` sets: its seed file, the CA, its client certificate, the tls:// URL. */
function natsEnv(user: User): Record<string, string> {
  return {
    NATS_URL: `tls://127.0.0.1:${nats.port}`,
    BROCAPI_NATS_NKEY_SEED_FILE: seeds[user].file,
    BROCAPI_NATS_TLS_CA_FILE: pki.caFile,
    BROCAPI_NATS_TLS_CERT_FILE: pki.clientCert,
    BROCAPI_NATS_TLS_KEY_FILE: pki.clientKey,
  };
}

/** A connection of the test's own under `user`, as that service would make it. */
async function connectAs(user: User): Promise<NatsConnection> {
  const config = loadConfig({ ...natsEnv(user), BROCAPI_DATA_DIR: dir });
  return (await connectNats(config.nats.url!, `brocapi-${user}`, pino({ level: "silent" }), natsCredentials(config.nats))).nc;
}

before(async () => {
  [pki, dir] = await Promise.all([createTestPki(), mkdtemp(join(tmpdir(), "brocapi-secure-"))]);
  const env: Record<string, string> = {
    BROCAPI_NATS_TLS_CERT: pki.serverCert,
    BROCAPI_NATS_TLS_KEY: pki.serverKey,
    BROCAPI_NATS_TLS_CA: pki.caFile,
    BROCAPI_NATS_JS_KEY: (jsKey = randomBytes(36).toString("base64")),
  };
  for (const user of USERS) {
    const kp = createUser();
    const seed = new TextDecoder().decode(kp.getSeed());
    const file = join(dir, `${user}.nk`);
    await writeFile(file, `${seed}\n`, { mode: 0o600 });
    seeds[user] = { file, seed };
    env[`BROCAPI_NATS_${user.toUpperCase()}_NKEY`] = kp.getPublicKey();
  }
  nats = await startTestNats(join(dir, "store"), undefined, { configFile: SECURE_CONF, env });
  const { path: tokensFile, tokens } = await writeTokensFile(dir, [{ name: "ops", roles: ["admin"] }]);
  apiToken = tokens.ops!;
  // Debug logs from every service: the most a service ever says, searched for secrets below.
  procs = new ServiceProcesses({ BROCAPI_DATA_DIR: join(dir, "data"), BROCAPI_LOG_LEVEL: "debug", BROCAPI_AUTH_TOKENS_FILE: tokensFile, BROCAPI_HTTP_HOST: "127.0.0.1" });
  // The api first: only its user may create the streams.
  api = await procs.start("api", { env: natsEnv("api") });
  await Promise.all([procs.start("worker", { env: natsEnv("worker") }), procs.start("shipper", { env: natsEnv("shipper") })]);
});

after(async () => {
  await procs?.stopAll();
  await nats?.cleanup();
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const auth = (): Record<string, string> => ({ authorization: `Bearer ${apiToken}` });

test("each service under its own user, with TLS: a job runs end to end, its logs and capture are read back", { timeout: 60_000 }, async () => {
  const res = await submit(api.url, [PCAP], "secure", "file[]", auth());
  assert.equal(res.httpStatus, 200, `${res.body.status}\n${procs.report()}`);
  jobId = res.body.job_id;
  let job: { state: string; lines: Record<string, number>; sinks: Record<string, { lines: number; expected?: number; running?: boolean }> } = { state: "", lines: {}, sinks: {} };
  await eventually(
    async () => {
      job = (await (await fetch(`${api.url}/jobs/${jobId}`, { headers: auth() })).json()) as typeof job;
      return job.state === "done" && (job.sinks.directory?.lines ?? 0) > 0;
    },
    30_000,
    `job done and delivered\n${procs.report()}`,
  );
  // The shipper's user recorded its instance's routing and presence in the registry: the api
  // counts its expected lines from it and knows it runs.
  assert.equal(job.sinks.directory?.expected, Object.values(job.lines).reduce((a, b) => a + b, 0), JSON.stringify(job));
  assert.equal(job.sinks.directory?.running, true, JSON.stringify(job));
  const conn = await (await fetch(`${api.url}/jobs/${jobId}/logs/conn`, { headers: auth() })).text();
  assert.match(conn, /^#separator/);
  const capture = Buffer.from(await (await fetch(`${api.url}/jobs/${jobId}/pcaps/0`, { headers: auth() })).arrayBuffer());
  assert.deepEqual(capture, await readFile(PCAP));
});

/**
 * The worker's user may not purge BROCAPI_JOBS, so the worker that ends a job leaves its marker:
 * the api's reconciler takes it out of the unfinished jobs, and job.finished is stored once.
 */
test("a job a worker ended leaves the unfinished jobs through the api's reconciler, announced once", { timeout: 60_000 }, async () => {
  const nc = await connectAs("admin");
  try {
    // Read only: the admin's user could change the streams, so not through ensureTopology.
    const jsm = await jetstreamManager(nc);
    const names = natsNames(loadConfig({ BROCAPI_DATA_DIR: dir }).nats.prefix);
    const marked = async (): Promise<boolean> => Object.keys((await jsm.streams.info(names.jobsStream, { subjects_filter: names.jobActiveSubject(jobId) })).state.subjects ?? {}).length > 0;
    await eventually(async () => !(await marked()), 45_000, `job ${jobId} unmarked by the api\n${procs.report()}`);
    const finished: string[] = [];
    for await (const m of readSubject(jsm, names.eventsStream, names.eventsSubject(jobId))) {
      const { type } = m.json<{ type: string }>();
      if (type === "job.finished") finished.push(type);
    }
    assert.deepEqual(finished, ["job.finished"]);
  } finally {
    await nc.close();
  }
});

test("the shipper's user cannot publish a task, read a capture, delete a stream or listen to the worker's inbox", async () => {
  const nc = await connectAs("shipper");
  try {
    const js = jetstream(nc);
    await assert.rejects(js.publish(`brocapi.tasks.${jobId}`, "{}"), /Permissions Violation for Publish to "brocapi\.tasks\./);
    const pcaps = await new Objm(nc).open("brocapi-pcaps");
    await assert.rejects(pcaps.get(`${jobId}/0`), /Permissions Violation/);
    const jsm = await jetstreamManager(nc);
    await assert.rejects(jsm.streams.delete("BROCAPI_LOGS"), /Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.BROCAPI_LOGS"/);
    await assert.rejects(jsm.streams.purge("OBJ_brocapi-pcaps"), /Permissions Violation/);
    const sub = nc.subscribe("_INBOX_brocapi-worker.>");
    assert.match(String(await sub.closed), /Permissions Violation for Subscription to "_INBOX_brocapi-worker\.>"/);
  } finally {
    await nc.close();
  }
});

test("the shipper's user may read what its sink audit reads: the job index to its leader's end, and its instance's queued replays from the leader", async () => {
  const nc = await connectAs("shipper");
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames("brocapi");
    const listed: string[] = [];
    for await (const m of readSubject(jsm, names.jobsStream, names.jobIndexSubject)) listed.push(m.string());
    assert.ok(listed.includes(jobId), "the job is listed");
    const queued: string[] = [];
    for await (const m of readSubject(jsm, names.replayStream, names.replaySubject("directory"), { leader: true })) queued.push(m.string());
    assert.deepEqual(queued, []);
  } finally {
    await nc.close();
  }
});

/**
 * Deleting a job is removing its captures, tasks, log lines and events (purges), then its record.
 * The record is the one part subject permissions cannot guard: a worker must write job records,
 * and a KV delete is a write to the same subject (docs/SECURITY.md).
 */
test("the worker's user cannot delete a job's captures, tasks, lines or events, nor a stream, nor purge or write the job index", async () => {
  const nc = await connectAs("worker");
  try {
    const { jsm, names, pcaps } = await ensureTopology(nc, loadConfig({ BROCAPI_DATA_DIR: dir }));
    // BROCAPI_JOBS: the index of every job (GET /jobs) and the unfinished ones (the reconciler's).
    const jobsPurge = /Permissions Violation for Publish to "\$JS\.API\.STREAM\.PURGE\.BROCAPI_JOBS"/;
    await assert.rejects(jsm.streams.purge(names.jobsStream), jobsPurge);
    await assert.rejects(jsm.streams.purge(names.jobsStream, { filter: names.jobIndexSubject }), jobsPurge);
    await assert.rejects(jsm.streams.delete(names.jobsStream), /Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.BROCAPI_JOBS"/);
    const js = jetstream(nc);
    await assert.rejects(js.publish(names.jobLayoutSubject, "2"), /Permissions Violation for Publish to "brocapi\.jobs\.layout"/);
    await assert.rejects(js.publish(`${names.jobActiveSubject(jobId)}.x`, ""), /Permissions Violation for Publish to "brocapi\.jobs\.active\./);
    await assert.rejects(pcaps.delete(`${jobId}/0`), /Permissions Violation/);
    for (const [stream, filter] of [
      [names.tasksStream, names.tasksSubject(jobId)],
      [names.logsStream, names.logsOfJob(jobId)],
      [names.eventsStream, names.eventsSubject(jobId)],
    ] as const) {
      await assert.rejects(jsm.streams.purge(stream, { filter }), new RegExp(`Permissions Violation for Publish to "\\$JS\\.API\\.STREAM\\.PURGE\\.${stream}"`));
    }
    await assert.rejects(jsm.streams.delete(names.tasksStream), /Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE\.BROCAPI_TASKS"/);
  } finally {
    await nc.close();
  }
  assert.equal((await fetch(`${api.url}/jobs/${jobId}/pcaps/0`, { headers: auth() })).status, 200, "the capture is still there");
  assert.equal((await fetch(`${api.url}/jobs/${jobId}/logs/conn`, { headers: auth() })).status, 200, "so are its logs");
  const listed = (await (await fetch(`${api.url}/jobs`, { headers: auth() })).json()) as { jobs: { id: string }[] };
  assert.ok(listed.jobs.some((j) => j.id === jobId), "and the job is still listed");
});

test("encrypted at rest: neither the capture's bytes nor its log lines are in the store's files", async () => {
  const pcap = await readFile(PCAP);
  const conn = await (await fetch(`${api.url}/jobs/${jobId}/logs/conn`, { headers: auth() })).text();
  const line = conn.split("\n").find((l) => l && !l.startsWith("#"))!;
  // Distinctive runs: 64 bytes from the middle of the capture, and a conn line's uid and addresses.
  const middle = Math.floor(pcap.length / 2);
  const needles = [pcap.subarray(middle, middle + 64), Buffer.from(line.split("\t").slice(1, 4).join("\t"))];
  for (const needle of needles) assert.ok(needle.length >= 20);
  const files = (await readdir(nats.storeDir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
  let bytes = 0;
  for (const f of files) {
    const data = await readFile(join(f.parentPath ?? (f as unknown as { path: string }).path, f.name));
    bytes += data.length;
    for (const needle of needles) assert.equal(data.indexOf(needle), -1, `${f.name} holds plain text of the job`);
  }
  assert.ok(bytes > pcap.length, `the store holds ${bytes} bytes: the capture is in there, encrypted`);
  assert.equal((await fetch(`${api.url}/jobs/${jobId}`, { method: "DELETE", headers: auth() })).status, 200, "the api's user deletes it");
});

test("no secret (NKey seeds, store key, TLS keys, API token) appears in any service's output", async () => {
  const keys = await Promise.all([pki.clientKey, pki.serverKey].map(async (f) => (await readFile(f, "utf8")).split("\n")[1]!));
  const secrets = [...USERS.map((u) => seeds[u].seed), jsKey, apiToken, ...keys];
  const output = procs.report();
  assert.ok(output.includes("nats.connected"), "the output was captured");
  assert.ok(!output.includes("Permissions Violation"), `every right a service used is in secure.conf:\n${output.split("\n").filter((l) => l.includes("Permissions Violation")).join("\n")}`);
  for (const secret of secrets) assert.ok(!output.includes(secret), `a secret (${secret.slice(0, 4)}…) in the output`);
});
