import { readFileSync } from "node:fs";

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 per second for user space on every architecture it supports. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) of a process itself, and of its children it waited for (a worker's Zeek runs). */
export interface CpuTime {
  self: number;
  children: number;
}

/** A process's CPU time so far ("self": this process), from Linux's /proc; throws where that cannot be read (gone, or not Linux). */
export function cpuTime(pid: number | "self"): CpuTime {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // utime, stime, cutime, cstime: fields 14–17 of proc(5), counted after the last ")", as the
  // command name before it may itself hold ") ".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { self: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, children: (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND };
}

/** CPU seconds (user + system) a process has used so far; null where that cannot be read. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return cpuTime(pid).self;
  } catch {
    return null;
  }
}
