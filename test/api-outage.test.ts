import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { sweepOrphans } from "../shared/jobs/orphan-sweep.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { RawConnection, submitHead } from "./helpers/raw-http.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let stack: Stack;
let pcap: Buffer;

before(async () => {
  nats = await startTestNats();
  stack = await startStack({ natsUrl: nats.url, services: ["api"] });
  const path = join(stack.dataDir, "a.pcap");
  await writeSyntheticPcap(path, { flows: 10, seed: 31 });
  pcap = await readFile(path);
});

after(async () => {
  await stack?.stop();
  await nats?.cleanup();
});

async function objectNames(): Promise<string[]> {
  return (await stack.ctx.topology.pcaps.list()).filter((o) => !o.deleted).map((o) => o.name);
}

test("while NATS is away the api answers 503 in the seed's shape at once and stores nothing; after a restart it accepts again", async () => {
  const before = await objectNames();
  await nats.stop("SIGKILL");
  // NATS comes back whatever the assertions say: the stack cannot stop while it is away.
  try {
    await eventually(async () => (await fetch(`${stack.url}/healthz`)).status === 503, 10_000, "healthz 503");
    // Refused before the body: a request whose body never comes is answered all the same (an api
    // that read on would wait for the body until its upload time limit, 10 minutes by default).
    const early = await RawConnection.open(stack.url);
    await early.write(submitHead(stack.url, "multipart/form-data; boundary=B", 10 * 2 ** 20));
    const answer = await Promise.race([early.response(), new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    early.destroy();
    assert.equal(answer?.status, 503, "answered 503 before any byte of the body was sent");
    assert.equal((JSON.parse(answer.body) as { code: string }).code, "BROCAPI_BROKER_UNAVAILABLE");
    const refused = await submit(stack.url, [{ name: "a.pcap", data: pcap }], "during-outage");
    assert.equal(refused.httpStatus, 503);
    assert.equal(refused.body.success, false);
    assert.equal(refused.body.code, "BROCAPI_BROKER_UNAVAILABLE");
    assert.match(refused.body.status, /NATS\) is unavailable; nothing was stored/);
    assert.deepEqual(refused.body.files, []);
  } finally {
    nats = await nats.restart();
  }
  await eventually(async () => (await fetch(`${stack.url}/healthz`)).status === 200, 20_000, "healthz 200 after restart");
  assert.deepEqual(await objectNames(), before, "nothing half-stored from the refused upload");
  const accepted = await submit(stack.url, [{ name: "a.pcap", data: pcap }], "after-outage");
  assert.equal(accepted.httpStatus, 200);
  assert.deepEqual(await objectNames(), [...before, `${accepted.body.job_id}/0`]);
});

test("the sweep removes captures no job names and unfinished chunk sets, once older than the grace, and nothing else", async () => {
  const { pcaps, jobs, jsm, names } = stack.ctx.topology;
  const kept = await submit(stack.url, [{ name: "kept.pcap", data: pcap }]);
  assert.equal(kept.httpStatus, 200);
  // What an api killed between storing a capture and writing its job record leaves.
  const orphan = "01900000-0000-7000-8000-0000000000aa/0";
  await pcaps.putBlob({ name: orphan }, pcap);
  // What an api killed mid-upload leaves: chunks with no object metadata.
  const chunks = `$O.${names.pcapsBucket}.C.unfinishedupload1`;
  const js = jetstream(stack.ctx.nc);
  for (let i = 0; i < 3; i++) await js.publish(chunks, pcap);

  assert.deepEqual(await sweepOrphans(stack.ctx.topology, 60_000), { objects: 0, partialUploads: 0 }, "younger than the grace: untouched");
  const later = Date.now() + 120_000;
  assert.deepEqual(await sweepOrphans(stack.ctx.topology, 60_000, later), { objects: 1, partialUploads: 1 });
  const left = await objectNames();
  assert.ok(left.includes(`${kept.body.job_id}/0`), "a capture with a job record stays");
  assert.ok(!left.includes(orphan));
  const si = await jsm.streams.info(`OBJ_${names.pcapsBucket}`, { subjects_filter: chunks });
  assert.deepEqual(Object.keys(si.state.subjects ?? {}), []);
  assert.ok((await jobs.get(kept.body.job_id))?.operation === "PUT");
});

test("a capture store at its size limit refuses an upload with 507, not the broker's 503 (try again): nothing is stored", async () => {
  // Smaller than the one chunk of the capture: the stream refuses it ("maximum bytes exceeded",
  // which NATS sends with its 503 code, as it does a store that failed).
  const full = await startStack({ natsUrl: nats.url, services: ["api"], env: { BROCAPI_PCAP_RETENTION_BYTES: String(pcap.length - 1) } });
  try {
    const refused = await submit(full.url, [{ name: "a.pcap", data: pcap }], "store-full");
    assert.equal(refused.httpStatus, 507);
    assert.equal(refused.body.success, false);
    assert.equal(refused.body.code, "BROCAPI_STORE_FULL");
    assert.match(refused.body.status, /the capture store refused a\.pcap \(.*maximum bytes exceeded.*\); nothing was stored/);
    assert.deepEqual(refused.body.files, []);
    const { jsm, names } = full.ctx.topology;
    assert.equal((await jsm.streams.info(`OBJ_${names.pcapsBucket}`)).state.messages, 0, "no chunk stored");
  } finally {
    await full.stop();
  }
});
