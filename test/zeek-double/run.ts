// One `zeek -r <capture> ...` run: open the capture, stream it through the
// analysis, and end the way Zeek does (logs closed, or a fatal error line).

import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import { Analysis } from "./analysis.js";
import { CaptureError, CaptureParser } from "./capture-reader.js";
import { jsonFormat } from "./json-writer.js";
import { LogSink } from "./log-sink.js";
import { tsvFormat } from "./tsv-writer.js";
import { fixed6 } from "./zeek-format.js";

export interface RunOptions {
  readonly readFile: string;
  readonly scripts: readonly string[];
  readonly redefs: ReadonlyMap<string, string>;
  /** Output directory (Zeek writes into its working directory). */
  readonly dir: string;
  /** Test hook: pause after reading the capture (given the SHA-256 of the bytes read), before the final writes. */
  readonly pauseAfterRead: (sha256: string) => Promise<void>;
  /** Test hook: the records each log holds when the capture ends, before the final writes. */
  readonly captureEnded?: (records: Record<string, number>) => void;
  /** Where Zeek's stderr goes (the process's own, or a double server's client). */
  readonly stderr?: (text: string) => void;
  /** What `-r -` reads (the process's own stdin, or a double server's client's). */
  readonly stdin: () => Readable;
}

const READ_CHUNK = 1024 * 1024;
/** How a command line names Zeek's known-hosts script. */
const KNOWN_HOSTS_SCRIPTS = new Set(["protocols/conn/known-hosts", "policy/protocols/conn/known-hosts"]);

// strerror() texts for the errors opening a capture can produce.
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EISDIR: "Is a directory",
  EIO: "Input/output error",
};

function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return STRERROR[code] ?? String((err as Error).message);
}

/** Opens the capture like libpcap; errors carry libpcap's wording. */
function openCapture(file: string, stdin: () => Readable): Readable {
  if (file === "-") return stdin();
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new CaptureError("open", `unable to open ${file}: ${strerror(err)}`);
  }
  // fopen() accepts a directory; the first read is what fails.
  if (fs.fstatSync(fd).isDirectory()) {
    fs.closeSync(fd);
    throw new CaptureError("open", `error reading dump file: ${STRERROR["EISDIR"]}`);
  }
  return fs.createReadStream("", { fd, highWaterMark: READ_CHUNK });
}

/** Zeek's fatal-error line; command-line redefs leave "<params>" as the script location. */
function fatalLine(options: RunOptions, err: CaptureError, analysis: Analysis | undefined): string {
  const prefix = options.redefs.size > 0 ? "fatal error in <params>, line 1:" : "fatal error:";
  if (err.phase === "open") return `${prefix} problem with trace file ${options.readFile} (${err.message})`;
  // Zeek's reporter prefixes messages with the network time once there is one.
  const time = analysis !== undefined && analysis.networkTime > 0 ? `${fixed6(analysis.networkTime)} ` : "";
  return `${time}${prefix} failed to read a packet from ${options.readFile}: ${err.message}`;
}

/** Runs the analysis; returns the exit code. */
export async function run(options: RunOptions): Promise<number> {
  const json = options.redefs.get("LogAscii::use_json") === "T";
  const local = options.scripts.includes("local");
  let analysis: Analysis | undefined;
  // Logs start only once the capture's header was accepted, as with Zeek.
  const sink = (): LogSink => new LogSink(options.dir, json ? jsonFormat : tsvFormat);
  // Real Zeek's `local` loads protocols/conn/known-hosts; the double writes known_hosts only when
  // the script is named (test/zeek-double/README.md: the suite's line totals predate it).
  const knownHosts = options.scripts.some((s) => KNOWN_HOSTS_SCRIPTS.has(s));
  const started = (): Analysis => (analysis ??= new Analysis(sink(), local, knownHosts));
  const parser = new CaptureParser((pkt) => started().packet(pkt));
  const read = createHash("sha256");
  try {
    const input = openCapture(options.readFile, options.stdin);
    try {
      for await (const chunk of input) {
        read.update(chunk as Buffer);
        parser.push(chunk as Buffer);
        if (parser.opened) started();
      }
    } catch (err) {
      if (err instanceof CaptureError) throw err;
      throw new CaptureError(parser.opened ? "read" : "open", `error reading dump file: ${strerror(err)}`);
    }
    parser.end();
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    await options.pauseAfterRead(read.digest("hex"));
    analysis?.abandon();
    (options.stderr ?? ((t) => process.stderr.write(t)))(`${fatalLine(options, err, analysis)}\n`);
    return 1;
  }
  await options.pauseAfterRead(read.digest("hex"));
  const done = started();
  options.captureEnded?.(Object.fromEntries(done.sink.streams().map((s) => [s.schema.path, s.records])));
  done.finish();
  return 0;
}
