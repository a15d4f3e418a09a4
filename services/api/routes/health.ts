import type { FastifyInstance } from "fastify";
import { BrocapiError, ErrorCodes } from "../../../shared/errors.js";
import { BROKER_UNAVAILABLE_STATUS } from "../failure.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import type { RouteDoc } from "../route-doc.js";
import { health } from "../schemas.js";

export const healthDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/healthz",
    roles: "open",
    summary: "200 while the api is connected to NATS, 503 otherwise (submissions are then refused with 503 too); `nats` says `credentials refused: …` when NATS stopped accepting the api's credential",
    responses: { 200: { description: "Healthy", schema: health }, 503: { description: "NATS unreachable", schema: health } },
  },
];

/** `GET /healthz`: 200 while the api can reach NATS, 503 otherwise (for load balancers and compose). */
export function healthRoute(app: FastifyInstance, ctx: ServiceContext): void {
  app.get("/healthz", async (_req, reply) => {
    if (ctx.connection.connected) return { status: "ok", nats: "connected" };
    const { authFailure } = ctx.connection;
    return reply.code(503).send({ status: "unavailable", nats: authFailure ? `credentials refused: ${authFailure}` : "disconnected" });
  });

  // While NATS is away an upload could not be stored: refuse it before reading a byte of it.
  app.addHook("onRequest", async (req) => {
    if (req.method === "POST" && !ctx.connection.connected) throw new BrocapiError(ErrorCodes.BROKER_UNAVAILABLE, BROKER_UNAVAILABLE_STATUS, { httpStatus: 503 });
  });
}
