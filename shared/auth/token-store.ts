import { timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { Logger } from "pino";
import { parse as parseYaml } from "yaml";
import { TOKEN_PATTERN, tagGlob, tokenDigest, tokensFileSchema, type ApiRole } from "./api-token.js";
import { AuthError, ConfigError, ErrorCodes } from "../errors.js";

/** Who a request's token says it is, and what it may do and see. */
export interface Principal {
  readonly name: string;
  has(role: ApiRole): boolean;
  /** Whether a job with this tag is inside the token's tag scope (every tag without one). */
  sees(tag: string | null): boolean;
  readonly scoped: boolean;
}

interface Known {
  digest: Buffer;
  principal: Principal;
}

/** How often the file's size and mtime are looked at, so a revoked token stops working within a second. */
const RECHECK_MS = 1_000;

function principalOf(name: string, roles: readonly ApiRole[], tags: readonly string[] | undefined): Principal {
  const globs = tags?.map(tagGlob) ?? null;
  return {
    name,
    scoped: globs !== null,
    has: (role) => roles.includes("admin") || roles.includes(role),
    sees: (tag) => globs === null || (tag !== null && globs.some((g) => g.test(tag))),
  };
}

function load(path: string): Known[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ConfigError(`BROCAPI_AUTH_TOKENS_FILE: cannot read ${path}: ${(cause as Error).message}`, cause);
  }
  const result = tokensFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`BROCAPI_AUTH_TOKENS_FILE: ${path}: ${issue.path.join(".") || "file"}: ${issue.message}`);
  }
  return result.data.tokens.map((t) => ({ digest: Buffer.from(t.sha256, "hex"), principal: principalOf(t.name, t.roles, t.tags) }));
}

/**
 * The API tokens of `auth.tokensFile`, by SHA-256 digest. The file is re-read when its size or
 * mtime changes (looked at no more than once a second), so adding or revoking a token needs no
 * restart; a file broken by an edit keeps the tokens last read, and says so in the log.
 */
export class TokenStore {
  private known: Known[];
  private stamp: string;
  private checkedAt = Date.now();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {
    this.known = load(path);
    this.stamp = this.currentStamp();
    log.info({ event: "auth.tokens_loaded", tokens: this.known.length }, `${this.known.length} API tokens loaded`);
  }

  private currentStamp(): string {
    try {
      const s = statSync(this.path);
      return `${s.size}:${s.mtimeMs}:${s.ino}`;
    } catch {
      return "missing";
    }
  }

  private refresh(): void {
    if (Date.now() - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = Date.now();
    const stamp = this.currentStamp();
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    try {
      this.known = load(this.path);
      this.log.info({ event: "auth.tokens_reloaded", tokens: this.known.length }, `${this.known.length} API tokens loaded`);
    } catch (err) {
      this.log.error({ event: "auth.tokens_reload_failed", err: (err as Error).message }, "tokens file unreadable; keeping the tokens last read");
    }
  }

  /**
   * The principal of a well-formed token, or null. Every configured digest is compared, in
   * constant time, whatever matched: the time taken says nothing about which digest came close.
   */
  find(token: string): Principal | null {
    this.refresh();
    const digest = Buffer.from(tokenDigest(token), "hex");
    let found: Principal | null = null;
    for (const k of this.known) if (timingSafeEqual(k.digest, digest)) found = k.principal;
    return found;
  }
}

export const REALM = 'Bearer realm="brocapi"';

/** The principal of an `Authorization: Bearer <token>` header, or a 401 saying what is wrong with it. */
export function authenticate(header: string | undefined, store: TokenStore): Principal {
  if (header === undefined || header === "") {
    throw new AuthError(ErrorCodes.AUTH_MISSING, "this request needs an API token: send Authorization: Bearer <token>", 401, REALM);
  }
  const [, scheme = "", token = ""] = /^(\S+)(?: (.*))?$/s.exec(header) ?? [];
  if (scheme.toLowerCase() !== "bearer") {
    throw new AuthError(ErrorCodes.AUTH_MISSING, `the Authorization header must use the Bearer scheme, not ${JSON.stringify(scheme.slice(0, 20))}`, 401, REALM);
  }
  const invalid = (why: string): AuthError => new AuthError(ErrorCodes.AUTH_INVALID, why, 401, `${REALM}, error="invalid_token"`);
  if (!TOKEN_PATTERN.test(token)) {
    const why =
      token === ""
        ? "is empty"
        : token.length > 256
          ? "is longer than 256 characters"
          : /^[\x21-\x7e]*$/.test(token) && token.length < 16
            ? "is too short to be an API token"
            : "holds characters a token never has (only letters, digits and -._~+/ are allowed)";
    throw invalid(`the bearer token ${why}`);
  }
  const principal = store.find(token);
  if (!principal) throw invalid("unknown or revoked API token");
  return principal;
}
