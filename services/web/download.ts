import { apiFetch } from "./api/http.js";
import { currentToken } from "./api/token.js";
import { h, type Child } from "./dom.js";
import { notify } from "./notice.js";

/**
 * A link that downloads `href` as `fileName`. Without a token it is a plain link: the browser
 * streams the file to disk. A link cannot send an Authorization header, so with a token the
 * click fetches the file with it and saves the result (Chromium keeps large blobs on disk).
 */
export function downloadLink(href: string, fileName: string, ...label: Child[]): HTMLAnchorElement {
  const a = h("a", { href, download: fileName }, ...label);
  a.addEventListener("click", (event) => {
    if (!currentToken()) return;
    event.preventDefault();
    saveWithToken(href, fileName).catch((err: unknown) => notify(`${fileName} was not downloaded: ${(err as Error).message}`, "error"));
  });
  return a;
}

async function saveWithToken(href: string, fileName: string): Promise<void> {
  const blob = await (await apiFetch(href)).blob();
  const url = URL.createObjectURL(blob);
  h("a", { href: url, download: fileName }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
