import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** `npm run build` writes the page here (services/web compiled, plus services/web/public). */
const WEB_ROOT = fileURLToPath(new URL("../../web/", import.meta.url));

/** URL prefix of the page's assets: one folder, so no file can shadow an API route or `/docs`. */
export const WEB_PREFIX = "/ui/";

/**
 * The page may talk to this origin only: no CDN, font or other outside request (it must work on
 * an isolated network), and nothing injected can load or send anything elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "cache-control": "no-cache",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * The analysts' page: `/` is its HTML, `/ui/…` its scripts and styles. Static files only; they
 * hold no data, every datum comes from the documented JSON API on the same origin. Browsers
 * revalidate (ETag) rather than cache, so a rebuilt page is picked up at once.
 */
export async function webPageRoutes(app: FastifyInstance): Promise<void> {
  if (!existsSync(WEB_ROOT)) {
    app.log.warn({ event: "web.missing", root: WEB_ROOT }, "the web page is not built (npm run build); / is not served");
    return;
  }
  // Encapsulated: the reply decorator of this registration stays apart from Swagger UI's.
  await app.register(async (scope) => {
    // A hook of this scope rather than the plugin's setHeaders, whose argument differs between
    // @fastify/static majors: every answer of the page carries the headers.
    scope.addHook("onSend", async (_req, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    await scope.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: WEB_PREFIX,
      index: false,
      cacheControl: false,
    });
    scope.get("/", (_req, reply) => reply.sendFile("index.html"));
  });
}
