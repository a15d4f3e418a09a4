// Every kind of NATS credential, each read from a *_FILE setting, with TLS: user and password,
// a creds file (JWT and NKey seed), a token. Every service runs as a process at debug level, and
// neither their output nor the API's answers hold any secret. A wrong credential or an untrusted
// server certificate stops start-up at once with one clear message; a credential revoked while
// running shows in the log and on /healthz, and a restored one recovers without a restart.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createUser, type KeyPair } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { ServiceProcesses, type ServiceProcess } from "./helpers/processes.js";
import { eventually } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";

const PCAP = fileURLToPath(new URL("../../test/fixtures/zeek/traces/http-get.pcap", import.meta.url));

let pki: TestPki;
let dir: string;
/** Users and passwords, and an NKey user whose creds file the worker holds. */
let users: TestNats;
/** A token server: nats-server takes a token or users, not both. */
let tokenServer: TestNats;
let procs: ServiceProcesses;
let api: ServiceProcess;
let all: ServiceProcess;
const secret = (): string => randomBytes(18).toString("base64url");
const passwords = { api: secret(), shipper: secret() };
const token = secret();
let worker: KeyPair;
let credsSeed: string;
let credsJwt: string;
let usersConf: string;

const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url");

/** A creds file as `nsc` writes it: a user JWT (signed by the user key here: the server, not in operator mode, checks the NKey) and the seed. */
function credsFile(kp: KeyPair): string {
  const claims = { jti: secret(), iat: Math.floor(Date.now() / 1000), iss: kp.getPublicKey(), sub: kp.getPublicKey(), name: "worker", nats: { type: "user", version: 2 } };
  const unsigned = `${b64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }))}.${b64url(JSON.stringify(claims))}`;
  credsJwt = `${unsigned}.${b64url(kp.sign(new TextEncoder().encode(unsigned)))}`;
  credsSeed = new TextDecoder().decode(kp.getSeed());
  return `-----BEGIN NATS USER JWT-----\n${credsJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${credsSeed}\n------END USER NKEY SEED------\n`;
}

function usersConfig(withApi: boolean): string {
  const api = withApi ? `\n  { user: api, password: "${passwords.api}" }` : "";
  return `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", timeout: 2 }
authorization { users = [${api}
  { user: shipper, password: "${passwords.shipper}" }
  { nkey: ${worker.getPublicKey()} }
] }
`;
}

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

before(async () => {
  [pki, dir] = await Promise.all([createTestPki(), mkdtemp(join(tmpdir(), "brocapi-creds-"))]);
  worker = createUser();
  usersConf = await file("users.conf", usersConfig(true));
  const tokenConf = await file("token.conf", `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", timeout: 2 }\nauthorization { token: "${token}" }\n`);
  users = await startTestNats(join(dir, "store-users"), undefined, { configFile: usersConf });
  tokenServer = await startTestNats(join(dir, "store-token"), undefined, { configFile: tokenConf });
  const tls = { BROCAPI_NATS_TLS_CA_FILE: pki.caFile, NATS_URL: `tls://localhost:${users.port}` };
  procs = new ServiceProcesses({ BROCAPI_DATA_DIR: join(dir, "data"), BROCAPI_LOG_LEVEL: "debug", ...tls });
  api = await procs.start("api", { env: { BROCAPI_NATS_USER: "api", BROCAPI_NATS_PASSWORD_FILE: await file("api.pw", `${passwords.api}\n`) } });
  [, , all] = await Promise.all([
    procs.start("worker", { env: { BROCAPI_NATS_CREDS_FILE: await file("worker.creds", credsFile(worker)) } }),
    procs.start("shipper", { env: { BROCAPI_NATS_USER: "shipper", BROCAPI_NATS_PASSWORD_FILE: await file("shipper.pw", passwords.shipper) } }),
    procs.start("all", { env: { NATS_URL: `tls://127.0.0.1:${tokenServer.port}`, BROCAPI_NATS_TOKEN_FILE: await file("nats.token", token), BROCAPI_NATS_PREFIX: "alone" } }),
  ]);
});

