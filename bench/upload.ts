// Capture bytes in and out of the object store, in one run: `cp` of the file as the ceiling, the
// stock @nats-io/obj client beside ours (shared/objects), then the api's upload and download of
// the same file with its peak RSS (the api runs as its own process), sent and fetched by curl (as
// a user would) and by a Node client. Each row gives MB/s and CPU seconds per GiB of the process
// doing the work, of nats-server and of the HTTP client: MB/s follows whatever else the machine is
// doing, CPU per GiB much less. Default 2048 MiB.
//   npm run bench -- upload [MiB]
// Everything (the file, its copy, the NATS store) lives in os.tmpdir(): TMPDIR=/dev/shm takes the
// disk out of the measurement. Dirty pages are written back (`sync`) before each row, so no row
// pays for the previous one's writes.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Objm, setSha256Backend } from "@nats-io/obj";
import { connect } from "@nats-io/transport-node";
import { getObject } from "../shared/objects/get-object.js";
import { objectStream } from "../shared/objects/object-layout.js";
import { DEFAULT_CHUNK_BYTES, putObject } from "../shared/objects/put-object.js";
import { cpuTime } from "../shared/process/cpu-time.js";
import { startTestNats } from "../test/helpers/nats.js";
import { ServiceProcesses } from "../test/helpers/processes.js";
import { memoryMb, uploadFile, writeBigPcap } from "../test/helpers/big-capture.js";

const MIB = Number(process.argv[2] ?? 2048);
const BUCKET = "bench-direct";

/** Sets a process's peak RSS (VmHWM) back to its current RSS, so the next peak is the next step's. */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, "5").catch(() => undefined);
}

const startLoad = loadavg();
const started = new Date();
const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-upload-"));
const fsType = spawnSync("stat", ["-f", "-c", "%T", dir]).stdout?.toString().trim() || "?";
const nats = await startTestNats();
const natsPid = nats.process.pid!;
// As the services connect (shared/nats/connect.ts): no Error built per request for its stack.
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
setSha256Backend("native");
const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: "bench" });
const rows: string[] = [];
let size = 0;

/** A process whose CPU a row counts: "self" is this process, "children" the commands it ran and waited for (cp, curl). */
interface Counted {
  name: string;
  pid: number | "self" | "children";
}

const cpuOf = (who: Counted): number => (who.pid === "children" ? cpuTime("self").children : cpuTime(who.pid).self);

/**
 * Runs `fn` and adds its row: wall time, MB/s, CPU s/GiB of the working process, of nats-server,
 * and of the client feeding or draining it when there is one (the HTTP client of the api rows).
 * Dirty pages are written back first, outside the timing.
 */
async function row(what: string, worker: Counted, fn: () => Promise<unknown>, opts: { client?: Counted; memory?: () => Promise<string> } = {}): Promise<void> {
  execFileSync("sync");
  const { client } = opts;
  const w0 = cpuOf(worker);
  const s0 = cpuTime(natsPid).self;
  const c0 = client ? cpuOf(client) : 0;
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const workerCpu = cpuOf(worker) - w0;
  const serverCpu = cpuTime(natsPid).self - s0;
  const clientCpu = client ? cpuOf(client) - c0 : 0;
  const gib = size / 2 ** 30;
  const perGib = (s: number): string => (s / gib).toFixed(2);
  const clientCell = client ? `${client.name} ${perGib(clientCpu)}` : "";
  rows.push(
    `| ${what} | ${seconds.toFixed(1)} s | ${(size / 1e6 / seconds).toFixed(0)} (${(size / 2 ** 20 / seconds).toFixed(0)}) | ${worker.name} ${perGib(workerCpu)} | ${perGib(serverCpu)} | ${clientCell} | ${perGib(workerCpu + serverCpu + clientCpu)} | ${(await opts.memory?.()) ?? ""} |`,
  );
  console.error(rows.at(-1));
}

