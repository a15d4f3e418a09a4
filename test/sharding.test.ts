import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { TRACES } from "./helpers/recordings.js";
import { eventually, startStack, type JobView, type Stack } from "./helpers/stack.js";
import { vlanFragmentsPcap } from "./helpers/vlan-fragments.js";

const CLI = fileURLToPath(new URL("../services/cli/main.js", import.meta.url));
/** Runs the CLI as a process (asynchronously: the api it talks to runs in this one). */
const cli = (...args: string[]): Promise<{ stdout: string }> => promisify(execFile)(process.execPath, [CLI, ...args], { encoding: "utf8" });

let nats: TestNats;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_WORKER_CONCURRENCY: "3", BROCAPI_BATCH_LINES: "50", BROCAPI_SHARD_MAX: "8", BROCAPI_ZEEK_SCRIPTS: "local protocols/conn/known-hosts" } });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

/** Submits `files` with extra form fields over HTTP; returns the status and body. */
async function submitWith(files: string[], fields: Record<string, string>): Promise<{ status: number; body: { job_id: string; success: boolean; code?: string; status: string } }> {
  const form = new FormData();
  for (const f of files) form.append("file[]", new Blob([await readFile(f)]), basename(f));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as { job_id: string; success: boolean; status: string } };
}

/** A job's `<type>.log` in the directory sink, once it holds `lines` records: its records without the uid field, sorted. */
async function records(job: JobView, type: string): Promise<string[]> {
  const path = join(stack.config.directory.root, job.id, `${type}.log`);
  const want = job.lines[type] ?? 0;
  let text = "";
  await eventually(async () => {
    text = await readFile(path, "utf8").catch(() => "");
    return text.split("\n").filter((l) => l && !l.startsWith("#")).length >= want;
  }, 30_000, `${want} ${type} lines in the directory sink`);
  const fields = text.split("\n").find((l) => l.startsWith("#fields"))?.split("\t").slice(1) ?? [];
  const uid = fields.indexOf("uid");
  const rows = text.split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(rows.length, want, `${type}: the sink holds exactly the lines counted`);
  assert.equal(text.split("\n").filter((l) => l.startsWith("#fields")).length, 1, `${type}: one header`);
  return rows.map((r) => r.split("\t").filter((_, i) => i !== uid).join("\t")).sort();
}

let captures: string[];
let unsharded: JobView;

test("a sharded job's records equal the unsharded job's, record for record (uids aside): recorded traces, a many-host capture, a multi-interface pcapng, VLAN tags and IP fragments", async () => {
  const many = join(stack.dataDir, "many-hosts.pcap");
  await writeSyntheticPcap(many, { flows: 600, packetsPerFlow: 6, dnsEvery: 5, seed: 9 });
  const vlan = join(stack.dataDir, "vlan-fragments.pcap");
  await writeFile(vlan, vlanFragmentsPcap());
  captures = [many, vlan, ...["wikipedia.pcap", "pcapng-multi-if.pcapng", "dns-mdns.pcap", "ftp-ipv4.pcap", "smtp.pcap"].map((t) => join(TRACES, t))];

  const whole = await submitWith(captures, { tag: "whole" });
  assert.equal(whole.status, 200);
  const sharded = await submitWith(captures, { tag: "sharded", shards: "3" });
  assert.equal(sharded.status, 200, sharded.body.status);
  unsharded = await stack.waitForJob(whole.body.job_id, 60_000);
  const job = await stack.waitForJob(sharded.body.job_id, 60_000);
  assert.equal(unsharded.state, "done");
  assert.equal(job.state, "done");

  for (const [i, f] of job.files.entries()) {
    assert.equal(f.shards?.count, 3, `${f.name} analysed in 3 shards`);
    assert.equal(f.shards?.states, "ddd");
    const whole = unsharded.files[i]!;
    assert.equal(whole.shards, undefined);
    // The same counts per capture. notice.log differs by design: the
    // double's (and Zeek's) CaptureLoss::Too_Little_Traffic is a measurement of each Zeek's own
    // traffic (docs/SHARDING.md), so it is compared only for captures that raise none.
    for (const type of ["conn", "dns", "known_hosts"]) assert.equal(f.lines[type], whole.lines[type], `${f.name}: ${type} lines`);
  }
  assert.ok((job.lines.conn ?? 0) > 600 && (job.lines.dns ?? 0) > 100, `the captures have connections and DNS: ${JSON.stringify(job.lines)}`);
  // known_hosts: every shard that saw a host logged it; merged, each host once, as unsharded.
  assert.ok((job.lines.known_hosts ?? 0) > 100, "the many-host capture's local hosts are known");
  for (const type of ["conn", "dns", "known_hosts"]) assert.deepEqual(await records(job, type), await records(unsharded, type), `${type}.log record for record`);

  // Each shard was analysed by its own Zeek: the shard records say so, and the pcapng kept both interfaces.
  const res = await fetch(`${stack.url}/jobs/${job.id}/captures/3/shards`);
  assert.equal(res.status, 200);
  const { shards } = (await res.json()) as { shards: { index: number; state: string; zeekExitCode?: number; lines: Record<string, number> }[] };
  assert.deepEqual(shards.map((s) => [s.index, s.state, s.zeekExitCode]), [[0, "done", 0], [1, "done", 0], [2, "done", 0]]);
  assert.equal(shards.reduce((n, s) => n + (s.lines.conn ?? 0), 0), job.files[3]!.lines.conn);
  // Its two host pairs are in at most two shards: a shard without packets still read a valid
  // pcapng (section and both interfaces), so its Zeek exited 0 above.
  for (const [index, least] of [[0, 100], [2, 1]] as const) {
    const spread = (await (await fetch(`${stack.url}/jobs/${job.id}/captures/${index}/shards`)).json()) as { shards: { lines: Record<string, number> }[] };
    assert.ok(spread.shards.every((s) => (s.lines.conn ?? 0) >= least), `capture ${index}'s connections are spread over all shards`);
  }
});

