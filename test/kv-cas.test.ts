import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { casUpdate, WrittenValues } from "../shared/nats/kv-cas.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";

let nats: TestNats;
let nc: NatsConnection;
let kv: KV;

before(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  kv = await new Kvm(nc).create("cas");
});

after(async () => {
  await nc?.close();
  await nats?.cleanup();
});

const add = (n: number) => (current: unknown): { n: number } => ({ n: ((current as { n: number } | null)?.n ?? 0) + n });

test("a remembered value is tried first, and another writer's change since is never lost", async () => {
  const mine = new WrittenValues();
  await casUpdate(kv, "k", add(1), mine);
  await casUpdate(kv, "k", add(1), mine);
  assert.deepEqual((await kv.get("k"))!.json(), { n: 2 });
  // Another process (no memory of this one's writes) changes the key: the remembered revision is stale.
  await casUpdate(kv, "k", add(10));
  assert.deepEqual(await casUpdate(kv, "k", add(1), mine), { n: 13 });
  // A change that leaves the remembered value as it is reads the key rather than trusting it.
  await casUpdate(kv, "k", add(100));
  assert.deepEqual(await casUpdate(kv, "k", () => ({ n: 13 }), mine), { n: 13 });
  assert.deepEqual((await kv.get("k"))!.json(), { n: 13 }, "written: the key held 113, not the remembered 13");
  // A key deleted meanwhile is seen as gone.
  await kv.delete("k");
  const present = (c: unknown): unknown => {
    if (c === null) throw new Error("gone");
    return c;
  };
  await assert.rejects(casUpdate(kv, "k", present, mine), /gone/);
});
