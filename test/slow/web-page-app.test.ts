import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { SAMPLE_IDS } from "../fakes/tiktok.js";
import { ARTIFACTS, CHROMIUM, LAUNCH_ARGS, pageTest, startPageStack } from "../support/browser.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
/** The page's own plain-JS module (no types of its own). */
const CATALOG_MODULE = "../../web/i18n.js";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

describe("the page's catalogs", () => {
  it("every language has every key the English one has, and no other", async () => {
    const { CATALOGS, LANGUAGES } = (await import(CATALOG_MODULE)) as {
      CATALOGS: Record<string, Record<string, string>>;
      LANGUAGES: Record<string, string>;
    };
    const english = Object.keys(CATALOGS.en ?? {}).sort();
    assert.ok(english.length > 50);
    assert.deepEqual(Object.keys(CATALOGS).sort(), Object.keys(LANGUAGES).sort());
    for (const [language, catalog] of Object.entries(CATALOGS)) {
      assert.deepEqual(Object.keys(catalog).sort(), english, `${language} has the English keys`);
      for (const key of english) {
        const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        assert.deepEqual(
          placeholders(catalog[key] ?? ""),
          placeholders(CATALOGS.en?.[key] ?? ""),
          `${language}.${key}`,
        );
      }
    }
  });
});

describe("the page as an app, in the visitor's language, for everyone", () => {
  let base: string;
  let browser: Browser;
  let pageStack: Awaited<ReturnType<typeof startPageStack>> | undefined;
  before(async () => {
    if (!CHROMIUM) return;
    pageStack = await startPageStack({
      STREAM_SECRET: "web-app-test-secret-0123456789",
      UPSTREAM_TIMEOUT_MS: "10000",
    });
    ({ base, browser } = pageStack);
  });
  after(() => pageStack?.close());

  pageTest("has a valid manifest with a share target, and installs", async () => {
    // Installing needs a profile of its own: Playwright's usual contexts are incognito.
    const profile = await mkdtemp(join(tmpdir(), "tiktok-dl-install-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: LAUNCH_ARGS,
    });
    try {
      const page = await context.newPage();
      await page.goto(base);
      const manifest = (await (await page.request.get(`${base}/manifest.webmanifest`)).json()) as Record<
        string,
        any
      >;
      assert.equal(manifest.share_target.action, "/");
      assert.deepEqual(manifest.share_target.params, { title: "title", text: "text", url: "url" });
      assert.ok(manifest.icons.some((icon: Record<string, string>) => icon.sizes === "512x512"));
      await page.waitForFunction("navigator.serviceWorker.ready.then(() => true)");
      const cdp = await context.newCDPSession(page);
      const parsed = (await cdp.send("Page.getAppManifest")) as { errors: unknown[]; url: string };
      assert.deepEqual(parsed.errors, []);
      assert.match(parsed.url, /manifest\.webmanifest$/);
      const installable = (await cdp.send("Page.getInstallabilityErrors")) as {
        installabilityErrors: unknown[];
      };
      assert.deepEqual(installable.installabilityErrors, [], "Chromium finds nothing that stops an install");
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });

  pageTest("/?url= looks the link up, and a share-target launch shows the result", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/?url=${encodeURIComponent(VIDEO)}`);
    await page.locator(`article[data-id="${SAMPLE_IDS.video}"]`).waitFor();
    assert.equal(await page.getByLabel("TikTok links").inputValue(), VIDEO);
    // Android's share sheet often sends the link inside the text.
    await page.goto(
      `${base}/?title=TikTok&text=${encodeURIComponent("look at this https://vm.tiktok.com/ZMriver01/ lol")}`,
    );
    await page.locator(`article[data-id="${SAMPLE_IDS.video}"]`).waitFor();
    assert.equal(new URL(page.url()).search, "", "the shared link leaves the address bar");
    await page.screenshot({ path: new URL("web-shared.png", ARTIFACTS).pathname });
    await page.close();
  });

  pageTest("speaks Indonesian, Spanish and Brazilian Portuguese, and remembers the choice", async () => {
    const { CATALOGS } = (await import(CATALOG_MODULE)) as {
      CATALOGS: Record<string, Record<string, string>>;
    };
    for (const [locale, tag] of [
      ["id-ID", "id"],
      ["es-MX", "es"],
      ["pt-BR", "pt-BR"],
    ] as const) {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      await page.goto(base);
      const catalog = CATALOGS[tag] as Record<string, string>;
      assert.equal(await page.locator("html").getAttribute("lang"), tag);
      for (const node of await page.locator("[data-i18n]").all()) {
        const key = (await node.getAttribute("data-i18n")) as string;
        assert.equal((await node.textContent())?.trim(), catalog[key], `${tag}: ${key}`);
      }
      await page.getByLabel(catalog.linksLabel as string).fill("https://example.com/x");
      await page.getByRole("button", { name: catalog.go }).click();
      await page.getByRole("alert").waitFor();
      assert.equal(await page.locator("article.error h2").innerText(), catalog.couldNotGet);
      assert.equal(
        await page.locator("article.error .message").innerText(),
        catalog.notTikTokHost?.replace("{host}", "example.com"),
      );
      await page.screenshot({ path: new URL(`web-${tag}.png`, ARTIFACTS).pathname });
      await context.close();
    }
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel("Language").selectOption("es");
    await page.waitForLoadState("load");
    await page.getByRole("button", { name: "Obtener descargas" }).waitFor();
    await page.reload();
    await page.getByRole("button", { name: "Obtener descargas" }).waitFor();
    await context.close();
  });

  const axeSerious = async (page: Page) => {
    await page.addScriptTag({ path: AXE });
    const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
      violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
    };
    return result.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map(
        (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
      );
  };

  pageTest(
    "axe-core finds no serious violation, in light and dark, empty, result, error and grid",
    async () => {
      for (const colorScheme of ["light", "dark"] as const) {
        const page = await browser.newPage({ colorScheme, bypassCSP: true });
        const look = async (text: string, ready: string) => {
          await page.getByLabel("TikTok links").fill(text);
          await page.getByLabel("TikTok links").press("Control+Enter");
          await page.locator(ready).first().waitFor();
        };
        await page.goto(base);
        const states: [string, () => Promise<void>][] = [
          ["empty", async () => {}],
          ["result", () => look(VIDEO, "article.card:not(.error)")],
          ["error", () => look("https://example.com/x", "article.card.error")],
          ["grid", () => look("https://www.tiktok.com/@grid.maker", "article.tile >> nth=5")],
        ];
        for (const [state, reach] of states) {
          await reach();
          assert.deepEqual(await axeSerious(page), [], `${colorScheme} ${state}`);
          await page.screenshot({
            path: new URL(`web-a11y-${colorScheme}-${state}.png`, ARTIFACTS).pathname,
          });
        }
        await page.close();
      }
    },
  );
});
