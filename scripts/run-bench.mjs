// Runs the benchmarks in bench/ (compiled to dist/bench): `npm run bench` runs all,
// `npm run bench -- ship 200000` or `npm run bench -- upload 256` one with its argument.
import { spawnSync } from "node:child_process";

const [which, ...args] = process.argv.slice(2);
const benches = which ? [which] : ["ship", "sinks", "upload", "cluster", "zeek-double", "split", "shards", "big-job"];
for (const name of benches) {
  console.log(`\n## bench/${name}.ts ${args.join(" ")}`);
  // With the services' heap flag (package.json): a bench moving capture bytes through its own small
  // heap fell into the same back-to-back full collections as the api without it, and its rows
  // measured V8 more than the code (the upload bench's Node client: 7 CPU s/GiB instead of 1.8).
  const r = spawnSync(process.execPath, ["--initial-old-space-size=64", `dist/bench/${name}.js`, ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
