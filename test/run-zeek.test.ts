import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { BrocapiError, ErrorCodes, ZeekError } from "../shared/errors.js";
import { runZeek, type ZeekRun } from "../shared/zeek/run-zeek.js";
import { writeSyntheticPcap, writeTruncatedPcap } from "./helpers/pcap-writer.js";
import { ZEEK_DOUBLE } from "./helpers/stack.js";

// Zeek reads the capture from stdin (`zeek -C -r -`). Which failure a run reports depends on
// who failed: a feed that breaks off says nothing about the capture (retried), Zeek refusing
// what it was fed is final, and Zeek's messages name the capture, not `-` or a worker path.

let dir: string;
let good: Buffer;
let cut: Buffer;
let cutInfo: Awaited<ReturnType<typeof writeTruncatedPcap>>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "brocapi-runzeek-"));
  await writeSyntheticPcap(join(dir, "good.pcap"), { flows: 12, seed: 2 });
  cutInfo = await writeTruncatedPcap(join(dir, "cut.pcap"), { flows: 12, seed: 2 });
  good = await readFile(join(dir, "good.pcap"));
  cut = await readFile(join(dir, "cut.pcap"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;
async function run(feed: (stdin: Writable, stop: AbortSignal) => Promise<string>): Promise<{ cwd: string; result: Promise<Awaited<ReturnType<typeof runZeek<string>>>> }> {
  const cwd = await mkdtemp(join(dir, `run-${runs++}-`));
  const spec: ZeekRun = { bin: ZEEK_DOUBLE, captureName: "suspect.pcap", cwd, profile: { scripts: ["local"], options: {} }, format: "tsv", timeLimitMs: 30_000 };
  return { cwd, result: runZeek(spec, feed) };
}

const write = (stdin: Writable, bytes: Buffer): Promise<void> => new Promise((resolve, reject) => stdin.write(bytes, (err) => (err ? reject(err) : resolve())));

test("a capture fed whole: Zeek exits 0 and the feed's answer comes back", async () => {
  const { cwd, result } = await run(async (stdin) => {
    await write(stdin, good);
    stdin.end();
    return "fed";
  });
  const r = await result;
  assert.equal(r.fed, "fed");
  assert.ok((await readdir(cwd)).includes("conn.log"));
  assert.equal((await readFile(join(cwd, "conn.log"), "utf8")).split("\n").filter((l) => l && !l.startsWith("#")).length, 12);
});

test("a cut capture fed to its end: Zeek's refusal, permanent, naming the capture instead of `-`", async () => {
  const { result } = await run(async (stdin) => {
    await write(stdin, cut);
    stdin.end();
    return "fed";
  });
  await assert.rejects(result, (err: unknown) => {
    assert.ok(err instanceof ZeekError);
    assert.equal(err.code, ErrorCodes.ZEEK_REJECTED_INPUT);
    assert.equal(err.permanent, true);
    assert.equal(err.details.exitCode, 1);
    assert.equal(err.details.stderr, `${cutInfo.lastPacketTime} fatal error: failed to read a packet from suspect.pcap: ${cutInfo.readError}`);
    assert.match(err.message, /^Zeek exited with 1: .*failed to read a packet from suspect\.pcap: truncated dump file/);
    return true;
  });
});

test("a feed that breaks off mid-capture: its own error, not Zeek's; Zeek is killed before it can take the part for the whole", async () => {
  const broken = new BrocapiError(ErrorCodes.BROKER_UNAVAILABLE, "the object store went away");
  const { cwd, result } = await run(async (stdin) => {
    // Whole packets only: ended here, Zeek would have exited 0 with part of the capture.
    await write(stdin, good.subarray(0, 24 + 3 * (16 + good.readUInt32LE(24 + 8))));
    await new Promise((r) => setTimeout(r, 200));
    throw broken;
  });
  await assert.rejects(result, (err: unknown) => err === broken);
  assert.ok(!(await readdir(cwd)).includes("conn.log"), "Zeek wrote no conn.log: it never saw the end of its input");
});

test("Zeek refusing the capture while the feed still writes: Zeek's refusal wins, the closed pipe is no feed failure", async () => {
  const { result } = await run(async (stdin, stop) => {
    await write(stdin, Buffer.from("this is not a capture\n".repeat(100)));
    // Keeps writing until Zeek has gone: EPIPE, or the stop signal.
    while (!stop.aborted) await write(stdin, Buffer.alloc(64 * 1024));
    return "stopped";
  });
  await assert.rejects(result, (err: unknown) => {
    assert.ok(err instanceof ZeekError);
    assert.equal(err.code, ErrorCodes.ZEEK_REJECTED_INPUT);
    assert.equal(err.details.stderr, "fatal error: problem with trace file suspect.pcap (unknown file format)");
    return true;
  });
});

test("a process that exits while Zeek runs takes the run with it", async () => {
  // A Zeek that says its pid, then waits on its input, which never ends.
  const zeek = join(dir, "waiting-zeek");
  const pidFile = join(dir, "waiting-zeek.pid");
  await writeFile(zeek, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 120\n`);
  await chmod(zeek, 0o755);
  const runZeekModule = new URL("../shared/zeek/run-zeek.js", import.meta.url).href;
  const script = `
    import { existsSync } from "node:fs";
    const { runZeek } = await import(${JSON.stringify(runZeekModule)});
    void runZeek({ bin: ${JSON.stringify(zeek)}, captureName: "x.pcap", cwd: ${JSON.stringify(dir)}, profile: { scripts: ["local"], options: {} }, format: "tsv", timeLimitMs: 60000 }, () => new Promise(() => {}));
    while (!existsSync(${JSON.stringify(pidFile)})) await new Promise((r) => setTimeout(r, 20));
    process.exit(3);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 3);
  const pid = Number(await readFile(pidFile, "utf8"));
  // Gone, or a zombie nobody reaped yet (a container's first process may not reap orphans).
  const alive = async (): Promise<boolean> => {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
    return stat !== null && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  };
  // The kill is sent as the process exits; the kernel takes a moment to end the run.
  for (let i = 0; i < 100 && (await alive()); i++) await new Promise((r) => setTimeout(r, 50));
  const outlived = await alive();
  if (outlived) process.kill(pid, "SIGKILL");
  assert.equal(outlived, false, "the Zeek run outlived the process that started it");
});
