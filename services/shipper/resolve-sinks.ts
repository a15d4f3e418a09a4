import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { SinkInstance } from "../../shared/config/sink-instance.js";
import { ConfigError } from "../../shared/errors.js";
import { pluginApi } from "./plugin-api.js";
import { SINKS } from "./sinks/registry.js";
import type { SinkFactory, SinkFormat } from "./sinks/sink.js";

/** A sink instance ready to build: its factory, its options checked by the factory's schema, its format. */
export interface ResolvedSink {
  instance: SinkInstance;
  factory: SinkFactory;
  options: unknown;
  format: SinkFormat;
}

const isPath = (s: string): boolean => s.startsWith(".") || isAbsolute(s);

function isFactory(x: unknown): x is SinkFactory {
  const f = x as Partial<SinkFactory> | null;
  return typeof f === "object" && f !== null && typeof f.kind === "string" && typeof f.create === "function" && typeof f.optionsSchema?.safeParse === "function";
}

/**
 * Loads a sink kind from outside the repository: a module path (relative to the config file) or a
 * package name (installed beside Brocapi, or beside the config file). The module exports, as
 * `default` or `sink`, a SinkFactory or a function that takes the plugin API and returns one.
 */
export async function loadPlugin(specifier: string, baseDir: string, where: string): Promise<SinkFactory> {
  let mod: Record<string, unknown>;
  try {
    if (isPath(specifier)) mod = await import(pathToFileURL(resolve(baseDir, specifier)).href);
    else mod = await import(specifier).catch(() => import(pathToFileURL(createRequire(join(baseDir, "brocapi.config")).resolve(specifier)).href));
  } catch (cause) {
    throw new ConfigError(`Invalid configuration:\n  - ${where}: cannot load sink plugin ${specifier}: ${(cause as Error).message}`, cause);
  }
  const exported = mod.default ?? mod.sink;
  const factory = typeof exported === "function" ? (exported as (api: typeof pluginApi) => unknown)(pluginApi) : exported;
  if (!isFactory(factory)) {
    throw new ConfigError(`Invalid configuration:\n  - ${where}: ${specifier} does not export a sink factory (default or \`sink\`: { kind, optionsSchema, create }, or a function returning one)`);
  }
  return { ...factory, formats: factory.formats ?? ["as-written", "json"] };
}

/**
 * Every configured instance with its factory (built in, or a plugin loaded now) and its options
 * validated by that factory's schema. All problems of all instances are reported together, in
 * the words loadConfig uses: the source, the setting's path, what is wrong.
 */
export async function resolveSinks(instances: readonly SinkInstance[]): Promise<ResolvedSink[]> {
  const problems: string[] = [];
  const out: ResolvedSink[] = [];
  for (const instance of instances) {
    const at = (path: string): string => `${instance.source} (sinks.${instance.name}${path})`;
    let factory: SinkFactory | undefined;
    if (instance.plugin) factory = await loadPlugin(instance.plugin, instance.baseDir, at(".plugin"));
    else factory = SINKS.get(instance.kind);
    if (!factory) {
      problems.push(`${at(".kind")}: unknown sink kind ${instance.kind}; built in: ${[...SINKS.keys()].join(", ")} (or name a module with \`plugin\`)`);
      continue;
    }
    const parsed = factory.optionsSchema.safeParse(instance.options);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${at([".options", ...issue.path.map(String)].join("."))}: ${issue.message}`);
      continue;
    }
    const format = instance.format ?? factory.formats[0];
    if (!factory.formats.includes(format)) {
      problems.push(`${at(".format")}: the ${factory.kind} sink takes ${factory.formats.join(" or ")}, not ${format}`);
      continue;
    }
    out.push({ instance: { ...instance, kind: factory.kind }, factory, options: parsed.data, format });
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return out;
}
