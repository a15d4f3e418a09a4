/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** `event:` field, `message` when the server sent none. */
  event: string;
  /** `data:` lines joined with LF. */
  data: string;
  /** `id:` field, when the event carried one. */
  id?: string;
}

/**
 * Incremental parser for `text/event-stream` (WHATWG HTML, "Interpreting an event stream"). Feed
 * it decoded text in chunks of any size: a line, a CRLF pair or a field may be split anywhere.
 */
export class SseParser {
  private pending = "";
  /** The previous chunk ended with CR: an LF starting the next chunk belongs to that line end. */
  private afterCr = false;
  private data: string[] = [];
  private eventType = "";
  private id: string | undefined;

  /** Parses `text` and returns the events it completed. */
  push(text: string): SseEvent[] {
    let chunk = text;
    if (this.afterCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.afterCr = false;
    const events: SseEvent[] = [];
    let start = 0;
    const buffer = this.pending + chunk;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      const event = this.line(buffer.slice(start, i));
      if (event) events.push(event);
      if (c === "\r") {
        if (i + 1 === buffer.length) this.afterCr = true;
        else if (buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
    }
    this.pending = buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined; // a comment: the server's keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    // `retry` and unknown fields do not concern a client that does not reconnect on its own.
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const { data, eventType, id } = this;
    this.data = [];
    this.eventType = "";
    if (data.length === 0) return undefined;
    return { event: eventType || "message", data: data.join("\n"), ...(id !== undefined ? { id } : {}) };
  }
}

/**
 * The events of an event-stream body, in order, as they arrive. An event cut off by the end of
 * the body is dropped, as the standard says.
 */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  // One decoder across chunks: a UTF-8 character may be split between two of them.
  const decoder = new TextDecoder();
  for await (const bytes of body) yield* parser.push(decoder.decode(bytes, { stream: true }));
  yield* parser.push(decoder.decode());
}
