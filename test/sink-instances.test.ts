import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startShipper } from "../services/shipper/shipper.js";
import { LIVE_FOR_MS, SEEN_EVERY_MS } from "../shared/jobs/sink-presence.js";
import { SinkProgressStore } from "../shared/jobs/sink-progress-store.js";
import type { RunningService } from "../shared/service/context.js";
import { brocapi, startBrocapi } from "./helpers/cli.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startTestRsyslog, type TestRsyslog } from "./helpers/rsyslog.js";
import { addStoppedInstance } from "./helpers/sinks-registry.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let rsyslog: TestRsyslog;
let stack: Stack;
const shippers: RunningService[] = [];
/** When the first shipper had registered its instances (their presence written): a refresh comes after. */
let registeredBy = 0;

before(async () => {
  nats = await startTestNats();
  rsyslog = await startTestRsyslog();
  const dir = await import("node:fs/promises").then((fs) => fs.mkdtemp(join(process.env.TMPDIR ?? "/tmp", "brocapi-instances-")));
  const file = join(dir, "brocapi.yaml");
  const target = `tcp://127.0.0.1:${rsyslog.port}`;
  // Two syslog instances with different routing to one receiver, told apart by their program prefix;
  // one filtering on a single log type (a server-side filter); one created later from new lines only.
  await writeFile(
    file,
    `sinks:
  cases:
    kind: syslog
    options: { target: "${target}", prefix: "cases_%s" }
    logs: { exclude: [dns] }
    tags: { include: ["case-*"], exclude: ["case-skip*"] }
  everything:
    kind: syslog
    options: { target: "${target}", prefix: "all_%s" }
  dns-only:
    kind: syslog
    options: { target: "${target}", prefix: "dns_%s" }
    logs: { include: [dns] }
  conn-only:
    kind: syslog
    options: { target: "${target}", prefix: "connonly_%s" }
    logs: { include: [conn] }
  late:
    kind: syslog
    options: { target: "${target}", prefix: "late_%s" }
    start: new
  paused:
    kind: syslog
    options: { target: "${target}", prefix: "paused_%s" }
    logs: { include: [conn] }
    start: new
`,
  );
  stack = await startStack({ natsUrl: nats.url, services: ["api", "worker"], env: { BROCAPI_CONFIG: file, BROCAPI_BATCH_LINES: "20" } });
  shippers.push(await startShipper(stack.ctx, ["cases", "everything", "dns-only", "conn-only"]));
  registeredBy = Date.now();
});

after(async () => {
  await Promise.all(shippers.map((s) => s.stop()));
  await stack?.stop();
  await rsyslog?.cleanup();
  await nats?.cleanup();
});

async function runJob(tag: string, seed: number): Promise<{ id: string; lines: Record<string, number> }> {
  const pcap = join(stack.dataDir, `${tag}.pcap`);
  await writeSyntheticPcap(pcap, { flows: 120, seed, dnsEvery: 3 });
  const { body } = await submit(stack.url, [pcap], tag);
  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "done");
  return { id: job.id, lines: job.lines };
}

const sum = (lines: Record<string, number>, types?: string[]): number => Object.entries(lines).reduce((n, [t, c]) => n + (!types || types.includes(t) ? c : 0), 0);

