import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * A real browser for the web UI's end-to-end tests: Debian's Chromium (`/usr/bin/chromium`, which
 * `.ci/run` installs) driven by playwright-core. `audit` runs axe-core in the page and returns the
 * serious and critical violations; `shoot` writes a screenshot of the page to docs/screenshots/.
 */
export const CHROMIUM = process.env.GIMO_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = resolve(import.meta.dirname, "../../docs/screenshots");
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
}

/** A fresh browser context (its own sessionStorage) that records CSP violations and page errors. */
export async function newSession(browser: Browser, baseURL: string, viewport = DESKTOP) {
  const context: BrowserContext = await browser.newContext({ baseURL, viewport, colorScheme: "light" });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text()))
      problems.push(msg.text());
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  // An admin lands on the setup wizard, which steps aside to the board once setup is done: wait
  // until the landing page has settled before the test clicks anywhere.
  await page.waitForFunction(
    () => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's globals
      const doc = (globalThis as any).document;
      const auto = doc.location.search.includes("auto=1");
      return (
        doc.querySelector("main h1") !== null &&
        (!auto || doc.querySelector("main h1").textContent === "Set up GIMO")
      );
    },
    undefined,
    { timeout: 20_000 },
  );
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: number;
}

/**
 * axe-core's serious and critical violations on the page as it is now. The script is evaluated
 * through the DevTools protocol, which the page's CSP does not govern (an injected script tag
 * would be refused — as it should be).
 */
export async function audit(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${AXE}\n;0`);
  return page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe and document are the page's globals
    const page = globalThis as any;
    const result = await page.axe.run(page.document, { resultTypes: ["violations"] });
    return (result.violations as { id: string; impact: string; help: string; nodes: unknown[] }[])
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

/** Writes docs/screenshots/<name>-<desktop|phone>.png at both widths, then restores the viewport. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  for (const [label, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    await page.setViewportSize(size);
    // biome-ignore lint/suspicious/noExplicitAny: the page's globals
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: label === "desktop" });
  }
  await page.setViewportSize(before);
}
