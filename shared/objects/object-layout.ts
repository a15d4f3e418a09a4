import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * The object layout `@nats-io/obj` writes and reads (v3, checked against its objectstore.js), so
 * objects written here are read by the stock client and the other way round: stream
 * `OBJ_<bucket>`; an object's bytes as chunk messages on `$O.<bucket>.C.<nuid>`, in order; its
 * meta as one JSON message on `$O.<bucket>.M.<name, base64url with padding>`, published with a
 * subject rollup so only the latest meta of a name is kept.
 */

/** What the readers and writers here need of one bucket. */
export interface Bucket {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  name: string;
}

/** The meta record, with the stock client's fields in its order. */
export interface ObjectMeta {
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  name: string;
  description: string;
  options?: { max_chunk_size?: number; link?: unknown };
  headers?: Record<string, string[]>;
  metadata?: Record<string, string>;
  mtime: string;
  /** `SHA-256=` + the SHA-256 of the object's bytes, base64url with padding. */
  digest: string;
  deleted: boolean;
}

export const objectStream = (bucket: string): string => `OBJ_${bucket}`;
export const chunkSubject = (bucket: string, nuid: string): string => `$O.${bucket}.C.${nuid}`;
export const metaSubject = (bucket: string, name: string): string => `$O.${bucket}.M.${base64UrlPadded(Buffer.from(name))}`;

const DIGEST_PREFIX = "SHA-256=";

function base64UrlPadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** The meta's digest field for a SHA-256. */
export function digestField(sha256: Buffer): string {
  return DIGEST_PREFIX + base64UrlPadded(sha256);
}

/** The SHA-256 a digest field names, or null when it is none; like the stock client, hex or either base64 alphabet. */
export function digestBytes(field: string): Buffer | null {
  if (!field.startsWith(DIGEST_PREFIX)) return null;
  const value = field.slice(DIGEST_PREFIX.length);
  const bytes = /^[0-9a-f]{64}$|^[0-9A-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return bytes.length === 32 ? bytes : null;
}