test("shards=auto below BROCAPI_SHARD_MIN_BYTES changes nothing; a bad shards value is refused with 400 and nothing stored", async () => {
  const small = await submitWith([captures[2]!], { shards: "auto" });
  assert.equal(small.status, 200);
  const job = await stack.waitForJob(small.body.job_id);
  assert.equal(job.files[0]!.shards, undefined, "under the threshold: analysed whole");
  assert.equal(job.files[0]!.lines.conn, unsharded.files[2]!.lines.conn);
  for (const bad of ["0", "9", "many", "-2", "2.5"]) {
    const r = await submitWith([captures[2]!], { shards: bad });
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.code, "BROCAPI_UPLOAD_BAD_SHARDS");
    assert.match(r.body.status, /shards must be "auto" or a whole number from 1 to 8/);
    const gone = await fetch(`${stack.url}/jobs/${r.body.job_id}`);
    assert.equal(gone.status, 404, "no job record");
    const pcaps = await stack.ctx.topology.pcaps.list();
    assert.ok(!pcaps.some((o) => o.name.startsWith(r.body.job_id)), "no capture stored");
  }
});

test("a shard whose Zeek fails: the capture fails with that shard's exit code and stderr; the other shards' lines are delivered and counted", async () => {
  // A record length no reader accepts, mid-capture: the splitter sends the rest to shard 0, whose
  // Zeek refuses it as the unsharded Zeek refuses the whole capture.
  const path = join(stack.dataDir, "damaged.pcap");
  await writeSyntheticPcap(path, { flows: 300, packetsPerFlow: 6, seed: 4 });
  const bytes = await readFile(path);
  let off = 24;
  for (let n = 0; n < 1000; n++) off += 16 + bytes.readUInt32LE(off + 8);
  bytes.writeUInt32LE(0x7fffffff, off + 8);
  await writeFile(path, bytes);

  const whole = await submitWith([path], {});
  // Submitted with the CLI's --shards; its job view shows each shard's state.
  const submitted = await cli("--url", stack.url, "submit", path, "--shards", "3");
  const a = await stack.waitForJob(whole.body.job_id);
  const b = await stack.waitForJob(submitted.stdout.trim());
  const view = await cli("--url", stack.url, "job", b.id);
  assert.match(view.stdout, /damaged\.pcap .* failed .*shards 2\/3 done, 1 failed/);
  assert.equal(a.state, "failed");
  assert.equal(b.state, "failed");
  const f = b.files[0]!;
  assert.equal(f.shards?.states[0], "f", "shard 0 failed");
  assert.equal(f.shards?.states.slice(1), "dd", "shards 1 and 2 done");
  assert.equal(f.error?.code, "BROCAPI_SHARD_FAILED");
  assert.match(f.error?.message ?? "", /^shard 0 of 3 failed: Zeek exited with 1: /);
  assert.equal(f.zeekExitCode, a.files[0]!.zeekExitCode);
  assert.match(f.zeekStderr ?? "", /fatal error/);
  const res = await fetch(`${stack.url}/jobs/${b.id}/captures/0/shards`);
  const { shards } = (await res.json()) as { shards: { state: string; attempts: number; lines: Record<string, number> }[] };
  assert.deepEqual(shards.map((s) => s.attempts), [1, 1, 1], "Zeek refusing its input is not retried");
  const delivered = shards[1]!.lines.conn! + shards[2]!.lines.conn!;
  assert.ok(delivered > 0);
  assert.equal(f.lines.conn, delivered, "the capture counts the lines its done shards published");
  assert.equal(b.lines.conn, delivered, "and so does the job");
  assert.equal((await records(b, "conn")).length, delivered, "the directory sink holds exactly those");
});
