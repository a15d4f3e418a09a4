import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";

/** What a token may do: `submit` uploads (and follows its jobs), `read` reads everything, `admin` also deletes. */
export const API_ROLES = ["submit", "read", "admin"] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** A token as the `Authorization: Bearer` scheme allows it (RFC 6750 b64token), at most 256 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]{16,256}=*$/;

/** One entry of the tokens file: never the token itself, only its SHA-256. */
export const tokenEntrySchema = z.object({
  name: z.string().min(1).max(128).describe("Who or what holds the token: shown in the api's logs"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "the token's SHA-256 as 64 lower-case hex digits"),
  roles: z.array(z.enum(API_ROLES)).min(1),
  tags: z.array(z.string().min(1)).min(1).optional().describe("Tag globs (`*`, `?`): the token sees and submits only jobs whose tag matches one"),
});
export type TokenEntry = z.output<typeof tokenEntrySchema>;

export const tokensFileSchema = z.object({ tokens: z.array(tokenEntrySchema) });

/** A new random token: 32 bytes from the system's CSPRNG, base64url, with a prefix that secret scanners recognise. */
export function generateToken(): string {
  return `brocapi_${randomBytes(32).toString("base64url")}`;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A tag glob as a RegExp: `*` any run of characters, `?` one, everything else literal. */
export function tagGlob(glob: string): RegExp {
  const body = [...glob].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}
