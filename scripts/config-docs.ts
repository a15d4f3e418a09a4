// Writes docs/CONFIGURATION.md from the config schema (npm run docs:config).
import { writeFileSync } from "node:fs";
import { configurationMarkdown } from "../shared/config/describe.js";

writeFileSync("docs/CONFIGURATION.md", configurationMarkdown());
console.log("wrote docs/CONFIGURATION.md");
