import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../../../shared/service/context.js";

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