test("instances with different routing fed by the same jobs each receive exactly their share, counted per instance", async () => {
  const jobA = await runJob("case-1", 1);
  const jobB = await runJob("other", 2);
  const jobC = await runJob("case-skip-3", 3);
  assert.ok(jobA.lines.conn! > 0 && jobA.lines.dns! > 0, `the job has conn and dns lines: ${JSON.stringify(jobA.lines)}`);

  const want = {
    cases: sum(jobA.lines) - jobA.lines.dns!,
    all: sum(jobA.lines) + sum(jobB.lines) + sum(jobC.lines),
    dns: jobA.lines.dns! + jobB.lines.dns! + jobC.lines.dns!,
  };
  const count = async (prefix: string): Promise<number> => (await rsyslog.received()).filter((r) => r.program.startsWith(prefix)).length;
  await eventually(async () => (await count("all_")) >= want.all && (await count("cases_")) >= want.cases && (await count("dns_")) >= want.dns, 30_000, "every share at rsyslog");
  const received = await rsyslog.received();
  const of = (prefix: string) => received.filter((r) => r.program.startsWith(prefix));
  assert.equal(of("cases_").length, want.cases, "cases: all but dns of case-* jobs, not case-skip*");
  assert.ok(of("cases_").every((r) => r.hostname === "case-1" && r.program !== "cases_dns"));
  assert.equal(of("all_").length, want.all, "everything: every line of every job once");
  assert.equal(of("dns_").length, want.dns);
  assert.ok(of("dns_").every((r) => r.program === "dns_dns"));

  const store = new SinkProgressStore(stack.ctx.topology.sinks);
  // Each instance's own count in each job's record. Each instance flushes its counts on its own (at least every second): the counts are read
  // until every instance's is in, then compared (a count that overshoots fails here too).
  const counts = async () => {
    const [a, b] = [await store.ofJob(jobA.id), await store.ofJob(jobB.id)];
    return { cases: a.cases?.lines, everythingA: a.everything?.lines, dnsA: a["dns-only"]?.lines, everythingB: b.everything?.lines, dnsB: b["dns-only"]?.lines, casesB: b.cases };
  };
  const expected = { cases: want.cases, everythingA: sum(jobA.lines), dnsA: jobA.lines.dns, everythingB: sum(jobB.lines), dnsB: jobB.lines.dns, casesB: undefined };
  let seen = await counts();
  await eventually(async () => ((seen = await counts()), JSON.stringify(seen) === JSON.stringify(expected)), 10_000, "counts flushed").catch(() => undefined);
  // "a job routed away entirely leaves no record for the instance": casesB stays undefined.
  assert.deepEqual(seen, expected, "each instance's own count in each job's record");
  // The api's job status gives each instance the lines its routing (recorded by its shipper in
  // the registry) accepts: the count it reached.
  const status = async (id: string) => (await (await fetch(`${stack.url}/jobs/${id}`)).json()) as { sinks: Record<string, { lines: number; expected?: number }> };
  const expectedOf = (s: Awaited<ReturnType<typeof status>>) => Object.fromEntries(Object.entries(s.sinks).map(([name, p]) => [name, p.expected]));
  assert.deepEqual(expectedOf(await status(jobA.id)), { cases: want.cases, everything: sum(jobA.lines), "dns-only": jobA.lines.dns, "conn-only": jobA.lines.conn });
  assert.deepEqual(expectedOf(await status(jobB.id)), { everything: sum(jobB.lines), "dns-only": jobB.lines.dns, "conn-only": jobB.lines.conn }, "cases takes none of jobB: no record");

  // dns-only's routing is a subject filter: NATS never handed it a conn batch. cases (an exclude,
  // which subjects cannot say) fetches everything and skips in the runner.
  const { jsm, names } = stack.ctx.topology;
  const dnsOnly = await jsm.consumers.info(names.logsStream, names.sinkConsumer("dns-only"));
  assert.equal(dnsOnly.config.filter_subject, names.logSubject("dns", "*"));
  // One capture per job, 20 lines per batch: the dns batches, and nothing else, were handed to it.
  const dnsBatches = [jobA, jobB, jobC].reduce((n, j) => n + Math.ceil(j.lines.dns! / 20), 0);
  assert.equal(dnsOnly.delivered.consumer_seq, dnsBatches);
  assert.ok(dnsBatches < (await jsm.streams.info(names.logsStream)).state.messages);
  const cases = await jsm.consumers.info(names.logsStream, names.sinkConsumer("cases"));
  assert.equal(cases.config.filter_subject, names.logsFilter);

  // An instance started now with `start: new` ships only what is published from now on.
  shippers.push(await startShipper(stack.ctx, ["late"]));
  const jobD = await runJob("later", 4);
  await eventually(async () => (await count("late_")) >= sum(jobD.lines), 30_000, "late instance");
  const late = (await rsyslog.received()).filter((r) => r.program.startsWith("late_"));
  assert.equal(late.length, sum(jobD.lines));
  assert.ok(late.every((r) => r.hostname === "later"), "nothing of the jobs before it was created");
  // The api lists a running instance for the jobs it delivers from its start on, and only those:
  // late owes jobD every line, and nothing of jobA (submitted before its consumer was created).
  await eventually(async () => (await status(jobD.id)).sinks.late?.lines === sum(jobD.lines), 10_000, "late counted");
  assert.equal((await status(jobD.id)).sinks.late?.expected, sum(jobD.lines));
  assert.equal((await status(jobA.id)).sinks.late, undefined, "late is running and takes every line, but not of jobs before it");
});

