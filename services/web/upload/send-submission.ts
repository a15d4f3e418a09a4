import type { SubmitAnswer } from "../../cli/api-types.js";
import { urls } from "../api/endpoints.js";
import { authorization } from "../api/http.js";

export type Outcome =
  | { kind: "accepted"; answer: SubmitAnswer }
  /** The api's refusal, as it answered it: HTTP status, its `status` sentence and `code`. */
  | { kind: "refused"; httpStatus: number; status: string; code: string | null; wwwAuthenticate: string | null }
  | { kind: "cancelled" }
  | { kind: "network" };

export interface Submission {
  /** Settles once the api answered, the upload was cancelled or the connection failed. */
  outcome: Promise<Outcome>;
  cancel(): void;
}

/**
 * `POST /submit/pcap` with the captures as `file[]` parts and the tag, as one job. Sent with
 * XMLHttpRequest: it reports upload progress, which fetch does not (over HTTP/1.1).
 */
export function sendSubmission(files: readonly File[], tag: string, onProgress: (sent: number, total: number) => void): Submission {
  const form = new FormData();
  // The tag first: the api then checks a token's tag scope before it stores a byte.
  if (tag) form.append("tag", tag);
  for (const f of files) form.append("file[]", f, f.name);
  const xhr = new XMLHttpRequest();
  const outcome = new Promise<Outcome>((resolve) => {
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded, e.total));
    xhr.addEventListener("abort", () => resolve({ kind: "cancelled" }));
    xhr.addEventListener("error", () => resolve({ kind: "network" }));
    xhr.addEventListener("load", () => resolve(outcomeOf(xhr)));
  });
  xhr.open("POST", urls.submit);
  for (const [name, value] of Object.entries(authorization())) xhr.setRequestHeader(name, value);
  xhr.setRequestHeader("accept", "application/json");
  xhr.send(form);
  return { outcome, cancel: () => xhr.abort() };
}

/** The api's JSON answer, or null when it was something else (a proxy's error page, say: its text is shown). */
function parseJson(text: string): { status?: unknown; code?: unknown } | null {
  try {
    return JSON.parse(text) as { status?: unknown; code?: unknown };
  } catch {
    return null;
  }
}

function outcomeOf(xhr: XMLHttpRequest): Outcome {
  const body = parseJson(xhr.responseText);
  if (xhr.status === 200 && body) return { kind: "accepted", answer: body as SubmitAnswer };
  return {
    kind: "refused",
    httpStatus: xhr.status,
    status: typeof body?.status === "string" ? body.status : xhr.responseText || xhr.statusText,
    code: typeof body?.code === "string" ? body.code : null,
    wwwAuthenticate: xhr.getResponseHeader("www-authenticate"),
  };
}
