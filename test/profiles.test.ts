// Per-job analysis profiles: a job's `profile=` chooses one of the configured Zeek script sets and
// options; Zeek gets exactly those (recorded from its argv by a wrapper around the double); the
// job record and status name it; the reuse key tells profiles apart; a config with an unsafe
// profile does not start. (A refused `profile=` is in bad-input.test.ts: 400, nothing stored.)

import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadConfig } from "../shared/config/load.js";
import { ConfigError } from "../shared/errors.js";
import { analysisKey } from "../services/worker/reuse.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startStack, ZEEK_DOUBLE, type Stack } from "./helpers/stack.js";

const CONFIG = `
zeek:
  profiles:
    default: { scripts: [local] }
    bare: { scripts: [] }
    tuned:
      scripts: [local, policy/protocols/conn/vlan-logging]
      options: { "Site::local_nets": "{ 10.0.0.0/8 }", udp_inactivity_timeout: "30 sec" }
`;

let nats: TestNats;
let stack: Stack;
let dir: string;
let pcap: string;
let argvLog: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-profiles-"));
  [pcap, argvLog] = [join(dir, "p.pcap"), join(dir, "argv.log")];
  // ZEEK_BIN: the double, behind a wrapper that writes each run's arguments (tab-separated) first.
  const zeek = join(dir, "zeek");
  await writeFile(zeek, `#!/bin/sh\nfor a in "$@"; do printf '%s\\t' "$a"; done >> '${argvLog}'\necho >> '${argvLog}'\nexec '${ZEEK_DOUBLE}' "$@"\n`);
  await chmod(zeek, 0o755);
  await writeFile(join(dir, "brocapi.yaml"), CONFIG);
    // DNS only: no TCP ACKs, so `local` raises CaptureLoss::Too_Little_Traffic (notice.log) and nothing else does.
  await writeSyntheticPcap(pcap, { flows: 40, seed: 9, dnsEvery: 1 });
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, env: { BROCAPI_CONFIG: join(dir, "brocapi.yaml"), ZEEK_BIN: zeek, BROCAPI_REUSE_ANALYSES: "true" } });
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function submitWith(profile: string | undefined): Promise<string> {
  const form = new FormData();
  if (profile !== undefined) form.append("profile", profile);
  form.append("file[]", new Blob([await readFile(pcap)]), "p.pcap");
  const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
  const body = (await res.json()) as { job_id: string; status: string };
  assert.equal(res.status, 200, body.status);
  return body.job_id;
}

/** The arguments of every analysis so far (not `zeek --version`), one array per run. */
async function zeekRuns(): Promise<string[][]> {
  const runs = (await readFile(argvLog, "utf8").catch(() => "")).split("\n").map((l) => l.split("\t").slice(0, -1));
  return runs.filter((args) => args.includes("-r"));
}

test("each job runs Zeek with exactly its profile's scripts and options; the status names the profile; reuse never crosses profiles", async () => {
  const runs = (await zeekRuns()).length;
  const tuned = await stack.waitForJob(await submitWith("tuned"));
  const bare = await stack.waitForJob(await submitWith("bare"));
  const plain = await stack.waitForJob(await submitWith(undefined));
  assert.deepEqual((await zeekRuns()).slice(runs), [
    ["-C", "-r", "-", "local", "policy/protocols/conn/vlan-logging", "Site::local_nets={ 10.0.0.0/8 }", "udp_inactivity_timeout=30 sec"],
    ["-C", "-r", "-"],
    ["-C", "-r", "-", "local"],
  ]);
  for (const job of [tuned, bare, plain]) {
    assert.equal(job.state, "done");
    assert.equal(job.files[0]!.reusedFrom, undefined, "the same capture under another profile is analysed, not reused");
    assert.equal(job.lines.conn, 40);
  }
  // Without `local` the double writes none of its logs: notice.log (too little traffic) is local's.
  assert.ok(plain.lines.notice, "local raises CaptureLoss::Too_Little_Traffic here");
  assert.equal(bare.lines.notice, undefined);
  const status = async (id: string): Promise<{ profile: string }> => (await (await fetch(`${stack.url}/jobs/${id}`)).json()) as { profile: string };
  assert.deepEqual([(await status(tuned.id)).profile, (await status(bare.id)).profile, (await status(plain.id)).profile], ["tuned", "bare", "default"]);

  // The same capture and profile again: reused from the first job of that profile, Zeek not run.
  const again = await stack.waitForJob(await submitWith("bare"));
  assert.deepEqual(again.files[0]!.reusedFrom, { jobId: bare.id, fileIndex: 0 });
  assert.equal((await zeekRuns()).length, runs + 3);
});

test("the reuse key: the profile's arguments are part of it, not its name", () => {
  const key = (scripts: string[], options: Record<string, string> = {}): string => analysisKey("ab".repeat(32), { zeekVersion: "8.2.2", profile: { scripts, options }, format: "tsv", skipped: ["stats"] });
  assert.notEqual(key(["local"]), key([]));
  assert.notEqual(key(["local"]), key(["local"], { udp_inactivity_timeout: "30 sec" }));
  assert.notEqual(key(["local"], { a: "1" }), key(["local"], { a: "2" }));
  assert.equal(key(["local"]), key(["local"]));
});

test("profiles in the config: default from zeek.scripts, built-ins, and unsafe entries stop start-up", async () => {
  const c = loadConfig({ BROCAPI_ZEEK_SCRIPTS: "local policy/misc/stats" });
  assert.deepEqual(Object.keys(c.zeek.profiles).sort(), ["default", "full", "minimal"]);
  assert.deepEqual(c.zeek.profiles.default, { scripts: ["local", "policy/misc/stats"], options: {} });
  assert.deepEqual(c.zeek.profiles.minimal!.scripts, []);
  const withFile = async (yaml: string): Promise<unknown> => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    return loadConfig({ BROCAPI_CONFIG: file });
  };
  const refused = async (yaml: string, message: RegExp): Promise<void> => {
    await assert.rejects(withFile(yaml), (err: Error) => err instanceof ConfigError && message.test(err.message));
  };
  await refused("zeek: { profiles: { x: { scripts: ['-e', 'print 1'] } } }", /zeek\.profiles\.x\.scripts\.0\): .*not starting with -/);
  await refused("zeek: { profiles: { x: { scripts: ['a=b'] } } }", /zeek\.profiles\.x\.scripts\.0/);
  await refused("zeek: { profiles: { x: { options: { 'LogAscii::use_json': 'T' } } } }", /set by Brocapi itself/);
  await refused("zeek: { profiles: { x: { options: { 'a b': '1' } } } }", /not a Zeek identifier/);
  await refused("zeek: { profiles: { x: { options: { a: \"1\\n2\" } } } }", /printable text/);
  await refused("zeek: { profiles: { Big: {} } }", /not a profile name/);
  await assert.rejects(async () => loadConfig({ BROCAPI_ZEEK_SCRIPTS: "local -i" }), /zeek\.scripts/);
  assert.deepEqual(Object.keys(loadConfig({ BROCAPI_ZEEK_PROFILES: '{"dmz":{"scripts":["local"],"options":{"a":"1"}}}' }).zeek.profiles), ["default", "dmz"]);
  await assert.rejects(async () => loadConfig({ BROCAPI_ZEEK_PROFILES: "{dmz" }), /BROCAPI_ZEEK_PROFILES \(zeek\.profiles\)/);
});
