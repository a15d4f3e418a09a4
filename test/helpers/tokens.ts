import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface TokenSpec {
  name: string;
  roles: string[];
  tags?: string[];
}

/**
 * A tokens file (BROCAPI_AUTH_TOKENS_FILE) in `dir` with a fresh random token per spec, listed by
 * SHA-256 as an operator would write it; returns the file and the tokens by name.
 */
export async function writeTokensFile(dir: string, specs: readonly TokenSpec[], file = "tokens.json"): Promise<{ path: string; tokens: Record<string, string> }> {
  const tokens: Record<string, string> = {};
  const entries = specs.map((s) => {
    const token = `t_${randomBytes(24).toString("base64url")}`;
    tokens[s.name] = token;
    return { ...s, sha256: createHash("sha256").update(token).digest("hex") };
  });
  const path = join(dir, file);
  await writeFile(path, JSON.stringify({ tokens: entries }, null, 2), { mode: 0o600 });
  return { path, tokens };
}
