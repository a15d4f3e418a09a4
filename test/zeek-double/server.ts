// The Zeek double as a server, for tests that run Zeek thousands of times: a Node process per
// run costs ~100 ms of CPU here, a bash client ~3 ms. The client (written by startZeekDoubleServer)
// is what ZEEK_BIN names: it sends its arguments and working directory over a loopback socket
// (bash's /dev/tcp), and for `-r -` its stdin over a second one (`cat`, the one other process;
// closing that socket is the end of the input); the server runs the same invocation as
// `main.ts` in its own process, and the client prints the run's stdout and stderr and exits
// with its code. What the product sees is Zeek's command-line contract: arguments, the capture
// read from stdin (a reader that stops early closes it), log files in the working directory,
// stderr, exit code.

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { findExecutable } from "../../shared/process/find-executable.js";
import { invokeZeek } from "./invoke.js";

export interface ZeekDoubleServer {
  /** The client executable: use it as ZEEK_BIN. */
  bin: string;
  /** Runs answered so far. */
  readonly runs: number;
  stop(): Promise<void>;
}

/**
 * Run request: `run`, the stdin token (empty when the client sends no stdin), argc, cwd, then
 * the arguments, each NUL-terminated. Stdin connection: `stdin`, the token, each NUL-terminated,
 * then the bytes until the client closes it. Reply: exit code, stdout, stderr, each NUL-terminated.
 */
const client = (port: number, bash: string): string => `#!${bash}
# Zeek test double client (test/zeek-double/server.ts): Zeek's command line, answered by a server.
token=; prev=
for arg in "$@"; do [[ $prev == -r && $arg == - ]] && token="$$.$RANDOM.$RANDOM"; prev=$arg; done
exec 3<>/dev/tcp/127.0.0.1/${port} || exit 70
{ printf 'run\\0'; printf '%s\\0' "$token" "$#" "$PWD" "$@"; } >&3
if [[ -n $token ]]; then
  exec 4<>/dev/tcp/127.0.0.1/${port} || exit 70
  { printf 'stdin\\0%s\\0' "$token"; cat; } >&4 2>/dev/null
  exec 4>&-
fi
IFS= read -r -d '' code <&3 || exit 70
IFS= read -r -d '' out <&3
IFS= read -r -d '' err <&3
printf '%s' "$out"
printf '%s' "$err" >&2
exit "$code"
`;

type Request = { kind: "run"; token: string; cwd: string; argv: string[] } | { kind: "stdin"; token: string; rest: Buffer };

/** A whole request at the start of `buffer`, or null while it is incomplete. */
function parse(buffer: Buffer): Request | null {
  const fields: string[] = [];
  let at = 0;
  const field = (): boolean => {
    const end = buffer.indexOf(0, at);
    if (end < 0) return false;
    fields.push(buffer.toString("utf8", at, end));
    at = end + 1;
    return true;
  };
  if (!field()) return null;
  if (fields[0] === "stdin") return field() ? { kind: "stdin", token: fields[1]!, rest: buffer.subarray(at) } : null;
  if (!field() || !field()) return null;
  const argc = Number(fields[2]);
  for (let i = 0; i <= argc; i++) if (!field()) return null;
  return { kind: "run", token: fields[1]!, cwd: fields[3]!, argv: fields.slice(4) };
}

/** The stdin of each run whose client sends one, by token, whichever of its two connections comes first. */
class Inputs {
  private readonly open = new Map<string, { input: PassThrough; socket?: Socket }>();
  /** Tokens of runs that ended: a stdin connection arriving after its run is refused. */
  private readonly finished = new Set<string>();

  private entry(token: string): { input: PassThrough; socket?: Socket } {
    let e = this.open.get(token);
    if (!e) this.open.set(token, (e = { input: new PassThrough() }));
    return e;
  }

  input(token: string): PassThrough {
    return this.entry(token).input;
  }

  attach(token: string, socket: Socket, rest: Buffer): void {
    if (this.finished.has(token)) {
      socket.destroy();
      return;
    }
    const e = this.entry(token);
    e.socket = socket;
    if (rest.length > 0) e.input.write(rest);
    socket.pipe(e.input);
  }

  /** The run ended: input it did not read is refused, as Zeek's exit closes its stdin. */
  ended(token: string): void {
    this.finished.add(token);
    const e = this.open.get(token);
    if (!e) return;
    this.open.delete(token);
    e.socket?.destroy();
    e.input.destroy();
  }
}

export async function startZeekDoubleServer(env: NodeJS.ProcessEnv = process.env): Promise<ZeekDoubleServer> {
  let runs = 0;
  const inputs = new Inputs();
  const serve = (socket: Socket): void => {
    let buffer = Buffer.alloc(0);
    socket.on("error", () => undefined);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const request = parse(buffer);
      if (!request) return;
      socket.off("data", onData);
      if (request.kind === "stdin") {
        inputs.attach(request.token, socket, request.rest);
        return;
      }
      let out = "";
      let err = "";
      runs++;
      const stdin = (): PassThrough => (request.token ? inputs.input(request.token) : new PassThrough().end());
      void invokeZeek(request.argv, { cwd: request.cwd, env, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin })
        .catch((e: unknown) => {
          err += `${(e as Error).stack ?? String(e)}\n`;
          return 70;
        })
        .then((code) => {
          if (request.token) inputs.ended(request.token);
          socket.end(`${code}\0${out}\0${err}\0`);
        });
    };
    socket.on("data", onData);
  };
  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dir = await mkdtemp(join(tmpdir(), "zeek-double-"));
  const bin = join(dir, "zeek");
  // Bash by its path: through `/usr/bin/env bash` every run would start one process more (~1.6 ms
  // of CPU per run here).
  await writeFile(bin, client((server.address() as AddressInfo).port, findExecutable("bash", undefined) ?? "/bin/bash"));
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
