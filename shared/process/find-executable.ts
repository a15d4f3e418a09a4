import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a program: an explicit path as given, else `name` on PATH, else the fallbacks in order.
 * Returns undefined when none is executable, so the caller can say which setting to use.
 */
export function findExecutable(name: string, explicit: string | undefined, fallbacks: readonly string[] = []): string | undefined {
  if (explicit) return isAbsolute(explicit) || explicit.includes("/") ? (isExecutable(explicit) ? explicit : undefined) : findExecutable(explicit, undefined, fallbacks);
  const onPath = (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  return [...onPath, ...fallbacks].find(isExecutable);
}
