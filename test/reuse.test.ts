import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { eventually, startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

let nats: TestNats;
let pcap: string;
const stacks: Stack[] = [];

before(async () => {
  nats = await startTestNats();
  pcap = join(await mkdtemp(join(tmpdir(), "brocapi-reuse-")), "same.pcap");
  await writeSyntheticPcap(pcap, { flows: 300, seed: 21, dnsEvery: 4 });
});

after(async () => {
  for (const s of stacks) await s.stop();
  await nats?.cleanup();
});

const started = new Map<boolean, Promise<Stack>>();
/** One stack per setting, shared by the tests of that setting. */
function stackWith(reuse: boolean): Promise<Stack> {
  let stack = started.get(reuse);
  if (!stack) {
    stack = startStack({ natsUrl: nats.url, env: { BROCAPI_REUSE_ANALYSES: String(reuse), BROCAPI_BATCH_LINES: "64" } });
    started.set(reuse, stack);
    void stack.then((s) => stacks.push(s));
  }
  return stack;
}

async function conn(stack: Stack, jobId: string, lines: number): Promise<string[]> {
  const path = join(stack.config.directory.root, jobId, "conn.log");
  let data: string[] = [];
  await eventually(async () => {
    data = (await readFile(path, "utf8").catch(() => "")).split("\n").filter((l) => l && !l.startsWith("#"));
    return data.length >= lines;
  }, 20_000, `${lines} conn lines of ${jobId}`);
  return data;
}

test("reuse on: the same capture again re-ships the earlier logs under the new job and tag, without running Zeek", async () => {
  const stack = await stackWith(true);
  const first = await submit(stack.url, [pcap], "first");
  const job1 = await stack.waitForJob(first.body.job_id);
  const second = await submit(stack.url, [pcap], "second");
  const job2 = await stack.waitForJob(second.body.job_id);
  assert.equal(job2.state, "done");
  assert.deepEqual(job2.files[0]!.reusedFrom, { jobId: first.body.job_id, fileIndex: 0 });
  assert.equal(job2.files[0]!.zeekExitCode, undefined, "Zeek did not run");
  assert.deepEqual(job2.files[0]!.lines, job1.files[0]!.lines);
  // The very same lines (same uids) reach the sink again, as the new job's.
  assert.deepEqual(await conn(stack, job2.id, 300), await conn(stack, job1.id, 300));
  const status = (await (await fetch(`${stack.url}/jobs/${job2.id}`)).json()) as { tag: string };
  assert.equal(status.tag, "second");
});

test("reuse on: a capture salvaged before is reused with its salvaged note and warning", async () => {
  const stack = await stackWith(true);
  const cut = join(stack.dataDir, "cut.pcap");
  const info = await writeTruncatedPcap(cut, { flows: 30, seed: 23, dnsEvery: 5 });
  const first = await submit(stack.url, [cut], "first");
  const job1 = await stack.waitForJob(first.body.job_id);
  assert.equal(job1.files[0]!.state, "done");
  assert.equal(job1.files[0]!.salvaged?.packetsKept, info.packets);
  const second = await submit(stack.url, [cut], "second");
  const job2 = await stack.waitForJob(second.body.job_id);
  assert.equal(job2.files[0]!.state, "done");
  assert.deepEqual(job2.files[0]!.reusedFrom, { jobId: first.body.job_id, fileIndex: 0 });
  assert.deepEqual(job2.files[0]!.salvaged, job1.files[0]!.salvaged, "what was analysed is still the trimmed capture");
  const events = await (await fetch(`${stack.url}/jobs/${job2.id}/events`)).text();
  assert.match(events, /^event: file\.warning\n(?:id: \d+\n)?data: .*"code":"BROCAPI_CAPTURE_TRUNCATED"/m);
});

test("reuse off (the default): the same capture is analysed again", async () => {
  const stack = await stackWith(false);
  const a = await submit(stack.url, [pcap], "a");
  const b = await submit(stack.url, [pcap], "b");
  const [ja, jb] = [await stack.waitForJob(a.body.job_id), await stack.waitForJob(b.body.job_id)];
  assert.equal(jb.files[0]!.reusedFrom, undefined);
  assert.equal(jb.files[0]!.zeekExitCode, 0);
  assert.equal(jb.files[0]!.lines.conn, ja.files[0]!.lines.conn);
  // A new Zeek run draws new connection uids.
  assert.notDeepEqual(await conn(stack, jb.id, 300), await conn(stack, ja.id, 300));
});
