import { formatBytes, formatDuration, plural } from "./format.js";

/** Told about an upload (of one job or several) as it goes; writes what it has to say to stderr. */
export interface UploadProgress {
  /** The next capture's part starts going out. */
  file(): void;
  /** Bytes `n` more of the body left for the server. */
  advance(n: number): void;
  /** Runs `write` (a line on stdout, say a job id) without tearing a bar drawn on the same terminal. */
  above(write: () => void): void;
  /** The upload ended, whether or not every byte went: how many jobs, holding how many captures, were accepted. */
  finish(accepted: Accepted): void;
}

/** Jobs the server accepted, and the captures in them. */
export interface Accepted {
  jobs: number;
  captures: number;
}

/** What is about to go: captures and bytes in all, and what to call it (`3 captures to http://…`). */
export interface UploadTotals {
  files: number;
  bytes: number;
  what: string;
}

/** How long a terminal redraw waits after the previous one: smooth enough, and cheap for fast links. */
const REDRAW_MS = 100;
/** Without a terminal, a line at each tenth of the captures sent (when there are this many)… */
const PLAIN_STEPS_FROM = 10;
/** …and at least this often while a slow upload goes on. */
const PLAIN_EVERY_MS = 30_000;

/** `[#########...........]  45%  1234/10000 captures  12.3 MiB / 27.0 MiB  5.1 MiB/s`, at most `columns` wide. */
export function renderProgress(sent: number, total: number, elapsedMs: number, columns: number, files?: { sent: number; total: number }): string {
  const fraction = total === 0 ? 1 : Math.min(1, sent / total);
  const rate = elapsedMs > 0 ? `  ${formatBytes(Math.round((sent * 1000) / elapsedMs))}/s` : "";
  const count = files && files.total > 1 ? `  ${files.sent}/${files.total} captures` : "";
  const text = `${String(Math.floor(fraction * 100)).padStart(3)}%${count}  ${formatBytes(sent)} / ${formatBytes(total)}${rate}`;
  const width = Math.min(40, columns - text.length - 4);
  if (width < 5) return text.slice(0, Math.max(0, columns - 1));
  const done = Math.floor(fraction * width);
  return `[${"#".repeat(done)}${".".repeat(width - done)}]  ${text}`;
}

/** The closing line: bytes, time, and for several captures how many were accepted in how many jobs. */
function summary(sent: number, totals: UploadTotals, accepted: Accepted, elapsedMs: number): string {
  const of = sent === totals.bytes ? "" : ` of ${formatBytes(totals.bytes)}`;
  const all = accepted.captures === totals.files;
  const jobs = accepted.jobs > 1 || (!all && accepted.jobs > 0) ? ` in ${plural(accepted.jobs, "job")}` : "";
  const many = totals.files > 1 ? `: ${all ? "" : `${accepted.captures} of `}${totals.files} captures${jobs}${all ? "" : " accepted"}` : "";
  return `sent ${formatBytes(sent)}${of} in ${formatDuration(elapsedMs)}${many}\n`;
}

abstract class Progress implements UploadProgress {
  protected sent = 0;
  /** Captures whose part has started. */
  protected files = 0;
  protected readonly started = Date.now();

  constructor(
    protected readonly out: NodeJS.WritableStream,
    protected readonly totals: UploadTotals,
  ) {}

  file(): void {
    this.files++;
  }

  advance(n: number): void {
    this.sent += n;
  }

  above(write: () => void): void {
    write();
  }

  finish(accepted: Accepted): void {
    this.out.write(summary(this.sent, this.totals, accepted, Date.now() - this.started));
  }
}

/** One line redrawn in place on a terminal. */
class ProgressBar extends Progress {
  private lastDraw = 0;

  constructor(
    protected override readonly out: NodeJS.WriteStream,
    totals: UploadTotals,
  ) {
    super(out, totals);
    this.draw();
  }

  override advance(n: number): void {
    super.advance(n);
    if (Date.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  override above(write: () => void): void {
    this.out.write("\r\x1b[2K");
    write();
    this.draw();
  }

  override finish(accepted: Accepted): void {
    this.draw();
    this.out.write("\n");
    super.finish(accepted);
  }

  private draw(): void {
    this.lastDraw = Date.now();
    // CR + "erase line" redraws in place even when the new line is shorter than the last.
    const line = renderProgress(this.sent, this.totals.bytes, this.lastDraw - this.started, this.out.columns || 80, { sent: this.files, total: this.totals.files });
    this.out.write(`\r\x1b[2K${line}`);
  }
}

/** A line at the start, a few while it goes (each tenth of many captures, or every 30 s), one at the end: for logs and pipes. */
class PlainProgress extends Progress {
  private step = 0;
  private lastLine = Date.now();

  constructor(out: NodeJS.WritableStream, totals: UploadTotals) {
    super(out, totals);
    out.write(`uploading ${totals.what}, ${formatBytes(totals.bytes)}\n`);
  }

  override file(): void {
    // Called as capture n+1 starts: n are sent.
    const sent = this.files;
    super.file();
    const step = this.totals.files >= PLAIN_STEPS_FROM ? Math.floor((sent * 10) / this.totals.files) : 0;
    if (step > this.step || Date.now() - this.lastLine >= PLAIN_EVERY_MS) {
      this.step = Math.max(step, this.step);
      this.lastLine = Date.now();
      this.out.write(`sent ${sent} of ${this.totals.files} captures, ${formatBytes(this.sent)} of ${formatBytes(this.totals.bytes)}\n`);
    }
  }
}

/** A redrawn bar when `out` is a terminal, plain lines otherwise. */
export function uploadProgress(out: NodeJS.WriteStream, totals: UploadTotals): UploadProgress {
  return out.isTTY ? new ProgressBar(out, totals) : new PlainProgress(out, totals);
}
