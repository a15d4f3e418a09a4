// What an API token is, apart from the tokens file's schema: its roles, a new one, its digest.
// Imports only node:crypto, so the CLI (`token create`, the --roles check) loads neither zod nor
// any server code.
import { createHash, randomBytes } from "node:crypto";

/** What a token may do: `submit` uploads (and follows its jobs), `read` reads everything, `admin` also deletes. */
export const API_ROLES = ["submit", "read", "admin"] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** A new random token: 32 bytes from the system's CSPRNG, base64url, with a prefix that secret scanners recognise. */
export function generateToken(): string {
  return `brocapi_${randomBytes(32).toString("base64url")}`;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
