import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core never downloads a browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

/** The flags Debian's Chromium needs headless as root in a container, and nothing that phones home. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** Chromium, or a failure saying how to install it: the tests are not skipped without it. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`the web page's tests need Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Where screenshots go: BROCAPI_SCREENSHOT_DIR, else a folder under the system's temp dir. */
export async function screenshotDir(): Promise<string> {
  const dir = process.env.BROCAPI_SCREENSHOT_DIR ?? join(tmpdir(), "brocapi-screenshots");
  await mkdir(dir, { recursive: true });
  return dir;
}

const AXE_SOURCE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/**
 * axe-core's WCAG 2.1 A and AA rules (labels, names, contrast, …) on the page as it is now, or
 * only the rules named.
 */
export async function accessibilityViolations(page: Page, rules?: string[]): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ path: AXE_SOURCE });
  return page.evaluate(async (only) => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const runOnly = only ? { type: "rule", values: only } : { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] };
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly, resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, ...(n.failureSummary ? { failureSummary: n.failureSummary } : {}) })) }));
  }, rules);
}
