// Upload speed into the object store and the api's peak RSS for a large capture (default 1 GiB):
// the api runs as its own process so its memory is its own.   npm run bench -- upload [MiB]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNats } from "../test/helpers/nats.js";
import { ServiceProcesses } from "../test/helpers/processes.js";
import { memoryMb, uploadFile, writeBigPcap } from "../test/helpers/big-capture.js";

const MIB = Number(process.argv[2] ?? 1024);

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-upload-"));
const nats = await startTestNats();
const services = new ServiceProcesses({ NATS_URL: nats.url, BROCAPI_DATA_DIR: dir, BROCAPI_NATS_PREFIX: "bench" });
try {
  const api = await services.start("api");
  const path = join(dir, "big.pcap");
  const size = await writeBigPcap(path, MIB);
  const idle = await memoryMb(api.pid);
  const t0 = performance.now();
  const res = await uploadFile(api.url, path, "bench");
  const seconds = (performance.now() - t0) / 1000;
  const after = await memoryMb(api.pid);
  console.log(`response: ${res.status} ${res.body.slice(0, 160)}`);
  console.log("| capture | upload time | MB/s (MiB/s) into the object store | api RSS idle | api peak RSS |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  console.log(`| ${(size / 2 ** 20).toFixed(0)} MiB | ${seconds.toFixed(1)} s | ${(size / 1e6 / seconds).toFixed(1)} (${(size / 2 ** 20 / seconds).toFixed(1)}) | ${idle.rss.toFixed(0)} MB | ${after.peak.toFixed(0)} MB |`);
} finally {
  await services.stopAll();
  await nats.cleanup();
  await rm(dir, { recursive: true, force: true });
}
