// Last step of `npm run build`: the page's HTML, CSS and icon beside its compiled scripts, so
// dist/web is everything the api serves at / and /ui/ (and all a container image needs).
// A file is written only when its bytes changed, and then whole (renamed into place), as the
// page's scripts are emitted only when changed (incremental tsc): a build while an api serves
// dist/web (`npm start` in the test suite, beside the page's own test) never lets a request read
// a file that its rewrite had just cut to nothing.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function copyChanged(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      copyChanged(source, target);
      continue;
    }
    const bytes = readFileSync(source);
    let current = null;
    try {
      current = readFileSync(target);
    } catch {
      // Not there yet.
    }
    if (current?.equals(bytes)) continue;
    writeFileSync(`${target}.tmp`, bytes);
    renameSync(`${target}.tmp`, target);
  }
}

copyChanged("services/web/public", "dist/web");
