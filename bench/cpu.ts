// CPU time of the processes a benchmark runs, which depends far less on other load on the
// machine than wall-clock time does.
import { cpuSeconds } from "../shared/process/cpu-time.js";

/** CPU seconds used so far by this process and by the processes `pids` (summed; a process gone counts 0). */
export function cpuNow(pids: readonly number[]): { self: number; others: number } {
  const { user, system } = process.cpuUsage();
  return { self: (user + system) / 1e6, others: pids.reduce((s, pid) => s + (cpuSeconds(pid) ?? 0), 0) };
}

/** CPU seconds used from `since` to now, by this process and by `pids`. */
export function cpuSince(since: { self: number; others: number }, pids: readonly number[]): { self: number; others: number } {
  const now = cpuNow(pids);
  return { self: now.self - since.self, others: now.others - since.others };
}
