import { sweepOrphans } from "../../shared/jobs/orphan-sweep.js";
import type { RunningService, ServiceContext } from "../../shared/service/context.js";
import { JobStore } from "../../shared/jobs/job-store.js";
import { startReconciler } from "./reconciler.js";
import { buildApp } from "./app.js";

/** How often leftovers of interrupted submissions are looked for: at most every 10 minutes. */
const SWEEP_EVERY_MS_MAX = 600_000;
/**
 * Added to the upload time limit before something counts as left over: the last steps of a
 * submission (job record, tasks) come after its last byte. At most the limit itself again.
 */
const SWEEP_MARGIN_MS = 60_000;

/**
 * Converts job records of the previous layout, listens on the configured address, reconciles
 * unfinished jobs from durable state (every job ends), and sweeps leftovers of interrupted uploads (an api killed mid-upload) at start and periodically. `stop` lets in-flight requests finish, then closes.
 */
export async function startApi(ctx: ServiceContext): Promise<RunningService & { url: string }> {
  const converted = await new JobStore(ctx.topology).migrateLegacyJobs();
  if (converted) ctx.log.info({ event: "jobs.migrated", jobs: converted }, "converted job records to the per-capture layout");
  const app = await buildApp(ctx);
  const url = await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  const reconciler = startReconciler(ctx);
  ctx.log.info({ event: "api.listening", url }, `api listening on ${url}`);
  const grace = ctx.config.http.uploadTimeoutMs + Math.min(SWEEP_MARGIN_MS, ctx.config.http.uploadTimeoutMs);
  const sweep = (): void => {
    if (!ctx.connection.connected) return;
    sweepOrphans(ctx.topology, grace).then(
      (r) => (r.objects || r.partialUploads) && ctx.log.info({ event: "upload.swept", ...r }, "removed leftovers of interrupted uploads"),
      (err: unknown) => ctx.log.warn({ event: "upload.sweep_failed", err: (err as Error).message }, "sweep of interrupted uploads failed"),
    );
  };
  sweep();
  const timer = setInterval(sweep, Math.min(SWEEP_EVERY_MS_MAX, Math.max(1_000, ctx.config.http.uploadTimeoutMs / 2)));
  timer.unref();
  return {
    url,
    async stop() {
      clearInterval(timer);
      reconciler.stop();
      await app.close();
    },
  };
}
