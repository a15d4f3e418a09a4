// The Zeek double as a server, for tests that run Zeek thousands of times: a Node process per
// run costs ~100 ms of CPU here, a bash client ~3 ms. The client (written by startZeekDoubleServer)
// is what ZEEK_BIN names: it sends its arguments and working directory over a loopback socket
// (bash's /dev/tcp, no other process), the server runs the same invocation as `main.ts` in its
// own process, and the client prints the run's stdout and stderr and exits with its code. What
// the product sees is Zeek's command-line contract: arguments, log files in the working
// directory, stderr, exit code.

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invokeZeek } from "./invoke.js";

export interface ZeekDoubleServer {
  /** The client executable: use it as ZEEK_BIN. */
  bin: string;
  /** Runs answered so far. */
  readonly runs: number;
  stop(): Promise<void>;
}

/** Request: argc, cwd, then the arguments, each NUL-terminated. Reply: exit code, stdout, stderr, each NUL-terminated. */
const client = (port: number): string => `#!/usr/bin/env bash
# Zeek test double client (test/zeek-double/server.ts): Zeek's command line, answered by a server.
exec 3<>/dev/tcp/127.0.0.1/${port} || exit 70
printf '%s\\0' "$#" "$PWD" "$@" >&3
IFS= read -r -d '' code <&3 || exit 70
IFS= read -r -d '' out <&3
IFS= read -r -d '' err <&3
printf '%s' "$out"
printf '%s' "$err" >&2
exit "$code"
`;

function fields(buffer: Buffer): string[] | null {
  const parts = buffer.toString("utf8").split("\0");
  const argc = Number(parts[0]);
  // argc, cwd and argc arguments, each followed by a NUL (so one empty part after the last).
  return parts.length >= argc + 3 ? parts.slice(1, argc + 2) : null;
}

export async function startZeekDoubleServer(env: NodeJS.ProcessEnv = process.env): Promise<ZeekDoubleServer> {
  let runs = 0;
  const serve = (socket: Socket): void => {
    let buffer = Buffer.alloc(0);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const request = fields(buffer);
      if (!request) return;
      socket.removeAllListeners("data");
      const [cwd, ...argv] = request as [string, ...string[]];
      let out = "";
      let err = "";
      runs++;
      void invokeZeek(argv, { cwd, env, stdout: (t) => (out += t), stderr: (t) => (err += t) })
        .catch((e: unknown) => {
          err += `${(e as Error).stack ?? String(e)}\n`;
          return 70;
        })
        .then((code) => socket.end(`${code}\0${out}\0${err}\0`));
    });
  };
  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = await mkdtemp(join(tmpdir(), "zeek-double-"));
  const bin = join(dir, "zeek");
  await writeFile(bin, client((server.address() as AddressInfo).port));
  await chmod(bin, 0o755);
  return {
    bin,
    get runs() {
      return runs;
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
