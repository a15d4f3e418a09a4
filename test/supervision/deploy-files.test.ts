import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { Ajv2019 } from "ajv/dist/2019.js";
import { parse } from "yaml";
import { ENV_SETTINGS } from "../../shared/config/env-settings.js";
import { findExecutable } from "../../shared/process/find-executable.js";

// What a platform team deploys: compose files, the Dockerfile, systemd units and NATS cluster
// configs. No Docker engine or systemd runs here, so each is checked the way those tools read it:
// the compose files against the Compose Specification's schema, every environment variable
// against the settings Brocapi knows, and every start command for being the service itself (the
// pid a supervisor signals must be node, not npm or a shell, or the service never drains).

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string): string => readFileSync(REPO + path, "utf8");
const KNOWN = new Set(ENV_SETTINGS.map((s) => s.env));
const COMPOSE_FILES = ["compose.yaml", "compose.cluster.yaml"];

/**
 * The vendored schema, made loadable by Ajv 2019: draft-04 `id` keywords (string values) and the
 * `$schema` URI (Ajv knows draft 2019-09 under its https name) removed.
 */
function composeSchema(): object {
  const dropIds = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(dropIds);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => !((k === "id" || k === "$schema") && typeof x === "string"))
        .map(([k, x]) => [k, dropIds(x)]),
    );
  };
  return dropIds(JSON.parse(read("test/fixtures/compose-spec/compose-spec.json"))) as object;
}

/** `${VAR:-default}` as compose would substitute it with the default. */
const interpolate = (s: string): string => s.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g, (_, d: string | undefined) => d ?? "");

function validator() {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // The schema's formats are compose-go's: Go durations, and its port/subnet notations.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("ports", { validate: (s: string) => /^(\d{1,3}(\.\d{1,3}){3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(interpolate(s)) });
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  return ajv.compile(composeSchema());
}

const composeFile = (name: string): { services: Record<string, { command?: unknown; environment?: Record<string, unknown>; stop_grace_period?: string; volumes?: string[] }> } =>
  parse(read(name), { merge: true });

test("both compose files are valid Compose Specification documents", () => {
  const validate = validator();
  for (const name of COMPOSE_FILES) {
    const ok = validate(parse(read(name), { merge: true }));
    assert.ok(ok, `${name}: ${JSON.stringify(validate.errors, null, 1)}`);
  }
  // The check can fail: a misspelt key and a bad duration are refused.
  assert.equal(validate({ services: { api: { image: "x", comand: ["node"] } } }), false);
  assert.equal(validate({ services: { api: { image: "x", stop_grace_period: "PT5S" } } }), false);
});

test("every environment variable the compose files, systemd env file and units set is a Brocapi setting", () => {
  for (const name of COMPOSE_FILES) {
    for (const [service, def] of Object.entries(composeFile(name).services)) {
      for (const key of Object.keys(def.environment ?? {})) assert.ok(KNOWN.has(key), `${name}: ${service} sets ${key}, which Brocapi does not read`);
    }
  }
  const envFile = read("deploy/systemd/brocapi.env")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"));
  assert.ok(envFile.length > 0);
  for (const line of envFile) {
    const key = line.split("=")[0]!;
    assert.ok(KNOWN.has(key), `deploy/systemd/brocapi.env sets ${key}, which Brocapi does not read`);
  }
  for (const unit of units()) {
    for (const m of read(`deploy/systemd/${unit}`).matchAll(/^Environment=(\w+)=/gm)) assert.ok(KNOWN.has(m[1]!), `${unit} sets ${m[1]}`);
  }
});

/**
 * `args` after `node`: Node's own options, then a service's entry point. The api and the worker
 * (and the all-in-one) stream capture bytes and get the old-space floor that keeps V8 out of
 * back-to-back full collections (docs/ARCHITECTURE.md); the shipper streams none.
 */
function nodeScript(what: string, args: string[]): void {
  const script = args.findIndex((a) => !a.startsWith("--"));
  assert.ok(script >= 0, `${what}: a script after node's options`);
  const m = /^dist\/services\/(api|worker|shipper)\/main\.js$/.exec(args[script]!);
  assert.ok(m, `${what}: ${args[script]} is a service's entry point`);
  if (m[1] !== "shipper") assert.ok(args.slice(0, script).includes("--initial-old-space-size=64"), `${what}: the ${m[1]} runs with the old-space floor`);
}

