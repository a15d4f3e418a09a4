// Syslog over TLS (RFC 5425) into a real rsyslog with Debian's rsyslog-openssl, which asks for
// a client certificate of its CA: every line arrives once, octet-counted; nothing is missing when
// the receiver restarts mid-shipping; a receiver whose certificate the sink does not trust shows
// on the job's sinks.syslog.lastError and in brocapi_sink_errors_total. Certificates made here.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeCaptures, syslogDelivery, waitForLines, type Pipeline } from "./faults/harness.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { startTestRsyslog, type TestRsyslog } from "./helpers/rsyslog.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let pki: TestPki;
let nats: TestNats;
let rsyslog: TestRsyslog;
let dir: string;
let trusted: Stack;
let untrusted: Stack;

before(async () => {
  [pki, nats, dir] = await Promise.all([createTestPki(), startTestNats(), mkdtemp(join(tmpdir(), "brocapi-syslog-tls-"))]);
  rsyslog = await startTestRsyslog({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caFile, clientCert: true } });
  const target = { BROCAPI_SYSLOG_TARGET: `tls://localhost:${rsyslog.port}`, BROCAPI_LOG_BLACKLIST: "telemetry", BROCAPI_BATCH_LINES: "50" };
  [trusted, untrusted] = await Promise.all([
    startStack({
      natsUrl: nats.url,
      env: { ...target, BROCAPI_SINKS: "syslog", BROCAPI_SYSLOG_TLS_CA_FILE: pki.caFile, BROCAPI_SYSLOG_TLS_CERT_FILE: pki.clientCert, BROCAPI_SYSLOG_TLS_KEY_FILE: pki.clientKey },
    }),
    startStack({ natsUrl: nats.url, env: { ...target, BROCAPI_SINKS: "syslog", BROCAPI_SYSLOG_TLS_CA_FILE: pki.otherCaFile } }),
  ]);
});

after(async () => {
  await untrusted?.stop();
  await trusted?.stop();
  await rsyslog?.cleanup();
  await nats?.cleanup();
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const pipeline = (): Pipeline => ({ rsyslog }) as Pipeline;

async function jobOf(stack: Stack, paths: string[], tag: string): Promise<string> {
  const res = await submit(stack.url, paths, tag);
  assert.equal(res.httpStatus, 200, res.body.status);
  return res.body.job_id;
}

test("tls:// with a client certificate: every line arrives once, octet-counted, in order", { timeout: 60_000 }, async () => {
  const captures = await writeCaptures(dir, [1000], "once");
  await jobOf(trusted, captures.map((c) => c.path), "tls-once");
  let delivery = await syslogDelivery(pipeline(), "tls-once", captures);
  await eventually(async () => (delivery = await syslogDelivery(pipeline(), "tls-once", captures)).received >= 1000, 30_000, "every line at rsyslog");
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await syslogDelivery(pipeline(), "tls-once", captures), { expected: 1000, received: 1000, missing: 0, duplicates: 0, outOfOrder: 0, malformed: 0 });
});

test("tls:// receiver restarted mid-shipping: nothing missing (the broken connection's last writes are sent again)", { timeout: 90_000 }, async (t) => {
  const captures = await writeCaptures(dir, [2000, 2000], "tls");
  await jobOf(trusted, captures.map((c) => c.path), "tls-case");
  const seen = await waitForLines(async () => (await syslogDelivery(pipeline(), "tls-case", captures)).received, 1_000, "lines at rsyslog", () => "");
  await rsyslog.stop();
  await new Promise((r) => setTimeout(r, 1_500));
  await rsyslog.start();
  let delivery = await syslogDelivery(pipeline(), "tls-case", captures);
  await eventually(async () => (delivery = await syslogDelivery(pipeline(), "tls-case", captures)).missing === 0, 60_000, "every line at rsyslog").catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(delivery)}`);
  });
  t.diagnostic(`rsyslog restarted at ${seen} of 4000 lines: ${JSON.stringify(delivery)}`);
  assert.equal(delivery.malformed, 0, "octet counting kept every message whole");
});

test("tls:// to a receiver whose certificate is not trusted: lastError says so, and the metrics count it", { timeout: 60_000 }, async () => {
  const [capture] = await writeCaptures(dir, [20], "untrusted");
  const id = await jobOf(untrusted, [capture!.path], "untrusted");
  let job: { sinks: Record<string, { lastError?: string; lines: number }> } = { sinks: {} };
  await eventually(
    async () => {
      job = (await (await fetch(`${untrusted.url}/jobs/${id}`)).json()) as typeof job;
      return Boolean(job.sinks.syslog?.lastError);
    },
    30_000,
    "sinks.syslog.lastError",
  );
  assert.match(job.sinks.syslog!.lastError!, /^syslog tls:\/\/localhost:\d+: .*(certificate|verify)/);
  assert.equal(job.sinks.syslog!.lines, 0);
  const metrics = await (await fetch(`${untrusted.url}/metrics`)).text();
  assert.match(metrics, /^brocapi_sink_errors_total\{sink="syslog",stage="write"\} [1-9]\d*$/m);
  assert.equal((await syslogDelivery(pipeline(), "untrusted", [capture!])).received, 0, "nothing reached rsyslog");
});
