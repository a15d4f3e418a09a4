import { execa } from "execa";

/** `zeek --version` (e.g. "zeek version 8.2.2"): part of what makes two analyses the same. */
export async function zeekVersion(bin: string): Promise<string> {
  const { stdout } = await execa(bin, ["--version"], { timeout: 30_000 });
  return stdout.trim();
}
