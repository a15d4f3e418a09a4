import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BrocapiError, ErrorCodes } from "../../shared/errors.js";
import { findNatsServer, SAY_EVERY_MS, startLocalNatsServer } from "../../shared/nats/local-server.js";

// The embedded nats-server's start-up has no fixed deadline: a store with many streams and
// consumers takes as long as it takes to restore. The wait goes on while the server logs or uses
// CPU, says what it is waiting for, and gives up only on a server that does nothing. A wrapper in
// place of nats-server stands for a slow restore (log lines, then the real server) and a hung one.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-natswait-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function wrapper(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/bash\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

test("a server restoring its store for longer than the idle limit is waited for, and the wait says what it is working on", async () => {
  // "Restoring" lines 0.75 s apart for one reporting period and a second more, against a 2 s idle limit.
  const steps = Math.ceil((SAY_EVERY_MS + 1_000) / 750);
  const bin = await wrapper(
    "slow-restore",
    `for i in $(seq 1 ${steps}); do echo "[INF] Restoring stream state: step $i/${steps}" >&2; sleep 0.75; done\nexec ${findNatsServer()} "$@"`,
  );
  const said: string[] = [];
  const server = await startLocalNatsServer({ storeDir: join(dir, "slow-store"), bin, startTimeoutMs: 2_000, waiting: (what) => said.push(what) });
  try {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(said.length >= 1, "the wait was reported");
    assert.match(said[0]!, /^waiting for nats-server to be ready; it is working on: \[INF\] Restoring stream state: step \d+\/\d+$/);
  } finally {
    await server.stop();
  }
});

test("a server that neither logs nor uses CPU is given up after the idle limit: killed, with its last lines in the error", async () => {
  const bin = await wrapper("hung", `echo "[INF] Starting nats-server" >&2\necho "[INF] Restoring stream state" >&2\nexec sleep 600`);
  const started = startLocalNatsServer({ storeDir: join(dir, "hung-store"), bin, startTimeoutMs: 1_500 });
  await assert.rejects(started, (err: unknown) => {
    assert.ok(err instanceof BrocapiError);
    assert.equal(err.code, ErrorCodes.NATS_SERVER_START);
    assert.match(err.message, /made no progress for 1500 ms \(no log line, no CPU\) before it was ready:\n\[INF\] Starting nats-server\n\[INF\] Restoring stream state$/);
    return true;
  });
});
