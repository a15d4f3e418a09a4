import { readFileSync } from "node:fs";

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 per second for user space on every architecture it supports. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from Linux's /proc; null where that cannot be read (gone, or not Linux). */
export function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
