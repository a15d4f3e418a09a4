// Merge mode: a recording cut into files is analysed as one capture. The merge itself (k-way by
// packet time, pcap and pcapng in, one pcap out, in chunks as the object store gives them), then a
// job of one recording cut into 3 files (one pcap, two pcapng) with flows across both cuts: merged,
// its conn.log equals the uncut recording's (uids aside), where the same files unmerged do not;
// merged and in 3 shards (merge=true, shards=3), its conn.log and dns.log do too.
// (Captures of different link types refused: bad-input.test.ts.)

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { mergeCaptures, type MergeSource } from "../shared/pcap/merge-captures.js";
import { UnreadableCapture } from "../shared/pcap/packet-reader.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { pcapRecords, recordBytes, type PcapRecord } from "./helpers/pcap-records.js";
import { writeSyntheticPcap } from "./helpers/pcap-writer.js";
import { pcapToPcapng } from "./helpers/pcapng.js";
import { eventually, startStack, type JobView, type Stack } from "./helpers/stack.js";

const FLOWS = 60;
let dir: string;
let recording: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-merge-"));
  await writeSyntheticPcap(join(dir, "rec.pcap"), { flows: FLOWS, seed: 5, dnsEvery: 4 });
  recording = await readFile(join(dir, "rec.pcap"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const asPcap = (recs: Buffer[]): Buffer => Buffer.concat([recording.subarray(0, 24), ...recs]);

/** A capture as the object store hands it on: in chunks of `chunk` bytes. */
function sourceOf(name: string, bytes: Buffer, chunk = 1000): MergeSource {
  return {
    name,
    async open() {
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
      }
      return chunks();
    },
  };
}

/** A pcap's packets (time, length on the wire, bytes) as the tests' own reader sees them, not the merge's PacketReader. */
const packetsOf = (pcap: Buffer): Omit<PcapRecord, "bytes">[] => pcapRecords(pcap).map(({ tsNs, origLen, data }) => ({ tsNs, origLen, data }));

async function merged(sources: MergeSource[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of mergeCaptures(sources)) out.push(b);
  return Buffer.concat(out);
}

test("the merge: captures interleaved in time (pcap, little- and big-endian pcapng) come out as the one recording, packet for packet", async () => {
  const recs = recordBytes(recording);
  // Three captures of one time span, packets dealt round-robin: a k-way merge, not a concatenation.
  const dealt = [0, 1, 2].map((k) => asPcap(recs.filter((_, i) => i % 3 === k)));
  const out = await merged([sourceOf("a.pcap", dealt[0]!), sourceOf("b.pcapng", pcapToPcapng(dealt[1]!).bytes, 333), sourceOf("c.pcapng", pcapToPcapng(dealt[2]!, false).bytes, 77)]);
  assert.equal(out.readUInt32LE(0), 0xa1b23c4d, "a nanosecond pcap");
  assert.equal(out.readUInt32LE(20), recording.readUInt32LE(20), "the recording's link type");
  assert.deepEqual(packetsOf(out), packetsOf(recording));
});

test("the merge: different link types, damage and a cut last record", async () => {
  const raw = Buffer.from(recording.subarray(0, 24));
  raw.writeUInt32LE(101, 20);
  await assert.rejects(merged([sourceOf("eth.pcap", recording), sourceOf("raw.pcap", raw)]), (err: Error) => err instanceof UnreadableCapture && /raw\.pcap has link type 101, eth\.pcap 1/.test(err.message));
  const damaged = Buffer.from(recording);
  damaged.writeUInt32LE(10_000_000, 24 + 8);
  await assert.rejects(merged([sourceOf("bad.pcap", damaged)]), /bad\.pcap is damaged: a record of 10000000 bytes/);
  // Cut mid-packet: the whole packets before the cut are merged, the rest counted as dropped.
  const stats = { packets: [], bytesDropped: [] };
  const out: Buffer[] = [];
  for await (const b of mergeCaptures([sourceOf("cut.pcap", recording.subarray(0, recording.length - 5))], stats)) out.push(b);
  assert.equal(packetsOf(Buffer.concat(out)).length, recordBytes(recording).length - 1);
  assert.deepEqual(stats.bytesDropped, [recordBytes(recording).at(-1)!.length - 5]);
});

describe("jobs in merge mode", () => {
  let nats: TestNats;
  let stack: Stack;
  before(async () => {
    nats = await startTestNats();
    stack = await startStack({ natsUrl: nats.url });
  });
  after(async () => {
    await stack?.stop();
    await nats?.cleanup();
  });

  /** A job of `files` with form `fields`, once done: its view, and its per-connection logs (conn, dns) without header lines and uids (column 2). */
  async function job(files: { name: string; data: Buffer }[], fields: Record<string, string>): Promise<{ id: string; view: JobView; conn: string[]; dns: string[] }> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const f of files) form.append("file[]", new Blob([f.data]), f.name);
    const res = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form });
    const body = (await res.json()) as { job_id: string; status: string };
    assert.equal(res.status, 200, body.status);
    const view = await stack.waitForJob(body.job_id);
    assert.equal(view.state, "done");
    const lines = Object.values(view.lines).reduce((a, b) => a + b, 0);
    const logs = { conn: [] as string[], dns: [] as string[] };
    // The directory sink has every published line.
    await eventually(async () => {
      for (const type of ["conn", "dns"] as const) {
        const text = await readFile(join(stack.config.directory.root, body.job_id, `${type}.log`), "utf8").catch(() => "");
        logs[type] = text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t").toSpliced(1, 1).join("\t"));
      }
      return logs.conn.length === view.lines.conn && logs.dns.length === (view.lines.dns ?? 0) && lines > 0;
    }, 20_000, "conn.log and dns.log delivered");
    return { id: body.job_id, view, ...logs };
  }

  /** Cuts at packets 100 and 250: inside flows (8 packets each), so two flows span two files. */
  function cutRecording(): { name: string; data: Buffer }[] {
    const recs = recordBytes(recording);
    return [
      { name: "rec.pcap0", data: asPcap(recs.slice(0, 100)) },
      { name: "rec.pcap1", data: pcapToPcapng(asPcap(recs.slice(100, 250))).bytes },
      { name: "rec.pcap2", data: pcapToPcapng(asPcap(recs.slice(250)), false).bytes },
    ];
  }

  test("one recording cut into 3 files, flows across both cuts: merged, the uncut recording's conn.log; unmerged, not", async () => {
    const parts = cutRecording();
    const whole = await job([{ name: "rec.pcap", data: recording }], {});
    assert.equal(whole.conn.length, FLOWS);
    const mergedJob = await job(parts, { merge: "true" });
    assert.deepEqual(mergedJob.conn.toSorted(), whole.conn.toSorted(), "the same connections, field for field");

    const status = (await (await fetch(`${stack.url}/jobs/${mergedJob.id}`)).json()) as {
      merge: boolean;
      counts: { total: number; done: number };
      files: { index: number; state: string; lines: Record<string, number>; mergedInto?: number }[];
    };
    assert.equal(status.merge, true);
    assert.deepEqual([status.counts.total, status.counts.done], [3, 3]);
    assert.equal(status.files[0]!.lines.conn, FLOWS, "capture 0 carries the recording's lines");
    assert.deepEqual(status.files.slice(1).map((f) => [f.state, f.mergedInto, f.lines]), [["done", 0, {}], ["done", 0, {}]]);

    // The same files as separate captures: each cut flow is two connections.
    const apart = await job(parts, {});
    assert.equal(apart.conn.length, FLOWS + 2);
  });
  test("the recording merged and in 3 shards (merge=true, shards=3): the uncut recording's conn and dns records; capture 0 holds the shards, captures 1 and 2 end with it as unsharded", async () => {
    const parts = cutRecording();
    const whole = await job([{ name: "rec.pcap", data: recording }], {});
    const unsharded = await job(parts, { merge: "true" });
    const sharded = await job(parts, { merge: "true", shards: "3" });
    assert.ok(whole.conn.length === FLOWS && whole.dns.length > 0, `the recording has connections and DNS: ${JSON.stringify(whole.view.lines)}`);
    assert.deepEqual(sharded.conn.toSorted(), whole.conn.toSorted(), "conn.log: the same connections, field for field (the two cut flows one each)");
    assert.deepEqual(sharded.dns.toSorted(), whole.dns.toSorted(), "dns.log: the same records");

    // Capture 0 is the recording and holds its shards; captures 1 and 2 end as in an unsharded merge.
    const [first, ...rest] = sharded.view.files;
    assert.deepEqual([first!.state, first!.mergedInto, first!.shards], ["done", undefined, { count: 3, states: "ddd" }]);
    assert.deepEqual([first!.lines.conn, first!.lines.dns], [whole.view.lines.conn, whole.view.lines.dns], "capture 0 carries the recording's lines");
    const ending = (files: typeof rest) => files.map((f) => [f.index, f.state, f.mergedInto, f.lines, f.shards]);
    assert.deepEqual(ending(rest), ending(unsharded.view.files.slice(1)));
    assert.deepEqual(ending(rest), [[1, "done", 0, {}, undefined], [2, "done", 0, {}, undefined]]);
    assert.deepEqual([sharded.view.counts.total, sharded.view.counts.done], [3, 3]);

    // Three Zeeks each read a part of the merged recording: shard tasks of capture 0.
    const { shards } = (await (await fetch(`${stack.url}/jobs/${sharded.id}/captures/0/shards`)).json()) as { shards: { index: number; state: string; lines: Record<string, number> }[] };
    assert.deepEqual(shards.map((s) => [s.index, s.state]), [[0, "done"], [1, "done"], [2, "done"]]);
    assert.ok(shards.every((s) => (s.lines.conn ?? 0) > 0), `every shard analysed connections: ${JSON.stringify(shards.map((s) => s.lines))}`);
    assert.equal(shards.reduce((n, s) => n + (s.lines.conn ?? 0), 0), FLOWS);
  });
});