test("submit --wait waits for every running instance that owes the job lines, also one that has not reported it yet, each to its own share", async () => {
  const pcap = join(stack.dataDir, "wait.pcap");
  await writeSyntheticPcap(pcap, { flows: 60, seed: 5, dnsEvery: 3 });
  // paused: an instance that says it runs (its shipper registered it) but reports nothing of the
  // job until it is started again below, as a shipper restarting or slow to its first count.
  // Seen within LIVE_FOR_MS, it counts as running: --wait must wait for it.
  await (await startShipper(stack.ctx, ["paused"])).stop();
  const wait = startBrocapi(["submit", pcap, "--tag", "case-wait", "--wait"], { BROCAPI_URL: stack.url });
  const waiting = /^sink paused: 0 of (\d+) lines delivered$/m;
  await eventually(async () => waiting.test(wait.stdout()), 30_000, "--wait listing paused at 0 (before, it ended once the instances that reported were done)").catch(async (err: Error) => {
    throw new Error(`${err.message}\n${wait.stdout()}${(await wait.done).stderr}`);
  });
  shippers.push(await startShipper(stack.ctx, ["paused"]));
  const run = await wait.done;
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const id = run.stdout.split("\n")[0]!;
  const { lines } = await stack.waitForJob(id);
  assert.ok(lines.conn! > 0 && lines.dns! > 0, JSON.stringify(lines));
  // Before `expected`, each routing instance stayed short of every published line and --wait
  // gave up after DELIVERY_STALL_MS with this message.
  assert.doesNotMatch(run.stdout, /have not caught up/, run.stdout);
  // Each running instance's own share, the last count --wait printed for it: every one that owes
  // the job lines is listed from the first status read after the analysis (at 0 until it
  // reports), so none is left behind when the first ones are done.
  const share = { "conn-only": lines.conn!, "dns-only": lines.dns!, cases: sum(lines) - lines.dns!, everything: sum(lines), late: sum(lines), paused: lines.conn! };
  assert.equal(Number(waiting.exec(run.stdout)![1]), share.paused, "paused owed the job's conn lines");
  const last = (sink: string) => [...run.stdout.matchAll(new RegExp(`^sink ${sink}: (\\d+) of (\\d+) lines delivered$`, "gm"))].at(-1)?.slice(1).map(Number);
  for (const [sink, n] of Object.entries(share)) assert.deepEqual(last(sink), [n, n], `${sink}\n${run.stdout}`);
  assert.ok(run.stdout.indexOf(`sink paused: ${share.paused} of`) < run.stdout.indexOf(`\njob ${id} `), `the wait ended after paused delivered: the job's view follows\n${run.stdout}`);
  const { sinks } = (await (await fetch(`${stack.url}/jobs/${id}`)).json()) as { sinks: Record<string, { lines: number; expected?: number; running?: boolean }> };
  for (const [sink, n] of Object.entries(share)) assert.deepEqual([sinks[sink]?.lines, sinks[sink]?.expected, sinks[sink]?.running], [n, n, true], sink);
});

