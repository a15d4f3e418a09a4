// Last step of `npm run build`: the page's HTML, CSS and icon beside its compiled scripts, so
// dist/web is everything the api serves at / and /ui/ (and all a container image needs).
import { cpSync } from "node:fs";

cpSync("services/web/public", "dist/web", { recursive: true });
