// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner.
// Node 20's `--test` does not expand globs itself, so the list is built here.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = "dist/test";
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.js"))
  .filter((f) => process.argv.length <= 2 || process.argv.slice(2).some((pick) => f.includes(pick)))
  .map((f) => join(root, f))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
