import { HttpDouble, type DoubleAnswer, type TlsFiles } from "./http-double.js";

/** An event as the double indexed it. */
export interface HecEvent {
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: unknown;
}

const answer = (status: number, text: string, code: number, extra: Record<string, unknown> = {}): DoubleAnswer => ({ status, body: JSON.stringify({ text, code, ...extra }) });

/**
 * Splunk's HTTP Event Collector as its documentation describes it ("Format events for HTTP Event
 * Collector", "About HTTP Event Collector Indexer Acknowledgment", "Troubleshoot HTTP Event
 * Collector"): `POST /services/collector/event` with `Authorization: Splunk <token>` and a body of
 * JSON event objects one after another; `{"text":"Success","code":0}`; errors with their codes:
 * 401 code 2 token required, 403 code 4 invalid token, 400 code 6 invalid data format (with
 * `invalid-event-number`), 400 code 12 event field required, 400 code 7 incorrect index, 503 code
 * 9 server busy (while failing). With acknowledgement on, a request needs
 * `X-Splunk-Request-Channel` (400 code 10 otherwise) and gets an `ackId`; its events count as
 * indexed, and `POST /services/collector/ack?channel=…` `{"acks":[id]}` answers
 * `{"acks":{"id":true}}`, only after `ackAfterPolls` polls; `loseNextAck` makes the next request's
 * events never be indexed (its ack stays false), as when an indexer fails before writing them.
 */
export class SplunkHecDouble extends HttpDouble {
  readonly events: HecEvent[] = [];
  readonly requests: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  private readonly pending = new Map<string, { events: HecEvent[]; polls: number; lost: boolean }>();
  private nextAckId = 0;
  loseNextAck = false;

  constructor(opts: { token: string; ack?: boolean; ackAfterPolls?: number; indexes?: string[]; tls?: TlsFiles }) {
    super(
      (req) => {
        this.requests.push({ path: req.path, headers: req.headers, body: req.body });
        const auth = req.headers.authorization;
        if (!auth) return answer(401, "Token is required", 2);
        if (auth !== `Splunk ${opts.token}`) return answer(403, "Invalid token", 4);
        const channel = req.headers["x-splunk-request-channel"] ?? req.query.get("channel");
        if (req.path === "/services/collector/ack") {
          if (!opts.ack) return answer(400, "ACK is disabled", 14);
          const ids = (JSON.parse(req.body) as { acks: number[] }).acks;
          const acks: Record<string, boolean> = {};
          for (const id of ids) {
            const key = `${channel}/${id}`;
            const p = this.pending.get(key);
            if (!p) {
              acks[id] = false;
              continue;
            }
            p.polls++;
            acks[id] = !p.lost && p.polls >= (opts.ackAfterPolls ?? 1);
            if (acks[id]) {
              this.events.push(...p.events);
              this.pending.delete(key);
            }
          }
          return { status: 200, body: JSON.stringify({ acks }) };
        }
        if (req.path !== "/services/collector/event" && req.path !== "/services/collector") return answer(404, "The requested URL was not found on this server.", 404);
        let events: HecEvent[];
        try {
          events = parseConcatenated(req.body);
        } catch (err) {
          return answer(400, "Invalid data format", 6, { "invalid-event-number": (err as { eventNumber?: number }).eventNumber ?? 0 });
        }
        if (events.length === 0) return answer(400, "No data", 5);
        const missing = events.findIndex((e) => e.event === undefined);
        if (missing >= 0) return answer(400, "Event field is required", 12, { "invalid-event-number": missing });
        const badIndex = events.findIndex((e) => e.index !== undefined && !(opts.indexes ?? ["main"]).includes(e.index));
        if (badIndex >= 0) return answer(400, "Incorrect index", 7, { "invalid-event-number": badIndex });
        if (!opts.ack) {
          this.events.push(...events);
          return answer(200, "Success", 0);
        }
        if (!channel) return answer(400, "Data channel is missing", 10);
        const ackId = this.nextAckId++;
        this.pending.set(`${channel}/${ackId}`, { events, polls: 0, lost: this.loseNextAck });
        this.loseNextAck = false;
        return answer(200, "Success", 0, { ackId });
      },
      { status: 503, body: JSON.stringify({ text: "Server is busy", code: 9 }) },
      opts.tls,
    );
  }
}

/** HEC's body: JSON objects one after another, whitespace between them optional. */
function parseConcatenated(body: string): HecEvent[] {
  const out: HecEvent[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) {
      try {
        out.push(JSON.parse(body.slice(start, i + 1)) as HecEvent);
      } catch {
        throw Object.assign(new Error("invalid event"), { eventNumber: out.length });
      }
    } else if (depth === 0 && !/\s/.test(c!)) throw Object.assign(new Error("invalid event"), { eventNumber: out.length });
  }
  if (depth !== 0) throw Object.assign(new Error("invalid event"), { eventNumber: out.length });
  return out;
}
