import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { writeSyntheticPcap } from "../test/helpers/pcap-writer.js";
import { ZEEK_DOUBLE } from "../test/helpers/stack.js";

/** Zeek logs to ship: the Zeek double on a synthetic capture with one flow per line wanted. */
export async function makeLogs(dir: string, flows: number): Promise<{ logDir: string; lines: number }> {
  await mkdir(dir, { recursive: true });
  const pcap = join(dir, "in.pcap");
  await writeSyntheticPcap(pcap, { flows, seed: 7 });
  const logDir = join(dir, "logs");
  await mkdir(logDir, { recursive: true });
  await execa(ZEEK_DOUBLE, ["-C", "-r", pcap], { cwd: logDir });
  // Only conn.log, so the line count to wait for is exactly the flow count.
  for (const f of await readdir(logDir)) if (f !== "conn.log") await rm(join(logDir, f));
  return { logDir, lines: flows };
}