after(async () => {
  await procs?.stopAll();
  await Promise.all([users?.cleanup(), tokenServer?.cleanup()]);
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function jobDone(url: string): Promise<string> {
  const res = await submit(url, [PCAP], "creds");
  assert.equal(res.httpStatus, 200, res.body.status);
  let text = "";
  await eventually(
    async () => {
      text = await (await fetch(`${url}/jobs/${res.body.job_id}`)).text();
      return (JSON.parse(text) as { state: string }).state === "done";
    },
    30_000,
    `job done\n${procs.report()}`,
  );
  return text;
}

test("password, creds file and token (with TLS): jobs run end to end, and no secret is in any output or answer", { timeout: 60_000 }, async () => {
  const answers = await Promise.all([jobDone(api.url), jobDone(all.url)]);
  answers.push(await (await fetch(`${api.url}/jobs`)).text());
  const output = procs.report();
  assert.ok(output.includes('"event":"nats.connected"'));
  for (const s of [passwords.api, passwords.shipper, token, credsSeed, credsJwt.split(".")[2]!]) {
    assert.ok(!output.includes(s), `a secret (${s.slice(0, 4)}…) in the services' output`);
    for (const a of answers) assert.ok(!a.includes(s), "a secret in an API answer");
  }
});

test("a credential revoked while running: logged, /healthz 503 saying so; restored: healthy again without a restart", { timeout: 30_000 }, async () => {
  await writeFile(usersConf, usersConfig(false));
  users.reload();
  let health: { nats?: string } = {};
  await eventually(
    async () => {
      const res = await fetch(`${api.url}/healthz`);
      health = (await res.json()) as { nats?: string };
      return res.status === 503 && health.nats?.startsWith("credentials refused") === true;
    },
    15_000,
    "/healthz to report the refused credential",
  );
  assert.match(health.nats!, /credentials refused: Authorization Violation/);
  // The log line may reach the api's stdout pipe after /healthz has answered (twice so at load ~10).
  const logged = (line: RegExp, what: string) => eventually(async () => line.test(api.output()), 10_000, what);
  await logged(/"event":"nats\.auth_failed".*NATS refuses this service's credentials now/, "the api's log line for the refused credential");
  await writeFile(usersConf, usersConfig(true));
  users.reload();
  await eventually(async () => (await fetch(`${api.url}/healthz`)).status === 200, 15_000, "/healthz 200 again");
  await logged(/"event":"nats\.auth_restored"/, "the api's log line for the restored credential");
});

/** Starts an api that must fail; returns its output. */
async function failedStart(env: Record<string, string>): Promise<string> {
  const err = (await procs.start("api", { name: "doomed-api", env, readyTimeoutMs: 15_000 }).then(
    () => assert.fail("the api started"),
    (e: Error) => e,
  )) as Error;
  assert.match(err.message, /exited before it was ready/, "it exited: no silent reconnect loop");
  // At once: on the first refusal, not after a try again (each is logged), however slowly a loaded machine starts it.
  assert.doesNotMatch(err.message, /"event":"nats\.unreachable"/, "no second try");
  return err.message;
}

test("a wrong password or an untrusted server certificate stops start-up with one clear message", { timeout: 30_000 }, async () => {
  const wrong = secret();
  const refused = await failedStart({ BROCAPI_NATS_USER: "api", BROCAPI_NATS_PASSWORD_FILE: await file("wrong.pw", wrong) });
  assert.match(refused, /api: NATS at tls:\/\/localhost:\d+ refused this service's credentials \(Authorization Violation\): check BROCAPI_NATS_USER/);
  assert.ok(!refused.includes(wrong), "not even a wrong password is printed");
  const untrusted = await failedStart({ BROCAPI_NATS_USER: "api", BROCAPI_NATS_PASSWORD_FILE: join(dir, "api.pw"), BROCAPI_NATS_TLS_CA_FILE: pki.otherCaFile });
  assert.match(untrusted, /api: the certificate of NATS at tls:\/\/localhost:\d+ is not trusted \(.*certificate.*\): set BROCAPI_NATS_TLS_CA_FILE/);
  const unreadable = await failedStart({ BROCAPI_NATS_TOKEN_FILE: join(dir, "no-such-file") });
  assert.match(unreadable, /BROCAPI_NATS_TOKEN_FILE \(nats\.tokenFile\): cannot read .*no-such-file: ENOENT/);
});

test("the all-in-one's embedded nats-server takes no connection without its generated token, kept 0600 beside a 0700 store", { timeout: 30_000 }, async () => {
  const dataDir = join(dir, "embedded");
  const embedded = await procs.start("all", { name: "embedded", env: { NATS_URL: "", BROCAPI_NATS_TLS_CA_FILE: "", BROCAPI_DATA_DIR: dataDir } });
  const url = /"event":"nats\.embedded_started".*?"url":"(nats:\/\/127\.0\.0\.1:\d+)"/.exec(embedded.output())?.[1];
  assert.ok(url, embedded.output());
  await assert.rejects(connect({ servers: url, maxReconnectAttempts: 0 }), /Authorization Violation/);
  const conf = join(dataDir, "nats", "embedded-auth.conf");
  assert.equal((await stat(conf)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dataDir, "nats"))).mode & 0o777, 0o700);
  const generated = /token: "([^"]+)"/.exec(await readFile(conf, "utf8"))![1]!;
  assert.ok(generated.length >= 40);
  assert.ok(!embedded.output().includes(generated), "the token is not logged");
  assert.equal((await fetch(`${embedded.url}/healthz`)).status, 200, "its own services use it");
  const nc = await connect({ servers: url, token: generated });
  await nc.close();
});
