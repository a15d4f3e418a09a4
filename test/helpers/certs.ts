import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  /** PEM of the CA every certificate here is signed by. */
  caFile: string;
  /** A server certificate for `localhost` and 127.0.0.1, and its key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate (for mutual TLS), and its key. */
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed nothing here: a client trusting only it must refuse the server. */
  otherCaFile: string;
  cleanup(): Promise<void>;
}

async function ca(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-keyout", key, "-out", cert]);
  return { cert, key };
}

async function signed(dir: string, name: string, issuer: { cert: string; key: string }, extensions: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-keyout", key, "-out", csr]);
  // A random serial of its own: -CAcreateserial shares one serial file, which two certificates
  // signed at once (server and client, below) read while the other writes it.
  const serial = `0x${randomBytes(8).toString("hex")}`;
  await run("openssl", ["x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key, "-set_serial", serial, "-days", "2", "-extfile", ext, "-out", cert]);
  return { cert, key };
}

/** A throw-away CA with a server and a client certificate, made with openssl in a temp dir (nothing committed). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-pki-"));
  const [root, other] = await Promise.all([ca(dir, "test-ca"), ca(dir, "other-ca")]);
  const [server, client] = await Promise.all([
    signed(dir, "server", root, "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
    signed(dir, "client", root, "extendedKeyUsage=clientAuth\n"),
  ]);
  return {
    dir,
    caFile: root.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCaFile: other.cert,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
