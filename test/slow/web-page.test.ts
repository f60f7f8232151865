import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import type { Browser } from "playwright-core";
import { SAMPLE_PROFILES } from "../fakes/profiles.js";
import { patternByte, SAMPLE_IDS } from "../fakes/tiktok.js";
import { startStack } from "../helpers.js";
import { ARTIFACTS, CHROMIUM, pageTest, startPageStack } from "../support/browser.js";

describe("the web page in a real browser", () => {
  let base: string;
  let browser: Browser;
  let pageStack: Awaited<ReturnType<typeof startPageStack>> | undefined;

  before(async () => {
    if (!CHROMIUM) return;
    pageStack = await startPageStack({ STREAM_SECRET: "web-page-test-secret-0123456789" });
    ({ base, browser } = pageStack);
  });
  after(() => pageStack?.close());

  pageTest("previews a pasted link and downloads the file through the tunnel", async () => {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 420, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(base);
    await page.screenshot({ path: new URL("web-empty.png", ARTIFACTS).pathname, fullPage: true });
    await page
      .getByLabel("TikTok links")
      .fill(`https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}?lang=en`);
    await page.getByRole("button", { name: "Get downloads" }).click();
    const card = page.locator(`article[data-id="${SAMPLE_IDS.video}"]`);
    await card.waitFor();
    assert.match(await card.locator(".caption").innerText(), /one-pan lemon pasta/);
    assert.match(await card.locator(".author").innerText(), /River Cooks 🍋 · @river\.cooks/);
    assert.match(await card.locator(".facts").innerText(), /Duration[\s:]*0:31/);
    for (const label of ["Without watermark", "HD", "With watermark", "Audio"])
      assert.equal(await card.getByRole("link", { name: label, exact: true }).count(), 1, label);
    // The cover comes through the tunnel, so it loads even though TikTok's CDN is not reachable.
    await page.waitForFunction("(document.querySelector('img.thumb')?.naturalWidth ?? 0) > 0");
    await page.screenshot({ path: new URL("web-preview.png", ARTIFACTS).pathname, fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByRole("link", { name: "Without watermark", exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `tiktok_river.cooks_${SAMPLE_IDS.video}.mp4`);
    const saved = new URL(`download-${SAMPLE_IDS.video}.mp4`, ARTIFACTS).pathname;
    await download.saveAs(saved);
    const bytes = await readFile(saved);
    assert.equal(bytes.length, 1_048_576);
    for (let i = 0; i < bytes.length; i += 4099) assert.equal(bytes[i], patternByte(i));
    assert.deepEqual(errors, []);
    await context.close();
  });

  pageTest("offers a photo post as one ZIP", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(base);
    await page
      .getByLabel("TikTok links")
      .fill(`https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`);
    await page.getByRole("button", { name: "Get downloads" }).click();
    const card = page.locator(`article[data-id="${SAMPLE_IDS.photo}"]`);
    await card.waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByRole("link", { name: "All as ZIP", exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `tiktok_trail.notes_${SAMPLE_IDS.photo}.zip`);
    const saved = new URL(`download-${SAMPLE_IDS.photo}.zip`, ARTIFACTS).pathname;
    await download.saveAs(saved);
    // A ZIP starts with a local file header.
    assert.equal((await readFile(saved)).subarray(0, 4).toString("hex"), "504b0304");
    await context.close();
  });

  for (const viewport of [
    { name: "desktop", width: 1280, height: 900 },
    { name: "phone", width: 390, height: 844 },
  ])
    pageTest(`shows a profile's owner and a grid of its posts, loading more (${viewport.name})`, async () => {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(base);
      await page.getByLabel("TikTok links").fill("https://www.tiktok.com/@grid.maker");
      await page.getByRole("button", { name: "Get downloads" }).click();
      const tiles = page.locator("article.tile");
      await tiles.nth(29).waitFor();
      assert.match(
        await page.locator(".list-header").innerText(),
        /grid maker[\s\S]*@grid\.maker · 130 posts/,
      );
      const first = SAMPLE_PROFILES.get("grid.maker")?.posts[0];
      assert.equal(await tiles.first().getAttribute("data-id"), first?.id);
      assert.match(await tiles.first().locator(".meta").innerText(), /^Video · /);
      assert.ok(
        (await page.locator('article.tile .meta:text-is("Photo")').count()) +
          (await page.locator("article.tile .meta", { hasText: "Photo ·" }).count()) >
          0,
      );
      await page.screenshot({ path: new URL(`web-list-${viewport.name}.png`, ARTIFACTS).pathname });
      await page.getByRole("button", { name: "More" }).click();
      await tiles.nth(59).waitFor();
      assert.match(await page.locator(".list .status").innerText(), /60 posts shown|9\d posts shown/);
      await tiles.first().getByRole("button", { name: "Downloads" }).click();
      await tiles.first().getByRole("link", { name: "Without watermark", exact: true }).waitFor();
      const columns = Number(
        await page.evaluate(
          "getComputedStyle(document.querySelector('.grid')).gridTemplateColumns.split(' ').length",
        ),
      );
      assert.ok(viewport.name === "phone" ? columns === 2 : columns >= 3, `${columns} columns`);
      assert.deepEqual(errors, []);
      await context.close();
    });

  pageTest("'Download all shown' saves the posts one after another", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel("TikTok links").fill("https://www.tiktok.com/@tiny.list");
    await page.getByRole("button", { name: "Get downloads" }).click();
    await page.locator("article.tile").nth(3).waitFor();
    const names: string[] = [];
    page.on("download", (download) => names.push(download.suggestedFilename()));
    await page.getByRole("button", { name: /^Download all \d+ shown/ }).click();
    await page.locator(".list .status", { hasText: "4 of 4 downloads started" }).waitFor();
    await page.waitForTimeout(300);
    const posts = SAMPLE_PROFILES.get("tiny.list")?.posts ?? [];
    assert.deepEqual(
      names.sort(),
      posts.map((post) => `tiktok_tiny.list_${post.id}.${post.photo ? "zip" : "mp4"}`).sort(),
    );
    await context.close();
  });

  pageTest(
    "looks a pasted share message up once, with the main download as the primary button and a paste button",
    async () => {
      const context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"] });
      const page = await context.newPage();
      await page.goto(base);
      await page.evaluate(
        "navigator.clipboard.writeText('look at this https://vm.tiktok.com/ZMriver01/ lol 😂')",
      );
      // The clipboard answers a focused page only.
      await page.bringToFront();
      await page.getByLabel("TikTok links").focus();
      await page.getByRole("button", { name: "Paste" }).click();
      await page.waitForFunction("document.getElementById('links').value !== ''", undefined, {
        timeout: 5_000,
      });
      assert.match(
        await page.getByLabel("TikTok links").inputValue(),
        /^look at this https:\/\/vm\.tiktok\.com\/ZMriver01\/ lol/,
      );
      await page.getByRole("button", { name: "Get downloads" }).click();
      const card = page.locator(`article[data-id="${SAMPLE_IDS.video}"]`);
      await card.waitFor();
      assert.equal(await page.locator("article.card").count(), 1, "one lookup, not one per word");
      assert.equal(await page.getByRole("alert").count(), 0);
      const main = card.getByRole("link", { name: "Without watermark", exact: true });
      assert.match(String(await main.getAttribute("class")), /\bprimary\b/);
      assert.match(
        String(await card.getByRole("link", { name: "Audio", exact: true }).getAttribute("class")),
        /\bsecondary\b/,
      );
      await context.close();
    },
  );

  pageTest("asks for an API key when the server requires one, and keeps it in the browser", async () => {
    const folder = await mkdtemp(join(tmpdir(), "tiktok-dl-web-keys-"));
    const key = randomUUID();
    const keys = join(folder, "keys.json");
    await writeFile(keys, JSON.stringify({ [key]: { name: "web" } }));
    const locked = await startStack({
      fake: { waf: false },
      env: { API_KEYS_FILE: keys, API_AUTH_REQUIRED: "1", STREAM_SECRET: "web-page-test-secret-0123456789" },
    });
    try {
      await locked.app.listen({ port: 0, host: "127.0.0.1" });
      const lockedBase = `http://127.0.0.1:${(locked.app.server.address() as AddressInfo).port}`;
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(lockedBase);
      const link = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
      await page.getByLabel("TikTok links").fill(link);
      await page.getByRole("button", { name: "Get downloads" }).click();
      await page.getByRole("alert").waitFor();
      assert.match(await page.getByRole("alert").innerText(), /needs an API key/);
      await page.getByLabel("API key").fill(key);
      await page.getByRole("button", { name: "Save key" }).click();
      await page.getByRole("button", { name: "Get downloads" }).click();
      await page.locator(`article[data-id="${SAMPLE_IDS.video}"]`).waitFor();
      await page.reload();
      await page.getByLabel("TikTok links").fill(link);
      await page.getByRole("button", { name: "Get downloads" }).click();
      await page.locator(`article[data-id="${SAMPLE_IDS.video}"]`).waitFor();
      assert.equal(await page.getByLabel("API key").count(), 0, "the kept key is used without asking again");
      await context.close();
    } finally {
      await locked.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  pageTest("shows the API's message for a bad link, and works from the keyboard", async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page
      .getByLabel("TikTok links")
      .fill("https://evil.test/@x/video/1\nhttps://www.tiktok.com/@river.cooks/video/7478545426949232344");
    await page.keyboard.press("Control+Enter");
    const alerts = page.getByRole("alert");
    await alerts.nth(1).waitFor();
    assert.match(await alerts.nth(0).innerText(), /This is not a TikTok link \(evil\.test\)/);
    assert.doesNotMatch(await alerts.nth(0).innerText(), /"url" field/, "plain words, not the API's jargon");
    assert.match(await alerts.nth(1).innerText(), /removed/);
    assert.match(await page.locator("#status").innerText(), /0 ready, 2 failed/);
    await page.screenshot({ path: new URL("web-errors.png", ARTIFACTS).pathname, fullPage: true });
    await page.close();
  });
});
