// Runs the benchmarks in bench/ (compiled to dist/bench): `npm run bench` runs all,
// `npm run bench -- ship 200000` or `npm run bench -- upload 256` one with its argument.
import { spawnSync } from "node:child_process";

const [which, ...args] = process.argv.slice(2);
const benches = which ? [which] : ["ship", "sinks", "upload", "cluster", "zeek-double", "split", "shards", "big-job"];
for (const name of benches) {
  console.log(`\n## bench/${name}.ts ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [`dist/bench/${name}.js`, ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
