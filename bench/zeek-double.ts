// Speed of the Zeek test double on a synthetic capture (default 100,000 packets, 12,500 flows):
// what every test that runs it pays. Timing lives here, not in the tests.   npm run bench -- zeek-double [packets]
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSyntheticPcap } from "../test/helpers/pcap-writer.js";

const PACKETS = Number(process.argv[2] ?? 100_000);
const ZEEK = fileURLToPath(new URL("../../test/zeek-double/zeek", import.meta.url));

const dir = await mkdtemp(join(tmpdir(), "brocapi-bench-double-"));
try {
  const capture = join(dir, "synthetic.pcap");
  const info = await writeSyntheticPcap(capture, { flows: PACKETS / 8, packetsPerFlow: 8, dnsEvery: 10 });
  console.log("| packets | flows | capture | mode | wall time | packets/s |");
  console.log("| ---: | ---: | ---: | --- | ---: | ---: |");
  for (const mode of ["tsv", "json"]) {
    const t0 = performance.now();
    const r = spawnSync(ZEEK, ["-C", "-r", capture, "local", ...(mode === "json" ? ["LogAscii::use_json=T"] : [])], { cwd: dir });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`zeek double exited ${r.status}: ${r.stderr}`);
    const mb = (info.bytes / 1e6).toFixed(1);
    console.log(`| ${info.packets} | ${info.flows} | ${mb} MB | ${mode} | ${seconds.toFixed(2)} s | ${Math.round(info.packets / seconds)} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
