import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * Connection settings shared by the HTTP-based sinks (http, elasticsearch, splunk-hec): TLS trust,
 * time limit, and headers. Secrets are only ever read from files named here, never written in
 * the configuration or logged.
 */
export const httpSettings = {
  caFile: z.string().min(1).optional().describe("PEM file of the CA(s) that signed the server's certificate, for https URLs (default: the system's CAs)."),
  timeoutMs: z.number().int().min(100).default(30_000).describe("Longest a request may take, in ms, before it is abandoned and retried. Default 30000."),
  headers: z.record(z.string(), z.string()).default({}).describe("Extra request headers (not secret)."),
  headersFromFiles: z.record(z.string(), z.string()).default({}).describe("Extra request headers whose values are read from files (secrets), e.g. `{Authorization: /run/secrets/auth}`."),
};

/** A secret read from a file, without the trailing newline editors add. */
export function readSecret(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}

/** The settings' headers, file-backed ones read now (at start, so a missing file stops start-up). */
export function settingHeaders(o: { headers: Record<string, string>; headersFromFiles: Record<string, string> }): Record<string, string> {
  const out: Record<string, string> = { ...o.headers };
  for (const [name, file] of Object.entries(o.headersFromFiles)) out[name] = readSecret(file);
  return out;
}

/** A file that must exist when the sink starts: checked in the options schema, so start-up names it. */
export const existingFile = (what: string) =>
  z
    .string()
    .min(1)
    .refine(
      (p) => {
        try {
          readFileSync(p);
          return true;
        } catch {
          return false;
        }
      },
      { message: `cannot read the ${what} file` },
    );
