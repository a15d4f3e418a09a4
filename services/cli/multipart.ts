import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";

/** A text field of a multipart form. */
export interface FormField {
  name: string;
  value: string;
}

/** A file part, read from `path` when the body is streamed; `size` must be its size on disk. */
export interface FormFile {
  field: string;
  path: string;
  /** The file name the server sees. */
  fileName: string;
  size: number;
}

/** A multipart/form-data body whose length is known before a byte is read. */
export interface MultipartBody {
  contentType: string;
  /** Exact byte length of the body, for Content-Length. */
  length: number;
  /**
   * The body, read from disk as it is consumed: each file is opened only when its part is sent
   * and closed after, so thousands of files take one descriptor and one chunk of memory at a
   * time. `onFile` hears of each file part as it starts.
   */
  stream(onFile?: (index: number) => void): AsyncGenerator<Buffer>;
}

/** A file changed size between `stat` and upload: the declared Content-Length would be a lie. */
export class FileChangedError extends Error {
  override readonly name = "FileChangedError";
}

/**
 * Quotes a name for Content-Disposition as browsers do (WHATWG "multipart/form-data encoding"):
 * CR, LF and `"` percent-encoded, everything else as UTF-8.
 */
function quote(name: string): string {
  return `"${name.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22")}"`;
}

async function* fileBytes(file: FormFile): AsyncGenerator<Buffer> {
  if (file.size === 0) return;
  let read = 0;
  // `end` is inclusive; bounding the read keeps a file that grew from overrunning Content-Length.
  for await (const chunk of createReadStream(file.path, { start: 0, end: file.size - 1 })) {
    read += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (read !== file.size) throw new FileChangedError(`${file.path} shrank from ${file.size} to ${read} bytes while it was being sent`);
}

/**
 * Lays out fields, then files, as multipart/form-data with a random boundary. Part headers are
 * built up front so the total length is exact; file contents are read only when streamed.
 */
export function multipartBody(fields: readonly FormField[], files: readonly FormFile[], boundary = `brocapi-${randomBytes(16).toString("hex")}`): MultipartBody {
  const fieldParts = fields.map((f) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quote(f.name)}\r\n\r\n${f.value}\r\n`));
  const fileHeads = files.map((f) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quote(f.field)}; filename=${quote(f.fileName)}\r\nContent-Type: application/octet-stream\r\n\r\n`));
  const crlf = Buffer.from("\r\n");
  const close = Buffer.from(`--${boundary}--\r\n`);
  const length =
    fieldParts.reduce((n, b) => n + b.length, 0) + fileHeads.reduce((n, b) => n + b.length, 0) + files.reduce((n, f) => n + f.size + crlf.length, 0) + close.length;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    async *stream(onFile) {
      yield* fieldParts;
      for (const [i, file] of files.entries()) {
        onFile?.(i);
        yield fileHeads[i]!;
        yield* fileBytes(file);
        yield crlf;
      }
      yield close;
    },
  };
}
