// Capture bytes in and out of the object store, stock @nats-io/obj client beside the pipelined
// one (shared/objects), against `cp` of the same file as the ceiling; then the api's upload and
// download of it, with the api's peak RSS (the api runs as its own process so its memory is its
// own). Default 2048 MiB.   npm run bench -- upload [MiB]
// Everything (the file, its copy, the NATS store) lives in os.tmpdir(): TMPDIR=/dev/shm takes the
// disk out of the measurement.
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { get } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Objm, setSha256Backend } from "@nats-io/obj";
import { connect } from "@nats-io/transport-node";
import { getObject } from "../shared/objects/get-object.js";
import { putObject } from "../shared/objects/put-object.js";
import { startTestNats } from "../test/helpers/nats.js";
import { ServiceProcesses } from "../test/helpers/processes.js";
import { memoryMb, uploadFile, writeBigPcap } from "../test/helpers/big-capture.js";

const MIB = Number(process.argv[2] ?? 2048);
const CHUNK = 512 * 1024;

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-upload-"));
const nats = await startTestNats();
const nc = await connect({ servers: nats.url });
setSha256Backend("native");
const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: "bench" });
const rows: string[] = [];
const row = (what: string, bytes: number, seconds: number, extra = ""): void => {
  rows.push(`| ${what} | ${seconds.toFixed(1)} s | ${(bytes / 1e6 / seconds).toFixed(0)} (${(bytes / 2 ** 20 / seconds).toFixed(0)}) | ${extra} |`);
  console.error(rows.at(-1));
};
const timed = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const drain = async (data: AsyncIterable<Uint8Array>): Promise<number> => {
  let n = 0;
  for await (const c of data) n += c.length;
  return n;
};

try {
  const path = join(dir, "big.pcap");
  const size = await writeBigPcap(path, MIB);
  // The page cache holds the file after writing it; every row reads it from there alike.
  row("`cp` of the file (same disk)", size, await timed(async () => execFileSync("cp", [path, join(dir, "copy.pcap")])));
  await rm(join(dir, "copy.pcap"));

  const stock = await new Objm(nc).create("bench-direct");
  const bucket = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc), name: "bench-direct" };
  row("put, stock `os.put` (512 KiB chunks)", size, await timed(() => stock.put({ name: "stock", options: { max_chunk_size: CHUNK } }, Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>)));
  row("put, pipelined (512 KiB chunks, 16 MiB in flight)", size, await timed(() => putObject(bucket, "pipelined", createReadStream(path, { highWaterMark: CHUNK }))));
  row("get, stock `os.get`", size, await timed(async () => {
    const r = (await stock.get("pipelined"))!;
    if ((await drain(r.data)) !== size || (await r.error)) throw new Error("stock get failed");
  }));
  row("get, pipelined (4 × 4 MiB requested ahead)", size, await timed(async () => {
    if ((await drain((await getObject(bucket, "stock"))!.data)) !== size) throw new Error("pipelined get failed");
  }));

  const api = await services.start("api");
  const idle = await memoryMb(api.pid);
  let jobId = "";
  row("upload through the api (HTTP multipart → pipelined put)", size, await timed(async () => {
    const res = await uploadFile(api.url, path, "bench");
    if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.body}`);
    jobId = (JSON.parse(res.body) as { job_id: string }).job_id;
  }), `api RSS idle ${idle.rss.toFixed(0)} MB, peak ${(await memoryMb(api.pid)).peak.toFixed(0)} MB`);
  row("download through the api (`GET /jobs/:id/pcaps/0` → pipelined get)", size, await timed(() => new Promise<void>((resolve, reject) => {
    get(`${api.url}/jobs/${jobId}/pcaps/0`, (res) => {
      let n = 0;
      res.on("data", (c: Buffer) => (n += c.length));
      res.on("end", () => (n === size ? resolve() : reject(new Error(`downloaded ${n} of ${size} bytes`))));
      res.on("error", reject);
    }).on("error", reject);
  })), `api peak RSS ${(await memoryMb(api.pid)).peak.toFixed(0)} MB`);

  const version = execFileSync("nats-server", ["--version"]).toString().trim();
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, ${version}; ${(size / 2 ** 20).toFixed(0)} MiB capture (${(await stat(path)).size} bytes)\n`);
  console.log("| what | time | MB/s (MiB/s) | memory |");
  console.log("| --- | ---: | ---: | --- |");
  for (const r of rows) console.log(r);
} finally {
  await services.stopAll();
  await nc.close();
  await nats.cleanup();
  await rm(dir, { recursive: true, force: true });
}
