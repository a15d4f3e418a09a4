import { HttpDouble, type DoubleRequest, type TlsFiles } from "./http-double.js";

/**
 * A receiver of the http sink's NDJSON POSTs, as a log collector's HTTP input would take them:
 * every line kept in arrival order, with the request headers; a batch whose `X-Brocapi-Batch`
 * it already took is answered 200 and not kept again. While failing it answers 503 with
 * `Retry-After: 1`.
 */
export class NdjsonReceiver extends HttpDouble {
  readonly lines: Record<string, unknown>[] = [];
  readonly requests: DoubleRequest[] = [];
  private readonly batches = new Set<string>();
  /** Answer the next requests with this status instead (e.g. 400, 401, 429), then go back to normal. */
  next: { status: number; headers?: Record<string, string>; times: number } | null = null;

  constructor(tls?: TlsFiles) {
    super(
      (req) => {
        this.requests.push(req);
        if (this.next && this.next.times > 0) {
          this.next.times--;
          return { status: this.next.status, ...(this.next.headers ? { headers: this.next.headers } : {}), body: `{"error":"status ${this.next.status} from the test"}` };
        }
        const id = String(req.headers["x-brocapi-batch"] ?? "");
        if (id && this.batches.has(id)) return { status: 200, body: '{"duplicate":true}' };
        if (id) this.batches.add(id);
        for (const line of req.body.split("\n")) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
        return { status: 200, body: '{"ok":true}' };
      },
      { status: 503, headers: { "retry-after": "1" }, body: '{"error":"unavailable"}' },
      tls,
    );
  }
}
