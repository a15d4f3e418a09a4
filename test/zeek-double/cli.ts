// Zeek's command line, parsed the way its GNU getopt_long call does
// (options may follow arguments, short options may be bundled).

export type Invocation =
  | { readonly kind: "version" }
  | { readonly kind: "help" }
  /** Bad usage: getopt's complaint goes to stderr, then the usage text, exit 1. */
  | { readonly kind: "usage-error"; readonly message: string }
  /** A valid Zeek option the double does not emulate. */
  | { readonly kind: "unsupported"; readonly option: string }
  | {
      readonly kind: "run";
      /** `-r` argument as given ("-" is stdin), if any. */
      readonly readFile: string | undefined;
      readonly scripts: readonly string[];
      /** `Name=value` arguments, in order. */
      readonly redefs: ReadonlyMap<string, string>;
    };

// getopt prefixes its messages with argv[0]; the product runs `zeek` from PATH.
const PROG = "zeek";

/** Every Zeek 8.2.2 option: short letter (if any), long name, whether it takes an argument. */
const OPTIONS: readonly (readonly [short: string, long: string, arg: boolean])[] = [
  ["a", "parse-only", false],
  ["b", "bare-mode", false],
  ["c", "capture-unprocessed", true],
  ["d", "debug-script", false],
  ["e", "exec", true],
  ["f", "filter", true],
  ["h", "help", false],
  ["i", "iface", true],
  ["p", "prefix", true],
  ["r", "readfile", true],
  ["s", "rulefile", true],
  ["t", "tracefile", true],
  ["u", "usage-issues", false],
  ["", "no-unused-warnings", false],
  ["v", "version", false],
  ["V", "build-info", false],
  ["w", "writefile", true],
  ["C", "no-checksums", false],
  ["D", "deterministic", false],
  ["E", "event-trace", true],
  ["F", "force-dns", false],
  ["G", "load-seeds", true],
  ["H", "save-seeds", true],
  ["I", "print-id", true],
  ["N", "print-plugins", false],
  ["O", "optimize", true],
  ["0", "optimize-files", true],
  ["", "no-optimize-files", true],
  ["o", "optimize-funcs", true],
  ["", "no-optimize-funcs", true],
  ["P", "prime-dns", false],
  ["Q", "time", false],
  ["S", "debug-rules", false],
  ["T", "re-level", true],
  ["U", "status-file", true],
  ["W", "watchdog", false],
  ["X", "zeekygen", true],
  ["", "profile-scripts", false],
  ["", "profile-script-call-stacks", false],
  ["", "pseudo-realtime", false],
  ["j", "jobs", false],
  ["", "test", false],
];

/**
 * Options whose effect the double reproduces or that change nothing it
 * models: -C (it never checks checksums) and -D (uids stay random).
 */
const EMULATED = new Set(["readfile", "no-checksums", "help", "version", "deterministic"]);

const REDEF = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*=/;

interface Parsed {
  readonly long: string;
  readonly value: string | undefined;
}

export function parseArgs(argv: readonly string[]): Invocation {
  const options: Parsed[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const [name = "", inline] = arg.slice(2).split(/=(.*)/s);
      const option = OPTIONS.find(([, long]) => long === name);
      if (option === undefined) return { kind: "usage-error", message: `${PROG}: unrecognized option '--${name}'` };
      let value = inline;
      if (option[2] && value === undefined) {
        value = argv[++i];
        if (value === undefined) {
          return { kind: "usage-error", message: `${PROG}: option '--${name}' requires an argument` };
        }
      }
      options.push({ long: name, value });
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] ?? "";
      const option = OPTIONS.find(([short]) => short === letter);
      if (option === undefined) return { kind: "usage-error", message: `${PROG}: invalid option -- '${letter}'` };
      if (!option[2]) {
        options.push({ long: option[1], value: undefined });
        continue;
      }
      let value: string | undefined = arg.slice(j + 1);
      if (value === "") value = argv[++i];
      if (value === undefined) {
        return { kind: "usage-error", message: `${PROG}: option requires an argument -- '${letter}'` };
      }
      options.push({ long: option[1], value });
      break;
    }
  }

  const unsupported = options.find((o) => !EMULATED.has(o.long));
  if (unsupported !== undefined) return { kind: "unsupported", option: `--${unsupported.long}` };
  // Zeek acts on -h and -v as soon as getopt returns them.
  const first = options.find((o) => o.long === "help" || o.long === "version");
  if (first !== undefined) return { kind: first.long === "help" ? "help" : "version" };

  const redefs = new Map<string, string>();
  const scripts: string[] = [];
  for (const p of positionals) {
    const match = REDEF.exec(p);
    if (match !== null) redefs.set(match[0].slice(0, -1), p.slice(match[0].length));
    else scripts.push(p);
  }
  const readFile = options.filter((o) => o.long === "readfile").at(-1)?.value;
  return { kind: "run", readFile, scripts, redefs };
}
