import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { readKey } from "../shared/nats/kv-read.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";

// readKey: a hit is a direct get (any replica answers); a miss is read again from the stream
// leader, because a replica that is behind would report a key that exists as absent (seen in
// test/cluster/: a worker took a capture written a moment before for a deleted job and dropped
// its task). What each read asks the server is watched on the JetStream API subjects.

let nats: TestNats;
let nc: NatsConnection;
let watcher: NatsConnection;
let kv: KV;

before(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  watcher = await connect({ servers: nats.url });
  kv = await new Kvm(nc).create("readkey", { history: 1 });
  await kv.put("present", "1");
  await kv.put("gone", "2");
  await kv.delete("gone");
});

after(async () => {
  await nc?.close();
  await watcher?.close();
  await nats?.cleanup();
});

/** The JetStream API requests `fn` makes on the bucket's stream: direct gets and leader (STREAM.MSG.GET) reads. */
async function requests(fn: () => Promise<unknown>): Promise<{ direct: number; leader: number }> {
  const seen = { direct: 0, leader: 0 };
  const subs: Subscription[] = [
    watcher.subscribe("$JS.API.DIRECT.GET.KV_readkey.>", { callback: () => void seen.direct++ }),
    watcher.subscribe("$JS.API.DIRECT.GET.KV_readkey", { callback: () => void seen.direct++ }),
    watcher.subscribe("$JS.API.STREAM.MSG.GET.KV_readkey", { callback: () => void seen.leader++ }),
  ];
  await watcher.flush();
  await fn();
  await nc.flush();
  await watcher.flush();
  for (const s of subs) s.unsubscribe();
  return seen;
}

test("a key that exists is read directly, once", async () => {
  let value: string | undefined;
  const seen = await requests(async () => (value = (await readKey(kv, "present"))?.string()));
  assert.equal(value, "1");
  assert.deepEqual(seen, { direct: 1, leader: 0 });
});

test("a missing key is confirmed by the stream leader before it counts as absent", async () => {
  let entry: unknown = "unread";
  const seen = await requests(async () => (entry = await readKey(kv, "never")));
  assert.equal(entry, null);
  assert.deepEqual(seen, { direct: 1, leader: 1 });
});

test("a deleted key is confirmed by the leader too, and stays deleted", async () => {
  let op: string | undefined;
  const seen = await requests(async () => (op = (await readKey(kv, "gone"))?.operation));
  assert.equal(op, "DEL");
  assert.deepEqual(seen, { direct: 1, leader: 1 });
});