test("compose files and the Dockerfile start node itself (exec form), so `docker stop` signals the service", () => {
  for (const name of COMPOSE_FILES) {
    for (const [service, def] of Object.entries(composeFile(name).services)) {
      if (service.startsWith("nats")) continue; // the nats image's own entrypoint execs nats-server
      assert.ok(Array.isArray(def.command), `${name}: ${service}'s command is in exec form`);
      assert.equal((def.command as string[])[0], "node", `${name}: ${service} runs node itself`);
      nodeScript(`${name}: ${service}`, (def.command as string[]).slice(1));
      assert.ok(def.stop_grace_period, `${name}: ${service} gets time to drain`);
    }
  }
  const dockerfile = read("Dockerfile");
  const cmds = [...dockerfile.matchAll(/^(CMD|ENTRYPOINT)\s+(.*)$/gm)].map((m) => m[2]!);
  assert.ok(cmds.length >= 2);
  for (const cmd of cmds) {
    const argv = JSON.parse(cmd) as string[];
    assert.equal(argv[0], "node", `exec form, node first: ${cmd}`);
    nodeScript(`Dockerfile ${cmd}`, argv.slice(1));
  }
  for (const from of dockerfile.matchAll(/^FROM (\S+)/gm)) assert.match(from[1]!, /^(node:24-bookworm-slim|zeek\/zeek:lts)$/, "Node 24 images; the worker on Zeek's LTS image");
  assert.match(dockerfile, /COPY --from=node:24-bookworm-slim \/usr\/local\/bin\/node/);
});

function units(): string[] {
  return readdirSync(REPO + "deploy/systemd").filter((f) => f.endsWith(".service"));
}

test("systemd units: node is the main process, SIGTERM to it alone (its Zeek runs finish the drain), settings from the env file", () => {
  assert.deepEqual(units().sort(), ["brocapi-api.service", "brocapi-shipper@.service", "brocapi-worker.service"]);
  for (const unit of units()) {
    const text = read(`deploy/systemd/${unit}`);
    const exec = /^ExecStart=(\S+) (.*)$/m.exec(text);
    assert.ok(exec, `${unit} has ExecStart`);
    assert.equal(exec[1], "/usr/bin/node", `${unit} starts node directly`);
    nodeScript(unit, exec[2]!.split(/\s+/));
    assert.match(text, /^KillMode=mixed$/m, unit);
    assert.match(text, /^EnvironmentFile=\/etc\/brocapi\/brocapi\.env$/m, unit);
    assert.match(text, /^TimeoutStopSec=\d+$/m, unit);
  }
});

test("NATS cluster configs: nats-server accepts each node's file; three nodes route to each other; compose mounts them", { skip: findExecutable("nats-server", undefined, ["/usr/sbin/nats-server"]) ? false : "nats-server not installed" }, () => {
  const bin = findExecutable("nats-server", undefined, ["/usr/sbin/nats-server"])!;
  for (const i of [1, 2, 3]) {
    const out = execFileSync(bin, ["-t", "-c", `${REPO}deploy/nats/nats-${i}.conf`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.match(out + "", /valid|^$/);
    assert.match(read(`deploy/nats/nats-${i}.conf`), new RegExp(`^server_name: nats${i}$`, "m"));
  }
  const routes = [...read("deploy/nats/cluster.conf").matchAll(/nats-route:\/\/(\w+):6222/g)].map((m) => m[1]);
  assert.deepEqual(routes, ["nats1", "nats2", "nats3"]);
  const cluster = composeFile("compose.cluster.yaml").services;
  for (const i of [1, 2, 3]) {
    assert.deepEqual(cluster[`nats${i}`]!.command, ["-c", `/etc/nats/nats-${i}.conf`]);
    assert.ok(cluster[`nats${i}`]!.volumes!.includes("./deploy/nats:/etc/nats:ro"));
  }
  assert.equal(cluster.api!.environment!.BROCAPI_NATS_REPLICAS, "3");
  assert.equal(String(cluster.api!.environment!.NATS_URL).split(",").length, 3);
});
