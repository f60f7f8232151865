import { existsSync } from "node:fs";
import { it } from "node:test";

/** The Chromium to drive: CHROMIUM_PATH, else Debian's; `CHROMIUM_PATH=none` runs without one. */
export const CHROMIUM =
  process.env.CHROMIUM_PATH === "none"
    ? undefined
    : [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
        (path): path is string => Boolean(path && existsSync(path)),
      );
export const ARTIFACTS = new URL("../../artifacts/", import.meta.url);

if (!CHROMIUM)
  console.warn(
    "\n!!! No Chromium found: the web page tests are SKIPPED. Install Debian's chromium (CI does).\n",
  );

/** Each test is skipped without Chromium, so that the runner's count shows them (a skipped suite counts 0). */
export const pageTest = (name: string, test: () => Promise<void>) =>
  it(name, { skip: CHROMIUM ? false : "no Chromium installed" }, test);

/** Chromium's launch options here: no sandbox (root in CI), no GPU, no calls home. */
export const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/**
 * A service listening on a free port for the page tests, and Chromium to drive it (with LAUNCH_ARGS);
 * the screenshots' folder made. `close()` closes both.
 */
export async function startPageStack(env: Record<string, string>) {
  const { startStack } = await import("../helpers.js");
  const { chromium } = await import("playwright-core");
  const { mkdir } = await import("node:fs/promises");
  const stack = await startStack({ fake: { waf: false }, env });
  await stack.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = stack.app.server.address() as import("node:net").AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    stack,
    base: `http://127.0.0.1:${port}`,
    browser,
    async close() {
      await browser.close();
      await stack.close();
    },
  };
}