test("an instance not seen running for LIVE_FOR_MS is listed as not running and not waited for: --wait and `brocapi job` say so", async () => {
  const kv = stack.ctx.topology.sinks;
  // As a shipper of `gone` left it when it stopped, longer ago than LIVE_FOR_MS, routed to conn;
  // and `retired`, alike but last seen longer ago than the LOGS stream keeps lines (168 h here).
  const lastSeen = new Date(Date.now() - LIVE_FOR_MS - 5_000).toISOString();
  const retiredSeen = new Date(Date.now() - 169 * 3_600_000).toISOString();
  await addStoppedInstance(kv, "gone", ["conn"], lastSeen);
  await addStoppedInstance(kv, "retired", ["conn"], retiredSeen);
  const pcap = join(stack.dataDir, "gone.pcap");
  await writeSyntheticPcap(pcap, { flows: 30, seed: 7 });
  const run = await brocapi(["submit", pcap, "--tag", "gone", "--wait"], { BROCAPI_URL: stack.url });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const id = run.stdout.split("\n")[0]!;
  const { lines } = await stack.waitForJob(id);
  // One line for it, and the wait ended on the running instances' counts, not after the stall.
  assert.match(run.stdout, new RegExp(`^sink gone: 0 of ${lines.conn} lines delivered; not running, last seen at ${lastSeen}: not waited for, what it owes ships when it runs again$`, "m"));
  assert.doesNotMatch(run.stdout, /have not caught up/, run.stdout);
  assert.match(run.stdout, new RegExp(`^sink everything: ${sum(lines)} of ${sum(lines)} lines delivered$`, "m"));
  const { sinks } = (await (await fetch(`${stack.url}/jobs/${id}`)).json()) as { sinks: Record<string, Record<string, unknown>> };
  assert.deepEqual(sinks.gone, { lines: 0, expected: lines.conn, seenAt: lastSeen, running: false });
  assert.equal(sinks.retired, undefined, "an instance stopped for longer than the log retention is not listed on new jobs");
  assert.doesNotMatch(run.stdout, /^sink retired/m);
  const view = await brocapi(["job", id], { BROCAPI_URL: stack.url });
  assert.match(view.stdout, new RegExp(`^  gone  0 of ${lines.conn} lines delivered  not running, last seen at ${lastSeen}$`, "m"));

  // A process of it refreshing its presence (SEEN_EVERY_MS) makes it running again; a second
  // refresh within half the period writes nothing (many processes do not multiply the writes).
  const store = new SinkProgressStore(kv);
  const goneSeen = async () => ((await kv.get("registry"))!.json() as { seen: Record<string, { at: string }> }).seen.gone!.at;
  await store.markSeen("gone", null);
  const refreshed = await goneSeen();
  await store.markSeen("gone", null);
  assert.equal(await goneSeen(), refreshed, "not written again");
  const again = (await (await fetch(`${stack.url}/jobs/${id}`)).json()) as { sinks: Record<string, { running?: boolean; seenAt?: string }> };
  assert.equal(again.sinks.gone?.running, true);
  assert.ok(Date.parse(again.sinks.gone!.seenAt!) > Date.parse(lastSeen));
});

test("a start time: the consumer starts at that time in the stream", async () => {
  const { jsm, names } = stack.ctx.topology;
  const { ensureSinkConsumer } = await import("../shared/nats/topology.js");
  const at = new Date(Date.now() - 60_000).toISOString();
  await ensureSinkConsumer(stack.ctx.topology, "from-time", 30_000, { start: at });
  const info = await jsm.consumers.info(names.logsStream, names.sinkConsumer("from-time"));
  assert.equal(info.config.deliver_policy, "by_start_time");
  assert.equal(new Date(info.config.opt_start_time!).toISOString(), at);
});

