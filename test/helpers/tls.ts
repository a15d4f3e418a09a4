import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface TestCertificates {
  /** PEM of the CA that signed the server certificate: what a client is told to trust. */
  caFile: string;
  key: string;
  cert: string;
  cleanup(): Promise<void>;
}

/** A throw-away CA and a server certificate for 127.0.0.1/localhost, made with openssl for one test. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-tls-"));
  const f = (n: string): string => join(dir, n);
  await execa("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=brocapi test CA", "-keyout", f("ca.key"), "-out", f("ca.pem")]);
  await execa("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-keyout", f("server.key"), "-out", f("server.csr")]);
  await execa("bash", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${f("ext")}`]);
  await execa("openssl", ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", f("ext"), "-out", f("server.pem")]);
  return {
    caFile: f("ca.pem"),
    key: await readFile(f("server.key"), "utf8"),
    cert: await readFile(f("server.pem"), "utf8"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
