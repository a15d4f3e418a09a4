import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";
import {
  startApiAndShipper,
  submitJob,
  useFaultEnv,
  waitForFinalJob,
  waitForQuiet,
  writeCaptures,
  directoryDelivery,
} from "./faults/harness.js";
import { multipartBody, RawConnection, submitHead } from "./helpers/raw-http.js";
import { readFile } from "node:fs/promises";

// Two api processes on one NATS share everything through it: a job submitted to one is followed,
// read and downloaded through the other, and one api dying mid-upload does not disturb the other.

const faultEnv = useFaultEnv({ BROCAPI_UPLOAD_TIMEOUT_MS: "3000" });

/** The SSE stream of a job, read until `job.finished`: the event names in order. */
async function followEvents(url: string, jobId: string): Promise<string[]> {
  const res = await fetch(`${url}/jobs/${jobId}/events`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const names: string[] = [];
  let text = "";
  for await (const chunk of res.body!) {
    text += Buffer.from(chunk).toString("utf8");
    for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
      const name = /^event: (.*)$/m.exec(text.slice(0, end))?.[1];
      text = text.slice(end + 2);
      if (name) names.push(name);
      if (name === "job.finished") return names;
    }
  }
  return names;
}

test("two apis on one NATS: upload through either; status, logs, SSE and the capture through the other", async () => {
  const env = faultEnv();
  const a = await startApiAndShipper(env);
  const b = await env.procs.start("api", { name: "api-b" });
  await env.procs.start("worker");
  const captures = await writeCaptures(env.dataDir, [300, 200], "two-apis");
  for (const [up, down] of [
    [a, b],
    [b, a],
  ] as const) {
    const jobId = await submitJob(up.url, captures, `two-apis-${up.name}`);
    const events = followEvents(down.url, jobId);
    const job = await waitForFinalJob(down.url, jobId, () => env.procs.report());
    assert.equal(job.state, "done");
    const seen = await events;
    assert.equal(seen.at(-1), "job.finished", `events through ${down.name}: ${seen.join(", ")}`);
    assert.equal(seen.filter((e) => e === "file.finished").length, 2, `each capture's end before the job's: ${seen.join(", ")}`);
    const conn = await (await fetch(`${down.url}/jobs/${jobId}/logs/conn`)).text();
    assert.equal(conn.split("\n").filter((l) => l && !l.startsWith("#")).length, 500, "conn.log through the other api");
    const pcap = Buffer.from(await (await fetch(`${down.url}/jobs/${jobId}/pcaps/0`)).arrayBuffer());
    assert.ok(pcap.equals(await readFile(captures[0]!.path)), "the capture, byte for byte, through the other api");
  }
});

test("one api SIGKILLed mid-upload: the other keeps serving; the dead one's half upload makes no job, nothing else is lost", async () => {
  const env = faultEnv();
  const a = await startApiAndShipper(env);
  const b = await env.procs.start("api", { name: "api-b" });
  await env.procs.start("worker");
  const captures = await writeCaptures(env.dataDir, [400, 400], "half");
  const jobIds = async (): Promise<string[]> => ((await (await fetch(`${b.url}/jobs`)).json()) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id);
  const before = await jobIds();
  const parts = await Promise.all(captures.map(async (c) => ({ name: "file[]", filename: basename(c.path), data: await readFile(c.path) })));
  const body = multipartBody("B", parts);
  const conn = await RawConnection.open(a.url);
  await conn.write(submitHead(a.url, "multipart/form-data; boundary=B", body.length));
  await conn.write(body.subarray(0, Math.floor(body.length * 0.75)));
  // B is busy with its own job while A dies.
  const during = submitJob(b.url, captures, "while-a-dies");
  await a.crash();
  conn.destroy();
  const jobId = await during;
  const job = await waitForFinalJob(b.url, jobId, () => env.procs.report());
  assert.equal(job.state, "done");
  assert.equal((await fetch(`${b.url}/healthz`)).status, 200);
  await waitForQuiet(env, ["directory"]);
  const dir = await directoryDelivery(env, jobId, captures);
  assert.equal(dir.missing + dir.duplicates, 0, JSON.stringify(dir));
  // A's half upload made no job (its stored chunks are swept by B: test/api-process.test.ts).
  assert.deepEqual((await jobIds()).sort(), [...before, jobId].sort(), "one new job: B's");
});
