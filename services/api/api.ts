import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { buildApp } from "./app.js";

/** Listens on the configured address; `stop` lets in-flight uploads finish, then closes. */
export async function startApi(ctx: ServiceContext): Promise<RunningService & { url: string }> {
  const app = await buildApp(ctx);
  const url = await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  ctx.log.info({ event: "api.listening", url }, `api listening on ${url}`);
  return {
    url,
    async stop() {
      await app.close();
    },
  };
}
