import { mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directorySinkFactory } from "../../services/shipper/sinks/directory/directory-sink.js";
import type { SinkFactory } from "../../services/shipper/sinks/sink.js";
import { sinkConformance, type ReceivedLine } from "./conformance.js";

/** Reads `<root>/<job>/<log>.log` back, data lines only. "Errors": the root replaced by a file. */
sinkConformance({
  name: "directory",
  factory: directorySinkFactory as SinkFactory,
  async start() {
    const base = await mkdtemp(join(tmpdir(), "brocapi-dir-sink-"));
    const root = join(base, "logs");
    return {
      options: { root },
      exactlyOnce: true,
      async received() {
        const out: ReceivedLine[] = [];
        for (const job of await readdir(root).catch(() => [])) {
          for (const file of (await readdir(join(root, job))).filter((f) => f.endsWith(".log")).sort()) {
            const text = await readFile(join(root, job, file), "utf8");
            for (const line of text.split("\n")) if (line && !line.startsWith("#")) out.push({ job, log: file.slice(0, -4), text: line });
          }
        }
        return out;
      },
      outages: {
        async fail() {
          await rename(root, `${root}.away`).catch(() => undefined);
          await writeFile(root, "not a folder");
        },
        async restore() {
          await rm(root, { force: true });
          await rename(`${root}.away`, root).catch(() => undefined);
        },
      },
      stop: () => rm(base, { recursive: true, force: true }),
    };
  },
});
