import type { FastifyInstance } from "fastify";
import type { ApiRole } from "../../../shared/auth/api-token.js";
import { authenticate, REALM, TokenStore, type Principal } from "../../../shared/auth/token-store.js";
import { AuthError, ErrorCodes } from "../../../shared/errors.js";
import { JOB_ID_PATTERN } from "../../../shared/jobs/job-id.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, type RouteDoc } from "../route-doc.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Whose token the request carried; null when the api runs without tokens. */
    principal: Principal | null;
  }
}

/**
 * Routes open without a token: the API's own documentation, and the web page's static files
 * (`/`, `/ui/…`: they hold no data; the page asks for a token when the API answers 401).
 */
const PUBLIC = /^\/($|ui\/|docs(\/|$)|openapi\.json$)/;

/**
 * API tokens at the door of every route. Each RouteDoc names the roles that may call it (or
 * `open`); undocumented routes other than the API's documentation need `admin`, so a route added
 * without a rule is closed, not open. A token with a tag scope meets a job outside it as an
 * unknown id (404), so it cannot even learn which ids exist. Without a tokens file (loopback, or
 * `auth.mode: none`) every request passes with `principal` null.
 */
export function accessControl(app: FastifyInstance, ctx: ServiceContext, docs: readonly RouteDoc[]): void {
  app.decorateRequest("principal", null);
  const { tokensFile, metrics } = ctx.config.auth;
  if (!tokensFile) return;
  const store = new TokenStore(tokensFile, ctx.log.child({ subsystem: "api" }));
  const rules = new Map(docs.map((d) => [`${d.method.toUpperCase()} ${d.path.replace(/\{(\w+)\}/g, ":$1")}`, d.roles]));
  const jobs = new JobStore(ctx.topology);

  app.addHook("onRequest", async (req) => {
    const route = req.routeOptions.url;
    // No route: fastify answers 404 without reaching anything.
    if (route === undefined || PUBLIC.test(route)) return;
    const method = req.method === "HEAD" ? "GET" : req.method;
    let roles: readonly ApiRole[];
    if (route === "/metrics") {
      if (metrics === "open") return;
      roles = [];
    } else {
      const key = `${method} ${route}`;
      if (!rules.has(key)) roles = ["admin"];
      else {
        const rule = rules.get(key)!;
        if (rule === "open") return;
        roles = rule;
      }
    }
    const principal = authenticate(req.headers.authorization, store);
    if (roles.length > 0 && !roles.some((r) => principal.has(r))) {
      throw new AuthError(ErrorCodes.AUTH_FORBIDDEN, `the token "${principal.name}" lacks the role this needs: ${roles.join(" or ")}`, 403, `${REALM}, error="insufficient_scope"`);
    }
    req.principal = principal;
  });

  app.addHook("preHandler", async (req) => {
    const id = (req.params as { id?: unknown } | undefined)?.id;
    if (!req.principal?.scoped || typeof id !== "string" || !JOB_ID_PATTERN.test(id)) return;
    const job = await jobs.header(id);
    if (!job || !req.principal.sees(job.tag)) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
  });
}

/** A submission's tag must fall inside the token's tag scope (a scoped token must give one). */
export function checkTagScope(principal: Principal | null, tag: string | null): void {
  if (!principal || principal.sees(tag)) return;
  throw new AuthError(
    ErrorCodes.AUTH_OUT_OF_SCOPE,
    tag === null ? `the token "${principal.name}" is limited to certain tags: submit with a tag it may use` : `the token "${principal.name}" may not submit jobs tagged ${JSON.stringify(tag.slice(0, 80))}`,
    403,
    `${REALM}, error="insufficient_scope"`,
  );
}
