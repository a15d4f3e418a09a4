import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "../shared/nats/names.js";
import { memoryMb, sampleRss, uploadFile, writeBigPcap } from "./helpers/big-capture.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { ServiceProcesses } from "./helpers/processes.js";
import { eventually } from "./helpers/stack.js";

let nats: TestNats;
let nc: NatsConnection;
let dir: string;
const PREFIX = "apiproc";
const names = natsNames(PREFIX);

before(async () => {
  nats = await startTestNats();
  nc = await natsConnect({ servers: nats.url });
  dir = await mkdtemp(join(tmpdir(), "brocapi-apiproc-"));
});

after(async () => {
  await nc?.close();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** Streams a download to nowhere while sampling the api's resident memory. */
async function downloadSamplingRss(url: string, pid: number): Promise<{ bytes: number; maxRss: number }> {
  const sampler = sampleRss(pid);
  const bytes = await new Promise<number>((resolve, reject) => {
    get(url, (res) => {
      let n = 0;
      res.on("data", (c: Buffer) => (n += c.length));
      res.on("end", () => resolve(n));
      res.on("error", reject);
    }).on("error", reject);
  }).finally(sampler.stop);
  return { bytes, maxRss: Math.max(await sampler.stop(), (await memoryMb(pid)).rss) };
}

test("a 1 GiB capture uploads and downloads through the api without its memory growing with the file", async () => {
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: PREFIX });
  try {
    const api = await services.start("api");
    const path = join(dir, "big.pcap");
    const size = await writeBigPcap(path, 1024);
    const up = await uploadFile(api.url, path, "big");
    assert.equal(up.status, 200, up.body);
    const jobId = (JSON.parse(up.body) as { job_id: string }).job_id;
    const before = await memoryMb(api.pid);
    const down = await downloadSamplingRss(`${api.url}/jobs/${jobId}/pcaps/0`, api.pid);
    assert.equal(down.bytes, size);
    // Buffering the capture would add 1 GiB; streaming adds a few chunks.
    assert.ok(down.maxRss - before.rss < 150, `RSS grew ${Math.round(down.maxRss - before.rss)} MB during a ${size >> 20} MiB download`);
    assert.ok(before.peak < 250, `peak RSS during the upload ${Math.round(before.peak)} MB`);
  } finally {
    await services.stopAll();
  }
});

test("an api killed mid-upload: the client sees the failure; the next api sweeps the unfinished upload away", async () => {
  const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: PREFIX, BROCAPI_UPLOAD_TIMEOUT_MS: "2000" });
  const jsm = await jetstreamManager(nc);
  const stream = `OBJ_${names.pcapsBucket}`;
  const subjects = async (kind: "C" | "M"): Promise<string[]> => Object.keys((await jsm.streams.info(stream, { subjects_filter: `$O.${names.pcapsBucket}.${kind}.>` })).state.subjects ?? {});
  const chunkSubjects = (): Promise<string[]> => subjects("C");
  const before = await chunkSubjects();
  const objectsBefore = await subjects("M");
  try {
    const api = await services.start("api");
    const url = new URL(api.url);
    const boundary = "----killed";
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    // What the client gets back: any response bytes, and how the connection ended.
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    const clientSaw = new Promise<string>((resolve) => {
      socket.on("error", (err) => resolve(err.message));
      socket.on("close", () => resolve("connection closed"));
    });
    socket.write(
      `POST /submit/pcap HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${64 << 20}\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file[]"; filename="cut.pcap"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    socket.write(header);
    socket.write(Buffer.alloc(4 << 20, 0x42));
    await eventually(async () => (await chunkSubjects()).length > before.length, 20_000, "chunks of the upload stored");
    await api.crash();
    assert.match(await clientSaw, /closed|ECONNRESET|EPIPE/);
    // A failure, not an answer: the upload was cut off without any HTTP response.
    assert.equal(answer, "", "the client got no HTTP response for the interrupted upload");
    assert.ok((await chunkSubjects()).length > before.length, "the killed api left chunks behind");

    await services.start("api", { name: "api-2" });
    await eventually(async () => (await chunkSubjects()).length === before.length, 30_000, "the new api's sweep removed the chunks");
    assert.deepEqual(await subjects("M"), objectsBefore, "no capture object was added");
  } finally {
    await services.stopAll();
  }
});
