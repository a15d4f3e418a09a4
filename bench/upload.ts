// Upload speed into the object store and the api's peak RSS for a large capture (default 1 GiB):
// the api runs as its own process so its memory is its own.   npm run bench -- upload [MiB]
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { startTestNats } from "../test/helpers/nats.js";
import { freePort } from "../test/helpers/rsyslog.js";

const MIB = Number(process.argv[2] ?? 1024);

/** A classic pcap of at least `mib` MiB: the global header, then blocks of identical 1500-byte packet records. */
async function writeBigPcap(path: string, mib: number): Promise<number> {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const record = Buffer.alloc(16 + 1500, 0x41);
  record.writeUInt32LE(1_700_000_000, 0);
  record.writeUInt32LE(0, 4);
  record.writeUInt32LE(1500, 8);
  record.writeUInt32LE(1500, 12);
  const block = Buffer.concat(Array.from({ length: Math.floor((1 << 20) / record.length) }, () => record));
  const out = createWriteStream(path);
  out.write(header);
  for (let written = header.length; written < mib * 2 ** 20; written += block.length) if (!out.write(block)) await once(out, "drain");
  out.end();
  await once(out, "finish");
  return (await stat(path)).size;
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-upload-"));
const nats = await startTestNats();
const port = await freePort();
const api = spawn(process.execPath, ["dist/services/api/main.js"], {
  env: { ...process.env, NATS_URL: nats.url, BROCAPI_HTTP_PORT: String(port), BROCAPI_HTTP_HOST: "127.0.0.1", BROCAPI_LOG_LEVEL: "warn", BROCAPI_DATA_DIR: dir },
  stdio: ["ignore", "inherit", "inherit"],
});
try {
  const path = join(dir, "big.pcap");
  const size = await writeBigPcap(path, MIB);
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const idle = await peakRssMb(api.pid!);
  const boundary = "----brocapibench";
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file[]"; filename="big.pcap"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nbench\r\n--${boundary}--\r\n`);
  const t0 = performance.now();
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/submit/pcap", headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + size + tail.length } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve(`${res.statusCode} ${text}`));
      },
    );
    req.on("error", reject);
    req.write(head);
    const file = createReadStream(path);
    file.pipe(req, { end: false });
    file.on("end", () => req.end(tail));
  });
  const seconds = (performance.now() - t0) / 1000;
  const peak = await peakRssMb(api.pid!);
  console.log(`response: ${body.slice(0, 160)}`);
  console.log("| capture | upload time | MB/s (MiB/s) into the object store | api RSS idle | api peak RSS |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  console.log(`| ${(size / 2 ** 20).toFixed(0)} MiB | ${seconds.toFixed(1)} s | ${(size / 1e6 / seconds).toFixed(1)} (${(size / 2 ** 20 / seconds).toFixed(1)}) | ${idle.toFixed(0)} MB | ${peak.toFixed(0)} MB |`);
} finally {
  api.kill("SIGTERM");
  await once(api, "exit");
  await nats.cleanup();
  await rm(dir, { recursive: true, force: true });
}
