import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSinks } from "../services/shipper/resolve-sinks.js";
import { planRouting } from "../services/shipper/routing.js";
import { loadConfig } from "../shared/config/load.js";
import { ConfigError } from "../shared/errors.js";
import { natsNames } from "../shared/nats/names.js";

const names = natsNames("brocapi");
const route = (logs: { include?: string[]; exclude?: string[] }, tags: { include?: string[]; exclude?: string[] } = {}, version = "2.9.10") =>
  planRouting({ logs: { exclude: [], ...logs }, tags: { exclude: [], ...tags } }, names, version);

test("routing: what the subject filter carries on 2.9 and 2.10, and what the runner checks", () => {
  assert.deepEqual(route({}).filterSubjects, ["brocapi.logs.>"]);
  assert.deepEqual(route({ include: ["dns"] }).filterSubjects, ["brocapi.logs.dns.*"]);
  // One filter per consumer on 2.9: two types are fetched together and sorted by the runner.
  assert.deepEqual(route({ include: ["conn", "dns"] }).filterSubjects, ["brocapi.logs.>"]);
  assert.deepEqual(route({ include: ["conn", "dns"] }, {}, "2.10.4").filterSubjects, ["brocapi.logs.conn.*", "brocapi.logs.dns.*"]);
  assert.deepEqual(route({ include: ["conn", "dns"], exclude: ["conn"] }).filterSubjects, ["brocapi.logs.dns.*"], "an exclude narrows the include list first");
  assert.deepEqual(route({ exclude: ["weird"] }).filterSubjects, ["brocapi.logs.>"], "subjects have no negation");

  const r = route({ include: ["conn", "dns"], exclude: ["dns"] }, { include: ["case-*", "site-?"], exclude: ["case-skip*"] });
  assert.ok(r.accepts({ logType: "conn", tag: "case-42" }));
  assert.ok(r.accepts({ logType: "conn", tag: "site-a" }));
  assert.ok(!r.accepts({ logType: "conn", tag: "site-ab" }), "? is one character");
  assert.ok(!r.accepts({ logType: "dns", tag: "case-42" }), "excluded log type");
  assert.ok(!r.accepts({ logType: "http", tag: "case-42" }), "not included");
  assert.ok(!r.accepts({ logType: "conn", tag: "case-skip-1" }), "excluded tag");
  assert.ok(!r.accepts({ logType: "conn", tag: null }), "no tag matches only *");
  assert.ok(route({}, { include: ["*"] }).accepts({ logType: "conn", tag: null }));
  assert.ok(route({}, { include: ["a.b"] }).accepts({ logType: "conn", tag: "a.b" }) && !route({}, { include: ["a.b"] }).accepts({ logType: "conn", tag: "axb" }), "glob text is literal");
  assert.match(r.summary, /server filters brocapi\.logs\.conn\.\*; runner skips all but not dns; tags case-\*, site-\?; not tags case-skip\*/);
});

test("named instances from a config file; options checked by the kind's schema with the setting's path", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-sinks-"));
  const file = join(dir, "brocapi.yaml");
  await writeFile(
    file,
    `syslog: { prefix: "zeek_%s" }
sinks:
  soc: { kind: syslog, options: { target: "tcp://siem:514" }, logs: { include: [conn.log, dns] }, tags: { include: ["case-*"] }, format: json, start: new }
  archive: { kind: directory }
  broken: { kind: syslog, options: { target: "siem", facility: 99 } }
  nokind: { kind: kafka }
  both: { kind: syslog, plugin: ./x.js }
`,
  );
  assert.throws(() => loadConfig({ BROCAPI_CONFIG: file }), /sinks\.both\): give either `kind`/);
  await writeFile(file, (await import("node:fs/promises").then((f) => f.readFile(file, "utf8"))).replace(/ {2}both:.*\n/, ""));
  const c = loadConfig({ BROCAPI_CONFIG: file, BROCAPI_LOG_DIR: "/srv/zeek" });
  const soc = c.sinks.find((s) => s.name === "soc")!;
  assert.deepEqual(soc.logs.include, ["conn", "dns"], "conn.log is conn");
  assert.equal(soc.options.prefix, "zeek_%s", "a syslog instance starts from the syslog section");
  assert.equal(soc.format, "json");
  assert.equal(soc.start, "new");
  assert.equal(c.sinks.find((s) => s.name === "archive")!.options.root, "/srv/zeek");
  await assert.rejects(resolveSinks(c.sinks), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, new RegExp(`${file} \\(sinks\\.broken\\.options\\.target\\): tcp://host:port`));
    assert.match(err.message, /sinks\.broken\.options\.facility\): Too big/i);
    assert.match(err.message, /sinks\.nokind\.kind\): unknown sink kind kafka; built in: directory, syslog/);
    return true;
  });
  const ok = await resolveSinks(c.sinks.filter((s) => s.name === "soc" || s.name === "archive"));
  assert.deepEqual(ok.map((r) => [r.instance.name, r.format]), [["soc", "json"], ["archive", "as-written"]]);
});

test("a plugin that cannot be loaded, or does not export a factory, stops start-up with the setting named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "brocapi-plugin-"));
  await writeFile(join(dir, "not-a-sink.mjs"), "export default { hello: 1 };\n");
  const file = join(dir, "brocapi.yaml");
  await writeFile(file, "sinks:\n  x: { plugin: ./missing.mjs }\n");
  await assert.rejects(resolveSinks(loadConfig({ BROCAPI_CONFIG: file }).sinks), /sinks\.x\.plugin\): cannot load sink plugin \.\/missing\.mjs/);
  await writeFile(file, "sinks:\n  x: { plugin: ./not-a-sink.mjs }\n");
  await assert.rejects(resolveSinks(loadConfig({ BROCAPI_CONFIG: file }).sinks), /sinks\.x\.plugin\): \.\/not-a-sink\.mjs does not export a sink factory/);
  await writeFile(file, "sinks:\n  x: { plugin: no-such-package-brocapi }\n");
  await assert.rejects(resolveSinks(loadConfig({ BROCAPI_CONFIG: file }).sinks), /cannot load sink plugin no-such-package-brocapi/);
});