test("a registry written before routing was recorded stays readable: its names get no expected (every published line) until their instance starts again", async () => {
  const job = await runJob("case-legacy", 6);
  const kv = stack.ctx.topology.sinks;
  const store = new SinkProgressStore(kv);
  // The old shape, names only, plus a name no running instance has, with a record for the job.
  await kv.put("registry", JSON.stringify({ sinks: [...(await store.names()), "legacy"].sort() }));
  await store.add(job.id, "legacy", { lines: 5 }, null);
  await eventually(async () => (await store.ofJob(job.id))["dns-only"]?.lines === job.lines.dns, 10_000, "dns-only counted");
  const expectedOf = async () => {
    const { sinks } = (await (await fetch(`${stack.url}/jobs/${job.id}`)).json()) as { sinks: Record<string, { lines: number; expected?: number }> };
    return { legacy: sinks.legacy && { lines: sinks.legacy.lines, expected: sinks.legacy.expected }, dnsOnly: sinks["dns-only"]?.expected };
  };
  assert.deepEqual(await expectedOf(), { legacy: { lines: 5, expected: undefined }, dnsOnly: undefined });
  // dns-only starts again (as its shipper does): its routing goes in beside the names, which all stay.
  await store.register("dns-only", { logs: { include: ["dns"], exclude: [] }, tags: { exclude: [] } }, null);
  assert.deepEqual(await expectedOf(), { legacy: { lines: 5, expected: undefined }, dnsOnly: job.lines.dns });
  assert.ok((await store.names()).includes("legacy"));
});

test("the api builds an instance's routing check once per routing: the same check for every status read, across other instances' starts and refreshes, until its routing changes", async () => {
  const job = await runJob("case-routes", 8);
  const store = new SinkProgressStore(stack.ctx.topology.sinks);
  await eventually(async () => (await store.ofJob(job.id))["dns-only"]?.lines === job.lines.dns, 10_000, "dns-only counted");
  const first = (await store.ofJobRouted(job.id)).routing["dns-only"];
  assert.ok(first?.accepts({ logType: "dns", tag: "case-routes" }));
  assert.equal((await store.ofJobRouted(job.id)).routing["dns-only"], first, "not built again for the next read");
  // Another instance starting (its presence refreshed alike) is a new revision of the registry.
  const revision = (await stack.ctx.topology.sinks.get("registry"))!.revision;
  await store.register("conn-only", { logs: { include: ["conn"], exclude: [] }, tags: { exclude: [] } }, null);
  assert.notEqual((await stack.ctx.topology.sinks.get("registry"))!.revision, revision);
  assert.equal((await store.ofJobRouted(job.id)).routing["dns-only"], first, "not built again for another instance's change");
  const dnsOnly = { logs: { include: ["dns"], exclude: [] }, tags: { exclude: [] } };
  await store.register("dns-only", { ...dnsOnly, logs: { include: ["conn"], exclude: [] } }, null);
  try {
    const changed = (await store.ofJobRouted(job.id)).routing["dns-only"];
    assert.notEqual(changed, first);
    assert.deepEqual([changed?.accepts({ logType: "conn", tag: null }), changed?.accepts({ logType: "dns", tag: null })], [true, false], "the routing the instance started with last");
  } finally {
    await store.register("dns-only", dnsOnly, null);
  }
});

test("a running shipper refreshes its instances' presence: a registry rewritten without it (as an older shipper writes it) gets it back", async () => {
  // cases and everything were registered once, before the first test; the names-only registry
  // written by the legacy test above dropped their `seen`. Only the refresh every SEEN_EVERY_MS
  // (sink-runner) writes it again: without it they would count as stopped 90 s after their start.
  const seen = async () => ((await stack.ctx.topology.sinks.get("registry"))!.json() as { seen?: Record<string, { at: string }> }).seen ?? {};
  await eventually(
    async () => {
      const now = await seen();
      return ["cases", "everything"].every((name) => Date.parse(now[name]?.at ?? "") > registeredBy);
    },
    SEEN_EVERY_MS + 30_000,
    "cases and everything seen again after their registration",
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await seen())}, registered by ${new Date(registeredBy).toISOString()}`);
  });
});
