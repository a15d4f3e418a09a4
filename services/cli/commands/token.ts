import { stringify } from "yaml";
import { generateToken, tokenDigest } from "../../../shared/auth/token-core.js";
import type { Command } from "../args.js";
import { ExitCode } from "../errors.js";

/**
 * `brocapi token create --name N --roles R [--tags GLOBS]`: a new random token, printed this once
 * (the server keeps only its SHA-256), then the YAML entry to add under `tokens:` in the server's
 * BROCAPI_AUTH_TOKENS_FILE. Needs no server.
 */
export function token(cmd: Extract<Command, { kind: "token" }>): Promise<ExitCode> {
  const secret = generateToken();
  const entry = { name: cmd.name, sha256: tokenDigest(secret), roles: cmd.roles, ...(cmd.tags ? { tags: cmd.tags } : {}) };
  process.stdout.write(
    [
      `# API token "${cmd.name}", shown only now: hand it to its holder (e.g. as BROCAPI_TOKEN_FILE), keep no copy`,
      secret,
      "# add to the api's BROCAPI_AUTH_TOKENS_FILE, under tokens: (the api reads the change within a second)",
      stringify([entry]).trimEnd(),
      "",
    ].join("\n"),
  );
  return Promise.resolve(ExitCode.OK);
}
