import { formatBytes, formatDuration } from "./format.js";

/** Told about an upload as it goes; writes what it has to say to stderr. */
export interface UploadProgress {
  /** Bytes `n` more of the body left for the server. */
  advance(n: number): void;
  /** The upload ended, whether or not every byte went. */
  finish(): void;
}

/** How long a terminal redraw waits after the previous one: smooth enough, and cheap for fast links. */
const REDRAW_MS = 100;

/** `[#########...........]  45%  12.3 MiB / 27.0 MiB  5.1 MiB/s`, at most `columns` wide. */
export function renderProgress(sent: number, total: number, elapsedMs: number, columns: number): string {
  const fraction = total === 0 ? 1 : Math.min(1, sent / total);
  const rate = elapsedMs > 0 ? `  ${formatBytes(Math.round((sent * 1000) / elapsedMs))}/s` : "";
  const text = `${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(sent)} / ${formatBytes(total)}${rate}`;
  const width = Math.min(40, columns - text.length - 4);
  if (width < 5) return text.slice(0, Math.max(0, columns - 1));
  const done = Math.floor(fraction * width);
  return `[${"#".repeat(done)}${".".repeat(width - done)}]  ${text}`;
}

/** A bar redrawn in place on a terminal. */
class ProgressBar implements UploadProgress {
  private sent = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly total: number,
  ) {
    this.draw();
  }

  advance(n: number): void {
    this.sent += n;
    if (Date.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  finish(): void {
    this.draw();
    this.out.write("\n");
  }

  private draw(): void {
    this.lastDraw = Date.now();
    // CR + "erase line" redraws in place even when the new line is shorter than the last.
    this.out.write(`\r\x1b[2K${renderProgress(this.sent, this.total, this.lastDraw - this.started, this.out.columns || 80)}`);
  }
}

/** One line at the start and one at the end, for logs and pipes where a redrawn bar is noise. */
class PlainProgress implements UploadProgress {
  private sent = 0;
  private readonly started = Date.now();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly total: number,
    what: string,
  ) {
    out.write(`uploading ${what}, ${formatBytes(total)}\n`);
  }

  advance(n: number): void {
    this.sent += n;
  }

  finish(): void {
    const of = this.sent === this.total ? "" : ` of ${formatBytes(this.total)}`;
    this.out.write(`sent ${formatBytes(this.sent)}${of} in ${formatDuration(Date.now() - this.started)}\n`);
  }
}

/** A redrawn bar when `out` is a terminal, plain lines otherwise. `what` names the upload (`2 captures`). */
export function uploadProgress(out: NodeJS.WriteStream, total: number, what: string): UploadProgress {
  return out.isTTY ? new ProgressBar(out, total) : new PlainProgress(out, total, what);
}
