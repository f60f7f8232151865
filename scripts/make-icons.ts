/**
 * Draws the page's app icons (web/icon-192.png, web/icon-512.png) from web/favicon.svg with the same
 * headless Chromium the page tests use, so the icons and the favicon never drift apart. Run it after
 * changing the favicon:  npx tsx scripts/make-icons.ts   (CHROMIUM_PATH overrides /usr/bin/chromium)
 */
import { readFile } from "node:fs/promises";
import { chromium } from "playwright-core";

const web = new URL("../web/", import.meta.url);
const svg = await readFile(new URL("favicon.svg", web), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  for (const size of [192, 512]) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    // Maskable: the artwork keeps to the middle 80% so launchers can crop it to any shape.
    await page.setContent(
      `<body style="margin:0;background:#d6204a;display:grid;place-items:center;width:${size}px;height:${size}px">` +
        `<div style="width:${Math.round(size * 0.8)}px;height:${Math.round(size * 0.8)}px">${svg.replace("<svg", '<svg width="100%" height="100%"')}</div></body>`,
    );
    await page.screenshot({ path: new URL(`icon-${size}.png`, web).pathname, omitBackground: false });
    await page.close();
  }
} finally {
  await browser.close();
}
