/**
 * A real headless browser for dashboard tests: Debian's chromium driven by
 * playwright-core (a browser download cannot work here), with a fresh
 * profile each time.
 */
import { chromium } from "playwright-core";
import type { Browser, BrowserContext } from "playwright-core";

/** Where the system browser is (CI installs Debian's `chromium`). */
export const CHROMIUM = Deno.env.get("BATON_CHROMIUM") ?? "/usr/bin/chromium";

/** The flags the machines need (no sandbox in containers, nothing from the network). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with its own profile directory; `close()` removes both. */
export async function launch(): Promise<{ context: BrowserContext; close(): Promise<void>; browser: Browser | null }> {
  const profile = await Deno.makeTempDir({ prefix: "baton-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    browser: context.browser(),
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
