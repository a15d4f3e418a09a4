import type { Readable } from "node:stream";

/**
 * Parts the form parser may read beyond those the submission has taken. The parser (busboy under
 * @fastify/multipart) holds the body back only while one part's stream is full: a small file
 * never fills it, so unpaced it read a form of 10,000 one-flow captures whole within seconds and
 * queued every part, with its stream, listeners and bytes, while the stores took minutes. Parts
 * that wait that long outlive V8's young generation, and the api grew by ~150 MB per 10,000 files
 * (docs/BENCHMARKS.md). 32 parts keep the parser a socket read or two ahead of the stores.
 */
const READ_AHEAD_PARTS = 32;

/**
 * Holds the request body while the parser is more than `max` parts ahead of the parts taken, and
 * lets it flow again once that is down to half, so that one pause is not one socket read. `ahead`
 * counts the parts in the bytes that went by (form-delimiters.ts) less those taken; bytes are
 * judged a chunk at a time, so the parser may get a chunk's parts beyond `max`. A part the
 * parser drops unannounced (counted, never given) can never keep the body held: when the next
 * part is asked for and the parser has none to give by the next turn of the event loop, the body
 * flows.
 */
export class ReadAhead {
  private held = false;
  private readonly onData = (): void => {
    // Also when held already: the pipe into the parser resumes the body on the parser's drain.
    if (this.ahead() > this.max) {
      this.held = true;
      this.body.pause();
    }
  };

  constructor(
    private readonly body: Readable,
    private readonly ahead: () => number,
    private readonly max = READ_AHEAD_PARTS,
  ) {
    body.on("data", this.onData);
  }

  /** The submission took a part and asks for the next, `next`. */
  asked(next: Promise<unknown>): void {
    if (!this.held) return;
    if (this.ahead() <= this.max / 2) return this.release();
    // A part the parser holds resolves `next` within this turn; none by the next: let it read on.
    let came = false;
    const arrived = (): void => {
      came = true;
    };
    next.then(arrived, arrived);
    setImmediate(() => {
      if (!came) this.release();
    });
  }

  /** The form is read, or refused: what is left of the body is for others to read or discard. */
  stop(): void {
    this.body.off("data", this.onData);
    this.release();
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    this.body.resume();
  }
}
