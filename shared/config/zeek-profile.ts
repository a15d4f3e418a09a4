import { z } from "zod";

/** A profile's name: what a job sends as `profile=`, so nothing but a short plain word. */
export const PROFILE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
/** The profile of a job that names none: `zeek.scripts`, unless `zeek.profiles` defines it. */
export const DEFAULT_PROFILE = "default";

/**
 * A script as Zeek takes it on its command line: a name on ZEEKPATH (`local`,
 * `policy/protocols/conn/vlan-logging`) or a path. Never starting with `-` (Zeek would read an
 * option) and without `=` (Zeek would read a redef).
 */
export const SCRIPT_NAME = /^[A-Za-z0-9_./][A-Za-z0-9_./+-]*$/;
/** A Zeek identifier, module-qualified or not (`Site::local_nets`, `udp_inactivity_timeout`). */
const OPTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Printable text only: the value is one argument of Zeek's argv (no shell), a Zeek expression to Zeek. */
const OPTION_VALUE = /^[\x20-\x7e]{1,256}$/;
/** Options Brocapi sets itself: a profile may not change how the logs it reads are written. */
const RESERVED_OPTIONS = new Set(["LogAscii::use_json"]);

export const scriptList = z.array(z.string().regex(SCRIPT_NAME, "a Zeek script name or path (letters, digits, _ . / + -; not starting with -)"));

export const zeekProfileSchema = z.object({
  scripts: scriptList.default([]).describe("Scripts after `zeek -C -r -`, in order."),
  options: z
    .record(z.string(), z.string().regex(OPTION_VALUE, "printable text of 1 to 256 characters"))
    // Checked here rather than as the record's key schema, whose failures zod reports without the reason.
    .superRefine((options, ctx) => {
      for (const name of Object.keys(options)) {
        if (!OPTION_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "not a Zeek identifier such as Site::local_nets" });
        else if (RESERVED_OPTIONS.has(name)) ctx.addIssue({ code: "custom", path: [name], message: "is set by Brocapi itself (zeek.format)" });
      }
    })
    .default({})
    .describe("`Name=value` arguments after the scripts (Zeek's command-line redefs), in order."),
  description: z.string().max(200).optional().describe("Shown to people choosing a profile."),
});

export type ZeekProfile = z.output<typeof zeekProfileSchema>;

/**
 * Profiles every install has unless `zeek.profiles` is set: `minimal` is Zeek's base scripts
 * only (real Zeek 8.2.2 then writes conn, files, http, dns… but none of `local`'s
 * loaded_scripts, stats, capture_loss, notice, known_*, software); `full` is `local` plus the
 * conn.log extras Zeek ships off (link-layer addresses, VLAN tags, community ID).
 */
export const BUILT_IN_PROFILES: Readonly<Record<string, ZeekProfile>> = {
  minimal: { scripts: [], options: {}, description: "Zeek's base scripts only: protocol logs, no local site policy" },
  full: {
    scripts: ["local", "policy/protocols/conn/mac-logging", "policy/protocols/conn/vlan-logging", "policy/protocols/conn/community-id-logging"],
    options: {},
    description: "local, plus MAC addresses, VLAN tags and the community ID in conn.log",
  },
};

export const profilesSchema = z
  .record(z.string(), zeekProfileSchema)
  .superRefine((profiles, ctx) => {
    for (const name of Object.keys(profiles)) {
      if (!PROFILE_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "not a profile name (lower-case letters, digits, _ or -, starting with a letter; at most 32)" });
    }
  })
  .default(() => structuredClone(BUILT_IN_PROFILES) as Record<string, ZeekProfile>)

/** Zeek's arguments after `-C -r -` for a profile: its scripts, then its options as `Name=value`. */
export function profileArgs(profile: Pick<ZeekProfile, "scripts" | "options">): string[] {
  return [...profile.scripts, ...Object.entries(profile.options).map(([name, value]) => `${name}=${value}`)];
}
