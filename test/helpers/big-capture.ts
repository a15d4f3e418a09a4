import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { request } from "node:http";
import { once } from "node:events";

/**
 * A classic pcap of at least `mib` MiB, fast: the global header, then blocks of identical
 * 1500-byte packet records. For size and memory tests, where Zeek never sees it.
 */
export async function writeBigPcap(path: string, mib: number): Promise<number> {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const record = Buffer.alloc(16 + 1500, 0x41);
  record.writeUInt32LE(1_700_000_000, 0);
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

/** POSTs one file as `file[]` (plus a tag), streamed from disk with a hand-made multipart body. */
export async function uploadFile(base: string, path: string, tag: string): Promise<{ status: number; body: string }> {
  const size = (await stat(path)).size;
  const url = new URL(`${base}/submit/pcap`);
  const boundary = "----brocapiupload";
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file[]"; filename="big.pcap"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\n${tag}\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: "POST", path: url.pathname, headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + size + tail.length } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.write(head);
    const file = createReadStream(path);
    file.pipe(req, { end: false });
    file.on("end", () => req.end(tail));
  });
}

/** Resident and peak resident memory of a process, in MB, from /proc. */
export async function memoryMb(pid: number): Promise<{ rss: number; peak: number }> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    // A process that has exited (a zombie until reaped) has no memory lines left.
    if (!match) throw new Error(`process ${pid} has no ${field}: it has exited`);
    return Number(match[1]) / 1024;
  };
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/**
 * Samples a process's resident memory every `everyMs` until `stop()`, one sample at a time, so no
 * sample is still reading /proc when the caller goes on to stop the process.
 */
export function sampleRss(pid: number, everyMs = 50): { stop: () => Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, (await memoryMb(pid)).rss);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}
