import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import type { Browser, Page } from "playwright-core";
import { SAMPLE_IDS } from "../fakes/tiktok.js";
import { CHROMIUM, pageTest, startPageStack } from "../support/browser.js";

const GRID = "https://www.tiktok.com/@grid.maker";

/** The page's globals, for functions Playwright runs in the page (these tests are typed without the DOM). */
type InPage = {
  document: { querySelectorAll(selector: string): ArrayLike<unknown> & Iterable<{ complete: boolean }> };
};

/** Opens a list in the page and shows at least `count` tiles (More pressed as needed). */
async function showTiles(page: Page, base: string, link: string, count: number) {
  await page.goto(base);
  await page.getByLabel("TikTok links").fill(link);
  await page.getByRole("button", { name: "Get downloads" }).click();
  await page.locator("article.tile").first().waitFor();
  while ((await page.locator("article.tile").count()) < count) {
    const before = await page.locator("article.tile").count();
    await page.locator("button.more").click();
    await page.waitForFunction(
      (n) => (globalThis as unknown as InPage).document.querySelectorAll("article.tile").length > n,
      before,
    );
  }
}

/** The page with the instance's default limits: 60 lookups a minute, four running downloads a client. */
describe("the web page within the instance's own limits", () => {
  let base: string;
  let browser: Browser;
  let pageStack: Awaited<ReturnType<typeof startPageStack>> | undefined;
  before(async () => {
    if (!CHROMIUM) return;
    pageStack = await startPageStack({ RATE_LIMIT: "60", STREAM_SECRET: "page-limits-secret-0123456789ab" });
    ({ base, browser } = pageStack);
  });
  after(() => pageStack?.close());

  pageTest("a failed More keeps the grid and offers to try again", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await showTiles(page, base, GRID, 30);
    const shown = await page.locator("article.tile").count();
    await page.route("**/api/list?*cursor=*", (route) =>
      route.fulfill({
        status: 502,
        contentType: "application/json",
        body: JSON.stringify({ error: "Every source failed.", code: "ALL_SOURCES_FAILED" }),
      }),
    );
    await page.locator("button.more").click();
    await page.locator(".list .status", { hasText: "Could not load more" }).waitFor();
    assert.equal(await page.locator("article.tile").count(), shown, "the grid stays");
    assert.equal(await page.locator("article.card.error").count(), 0);
    await page.unroute("**/api/list?*cursor=*");
    await page.getByRole("button", { name: "Try again" }).click();
    await page.waitForFunction(
      (n) => (globalThis as unknown as InPage).document.querySelectorAll("article.tile").length > n,
      shown,
    );
    await context.close();
  });

  pageTest("every cover of the 130-post grid loads", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    // A CDN's latency: covers are held open together, as on the real site.
    (pageStack as NonNullable<typeof pageStack>).stack.fake.imageDelayMs = 250;
    await showTiles(page, base, GRID, 130);
    const thumbs = page.locator("article.tile img.thumb");
    const count = await thumbs.count();
    assert.equal(count, 130);
    for (let index = 0; index < count; index += 6) await thumbs.nth(index).scrollIntoViewIfNeeded();
    await page.locator("article.tile").last().scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () =>
        [...(globalThis as unknown as InPage).document.querySelectorAll("article.tile img.thumb")].every(
          (img) => img.complete,
        ),
      undefined,
      { timeout: 30_000 },
    );
    const broken = await page.evaluate(
      '[...document.querySelectorAll("article.tile img.thumb")].filter((img) => img.naturalWidth === 0).length',
    );
    assert.equal(broken, 0, "no broken cover");
    assert.equal(await thumbs.first().getAttribute("loading"), "lazy");
    (pageStack as NonNullable<typeof pageStack>).stack.fake.imageDelayMs = 0;
    await context.close();
  });

  pageTest(
    "'Download all shown' saves all 90 tiles within the limits, and the next lookup is answered",
    async () => {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      await showTiles(page, base, GRID, 90);
      assert.equal(await page.locator("article.tile").count(), 90);
      const names = new Set<string>();
      page.on("download", (download) => names.add(download.suggestedFilename()));
      await page.getByRole("button", { name: /^Download all 90 shown/ }).click();
      await page
        .locator(".list .status", {
          hasText: /^(Waiting \d+ s: the server's limit\.|90 of 90 downloads started)/,
        })
        .first()
        .waitFor({ timeout: 120_000 });
      await page
        .locator(".list .status", { hasText: "90 of 90 downloads started" })
        .waitFor({ timeout: 240_000 });
      await page.waitForTimeout(500);
      assert.equal(names.size, 90, "every tile's file was saved, each under its own name");
      assert.equal(await page.locator("article.tile .message[role=alert]").count(), 0);
      await page
        .getByLabel("TikTok links")
        .fill(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`);
      await page.getByRole("button", { name: "Get downloads" }).click();
      await page.locator(`article[data-id="${SAMPLE_IDS.video}"]`).waitFor({ timeout: 10_000 });
      await context.close();
    },
  );

  pageTest(
    "on a phone: labels with their values, a small bar, no keyboard hint, the Follow note at hand, words in its language",
    async () => {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        locale: "id-ID",
        permissions: ["clipboard-read", "clipboard-write"],
      });
      const page = await context.newPage();
      await page.goto(base);
      assert.doesNotMatch(await page.locator("#links-help").innerText(), /Ctrl/);
      assert.match(
        String(await page.locator('meta[name="description"]').getAttribute("content")),
        /Tempel tautan TikTok/,
      );
      await page.locator("#links").fill(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`);
      await page.locator("#go").click();
      await page.locator(".facts div").first().waitFor();
      const split = await page.evaluate(
        `[...document.querySelectorAll(".facts div")].filter((pair) => {
        const label = pair.querySelector("dt").getBoundingClientRect();
        const value = pair.querySelector("dd").getBoundingClientRect();
        return Math.abs(label.top - value.top) > 2;
      }).length`,
      );
      assert.equal(split, 0, "no label apart from its value");
      await page.locator("#links").fill(GRID);
      await page.locator("#go").click();
      await page.locator("article.tile").nth(20).waitFor();
      await page.locator("article.tile").nth(20).scrollIntoViewIfNeeded();
      const bar = await page.locator(".list-actions").boundingBox();
      assert.ok(bar && bar.height <= 844 / 6, `the bar is ${bar?.height} px high`);
      await page.locator("button.follow").click();
      const note = page.locator(".follow-note");
      await note.waitFor({ state: "visible" });
      const [button, shown] = [await page.locator("button.follow").boundingBox(), await note.boundingBox()];
      assert.ok(
        button && shown && Math.abs(shown.y - (button.y + button.height)) < 200,
        "the note is by the button",
      );
      assert.ok(shown && shown.y >= 0 && shown.y < 844, "and on the screen");
      await context.close();
    },
  );
});
