import { readFileSync } from "node:fs";
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import type { Config } from "../config/schema.js";
import { ConfigError } from "../errors.js";

/** The settings holding secrets, by config path, with their environment names for messages. */
const SETTING = {
  passwordFile: "BROCAPI_NATS_PASSWORD_FILE (nats.passwordFile)",
  tokenFile: "BROCAPI_NATS_TOKEN_FILE (nats.tokenFile)",
  nkeySeedFile: "BROCAPI_NATS_NKEY_SEED_FILE (nats.nkeySeedFile)",
  credsFile: "BROCAPI_NATS_CREDS_FILE (nats.credsFile)",
  tlsCaFile: "BROCAPI_NATS_TLS_CA_FILE (nats.tlsCaFile)",
  tlsCertFile: "BROCAPI_NATS_TLS_CERT_FILE (nats.tlsCertFile)",
  tlsKeyFile: "BROCAPI_NATS_TLS_KEY_FILE (nats.tlsKeyFile)",
} as const;

type NatsSettings = Config["nats"];

function readSetting(nats: NatsSettings, key: keyof typeof SETTING): string | undefined {
  const path = nats[key];
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    // The path, never the contents: a message may end up in a log.
    throw new ConfigError(`Invalid configuration:\n  - ${SETTING[key]}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}

/**
 * How a service proves itself to NATS and verifies the server, read from the `*_FILE` settings
 * (secrets never come from the environment or the command line, where `ps` and crash dumps show
 * them). One kind of credential at a most; TLS with a CA, and a client certificate for mutual TLS.
 */
export function natsCredentials(nats: NatsSettings): Partial<ConnectionOptions> {
  const kinds = (["passwordFile", "tokenFile", "nkeySeedFile", "credsFile"] as const).filter((k) => nats[k]);
  if (kinds.length > 1) throw new ConfigError(`Invalid configuration:\n  - ${kinds.map((k) => SETTING[k]).join(" and ")}: set one kind of NATS credential, not several`);
  if (nats.passwordFile && !nats.user) throw new ConfigError(`Invalid configuration:\n  - ${SETTING.passwordFile}: needs BROCAPI_NATS_USER (nats.user)`);
  if (nats.user && !nats.passwordFile) throw new ConfigError("Invalid configuration:\n  - BROCAPI_NATS_USER (nats.user): needs BROCAPI_NATS_PASSWORD_FILE (nats.passwordFile)");
  if (Boolean(nats.tlsCertFile) !== Boolean(nats.tlsKeyFile)) {
    throw new ConfigError(`Invalid configuration:\n  - ${nats.tlsCertFile ? SETTING.tlsKeyFile : SETTING.tlsCertFile}: a client certificate needs both a certificate and its key`);
  }
  // A trailing newline is an editor's, not part of the secret.
  const secret = (key: keyof typeof SETTING): string | undefined => readSetting(nats, key)?.replace(/\r?\n$/, "");
  const options: Partial<ConnectionOptions> = {};
  if (nats.passwordFile) Object.assign(options, { user: nats.user, pass: secret("passwordFile") });
  if (nats.tokenFile) options.token = secret("tokenFile");
  if (nats.nkeySeedFile) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(secret("nkeySeedFile")!.trim()));
  if (nats.credsFile) options.authenticator = credsAuthenticator(new TextEncoder().encode(readSetting(nats, "credsFile")));
  if (nats.tlsCaFile || nats.tlsCertFile) {
    const ca = readSetting(nats, "tlsCaFile");
    const cert = readSetting(nats, "tlsCertFile");
    const key = readSetting(nats, "tlsKeyFile");
    options.tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }
  return options;
}
