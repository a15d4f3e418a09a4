// API tokens over real HTTP: roles, tag scopes, 401/403 in the seed's shape, revocation by
// editing the tokens file, the OpenAPI security declarations; HTTPS verified by the CLI with
// --ca and a token file; `brocapi token create` producing a token the api accepts.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../shared/config/load.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startTestNats, type TestNats } from "./helpers/nats.js";
import { startStack, type Stack } from "./helpers/stack.js";
import { submit } from "./helpers/submit.js";
import { writeTokensFile } from "./helpers/tokens.js";

const PCAP = fileURLToPath(new URL("../../test/fixtures/zeek/traces/http-get.pcap", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/brocapi", import.meta.url));

let nats: TestNats;
let pki: TestPki;
let dir: string;
let stack: Stack;
let https: Stack;
let tokensPath: string;
let tokens: Record<string, string>;

before(async () => {
  [nats, pki, dir] = await Promise.all([startTestNats(), createTestPki(), mkdtemp(join(tmpdir(), "brocapi-auth-"))]);
  ({ path: tokensPath, tokens } = await writeTokensFile(dir, [
    { name: "submitter", roles: ["submit"] },
    { name: "reader", roles: ["read"] },
    { name: "admin", roles: ["admin"] },
    { name: "case-submitter", roles: ["submit"], tags: ["case-*"] },
    { name: "case-reader", roles: ["read"], tags: ["case-*", "exact"] },
    { name: "revoked", roles: ["admin"] },
  ]));
  [stack, https] = await Promise.all([
    startStack({ natsUrl: nats.url, env: { BROCAPI_AUTH_TOKENS_FILE: tokensPath } }),
    startStack({
      natsUrl: nats.url,
      services: ["api"],
      env: { BROCAPI_AUTH_TOKENS_FILE: tokensPath, BROCAPI_TLS_CERT_FILE: pki.serverCert, BROCAPI_TLS_KEY_FILE: pki.serverKey },
    }),
  ]);
});

after(async () => {
  await https?.stop();
  await stack?.stop();
  await nats?.cleanup();
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const bearer = (name: string): Record<string, string> => ({ authorization: `Bearer ${tokens[name]}` });

async function call(path: string, token: string | null, method = "GET"): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${stack.url}${path}`, { method, headers: token ? bearer(token) : {} });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Logs and captures are not JSON.
  }
  return { status: res.status, body, headers: res.headers };
}

/** The API's error shape with a stable code. */
function assertRefusal(res: { status: number; body: Record<string, unknown>; headers: Headers }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.status, "string");
  assert.ok("job_id" in res.body);
  if (status === 401) assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="brocapi"/);
}

async function submitAs(name: string, tag: string): Promise<string> {
  const res = await submit(stack.url, [PCAP], tag, "file[]", bearer(name));
  assert.equal(res.httpStatus, 200, res.body.status);
  return res.body.job_id;
}

test("config: no tokens means loopback; another address without tokens refuses to start naming BROCAPI_AUTH_TOKENS_FILE", () => {
  assert.equal(loadConfig({}).http.host, "127.0.0.1");
  assert.equal(loadConfig({ BROCAPI_AUTH_TOKENS_FILE: tokensPath }).http.host, "0.0.0.0");
  assert.throws(() => loadConfig({ BROCAPI_HTTP_HOST: "0.0.0.0" }), /BROCAPI_HTTP_HOST.*BROCAPI_AUTH_TOKENS_FILE.*BROCAPI_AUTH=none/s);
  assert.throws(() => loadConfig({ BROCAPI_HTTP_HOST: "10.1.2.3" }), /BROCAPI_AUTH_TOKENS_FILE/);
  assert.equal(loadConfig({ BROCAPI_HTTP_HOST: "0.0.0.0", BROCAPI_AUTH: "none" }).http.host, "0.0.0.0");
  assert.equal(loadConfig({ BROCAPI_HTTP_HOST: "::1" }).http.host, "::1");
  assert.throws(() => loadConfig({ BROCAPI_AUTH: "tokens" }), /BROCAPI_AUTH_TOKENS_FILE/);
  assert.throws(() => loadConfig({ BROCAPI_METRICS_AUTH: "token" }), /BROCAPI_AUTH_TOKENS_FILE/);
});

test("no token, another scheme, an unknown token: 401 with WWW-Authenticate: Bearer; /healthz, /metrics and the docs stay open", async () => {
  assertRefusal(await call("/jobs", null), 401, "BROCAPI_AUTH_MISSING");
  const basic = await fetch(`${stack.url}/jobs`, { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } });
  assertRefusal({ status: basic.status, body: (await basic.json()) as Record<string, unknown>, headers: basic.headers }, 401, "BROCAPI_AUTH_MISSING");
  const unknown = await fetch(`${stack.url}/jobs`, { headers: { authorization: "Bearer t_not-a-token-anyone-was-given" } });
  assertRefusal({ status: unknown.status, body: (await unknown.json()) as Record<string, unknown>, headers: unknown.headers }, 401, "BROCAPI_AUTH_INVALID");
  assert.match(unknown.headers.get("www-authenticate")!, /error="invalid_token"/);
  const post = await submit(stack.url, [PCAP], "x");
  assert.equal(post.httpStatus, 401);
  assert.deepEqual(Object.keys(post.body).sort(), ["code", "files", "job_id", "status", "success", "tag"], "the seed's shape for submissions");
  assert.equal((await call("/healthz", null)).status, 200);
  assert.equal((await call("/metrics", null)).status, 200);
  assert.equal((await call("/openapi.json", null)).status, 200);
  assert.equal((await fetch(`${stack.url}/jobs`, { method: "HEAD" })).status, 401, "HEAD is a GET");
});

test("roles: submit uploads and follows, read reads, only admin deletes; 403 names the role", async () => {
  const id = await submitAs("submitter", "plain");
  await stack.waitForJob(id);
  assert.equal((await call(`/jobs/${id}`, "submitter")).status, 200);
  assert.equal((await call("/jobs", "submitter")).status, 200);
  assertRefusal(await call(`/jobs/${id}/logs/conn`, "submitter"), 403, "BROCAPI_AUTH_FORBIDDEN");
  assertRefusal(await call(`/jobs/${id}/pcaps/0`, "submitter"), 403, "BROCAPI_AUTH_FORBIDDEN");
  assertRefusal(await call(`/jobs/${id}`, "submitter", "DELETE"), 403, "BROCAPI_AUTH_FORBIDDEN");

  const asReader = await submit(stack.url, [PCAP], "plain", "file[]", bearer("reader"));
  assert.equal(asReader.httpStatus, 403);
  assert.equal(asReader.body.code, "BROCAPI_AUTH_FORBIDDEN");
  assert.match(asReader.body.status, /reader.*submit/);
  const logs = await call(`/jobs/${id}/logs/conn`, "reader");
  assert.equal(logs.status, 200);
  assert.equal((await call(`/jobs/${id}/pcaps/0`, "reader")).status, 200);
  assertRefusal(await call(`/jobs/${id}`, "reader", "DELETE"), 403, "BROCAPI_AUTH_FORBIDDEN");

  assert.equal((await call(`/jobs/${id}`, "admin", "DELETE")).status, 200);
  assert.equal((await call(`/jobs/${id}`, "admin")).status, 404);
});

test("tag scope: another tag is 403 and stores nothing, lists show only matching jobs, a job outside is 404 like an unknown id", async () => {
  const inside = await submitAs("case-submitter", "case-7");
  const outside = await submitAs("submitter", "other");
  const refused = await submit(stack.url, [PCAP], "other", "file[]", bearer("case-submitter"));
  assert.equal(refused.httpStatus, 403);
  assert.equal(refused.body.code, "BROCAPI_AUTH_OUT_OF_SCOPE");
  assert.equal((await call(`/jobs/${refused.body.job_id}`, "admin")).status, 404, "no record of the refused job");
  assert.ok((await stack.ctx.topology.pcaps.info(`${refused.body.job_id}/0`))?.deleted ?? true, "no capture of it");
  const untagged = await submit(stack.url, [PCAP], undefined, "file[]", bearer("case-submitter"));
  assert.equal(untagged.httpStatus, 403);
  // The tag before the file (as the web page sends it): refused before the file is stored.
  const form = new FormData();
  form.append("tag", "other");
  form.append("file[]", new Blob([await readFile(PCAP)]), "first.pcap");
  const early = await fetch(`${stack.url}/submit/pcap`, { method: "POST", body: form, headers: bearer("case-submitter") });
  const earlyBody = (await early.json()) as { code: string; files: string[] };
  assert.deepEqual([early.status, earlyBody.code, earlyBody.files], [403, "BROCAPI_AUTH_OUT_OF_SCOPE", []]);
  assert.deepEqual(refused.body.files, ["http-get.pcap"], "a tag after the file: read, then deleted");

  const listed = (await call("/jobs?limit=500", "case-reader")).body.jobs as { id: string; tag: string }[];
  assert.ok(listed.some((j) => j.id === inside));
  assert.ok(listed.every((j) => j.tag.startsWith("case-") || j.tag === "exact"), JSON.stringify(listed));
  assert.ok(!listed.some((j) => j.id === outside));

  const unknownId = "01937c3e-0000-7000-8000-000000000000";
  const [hidden, unknown] = await Promise.all([call(`/jobs/${outside}`, "case-reader"), call(`/jobs/${unknownId}`, "case-reader")]);
  assertRefusal(hidden, 404, "BROCAPI_JOB_NOT_FOUND");
  assert.equal(hidden.body.status, (unknown.body.status as string).replace(unknownId, outside), "the same answer as an unknown id");
  for (const path of ["/pcaps/0", "/logs", "/logs/conn", "/logs.tar.gz", "/events"]) assert.equal((await call(`/jobs/${outside}${path}`, "case-reader")).status, 404, path);
  assert.equal((await call(`/jobs/${inside}`, "case-reader")).status, 200);
  assert.equal((await call(`/jobs/${outside}`, "reader")).status, 200, "an unscoped token sees it");
});

test("a token removed from the file is refused within seconds, without a restart", async () => {
  assert.equal((await call("/jobs", "revoked")).status, 200);
  const file = JSON.parse(await readFile(tokensPath, "utf8")) as { tokens: { name: string }[] };
  await writeFile(tokensPath, JSON.stringify({ tokens: file.tokens.filter((t) => t.name !== "revoked") }));
  const deadline = Date.now() + 10_000;
  let res = await call("/jobs", "revoked");
  while (res.status === 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    res = await call("/jobs", "revoked");
  }
  assertRefusal(res, 401, "BROCAPI_AUTH_INVALID");
  assert.equal((await call("/jobs", "admin")).status, 200, "the others still work");
});

test("/openapi.json declares the bearer scheme on every route but /healthz", async () => {
  const doc = (await call("/openapi.json", null)).body as { paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, { scheme: string }> } };
  assert.equal(doc.components.securitySchemes.bearer!.scheme, "bearer");
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (path === "/healthz") assert.deepEqual(op.security, [], path);
      else {
        assert.deepEqual(op.security, [{ bearer: [] }], `${method} ${path}`);
        assert.ok(op.responses["401"] && op.responses["403"], `${method} ${path} documents 401 and 403`);
      }
    }
  }
});

/** `node bin/brocapi …` with a clean environment. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, stdout, stderr };
}

test("HTTPS: the CLI verifies the api against --ca or BROCAPI_CA_FILE, sends BROCAPI_TOKEN_FILE; a new token from `brocapi token create` works once listed", async () => {
  assert.match(https.url, /^https:\/\//);
  const created = await cli(["token", "create", "--name", "cli-test", "--roles", "submit,read", "--tags", "cli-*"]);
  assert.equal(created.code, 0, created.stderr);
  const [, token = "", , ...entryLines] = created.stdout.split("\n");
  const entry = (parseYaml(entryLines.join("\n")) as { name: string; sha256: string; roles: string[]; tags: string[] }[])[0]!;
  assert.deepEqual({ ...entry, sha256: entry.sha256.length }, { name: "cli-test", sha256: 64, roles: ["submit", "read"], tags: ["cli-*"] });
  assert.ok(!created.stdout.includes(`sha256: ${token}`));
  const file = JSON.parse(await readFile(tokensPath, "utf8")) as { tokens: unknown[] };
  await writeFile(tokensPath, JSON.stringify({ tokens: [...file.tokens, entry] }));
  const tokenFile = join(dir, "cli-token");
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  await new Promise((r) => setTimeout(r, 1_100)); // the api looks at the file at most once a second

  const env = { BROCAPI_URL: https.url, BROCAPI_TOKEN_FILE: tokenFile };
  const sub = await cli(["submit", PCAP, "--tag", "cli-1", "--ca", pki.caFile], env);
  assert.equal(sub.code, 0, sub.stderr);
  const jobs = await cli(["jobs"], { ...env, BROCAPI_CA_FILE: pki.caFile });
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.ok(jobs.stdout.includes(sub.stdout.trim()));

  const untrusted = await cli(["jobs"], env);
  assert.equal(untrusted.code, 3);
  assert.match(untrusted.stderr, /cannot reach https:.*certificate.*--ca or BROCAPI_CA_FILE/);
  const otherCa = await cli(["jobs", "--ca", pki.otherCaFile], env);
  assert.equal(otherCa.code, 3);
  const outOfScope = await cli(["submit", PCAP, "--tag", "case-1", "--ca", pki.caFile], env);
  assert.equal(outOfScope.code, 3);
  assert.match(outOfScope.stderr, /server answered 403: .*may not submit jobs tagged "case-1"/);
  const noToken = await cli(["jobs", "--ca", pki.caFile], { BROCAPI_URL: https.url });
  assert.match(noToken.stderr, /server answered 401: this request needs an API token/);
});
