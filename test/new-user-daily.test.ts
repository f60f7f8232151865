import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { SAMPLE_COLLECTIONS, SAMPLE_PROFILES } from "./fakes/profiles.js";
import { FakeTikTok } from "./fakes/tiktok.js";
import { type Stack, startStack } from "./helpers.js";
import { CHROMIUM, LAUNCH_ARGS, pageTest } from "./support/browser.js";
import { runCli } from "./support/cli.js";

const PROFILE_SHORT_LINK = "https://vm.tiktok.com/ZMprofile/";

describe("what a new user hit, fixed", () => {
  let fake: FakeTikTok;
  let stack: Stack;
  let base: string;
  let dir: string;
  let browser: Browser | undefined;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    stack = await startStack({
      sharedFake: fake,
      env: { STREAM_SECRET: "new-user-test-secret-0123456789", UPSTREAM_TIMEOUT_MS: "10000" },
    });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-daily-"));
    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  after(async () => {
    await browser?.close();
    await stack.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the CLI follows a short link to a profile into its listing, here and through --server", async () => {
    for (const [name, args, env] of [
      ["local", [], { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" }],
      ["server", ["--server", base], {}],
    ] as const) {
      const out = join(dir, `short-${name}`);
      const run = await runCli([PROFILE_SHORT_LINK, "--limit", "2", "-o", out, ...args], env, dir);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /2 of 2 posts done, 2 files saved\./);
      const first = SAMPLE_PROFILES.get("grid.maker")?.posts.slice(0, 2) ?? [];
      assert.deepEqual(
        (await readdir(out)).sort(),
        first.map((post) => `tiktok_grid.maker_${post.id}.${post.photo ? "jpg" : "mp4"}`).sort(),
      );
    }
  });

  it("the CLI never counts below zero, and speaks plain words", async () => {
    const locked = await runCli(
      ["https://www.tiktok.com/@locked.down", "--server", base, "-o", dir],
      {},
      dir,
    );
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /^0 of 0 posts done, 0 files saved, 1 list failed:/m);
    assert.doesNotMatch(locked.stderr, /-\d+ of/);
    const dead = await runCli(
      ["https://www.tiktok.com/@grid.maker", "--server", "http://127.0.0.1:1"],
      {},
      dir,
    );
    assert.match(dead.stderr, /1 list failed/);
    assert.doesNotMatch(dead.stderr, /-\d+ of/);
    const other = await runCli(["https://example.com/video/1", "--server", base, "-o", dir], {}, dir);
    assert.match(
      other.stderr,
      /not a TikTok link \(example\.com\): copy the link from TikTok's Share button/,
    );
    assert.doesNotMatch(other.stderr, /The "url" field/);
  });

  it("a short link that TikTok cannot be asked about names the link given and a reason", async () => {
    const offline = await startStack({ env: { UPSTREAM_TIKTOK: "http://127.0.0.1:1" } });
    try {
      const answer = await offline.app.inject({
        url: "/api/download",
        query: { url: "https://vm.tiktok.com/ZMabc123/" },
      });
      const { error } = answer.json() as { error: string };
      assert.match(error, /vm\.tiktok\.com\/ZMabc123/);
      assert.doesNotMatch(error, /vt\.tiktok\.com|\(Error\)/);
      assert.match(error, /TikTok could not be reached \(the connection was refused\)/);
    } finally {
      await offline.close();
    }
  });

  it("npm run demo serves every kind of post, list and error offline, with links to try", async () => {
    const { spawn } = await import("node:child_process");
    const demo = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? "", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      demo.stdout.on("data", (chunk) => {
        out += chunk;
      });
      for (let waited = 0; !out.includes("Stop with Ctrl+C") && waited < 20_000; waited += 100)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const calls = [...out.matchAll(/curl '([^']+)'/g)].map((match) => match[1] as string);
      assert.ok(calls.length >= 12, out);
      const statuses = await Promise.all(calls.map(async (url) => (await fetch(url)).status));
      const answered = Object.fromEntries(
        calls.map((url, i) => [decodeURIComponent(url.split("url=")[1] ?? ""), statuses[i]]),
      );
      assert.equal(statuses.filter((status) => status === 200).length >= 8, true, JSON.stringify(answered));
      for (const [link, status] of Object.entries(answered)) {
        if (/deleted|7478545426949232344/.test(link)) assert.equal(status, 404, link);
        if (/example\.com/.test(link)) assert.equal(status, 400, link);
        if (/grid\.maker$|ZMprofile|collection|playlist/.test(link)) assert.equal(status, 200, link);
      }
    } finally {
      demo.kill("SIGTERM");
    }
  });

  it("the fakes' sample posts never share an id between accounts", () => {
    const owners = new Map<string, string>();
    for (const [name, profile] of SAMPLE_PROFILES)
      for (const post of profile.posts) {
        assert.equal(owners.get(post.id), undefined, `${post.id}: ${owners.get(post.id)} and ${name}`);
        owners.set(post.id, name);
      }
    for (const [id, collection] of SAMPLE_COLLECTIONS)
      for (const post of collection.posts)
        assert.equal(owners.get(post.id), undefined, `${post.id} in ${id}`);
  });

  const lookUp = async (text: string, viewport = { width: 1280, height: 800 }) => {
    const page = await (browser as Browser).newPage({ viewport });
    await page.goto(base);
    await page.getByLabel("TikTok links").fill(text);
    await page.getByRole("button", { name: "Get downloads" }).click();
    return page;
  };

  pageTest("the page lists a short link to a profile", async () => {
    const page = await lookUp(PROFILE_SHORT_LINK);
    await page.locator("article.tile").nth(29).waitFor();
    assert.match(await page.locator(".list-header").innerText(), /@grid\.maker/);
    await page.close();
  });

  pageTest("the grid never shows a post twice; More and Download all only when they make sense", async () => {
    const page = await lookUp("https://www.tiktok.com/@tiny.list");
    await page.locator(".list .status", { hasText: "the whole list" }).waitFor();
    assert.equal(await page.locator("article.tile").count(), 4);
    assert.equal(await page.getByRole("button", { name: "More" }).isVisible(), false);
    await page.evaluate("document.querySelector('button.more').click()");
    await page.waitForTimeout(300);
    assert.equal(await page.locator("article.tile").count(), 4, "More after the end fetches nothing again");
    assert.equal(await page.getByRole("button", { name: /^Download all 4 shown$/ }).isEnabled(), true);
    await page.close();
    const empty = await lookUp("https://www.tiktok.com/@quiet.one");
    await empty.locator(".list .status", { hasText: "No posts to show." }).waitFor();
    assert.equal(await empty.getByRole("button", { name: "More" }).isVisible(), false);
    assert.equal(await empty.getByRole("button", { name: /^Download all/ }).isDisabled(), true);
    await empty.close();
  });

  pageTest(
    "the grid's covers and the avatar come through this server, and say how many of how many",
    async () => {
      const page = await lookUp("https://www.tiktok.com/@grid.maker", { width: 390, height: 844 });
      await page.locator("article.tile").nth(29).waitFor();
      const sources = await page.$$eval("section.list img", (images) =>
        images.map((image) => image.getAttribute("src")),
      );
      assert.ok(sources.length >= 31, `${sources.length} pictures`);
      for (const src of sources) assert.match(String(src), /^\/api\/stream\/pic\./);
      // Covers load lazily: every one on screen must have loaded (the photo posts' covers too).
      const loaded =
        "[...document.querySelectorAll('section.list img')].filter((i) => i.getBoundingClientRect().top < innerHeight).every((i) => i.complete && i.naturalWidth > 0)";
      // Polled from here: the page's CSP forbids the string evaluation waitForFunction polls with.
      for (let waited = 0; !(await page.evaluate(loaded)) && waited < 10_000; waited += 100)
        await page.waitForTimeout(100);
      assert.equal(await page.evaluate(loaded), true, "the first covers load");
      const all = page.getByRole("button", { name: /^Download all 30 shown \(of 130\)$/ });
      assert.equal(await all.count(), 1);
      await page.evaluate("window.scrollTo(0, document.body.scrollHeight)");
      await page.evaluate("document.querySelectorAll('article.tile')[3].scrollIntoView()");
      const box = await page.locator(".list-actions .status").boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= 844, "the progress line stays in view");
      await page.close();
    },
  );

  pageTest("a line that is not a link gets a word, not silence", async () => {
    const page = await lookUp("hello there\nhttps://www.tiktok.com/@river.cooks/video/7558765792041131240");
    await page.getByRole("alert").first().waitFor();
    assert.match(await page.getByRole("alert").first().innerText(), /This line is not a link/);
    await page.locator("article.card:not(.error)").waitFor();
    await page.close();
  });
});
