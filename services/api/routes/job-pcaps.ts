import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ErrorCodes } from "../../../shared/errors.js";
import { JobStore } from "../../../shared/jobs/job-store.js";
import { capturePage } from "../../../shared/jobs/job-status.js";
import type { FileRecord, JobHeader } from "../../../shared/jobs/job-record.js";
import { getObject } from "../../../shared/objects/get-object.js";
import type { ServiceContext } from "../../../shared/service/context.js";
import { notFound, parseRequest, type RouteDoc } from "../route-doc.js";
import { failure, pcapParams } from "../schemas.js";

export const jobPcapsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/jobs/{id}/pcaps/{name}",
    summary: "The original upload, streamed from the object store, by file name or index",
    roles: ["read"],
    params: pcapParams,
    responses: {
      200: { description: "The capture", content: "application/vnd.tcpdump.pcap" },
      404: { description: "No such job or capture, or the capture has expired", schema: failure },
    },
  },
];

/** The first capture of a job with this name, found page by page with the captures listing's name filter. */
async function captureNamed(jobs: JobStore, job: JobHeader, name: string): Promise<FileRecord | undefined> {
  for (let cursor: string | null = "0"; cursor !== null; ) {
    const page = await capturePage(jobs, job, { prefix: name, cursor: Number(cursor), limit: 100 });
    const found = page.captures.find((f) => f.name === name);
    if (found) return found;
    cursor = page.next_cursor;
  }
  return undefined;
}

export function jobPcapsRoute(app: FastifyInstance, ctx: ServiceContext): void {
  const jobs = new JobStore(ctx.topology);
  app.get("/jobs/:id/pcaps/:name", async (req, reply) => {
    const { id, name } = parseRequest(pcapParams, req.params);
    const job = await jobs.header(id);
    if (!job) throw notFound(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`);
    // An index names one capture exactly even when two files of a job share a name.
    const file = /^\d+$/.test(name) ? await jobs.capture(id, Number(name)) : await captureNamed(jobs, job, name);
    if (!file) throw notFound(ErrorCodes.PCAP_NOT_FOUND, `job ${id} has no capture ${name}`);
    const object = await getObject(ctx.topology.pcapBucket, file.object);
    if (!object) throw notFound(ErrorCodes.PCAP_NOT_FOUND, `capture ${file.name} of job ${id} is no longer stored (deleted or expired)`);
    return reply
      .type("application/vnd.tcpdump.pcap")
      .header("content-length", file.size)
      .header("content-disposition", `attachment; filename="${encodeURIComponent(file.name)}"`)
      .send(Readable.from(object.data, { objectMode: false }));
  });
}