/** Runs a command to its end without blocking this process's event loop (the api rows' curl). */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(command, args, { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

const drain = async (data: AsyncIterable<Uint8Array>): Promise<number> => {
  let n = 0;
  for await (const c of data) n += c.length;
  return n;
};

try {
  const path = join(dir, "big.pcap");
  size = await writeBigPcap(path, MIB);
  // The page cache holds the file after writing it; every row reads it from there alike.
  await row("`cp` of the file (same file system)", { name: "cp", pid: "children" }, async () => execFileSync("cp", [path, join(dir, "copy.pcap")]));
  await rm(join(dir, "copy.pcap"));

  const stock = await new Objm(nc).create(BUCKET);
  const bucket = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc), name: BUCKET };
  const me = { name: "bench", pid: "self" as const };
  const chunkKiB = DEFAULT_CHUNK_BYTES / 1024;
  // Both read the file the same way, in 64 KiB pieces, as the api gets an upload's bytes.
  await row(`put, stock \`os.put\` (${chunkKiB} KiB chunks, one in flight)`, me, () =>
    stock.put({ name: "stock", options: { max_chunk_size: DEFAULT_CHUNK_BYTES } }, Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>),
  );
  await row(`put, pipelined (${chunkKiB} KiB chunks, 16 MiB in flight)`, me, () => putObject(bucket, "pipelined", createReadStream(path)));
  await row("get, stock `os.get`", me, async () => {
    const r = (await stock.get("pipelined"))!;
    if ((await drain(r.data)) !== size || (await r.error)) throw new Error("stock get failed");
  });
  await row("get, ours (push consumer, flow control answered as the reader reads)", me, async () => {
    if ((await drain((await getObject(bucket, "stock"))!.data)) !== size) throw new Error("pipelined get failed");
  });
  // Frees the store's memory (TMPDIR=/dev/shm) before the api rows; a slow purge only costs time.
  await bucket.jsm.streams.purge(objectStream(BUCKET)).catch((err: unknown) => console.error(`purging the bench bucket failed: ${(err as Error).message}`));

  const api = await services.start("api");
  const apiCpu = { name: "api", pid: api.pid };
  const curl = { name: "curl", pid: "children" as const };
  const idle = await memoryMb(api.pid);
  const jobs: string[] = [];
  const jobOf = (body: string): void => void jobs.push((JSON.parse(body) as { job_id: string }).job_id);
  /** A row of the api: its peak RSS is the row's own. */
  const apiRow = async (what: string, client: Counted, fn: () => Promise<unknown>): Promise<void> => {
    await resetPeak(api.pid);
    const before = await memoryMb(api.pid);
    await row(what, apiCpu, fn, { client, memory: async () => `api RSS before ${before.rss.toFixed(0)} MB, peak ${(await memoryMb(api.pid)).peak.toFixed(0)} MB` });
  };
  const downloaded = (n: number): void => {
    if (n !== size) throw new Error(`downloaded ${n} of ${size} bytes`);
  };
  await apiRow("upload through the api, `curl -F file[]=@…` (multipart → pipelined put)", curl, async () =>
    jobOf(await run("curl", ["-sS", "--fail-with-body", "-F", `file[]=@${path};type=application/octet-stream`, "-F", "tag=bench", `${api.url}/submit/pcap`])),
  );
  await apiRow("upload through the api, Node http client", me, async () => {
    const res = await uploadFile(api.url, path, "bench");
    if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.body}`);
    jobOf(res.body);
  });
  await apiRow("download through the api, `curl -o /dev/null` (`GET /jobs/:id/pcaps/0` → our get)", curl, async () =>
    downloaded(Number(await run("curl", ["-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", `${api.url}/jobs/${jobs[0]}/pcaps/0`]))),
  );
  await apiRow("download through the api, Node http client", me, () =>
    new Promise<void>((resolve, reject) => {
      get(`${api.url}/jobs/${jobs[1]}/pcaps/0`, (res) => {
        let n = 0;
        res.on("data", (c: Buffer) => (n += c.length));
        res.on("end", () => {
          try {
            resolve(downloaded(n));
          } catch (err) {
            reject(err as Error);
          }
        });
        res.on("error", reject);
      }).on("error", reject);
    }),
  );

  const version = execFileSync("nats-server", ["--version"]).toString().trim();
  const load = startLoad.map((l) => l.toFixed(2)).join(", ");
  const minute = (d: Date): string => d.toISOString().replace("T", " ").slice(0, 16);
  console.log(`\n${minute(started)}–${minute(new Date()).slice(11)} UTC, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}${process.execArgv.length > 0 ? ` (${process.execArgv.join(" ")})` : ""}, ${version}`);
  console.log(`${(size / 2 ** 20).toFixed(0)} MiB capture (${size} bytes) in ${dir} (${fsType}); load average at the start ${load}; api RSS idle ${idle.rss.toFixed(0)} MB`);
  if (fsType !== "tmpfs") console.log("(the store is on disk: run again with TMPDIR=/dev/shm to take the disk out)");
  // The CPU that a rate needs: what every process spends per GiB, against the cores there are.
  console.log(`${cpus().length} cores at full use sustain at most ${cpus().length} / (CPU s/GiB, all) GiB/s: 250 MB/s needs the row's "all" at or below ${((cpus().length * 2 ** 30) / 250e6).toFixed(2)}\n`);
  console.log("| what | time | MB/s (MiB/s) | CPU s/GiB, worker | CPU s/GiB, nats-server | CPU s/GiB, client | CPU s/GiB, all | memory |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of rows) console.log(r);
} finally {
  await services.stopAll();
  await nc.close();
  await nats.cleanup();
  await rm(dir, { recursive: true, force: true });
}
