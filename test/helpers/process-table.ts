import { readdir, readFile } from "node:fs/promises";

/** A live process as the kernel lists it in /proc. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  command: string;
}

async function entry(pid: number, marker: string): Promise<ProcessEntry | null> {
  try {
    const [cmdline, environ, stat] = await Promise.all(
      ["cmdline", "environ", "stat"].map((f) => readFile(`/proc/${pid}/${f}`, "utf8")),
    );
    // A zombie has an empty cmdline and environ: it is gone, only not yet reaped.
    if (!cmdline!.includes(marker) && !environ!.includes(marker)) return null;
    const ppid = Number(stat!.slice(stat!.lastIndexOf(")") + 2).split(" ")[1]);
    return { pid, ppid, command: cmdline!.split("\0").join(" ").trim() };
  } catch {
    return null; // exited while being read, or not ours to read
  }
}

/**
 * Every live process whose command line or environment contains `marker` (a test's unique temp
 * dir): what a person would find with `ps` after stopping a service.
 */
export async function processesWith(marker: string): Promise<ProcessEntry[]> {
  const pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number);
  const found = await Promise.all(pids.filter((p) => p !== process.pid).map((p) => entry(p, marker)));
  return found.filter((e): e is ProcessEntry => e !== null);
}
