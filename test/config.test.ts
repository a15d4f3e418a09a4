import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../shared/config/load.js";
import { ConfigError } from "../shared/errors.js";

test("defaults: tsv, local, port 8080, directory sink only, logs under the data dir", () => {
  const c = loadConfig({ BROCAPI_DATA_DIR: "/srv/brocapi" });
  assert.equal(c.http.port, 8080);
  assert.deepEqual(c.zeek.scripts, ["local"]);
  assert.equal(c.zeek.format, "tsv");
  assert.deepEqual(c.sinks.map((s) => s.name), ["directory"]);
  assert.equal(c.directory.root, "/srv/brocapi/logs");
  assert.equal(c.syslog.prefix, "bro_%s");
  assert.deepEqual(c.logs.blacklist, ["telemetry"]);
  assert.deepEqual(loadConfig({ BROCAPI_LOG_BLACKLIST: "none" }).logs.blacklist, []);
  assert.equal(c.nats.url, undefined);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.zeek));
});

test("environment variables override, and a syslog target adds the syslog sink", () => {
  const c = loadConfig({
    NATS_URL: "nats://10.0.0.1:4222",
    BROCAPI_HTTP_PORT: "9000",
    BROCAPI_ZEEK_SCRIPTS: "local  policy/misc/stats,extra",
    BROCAPI_LOG_FORMAT: "json",
    BROCAPI_SYSLOG_TARGET: "tcp://siem.example:514",
    BROCAPI_LOG_BLACKLIST: "weird.log, dns",
    BROCAPI_LOG_DIR: "/var/log/zeek-out",
  });
  assert.equal(c.nats.url, "nats://10.0.0.1:4222");
  assert.equal(c.http.port, 9000);
  assert.deepEqual(c.zeek.scripts, ["local", "policy/misc/stats", "extra"]);
  assert.equal(c.zeek.format, "json");
  assert.deepEqual(c.sinks.map((s) => s.name), ["directory", "syslog"]);
  assert.equal(c.sinks[1]!.options.target, "tcp://siem.example:514", "the syslog shorthand takes BROCAPI_SYSLOG_TARGET");
  assert.equal(c.sinks[0]!.options.root, "/var/log/zeek-out", "the directory shorthand takes BROCAPI_LOG_DIR");
  assert.deepEqual(c.logs.blacklist, ["weird.log", "dns"]);
  assert.equal(c.directory.root, "/var/log/zeek-out");
});

test("a bad value stops start-up naming the variable and what is allowed", () => {
  assert.throws(() => loadConfig({ BROCAPI_HTTP_PORT: "http" }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /BROCAPI_HTTP_PORT \(http\.port\)/);
    return true;
  });
  assert.throws(() => loadConfig({ BROCAPI_LOG_FORMAT: "xml" }), /BROCAPI_LOG_FORMAT \(zeek\.format\).*"tsv"\|"json"|BROCAPI_LOG_FORMAT \(zeek\.format\).*tsv.*json/s);
  assert.throws(() => loadConfig({ BROCAPI_SYSLOG_TARGET: "siem:514" }), /BROCAPI_SYSLOG_TARGET \(syslog\.target\).*tcp:\/\/host:port/);
  assert.throws(() => loadConfig({ BROCAPI_SINKS: "syslog" }), /needs BROCAPI_SYSLOG_TARGET/);
});

test("the seed's INI brocapi.conf is read: bro_bin, processing_dir, log_blacklist, syslog", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-conf-"));
  const path = join(dir, "brocapi.conf");
  await writeFile(
    path,
    `[main]
# debug logging
debug = on
worker_log = /var/log/brocapi/brocapi_worker.log

[bro]
bro_bin = /opt/bro/bin/bro
processing_dir = /opt/brocapi/jobs/
log_blacklist = ["loaded_scripts.log", "packet_filter.log", "reporter.log"]

[syslog]
syslog_host = 127.0.0.1
syslog_port = 514
syslog_proto = tcp
syslog_prefix = bro25_%s
`,
  );
  const c = loadConfig({ BROCAPI_CONFIG: path });
  assert.equal(c.logLevel, "debug");
  assert.equal(c.zeek.bin, "/opt/bro/bin/bro");
  assert.equal(c.dataDir, "/opt/brocapi/jobs");
  assert.deepEqual(c.logs.blacklist, ["loaded_scripts.log", "packet_filter.log", "reporter.log"]);
  assert.equal(c.syslog.target, "tcp://127.0.0.1:514");
  assert.equal(c.syslog.prefix, "bro25_%s");
  // The environment still wins over the file.
  assert.equal(loadConfig({ BROCAPI_CONFIG: path, BROCAPI_SYSLOG_PREFIX: "zeek_%s" }).syslog.prefix, "zeek_%s");
});

test("YAML and JSON config files, with errors naming the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-conf-"));
  const yaml = join(dir, "brocapi.yaml");
  await writeFile(yaml, "zeek:\n  format: json\nworker:\n  batchLines: 1\n");
  const c = loadConfig({ BROCAPI_CONFIG: yaml });
  assert.equal(c.zeek.format, "json");
  assert.equal(c.worker.batchLines, 1);
  const json = join(dir, "brocapi.json");
  await writeFile(json, JSON.stringify({ worker: { concurrency: 0 } }));
  assert.throws(() => loadConfig({ BROCAPI_CONFIG: json }), new RegExp(`${json} \\(worker\\.concurrency\\)`));
  assert.throws(() => loadConfig({ BROCAPI_CONFIG: join(dir, "missing.yaml") }), /cannot read/);
});

test("docs/CONFIGURATION.md is generated from the schema and up to date", async () => {
  const { configurationMarkdown, describeSettings } = await import("../shared/config/describe.js");
  const { readFile } = await import("node:fs/promises");
  const onDisk = await readFile(new URL("../../docs/CONFIGURATION.md", import.meta.url), "utf8");
  assert.ok(onDisk === configurationMarkdown(), "docs/CONFIGURATION.md is stale: run `npm run docs:config`");
  for (const s of describeSettings()) {
    assert.ok(s.description.length > 20, `${s.path} is documented`);
    assert.ok(s.env, `${s.path} has an environment variable`);
  }
});
