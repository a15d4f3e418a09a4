import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable } from "../../shared/process/find-executable.js";

/** One message as rsyslog parsed it. */
export interface Received {
  hostname: string;
  program: string;
  msg: string;
}

export interface TestRsyslog {
  port: number;
  /** The file rsyslog writes `HOSTNAME<TAB>program<TAB>msg` lines to. */
  outFile: string;
  /** Everything received so far, parsed by rsyslog itself. */
  received(): Promise<Received[]>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`rsyslog did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A real rsyslogd (Debian's package) in the foreground, listening on a free TCP and UDP port and
 * writing HOSTNAME, programname and msg of every message, tab-separated, to a file. Control
 * character escaping is off so Zeek's TSV arrives intact (see docs/SINKS.md).
 */
export async function startTestRsyslog(
  opts: {
    address?: string;
    launcher?: string[];
    /**
     * TCP over TLS only (RFC 5425, Debian's rsyslog-openssl): its certificate and key, the CA it
     * checks clients against, and whether clients must show a certificate of that CA.
     */
    tls?: { certFile: string; keyFile: string; caFile: string; clientCert: boolean };
  } = {},
): Promise<TestRsyslog> {
  const address = opts.address ?? "127.0.0.1";
  const bin = findExecutable("rsyslogd", undefined, ["/usr/sbin/rsyslogd"]);
  if (!bin) throw new Error("rsyslogd not found: apt-get install rsyslog");
  const dir = await mkdtemp(join(tmpdir(), "brocapi-rsyslog-"));
  const port = await freePort();
  const out = join(dir, "out.log");
  const conf = join(dir, "rsyslog.conf");
  const { tls } = opts;
  const inputs = tls
    ? `global(DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="${tls.caFile}" DefaultNetstreamDriverCertFile="${tls.certFile}" DefaultNetstreamDriverKeyFile="${tls.keyFile}")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="${tls.clientCert ? "x509/certvalid" : "anon"}")
input(type="imtcp" port="${port}" address="${address}" ruleset="r")`
    : `module(load="imtcp")
module(load="imudp")
input(type="imtcp" port="${port}" address="${address}" ruleset="r")
input(type="imudp" port="${port}" address="${address}" ruleset="r")`;
  await writeFile(
    conf,
    `global(workDirectory="${dir}" maxMessageSize="256k" parser.escapeControlCharactersOnReceive="off")
${inputs}
template(name="raw" type="string" string="%HOSTNAME%\\t%programname%\\t%msg:2:$%\\n")
ruleset(name="r") { action(type="omfile" file="${out}" template="raw") }
`,
  );
  let child: ReturnType<typeof spawn> | null = null;
  const self: TestRsyslog = {
    port,
    outFile: out,
    async start() {
      const [command, ...argv] = [...(opts.launcher ?? []), bin, "-n", "-f", conf, "-i", join(dir, "pid")];
      child = spawn(command!, argv, { stdio: ["ignore", "ignore", "pipe"] });
      child.stderr!.resume();
      await waitForTcp(address, port, 10_000);
    },
    async received() {
      const text = await readFile(out, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [hostname = "", program = "", ...rest] = line.split("\t");
          return { hostname, program, msg: rest.join("\t") };
        });
    },
    async stop() {
      const c = child;
      child = null;
      if (c && c.exitCode === null) {
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await exited;
      }
    },
    async cleanup() {
      await self.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}
