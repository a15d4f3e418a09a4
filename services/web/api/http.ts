import { askForToken, currentToken } from "./token.js";

/** A refusal by the api, in its own words: `status` and `code` of its JSON answer. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    /** The api's `status` sentence (or the body's text when it was not JSON). */
    readonly status: string,
    readonly code: string | null,
  ) {
    super(status);
  }
}

/** The api's answer to a refused request: every failure keeps the seed's JSON shape. */
export async function apiErrorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { status?: unknown; code?: unknown; message?: unknown };
    const status = typeof body.status === "string" ? body.status : typeof body.message === "string" ? body.message : text;
    return new ApiError(res.status, status, typeof body.code === "string" ? body.code : null);
  } catch {
    return new ApiError(res.status, text || res.statusText, null);
  }
}

export function authorization(): Record<string, string> {
  const token = currentToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** A 401 that asks for a bearer token, as opposed to any other refusal. */
export function wantsBearerToken(status: number, wwwAuthenticate: string | null): boolean {
  return status === 401 && /^\s*bearer\b/i.test(wwwAuthenticate ?? "");
}

/**
 * `fetch` on the api's origin with the session's token. A 401 asking for a bearer token shows
 * the token prompt and tries again; any other non-2xx answer throws an {@link ApiError}.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(authorization())) headers.set(name, value);
    const res = await fetch(path, { ...init, headers });
    if (res.ok) return res;
    const error = await apiErrorOf(res);
    if (!wantsBearerToken(res.status, res.headers.get("www-authenticate"))) throw error;
    if (!(await askForToken(error.status))) throw error;
  }
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await apiFetch(path, init)).json()) as T;
}
