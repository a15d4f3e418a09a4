import { HttpDouble, type DoubleAnswer, type DoubleRequest, type TlsFiles } from "./http-double.js";

/** A stored document, in arrival order across indices. */
export interface StoredDoc {
  index: string;
  id: string;
  source: Record<string, unknown>;
}

const jsonType = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/**
 * An Elasticsearch/OpenSearch `_bulk` endpoint as the vendors document it (REST API reference,
 * "Bulk API"): NDJSON action/source pairs; `create` answers 201 `created`, or 409
 * `version_conflict_engine_exception` when the `_id` exists; `errors: true` with per-item
 * `status` and `error: {type, reason}` for partial failures; 429 `es_rejected_execution_exception`
 * items when the node is overloaded (`rejectNext`); 400 `mapper_parsing_exception` when a field
 * arrives with another type than the index's dynamic mapping took from its first document.
 * Authentication (`Authorization: ApiKey …` or `Basic …`) is checked when set: 401
 * `security_exception` otherwise. While failing, the whole request gets 429 as a node answers
 * when its bulk queue is full.
 */
export class ElasticsearchDouble extends HttpDouble {
  readonly docs: StoredDoc[] = [];
  private readonly byIndex = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly mappings = new Map<string, Map<string, string>>();
  /** The next N documents are answered 429 es_rejected_execution_exception (and not stored). */
  rejectNext = 0;
  /** Requests answered, for checks of what was sent. */
  readonly requests: DoubleRequest[] = [];

  constructor(opts: { authorization?: string; tls?: TlsFiles } = {}) {
    super(
      (req) => {
        this.requests.push(req);
        if (opts.authorization && req.headers.authorization !== opts.authorization) {
          return error(401, "security_exception", "missing authentication credentials for REST request [/_bulk]");
        }
        if (req.method !== "POST" || !/^(\/[^/]+)?\/_bulk$/.test(req.path)) return error(400, "illegal_argument_exception", `no handler for ${req.method} ${req.path}`);
        return this.bulk(req.body);
      },
      { status: 429, body: JSON.stringify({ error: { root_cause: [{ type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation" }], type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation" }, status: 429 }) },
      opts.tls,
    );
  }

  private bulk(body: string): DoubleAnswer {
    if (!body.endsWith("\n")) return error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");
    const lines = body.split("\n").slice(0, -1);
    const items: unknown[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index: string; _id: string }>;
      const [op, meta] = Object.entries(action)[0]!;
      if (op !== "create" && op !== "index") return error(400, "illegal_argument_exception", `Malformed action/metadata line [${i + 1}]`);
      const source = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
      items.push({ [op]: this.store(op, meta._index, meta._id, source) });
    }
    const errors = items.some((it) => (Object.values(it as object)[0] as { status: number }).status >= 300);
    return { status: 200, body: JSON.stringify({ took: 1, errors, items }) };
  }

  private store(op: string, index: string, id: string, source: Record<string, unknown>): Record<string, unknown> {
    const head = { _index: index, _id: id };
    if (this.rejectNext > 0) {
      this.rejectNext--;
      return { ...head, status: 429, error: { type: "es_rejected_execution_exception", reason: "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0]" } };
    }
    const docs = this.byIndex.get(index) ?? new Map<string, Record<string, unknown>>();
    if (op === "create" && docs.has(id)) {
      return { ...head, status: 409, error: { type: "version_conflict_engine_exception", reason: `[${id}]: version conflict, document already exists (current version [1])`, index } };
    }
    const mapping = this.mappings.get(index) ?? new Map<string, string>();
    for (const [field, value] of Object.entries(source)) {
      const known = mapping.get(field);
      if (known && value !== null && known !== jsonType(value)) {
        return { ...head, status: 400, error: { type: "mapper_parsing_exception", reason: `failed to parse field [${field}] of type [${known}] in document with id '${id}'. Preview of field's value: '${String(value).slice(0, 20)}'` } };
      }
    }
    for (const [field, value] of Object.entries(source)) if (value !== null && !mapping.has(field)) mapping.set(field, jsonType(value));
    this.mappings.set(index, mapping);
    docs.set(id, source);
    this.byIndex.set(index, docs);
    this.docs.push({ index, id, source });
    return { ...head, _version: 1, result: "created", _shards: { total: 1, successful: 1, failed: 0 }, status: 201, _seq_no: docs.size - 1, _primary_term: 1 };
  }

  indices(): string[] {
    return [...this.byIndex.keys()].sort();
  }
}

function error(status: number, type: string, reason: string): DoubleAnswer {
  return { status, body: JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }) };
}
