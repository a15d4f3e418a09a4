import { z } from "zod";
import { API_ROLES, generateToken, tokenDigest, type ApiRole } from "./token-core.js";

export { API_ROLES, generateToken, tokenDigest, type ApiRole };

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

/** A tag glob as a RegExp: `*` any run of characters, `?` one, everything else literal. */
export function tagGlob(glob: string): RegExp {
  const body = [...glob].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}
