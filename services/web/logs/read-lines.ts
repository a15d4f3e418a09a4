/**
 * The lines of a response body as they arrive (LF-separated, a trailing CR dropped). Stopping
 * the loop cancels the body, so reading the head of a big log transfers little more than that.
 */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = done ? "" : lines.pop()!;
      for (const line of lines) yield line.endsWith("\r") ? line.slice(0, -1) : line;
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
