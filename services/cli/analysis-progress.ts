import type { JobEvent, JobState } from "./api-types.js";
import { formatEvent, formatJobEnd } from "./format.js";

/** A job with more captures than this is followed as counts, not a line per capture. */
const PER_CAPTURE_LINES_MAX = 20;

/** How often a terminal line is redrawn at most. */
const REDRAW_MS = 100;

/**
 * What `submit --wait` shows of a job being analysed. A small job: every event as a line, as it
 * happens. A big one (thousands of captures): failed captures and warnings still as lines (what
 * an analyst must see), the rest as a count: one line redrawn in place on a terminal (stderr), or
 * a line at each tenth of the captures finished otherwise.
 */
export class AnalysisProgress {
  private done = 0;
  private failed = 0;
  private step = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    /** Captures in the job. */
    private readonly total: number,
    private readonly print: (line: string) => void,
    private readonly bar: NodeJS.WriteStream,
  ) {}

  /** True when each event gets its own line. */
  get perCapture(): boolean {
    return this.total <= PER_CAPTURE_LINES_MAX;
  }

  /** A job shown as counts that was already over when followed: its final count and state, from its status. */
  over(counts: { done: number; failed: number }, state: JobState): void {
    this.done = counts.done;
    this.failed = counts.failed;
    this.print(this.text());
    this.print(formatJobEnd(state));
  }

  /** Shows one event that is news. */
  event(event: JobEvent): void {
    if (this.perCapture) return this.print(formatEvent(event));
    switch (event.type) {
      case "job.queued":
        return this.line(`queued: ${this.total} captures`);
      case "file.finished":
        if (event.state === "failed") {
          this.failed++;
          this.line(formatEvent(event));
        } else this.done++;
        return this.count();
      case "file.warning":
        return this.line(formatEvent(event));
      case "job.finished":
        this.draw();
        this.end();
        return this.print(formatEvent(event));
      // Starts and each sink's running count would be thousands of lines: the count says enough,
      // and the sinks' totals follow once the analysis is over.
      case "file.started":
      case "lines.delivered":
        return;
    }
  }

  private text(): string {
    return `analysed ${this.done + this.failed} of ${this.total} captures: ${this.done} done, ${this.failed} failed`;
  }

  /** A line of its own, above the redrawn one. */
  private line(text: string): void {
    if (this.drawn) this.bar.write("\r\x1b[2K");
    this.print(text);
    if (this.drawn) this.draw();
  }

  private count(): void {
    if (this.bar.isTTY) {
      if (Date.now() - this.lastDraw >= REDRAW_MS) this.draw();
      return;
    }
    const step = Math.floor(((this.done + this.failed) * 10) / this.total);
    if (step > this.step) {
      this.step = step;
      this.print(this.text());
    }
  }

  private draw(): void {
    if (!this.bar.isTTY) return;
    this.lastDraw = Date.now();
    this.drawn = true;
    this.bar.write(`\r\x1b[2K${this.text()}`);
  }

  /** Leaves the terminal line as it is and moves below it. */
  end(): void {
    if (this.drawn) this.bar.write("\n");
    this.drawn = false;
  }
}
