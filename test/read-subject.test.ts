import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { readSubject } from "../shared/nats/read-subject.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";

// readSubject: each message is a direct get (any replica answers); "nothing more" is asked of
// the stream leader before the read ends, because a replica that is behind would end it early
// (a log download, a reused analysis or a replay missing its tail). What each read asks the
// server is watched on the JetStream API subjects, as in test/kv-read.test.ts.

const STREAM = "READSUBJ";
let nats: TestNats;
let nc: NatsConnection;
let watcher: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  watcher = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: ["rs.>"], allow_direct: true });
  const js = jetstream(nc);
  for (let i = 0; i < 7; i++) await js.publish(i % 3 === 0 ? "rs.b" : "rs.a", `m${i}`);
});

after(async () => {
  await nc?.close();
  await watcher?.close();
  await nats?.cleanup();
});

async function read(subject: string, from?: number, pollAgain?: boolean, leader?: boolean): Promise<{ data: string[]; direct: number; leader: number }> {
  const seen = { direct: 0, leader: 0 };
  const subs: Subscription[] = [
    watcher.subscribe(`$JS.API.DIRECT.GET.${STREAM}`, { callback: () => void seen.direct++ }),
    watcher.subscribe(`$JS.API.DIRECT.GET.${STREAM}.>`, { callback: () => void seen.direct++ }),
    watcher.subscribe(`$JS.API.STREAM.MSG.GET.${STREAM}`, { callback: () => void seen.leader++ }),
  ];
  await watcher.flush();
  const data: string[] = [];
  for await (const m of readSubject(jsm, STREAM, subject, { ...(from === undefined ? {} : { from }), ...(pollAgain ? { pollAgain } : {}), ...(leader ? { leader } : {}) })) data.push(m.string());
  await nc.flush();
  await watcher.flush();
  for (const s of subs) s.unsubscribe();
  return { data, ...seen };
}

test("every message on the subject, in order, one direct get each; the end is the leader's answer", async () => {
  assert.deepEqual(await read("rs.a"), { data: ["m1", "m2", "m4", "m5"], direct: 5, leader: 1 });
  assert.deepEqual(await read("rs.>"), { data: ["m0", "m1", "m2", "m3", "m4", "m5", "m6"], direct: 8, leader: 1 });
});

test("from a sequence; a subject with nothing on it ends after asking the leader", async () => {
  assert.deepEqual(await read("rs.b", 2), { data: ["m3", "m6"], direct: 3, leader: 1 });
  assert.deepEqual(await read("rs.none"), { data: [], direct: 1, leader: 1 });
});

test("a reader that polls again (the event stream) takes a direct get's end as it is", async () => {
  assert.deepEqual(await read("rs.b", 2, true), { data: ["m3", "m6"], direct: 3, leader: 0 });
});

test("a read that asks the stream leader for every message (a stream without direct gets, the audit's look at queued replays)", async () => {
  assert.deepEqual(await read("rs.b", 2, false, true), { data: ["m3", "m6"], direct: 0, leader: 3 });
});
