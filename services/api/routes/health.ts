import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../../shared/service/context.js";
import type { RouteDoc } from "../route-doc.js";
import { health } from "../schemas.js";

export const healthDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "200 while the api reaches NATS, 503 otherwise",
    responses: { 200: { description: "Healthy", schema: health }, 503: { description: "NATS unreachable", schema: health } },
  },
];

/** `GET /healthz`: 200 while the api can reach NATS, 503 otherwise (for load balancers and compose). */
export function healthRoute(app: FastifyInstance, ctx: ServiceContext): void {
  app.get("/healthz", async (_req, reply) => {
    const connected = !ctx.nc.isClosed() && !ctx.nc.isDraining() && ctx.nc.getServer() !== "";
    try {
      if (!connected) throw new Error("closed");
      await ctx.nc.flush();
      return { status: "ok", nats: "connected" };
    } catch {
      return reply.code(503).send({ status: "unavailable", nats: "disconnected" });
    }
  });
}
