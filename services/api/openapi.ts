import { z } from "zod";
import type { RouteDoc } from "./route-doc.js";
import { DEFAULT_PROFILE } from "../../shared/config/zeek-profile.js";

type Json = Record<string, unknown>;

function parameters(schema: z.ZodObject | undefined, where: "path" | "query"): Json[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: "input" }) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    description: s.description,
    schema: { ...s, description: undefined },
  }));
}

/** What a route refused for want of a token or a role answers, in the API's error shape. */
const AUTH_RESPONSES = (failure: z.ZodType): RouteDoc["responses"] => ({
  401: { description: "No usable API token (missing, another scheme, malformed, unknown or revoked); `WWW-Authenticate: Bearer`", schema: failure },
  403: { description: "The token lacks the role, or (submissions) the tag is outside its tag scope", schema: failure },
});

/**
 * What a route with path, query or body fields answers when one fails its schema (parseRequest),
 * unless the route says more itself: derived from the fields, so no route can leave it out.
 */
const BAD_REQUEST = (failure: z.ZodType): RouteDoc["responses"] => ({
  400: { description: "A path, query or body field its schema refuses (`status` names the field and why)", schema: failure },
});

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. Routes
 * with roles declare the bearer scheme; open ones declare none.
 */
export function openApiDocument(routes: readonly RouteDoc[], version: string, failure: z.ZodType, profiles: readonly string[]): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const responses: Json = {};
    const roles = r.roles === "open" ? null : r.roles;
    const validated = r.params ?? r.query ?? r.body;
    for (const [status, res] of Object.entries({ ...(validated ? BAD_REQUEST(failure) : {}), ...r.responses, ...(roles ? AUTH_RESPONSES(failure) : {}) })) {
      responses[status] = {
        description: res.description,
        content: res.schema ? { "application/json": { schema: z.toJSONSchema(res.schema, { io: "output", unrepresentable: "any" }) } } : { [res.content ?? "application/octet-stream"]: {} },
      };
    }
    paths[r.path] = {
      ...(paths[r.path] ?? {}),
      [r.method]: {
        summary: r.summary,
        ...(roles ? { description: `Needs an API token with the role ${roles.join(" or ")} (or admin) when the api has tokens.` } : {}),
        security: roles ? [{ bearer: [] }] : [],
        parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
        ...(r.path === "/submit/pcap"
          ? {
              requestBody: {
                required: true,
                content: {
                  "multipart/form-data": {
                    schema: {
                      type: "object",
                      properties: {
                        "file[]": { type: "array", items: { type: "string", format: "binary" }, description: "Captures (pcap or pcapng); `file` is accepted too" },
                        tag: { type: "string", description: "Tag: the syslog HOSTNAME of every line of the job" },
                        profile: {
                          type: "string",
                          enum: profiles,
                          default: DEFAULT_PROFILE,
                          description: "Analysis profile: which of this server's `zeek.profiles` (Zeek scripts and `Name=value` options) analyses the job's captures; any other name is refused (400, nothing stored)",
                        },
                        merge: {
                          type: "boolean",
                          default: false,
                          description: "The captures are one recording cut into files (tcpdump -C/-G, rotated sensor files): Zeek analyses them as one capture, merged in packet-time order. They must share one link type (else 400, nothing stored)",
                        },
                      },
                    },
                  },
                },
              },
            }
          : r.body
            ? { requestBody: { required: true, content: { "application/json": { schema: z.toJSONSchema(r.body, { io: "input" }) } } } }
            : {}),
        responses,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Brocapi", version, description: "PCAPs in over HTTP, Zeek logs out to syslog, directories and more, through NATS JetStream." },
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token from `brocapi token create`, listed by its SHA-256 in BROCAPI_AUTH_TOKENS_FILE" } } },
  };
}
