import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { startTestRsyslog, type TestRsyslog } from "./helpers/rsyslog.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let rsyslog: TestRsyslog;
let stack: Stack;

before(async () => {
  nats = await startTestNats();
  rsyslog = await startTestRsyslog();
  stack = await startStack({
    natsUrl: nats.url,
    env: {
      BROCAPI_SYSLOG_TARGET: `tcp://127.0.0.1:${rsyslog.port}`,
      BROCAPI_SYSLOG_PREFIX: "bro25_%s",
      // A small batch size so these captures span many messages and batch boundaries.
      BROCAPI_BATCH_LINES: "37",
      // A log the double writes for these captures, so the blacklist has something to hold back.
      BROCAPI_LOG_BLACKLIST: "dns.log",
    },
  });
});

after(async () => {
  await stack?.stop();
  await rsyslog?.cleanup();
  await nats?.cleanup();
});

test("seed-style submission of two captures with a tag: every line reaches rsyslog once and the directory sink", async () => {
  const a = join(stack.dataDir, "a.pcap");
  const b = join(stack.dataDir, "b.pcap");
  const infoA = await writeSyntheticPcap(a, { flows: 700, seed: 1, dnsEvery: 7 });
  await writeSyntheticPcap(b, { flows: 450, seed: 2 });
  assert.ok(infoA.dnsTransactions > 0, "the double writes a dns.log for a.pcap");

  const { httpStatus, body } = await submit(stack.url, [a, b], "case-42");
  assert.equal(httpStatus, 200);
  assert.deepEqual(Object.keys(body).sort(), ["files", "job_id", "status", "success", "tag"]);
  assert.equal(body.status, "job queued");
  assert.equal(body.success, true);
  assert.equal(body.tag, "case-42");
  assert.deepEqual(body.files, ["a.pcap", "b.pcap"]);
  assert.match(body.job_id, /^[0-9a-f-]{36}$/);

  const job = await stack.waitForJob(body.job_id);
  assert.equal(job.state, "done");
  // The double writes one conn line per flow: the counts come from the generator, not from Brocapi.
  assert.equal(job.files[0]!.lines.conn, 700);
  assert.equal(job.files[1]!.lines.conn, 450);
  for (const f of job.files) {
    for (const skipped of ["loaded_scripts", "packet_filter", "stats", "capture_loss", "dns"]) assert.equal(f.lines[skipped], undefined, skipped);
  }
  const published = job.files.reduce((n, f) => n + Object.values(f.lines).reduce((x, y) => x + y, 0), 0);

  await eventually(async () => (await rsyslog.received()).length >= published, 30_000, `${published} lines at rsyslog`);
  const received = await rsyslog.received();
  assert.equal(received.length, published, "no line twice");
  assert.ok(received.every((r) => r.hostname === "case-42"));
  const programs = new Set(received.map((r) => r.program));
  for (const type of Object.keys(job.files[0]!.lines)) assert.ok(programs.has(`bro25_${type}`), type);
  for (const p of programs) assert.ok(!/loaded_scripts|packet_filter|stats|capture_loss|dns/.test(p), `blacklisted ${p} shipped`);
  const conn = received.filter((r) => r.program === "bro25_conn").map((r) => r.msg);
  assert.equal(conn.length, 1150);
  assert.equal(new Set(conn).size, 1150, "every conn line distinct (uids are unique)");

  // The directory sink holds the same lines, as a Zeek TSV file with its header once.
  const dir = join(stack.config.directory.root, body.job_id);
  await eventually(async () => {
    const text = await readFile(join(dir, "conn.log"), "utf8").catch(() => "");
    return text.split("\n").filter((l) => l && !l.startsWith("#")).length >= 1150;
  });
  const text = await readFile(join(dir, "conn.log"), "utf8");
  const lines = text.split("\n").filter(Boolean);
  assert.match(lines[0]!, /^#separator \\x09$/);
  assert.equal(lines.filter((l) => l.startsWith("#fields")).length, 1);
  assert.equal(lines.filter((l) => l.startsWith("#types")).length, 1);
  const data = lines.filter((l) => !l.startsWith("#"));
  assert.deepEqual([...data].sort(), [...conn].sort());
  const fields = lines.find((l) => l.startsWith("#fields"))!.split("\t").slice(1);
  assert.ok(data.every((l) => l.split("\t").length === fields.length), "every line has every field");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  assert.deepEqual(files, Object.keys(job.files[0]!.lines).map((t) => `${t}.log`).sort());
});
