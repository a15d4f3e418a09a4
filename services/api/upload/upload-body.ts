import type { IncomingMessage } from "node:http";
import { finished } from "node:stream/promises";
import type { FastifyReply } from "fastify";
import { ErrorCodes, UploadError } from "../../../shared/errors.js";

/** The client went away (or its body stopped) before the submission was complete. */
export function uploadCutOff(): UploadError {
  return new UploadError(ErrorCodes.UPLOAD_MALFORMED, "the request ended before the upload was complete; nothing was kept", 400);
}

/**
 * The request body of one submission: its time limit, its end, and what becomes of its unread
 * rest when the submission is refused early.
 */
export class UploadBody {
  /** Aborted, with the 408 error as reason, when the upload overruns `http.uploadTimeoutMs`. */
  readonly signal: AbortSignal;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly raw: IncomingMessage,
    timeoutMs: number,
  ) {
    const controller = new AbortController();
    this.signal = controller.signal;
    const timeout = new UploadError(ErrorCodes.UPLOAD_TIMEOUT, `the upload took longer than the limit of ${timeoutMs} ms; nothing was kept`, 408);
    // unref: the socket keeps the process alive while the client is there, the timer need not.
    this.timer = setTimeout(() => controller.abort(timeout), timeoutMs).unref();
    raw.once("close", () => clearTimeout(this.timer));
  }

  /**
   * `promise`, unless the upload overruns first: waits for the client never outlast the limit.
   * Not `Promise.race` with one promise of the overrun kept for the whole upload: each race would
   * leave a reaction on it holding what its `promise` settled with (a form part, its stream) until
   * the request ended, ~20 KB per file of a many-file upload. The abort listener goes as the
   * wait ends.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    const { signal } = this;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const overrun = (): void => reject(signal.reason as Error);
      signal.addEventListener("abort", overrun, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener("abort", overrun);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener("abort", overrun);
          reject(err as Error);
        },
      );
    });
  }

  /**
   * After the form parser is done: waits for the last bytes of the body (an epilogue may follow
   * the closing boundary) and throws when the client went away before sending them all.
   */
  async ended(): Promise<void> {
    if (!this.raw.complete && !this.raw.destroyed) {
      this.raw.resume();
      await this.race(finished(this.raw).catch(() => undefined));
    }
    if (!this.raw.complete) throw uploadCutOff();
    clearTimeout(this.timer);
  }

  /**
   * Before answering a refusal: the client may still be sending. The rest of the body is read and
   * discarded, so the client reads the answer and may reuse the connection, until the time limit,
   * when the connection is dropped. A client that already overran it is answered, then the
   * connection is closed; reading on meanwhile spares it a reset that could swallow the answer.
   */
  refused(reply: FastifyReply): void {
    if (this.raw.complete || this.raw.destroyed) return;
    if (this.signal.aborted) void reply.header("connection", "close");
    else this.signal.addEventListener("abort", () => this.raw.destroy(), { once: true });
    this.raw.unpipe();
    this.raw.resume();
  }
}
