// Entry point of the Zeek test double; see README.md in this directory.

import { invokeZeek } from "./invoke.js";

process.exitCode = await invokeZeek(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: () => process.stdin,
});
