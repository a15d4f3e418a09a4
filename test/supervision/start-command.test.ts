import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { processesWith } from "../helpers/process-table.js";
import { freePort } from "../helpers/rsyslog.js";
import { eventually, ZEEK_DOUBLE } from "../helpers/stack.js";

// The README's start command is `npm start`. A supervisor (systemd with a plain pid, `timeout`,
// a shell's `kill $!`, docker) signals that one pid: npm's. npm forwards SIGTERM and SIGINT to its
// script, whose `exec node` makes the service that script's process, so the signal reaches the
// service, it drains, stops its embedded nats-server and exits, and nothing is left running.

async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} to the pid of \`npm start\`: the service drains and exits, its nats-server with it; no process is left`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), "brocapi-start-"));
    const port = await freePort();
    const env: Record<string, string> = { ...process.env, BROCAPI_DATA_DIR: dataDir, BROCAPI_HTTP_HOST: "127.0.0.1", BROCAPI_HTTP_PORT: String(port), ZEEK_BIN: ZEEK_DOUBLE };
    delete env.NATS_URL;
    // Its own process group, only so that a failing test can still clean up everything.
    const npm = spawn("npm", ["start"], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    npm.stdout.on("data", (c: Buffer) => (out += c.toString()));
    npm.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => npm.once("exit", (code, sig) => r({ code, signal: sig })));
    let ended = false;
    void exited.then(() => (ended = true));
    try {
      // `npm start` builds first (tsc's build mode: ~1 s of CPU with nothing to compile, ~10 s
      // before it; more when something changed): on a loaded 2-core machine that once took 45 s
      // of the minute this waited. It is waited for until it serves or exits; the bound only
      // ends a start that hangs.
      await eventually(async () => ended || (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)), 300_000, `npm start serving\n${out}`);
      assert.equal(ended, false, `npm start exited before it served\n${out}`);
      const running = await processesWith(dataDir);
      assert.ok(running.some((p) => p.command.includes("nats-server")), `an embedded nats-server runs: ${JSON.stringify(running)}`);
      assert.ok(running.some((p) => p.command.includes("dist/services/all/main.js")), "the service runs");

      process.kill(npm.pid!, signal);
      const how = await within(exited, 40_000, () => `npm did not exit within 40 s of ${signal}\n${out}`);
      t.diagnostic(`npm exited ${JSON.stringify(how)}`);
      assert.match(out, /"event":"service.draining"/, "the service got the signal and drained");
      assert.match(out, /"event":"service.stopped"/, "and stopped cleanly");
      assert.deepEqual(how, { code: 0, signal: null });
      // The service exits after its nats-server did; allow the kernel a moment to reap.
      await eventually(async () => (await processesWith(dataDir)).length === 0, 5_000, "no process left").catch(async () => {
        assert.deepEqual(await processesWith(dataDir), [], "processes left behind");
      });
    } finally {
      try {
        process.kill(-npm.pid!, "SIGKILL");
      } catch {
        // already gone, as it should be
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}
