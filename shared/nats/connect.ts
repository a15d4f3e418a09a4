import { connect, errors, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { BrocapiError, ErrorCodes } from "../errors.js";
import { backoffMs, sleep } from "../service/backoff.js";

/** Whether the connection is up right now, kept from the client's status events. */
export interface ConnectionState {
  readonly connected: boolean;
  /** Why NATS refuses this service's credential (revoked or changed while running); null while it is accepted. */
  readonly authFailure: string | null;
}

/** Errors where the server refuses who we are: trying again with the same credential cannot help. */
const AUTH_REFUSED = /authorization violation|authentication (expired|revoked)|user authentication|account authentication/i;
/** Node's TLS errors for a server certificate that does not verify. */
const UNTRUSTED_CERT = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

const isAuthError = (err: unknown): boolean => err instanceof errors.AuthorizationError || AUTH_REFUSED.test((err as Error)?.message ?? "");

/**
 * A first connection that fails for a reason retrying cannot fix, as one clear error: the
 * credential refused, the server's certificate not trusted, TLS offered on one side only.
 * Null when NATS is merely not there (yet): then start-up waits for it.
 */
function permanentFailure(err: unknown, servers: string): BrocapiError | null {
  const message = (err as Error).message;
  if (isAuthError(err)) {
    return new BrocapiError(
      ErrorCodes.NATS_AUTH_FAILED,
      `NATS at ${servers} refused this service's credentials (${message}): check BROCAPI_NATS_USER and BROCAPI_NATS_PASSWORD_FILE, BROCAPI_NATS_TOKEN_FILE, BROCAPI_NATS_NKEY_SEED_FILE or BROCAPI_NATS_CREDS_FILE`,
      { permanent: true, cause: err },
    );
  }
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (UNTRUSTED_CERT.test(code)) {
    return new BrocapiError(
      ErrorCodes.NATS_TLS_FAILED,
      `the certificate of NATS at ${servers} is not trusted (${message}): set BROCAPI_NATS_TLS_CA_FILE to the CA that signed it, and use the name it was issued for`,
      { permanent: true, cause: err },
    );
  }
  if (/does not support 'tls'|tls required|client doesn't support 'tls'/i.test(message)) {
    return new BrocapiError(
      ErrorCodes.NATS_TLS_FAILED,
      `NATS at ${servers}: ${message}; TLS must be on at both ends (BROCAPI_NATS_TLS_CA_FILE here, a tls block in nats-server's config)`,
      { permanent: true, cause: err },
    );
  }
  return null;
}

/**
 * Connects, waiting (with backoff, logging each try) while NATS is not reachable, but stopping
 * at once with one clear error when it refuses the credential or its certificate. After that,
 * unlimited reconnects: a NATS restart must pause the pipeline, not end it; a credential revoked
 * while running is logged as such and kept in `connection.authFailure` (the api's /healthz shows
 * it), and the client keeps trying, so restoring the credential needs no restart. Disconnects
 * and reconnects are kept in `connection`, so a request can be refused at once while NATS is away.
 */
export async function connectNats(url: string, name: string, log: Logger, credentials: Partial<ConnectionOptions> = {}): Promise<{ nc: NatsConnection; connection: ConnectionState }> {
  const servers = url.split(",").map((s) => s.trim());
  let nc: NatsConnection;
  for (let attempt = 0; ; attempt++) {
    try {
      nc = await connect({
        ...credentials,
        servers,
        name,
        // An inbox of its own per service, so NATS permissions can keep one service from
        // subscribing to the replies (capture chunks, log batches) meant for another.
        inboxPrefix: `_INBOX_${name.replace(/[^A-Za-z0-9_-]/g, "_")}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // A refused credential is retried too: whoever revoked it may restore it.
        ignoreAuthErrorAbort: true,
        timeout: 10_000,
        // Otherwise every request builds an Error up front for its stack trace, in case it times
        // out: about 5% of a worker's CPU at a few hundred requests per second (issue 13's profile).
        noAsyncTraces: true,
      });
      break;
    } catch (err) {
      const permanent = permanentFailure(err, url);
      if (permanent) throw permanent;
      const retryInMs = backoffMs(attempt, 500, 5_000);
      log.warn({ event: "nats.unreachable", err: (err as Error).message, attempt, retryInMs }, `NATS not reachable yet (${(err as Error).message}); retrying`);
      await sleep(retryInMs);
    }
  }
  log.info({ event: "nats.connected", server: nc.getServer() }, "connected to NATS");
  const connection = { connected: true, authFailure: null as string | null };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && isAuthError(s.error)) {
        const reason = (s.error as Error).message;
        if (connection.authFailure === null) log.error({ event: "nats.auth_failed", err: reason }, `NATS refuses this service's credentials now (${reason}): revoked or changed? Retrying`);
        connection.authFailure = reason;
        continue;
      }
      if (s.type !== "disconnect" && s.type !== "reconnect") continue;
      connection.connected = s.type === "reconnect";
      if (s.type === "reconnect" && connection.authFailure !== null) {
        log.info({ event: "nats.auth_restored" }, "NATS accepts this service's credentials again");
        connection.authFailure = null;
      }
      log.warn({ event: `nats.${s.type}`, server: s.server }, `NATS ${s.type}`);
    }
  })();
  void nc.closed().then(() => {
    connection.connected = false;
  });
  return { nc, connection };
}
